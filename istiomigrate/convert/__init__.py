"""Convert step: legacy resources in, v1alpha3 resources and findings out. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from istiomigrate.convert.context import Context, Options
from istiomigrate.convert.egress import service_entry, tls_origination
from istiomigrate.convert.existing import ExistingIndex
from istiomigrate.convert.ingress import convert_ingresses
from istiomigrate.convert.policies import shared_fields, traffic_policy, winning_policies
from istiomigrate.convert.routes import http_route, tcp_route
from istiomigrate.findings import Finding
from istiomigrate.hosts import Host, dns_label, resource_name, short_hash
from istiomigrate.model import Resource
from istiomigrate.reader import Inventory, LegacyResource
from istiomigrate.resolve import HostRules, group_by_host, is_unconditional, order_findings
from istiomigrate.subsets import SubsetNames

__all__ = ["Conversion", "Options", "convert"]


@dataclass
class Conversion:
    resources: list[Resource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def convert(inventory: Inventory, options: Options) -> Conversion:
    """Convert every legacy resource of ``inventory``; findings say what is not exact."""
    ctx = Context(options, SubsetNames(), inventory.services)
    existing = ExistingIndex(inventory.existing, options.cluster_domain)
    groups = group_by_host(
        inventory.of_kind("RouteRule"), inventory.of_kind("DestinationPolicy"),
        options.cluster_domain,
    )
    hosts = _collect_subsets(groups, ctx, existing)
    ctx.subsets.finalize()
    resources: list[Resource] = []
    tls: dict[str, tuple[list[int], LegacyResource]] = {}
    for rule in _winning_egress_rules(inventory.of_kind("EgressRule"), ctx):
        resources.append(_service_entry(rule, ctx, tls))
    for fqdn in sorted(set(groups) | set(hosts) | set(tls)):
        group = groups.get(fqdn)
        vs = _virtual_service(group, ctx, existing) if group else None
        dr = _destination_rule(hosts.get(fqdn) or Host(fqdn), group, tls.get(fqdn), ctx,
                               existing)
        resources.extend(r for r in (vs, dr) if r is not None)
    routed = {fqdn for fqdn, group in groups.items() if group.http}
    resources.extend(convert_ingresses(inventory.of_kind("Ingress"), ctx,
                                       inventory.service_ports, routed, inventory.existing))
    _unique_names(resources)
    return Conversion(resources, ctx.findings)


def _collect_subsets(
    groups: dict[str, HostRules], ctx: Context, existing: ExistingIndex
) -> dict[str, Host]:
    """First pass: every host and label set that routes, mirrors and policies name."""
    hosts: dict[str, Host] = {}

    def want(host: Host, labels) -> None:
        hosts.setdefault(host.fqdn, host)
        ctx.subsets.want(host.fqdn, labels)

    for group in groups.values():
        hosts.setdefault(group.host.fqdn, group.host)
        for rule in group.http + group.tcp:
            if rule.spec.match and rule.spec.match.udp:
                continue  # not converted (IM301), so it needs no subsets
            for entry in rule.spec.route or []:
                dest = ctx.host(entry.destination, rule.namespace) if entry.destination and (
                    entry.destination.name or entry.destination.service) else group.host
                want(dest, entry.labels)
            if rule.spec.mirror:
                want(ctx.host(rule.spec.mirror, rule.namespace), rule.spec.mirror.labels)
        for policy in group.policies:
            want(group.host, policy.spec.destination.labels)
    for fqdn in hosts:
        for name, labels in existing.subsets(fqdn):
            ctx.subsets.keep_existing(fqdn, name, labels)
    return hosts


def _virtual_service(group: HostRules, ctx: Context, existing: ExistingIndex) -> Resource | None:
    if not (group.http or group.tcp):
        return None
    merged = existing.find("VirtualService", group.host.fqdn)
    namespace = merged.namespace if merged else group.namespace
    name = merged.name if merged else resource_name(group.host)
    spec: dict = {"hosts": [ctx.shown(group.host, namespace)]}
    comments: dict[str, str] = {}
    for section, rules, build in (("http", group.http, http_route), ("tcp", group.tcp, tcp_route)):
        if not rules:
            continue
        ctx.findings.extend(order_findings(rules))
        routes = list(merged.data["spec"].get(section) or []) if merged else []
        catch_all = any("match" not in r for r in routes)
        for rule in rules:
            route = build(rule, namespace, ctx)
            if route is not None:
                comments[f"spec.{section}[{len(routes)}]"] = _origin(rule)
                routes.append(route)
        if not catch_all and not any(is_unconditional(r) for r in rules):
            comments[f"spec.{section}[{len(routes)}]"] = (
                "fallthrough: v1alpha1 sent requests no rule matched to the whole service")
            routes.append({"route": [{"destination": {"host": spec["hosts"][0]}}]})
            ctx.report("IM102", f"no rule for {group.host.fqdn} is unconditional; appended a "
                       "last route to the whole service, as v1alpha1 fell through",
                       rules[0].ref)
        if routes:
            spec[section] = routes
    moved = sorted({r.namespace for r in group.http + group.tcp} - {namespace})
    if moved:
        ctx.report("IM107", f"VirtualService for {group.host.fqdn} placed in namespace "
                   f"{namespace}, not {', '.join(moved)}: short names resolve there",
                   (group.http or group.tcp)[0].ref)
    if merged:
        spec = {**merged.data["spec"], **spec, "hosts": merged.data["spec"]["hosts"]}
        ctx.report("IM103", f"merged into existing VirtualService {merged.namespace}/{merged.name}"
                   f" ({merged.ref.location()})", (group.http or group.tcp)[0].ref)
    return Resource("VirtualService", namespace, name, spec, group.http + group.tcp, comments,
                    merged, group.host.fqdn)


def _origin(rule: LegacyResource) -> str:
    where = f" ({rule.ref.location()})" if rule.ref.file else ""
    return f"from RouteRule {rule.namespace}/{rule.name}{where}"


def _destination_rule(
    host: Host,
    group: HostRules | None,
    tls: tuple[list[int], LegacyResource] | None,
    ctx: Context,
    existing: ExistingIndex,
) -> Resource | None:
    policies = winning_policies(group.policies, ctx) if group else {}
    legacy = list(group.policies) if group else []
    if group is not None:
        namespace = group.namespace
    elif tls is not None:
        namespace = host.namespace or tls[1].namespace
    else:
        namespace = host.namespace or ctx.options.default_namespace
    merged = existing.find("DestinationRule", host.fqdn)
    if merged:
        namespace = merged.namespace
    spec: dict = {"host": ctx.shown(host, namespace)}
    top = traffic_policy(policies[()], ctx) if () in policies else {}
    if tls is not None:
        top.update(tls_origination(host.fqdn, tls[0], top))
        legacy.append(tls[1])
    if top:
        spec["trafficPolicy"] = top
    subsets = []
    for name, labels in ctx.subsets.subsets(host.fqdn):
        subset: dict = {"name": name, "labels": labels}
        policy = policies.get(tuple(sorted(labels.items())))
        if policy is not None:
            body = traffic_policy(policy, ctx)
            if body:
                subset["trafficPolicy"] = body
        subsets.append(subset)
    if subsets:
        spec["subsets"] = subsets
    if () in policies and subsets:
        fields = ", ".join(shared_fields(top))
        ctx.report("IM208", f"unlabelled policy applied only to unlabelled traffic in v1alpha1; "
                   f"as the top-level trafficPolicy it now also applies to subsets "
                   f"{', '.join(s['name'] for s in subsets)} ({fields})", policies[()].ref)
    if len(spec) == 1 and not merged:
        return None
    name = merged.name if merged else resource_name(host)
    if merged:
        spec = existing.merge_destination_rule(merged, spec)
        cause = legacy or (group.http + group.tcp if group else [])
        if cause and spec != merged.data.get("spec"):
            ctx.report("IM103", f"merged into existing DestinationRule {merged.namespace}/"
                       f"{merged.name} ({merged.ref.location()})", cause[0].ref)
    return Resource("DestinationRule", namespace, name, spec, legacy, {}, merged, host.fqdn)


def _service_entry(
    rule: LegacyResource, ctx: Context, tls: dict[str, tuple[list[int], LegacyResource]]
) -> Resource:
    spec, originate = service_entry(rule, ctx)
    for host, port in originate:
        tls.setdefault(host, ([], rule))[0].append(port)
    return Resource("ServiceEntry", rule.namespace, dns_label(rule.name), spec, [rule])


def _winning_egress_rules(rules: list[LegacyResource], ctx: Context) -> list[LegacyResource]:
    """Pilot kept one EgressRule per destination service: the smallest ``namespace/name``."""
    kept: dict[str, LegacyResource] = {}
    for rule in sorted(rules, key=lambda r: f"{r.namespace}/{r.name}"):
        service = rule.spec.destination.service if rule.spec.destination else None
        winner = kept.setdefault(service or f"<none {id(rule)}>", rule)
        if winner is not rule:
            ctx.report("IM214", f"EgressRule {winner.namespace}/{winner.name} is also for "
                       f"{service} and wins (smallest namespace/name, as in Pilot); this one's "
                       "ports stay closed", rule.ref)
    winners = {id(rule) for rule in kept.values()}
    return [rule for rule in rules if id(rule) in winners]


def _unique_names(resources: list[Resource]) -> None:
    """Two hosts can make one name (``a.b`` and ``a-b``): later ones get a stable hash suffix."""
    seen: set[tuple[str, str, str]] = set()
    for res in resources:
        if res.key in seen and res.merged_into is None:
            res.name = f"{res.name[:56]}-{short_hash(repr(res.spec.get('hosts') or res.spec))}"
        seen.add(res.key)
