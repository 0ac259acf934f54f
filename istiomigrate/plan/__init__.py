"""Plan step: the legacy inventory in, the target-neutral routing plan out. Pure: no I/O.

``build`` resolves what Pilot 0.8 did with the legacy resources (grouping by
host, precedence, fallthrough, the winning policy and EgressRule, Ingress
path order) and records the findings that legacy semantics alone produce.
How the plan is written down is a target's job (``istiomigrate.targets``).
"""

from __future__ import annotations

from istiomigrate.hosts import Host
from istiomigrate.options import Options
from istiomigrate.plan import model
from istiomigrate.plan.context import Context
from istiomigrate.plan.egress import egress_entry, winning_egress_rules
from istiomigrate.plan.ingress import plan_ingresses
from istiomigrate.plan.policies import winning_policies
from istiomigrate.plan.resolve import HostRules, group_by_host, is_unconditional, order_findings
from istiomigrate.plan.routes import http_route, tcp_route
from istiomigrate.read.inventory import Inventory, LegacyResource
from istiomigrate.subsets import LabelSet, label_set

__all__ = ["build", "model"]

FALLTHROUGH = "fallthrough: v1alpha1 sent requests no rule matched to the whole service"


def build(inventory: Inventory, options: Options) -> model.Plan:
    """The plan for every legacy resource of ``inventory``."""
    ctx = Context(options, inventory.services, inventory.service_ports)
    plan = model.Plan(findings=ctx.findings, service_ports=inventory.service_ports)
    for rule in winning_egress_rules(inventory.of_kind("EgressRule"), ctx):
        entry, originate = egress_entry(rule, ctx)
        plan.entries.append(entry)
        if originate:
            host = _host_plan(plan, Host(rule.spec.destination.service), rule.namespace)
            host.tls = host.tls or model.TlsOrigination(rule)
            host.tls.ports.extend(originate)
    groups = group_by_host(inventory.of_kind("RouteRule"), inventory.of_kind("DestinationPolicy"),
                           options.cluster_domain)
    for group in groups.values():
        _plan_group(plan, group, ctx)
    plan.hosts = dict(sorted(plan.hosts.items()))
    routed = {fqdn for fqdn, group in groups.items() if group.http}
    plan.ingress = plan_ingresses(inventory.of_kind("Ingress"), ctx, routed)
    return plan


def _host_plan(plan: model.Plan, host: Host, namespace: str) -> model.HostPlan:
    """The host's plan, created on first mention: in the host's namespace, else ``namespace``."""
    if host.fqdn not in plan.hosts:
        plan.hosts[host.fqdn] = model.HostPlan(host, host.namespace or namespace)
    return plan.hosts[host.fqdn]


def _plan_group(plan: model.Plan, group: HostRules, ctx: Context) -> None:
    """Routes, policies and wanted subsets of one host that rules or policies name."""
    hosts = _host_plan(plan, group.host, group.namespace)
    hosts.host, hosts.namespace = group.host, group.namespace
    hosts.rules = group.http + group.tcp
    hosts.has_http_rules, hosts.has_tcp_rules = bool(group.http), bool(group.tcp)
    for section, rules in (("http", group.http), ("tcp", group.tcp)):
        if not rules:
            continue
        ctx.findings.extend(order_findings(rules))
        routes = getattr(hosts, section)
        for rule in rules:
            route = http_route(rule, ctx) if section == "http" else tcp_route(rule, ctx)
            if route is not None:
                routes.append(route)
                _want_subsets(plan, route, ctx.options.default_namespace)
        if not any(is_unconditional(r) for r in rules):
            whole = model.Destination(group.host)
            routes.append(model.Route(FALLTHROUGH, (), (whole,), rule=rules[0],
                                      fallthrough=True))
    hosts.policy_sources = list(group.policies)
    for policy in group.policies:
        _want(hosts, label_set(policy.spec.destination.labels))
    hosts.policies = winning_policies(group.policies, ctx)


def _want_subsets(plan: model.Plan, route: model.Route, namespace: str) -> None:
    """Every host a route sends or mirrors to gets a plan, with the label sets it needs;
    a host only sent to belongs in its own namespace, else in ``namespace``."""
    targets = [*route.destinations, *([route.mirror] if route.mirror else [])]
    for dest in targets:
        hosts = _host_plan(plan, dest.host, namespace)
        _want(hosts, dest.labels)
        if dest.labels and route.rule is not None and all(
                r is not route.rule for r in hosts.wanted_by):
            hosts.wanted_by.append(route.rule)


def _want(hosts: model.HostPlan, labels: LabelSet) -> None:
    if labels:
        hosts.subsets.add(labels)


def legacy_of(plan: model.Plan) -> list[LegacyResource]:
    """Every legacy resource the plan was made from, in plan order."""
    out: list[LegacyResource] = []
    for host in plan.hosts.values():
        out.extend(host.rules)
        out.extend(host.policy_sources)
    out.extend(entry.rule for entry in plan.entries)
    return out
