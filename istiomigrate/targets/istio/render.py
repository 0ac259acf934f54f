"""Render step for Istio v1alpha3: the routing plan in, resources and findings out. Pure.

One VirtualService and one DestinationRule per host, one ServiceEntry per
external destination, and for Ingresses a Gateway with its VirtualServices
(``gateway.py``). Subsets are named here, once every label set of a host is
known, and existing v1alpha3 resources of the input are merged into, never
duplicated (``existing.py``).
"""

from __future__ import annotations

from istiomigrate.hosts import resource_name, short_hash
from istiomigrate.model import Json, Resource, Role
from istiomigrate.plan import model as m
from istiomigrate.subsets import LabelSet
from istiomigrate.targets.istio import gateway
from istiomigrate.targets.istio.context import Context
from istiomigrate.targets.istio.fields import (
    http_route,
    origination,
    shared_fields,
    tcp_route,
    traffic_policy,
)


def render(plan: m.Plan, ctx: Context) -> list[Resource]:
    """Every resource of the plan, ServiceEntries first, then per host, then the ingress."""
    for fqdn, hosts in plan.hosts.items():
        for wanted in hosts.subsets:
            ctx.subsets.want(fqdn, dict(wanted))
        for name, labels in ctx.existing.subsets(fqdn):
            ctx.subsets.keep_existing(fqdn, name, labels)
    ctx.subsets.finalize()
    resources = [_service_entry(entry, ctx) for entry in plan.entries]
    for hosts in plan.hosts.values():
        vs = _virtual_service(hosts, ctx) if hosts.routed else None
        dr = _destination_rule(hosts, ctx)
        resources.extend(r for r in (vs, dr) if r is not None)
    if plan.ingress is not None:
        resources.extend(gateway.render(plan.ingress, ctx))
    unique_names(resources)
    return resources


def _virtual_service(hosts: m.HostPlan, ctx: Context) -> Resource:
    merged = ctx.existing.find("VirtualService", hosts.host.fqdn)
    namespace = merged.namespace if merged else hosts.namespace
    name = merged.name if merged else resource_name(hosts.host)
    spec: Json = {"hosts": [ctx.shown(hosts.host, namespace)], **ctx.dialect.visibility()}
    comments: dict[str, str] = {}
    for section, planned, present in (("http", hosts.http, hosts.has_http_rules),
                                      ("tcp", hosts.tcp, hosts.has_tcp_rules)):
        if not present:
            continue
        routes = list(merged.data["spec"].get(section) or []) if merged else []
        catch_all = any("match" not in r for r in routes)
        for route in planned:
            if route.fallthrough:
                if catch_all:
                    continue
                assert route.rule is not None
                ctx.report("IM102", f"no rule for {hosts.host.fqdn} is unconditional; appended "
                           "a last route to the whole service, as v1alpha1 fell through",
                           route.rule.ref)
            comments[f"spec.{section}[{len(routes)}]"] = route.comment
            build = http_route if section == "http" else tcp_route
            routes.append(build(route, namespace, ctx))
        if routes:
            spec[section] = routes
    cause = hosts.rules[0].ref
    moved = sorted({r.namespace for r in hosts.rules} - {namespace})
    if moved:
        ctx.report("IM107", f"VirtualService for {hosts.host.fqdn} placed in namespace "
                   f"{namespace}, not {', '.join(moved)}: short names resolve there", cause)
    if merged:
        spec = {**merged.data["spec"], **spec, "hosts": merged.data["spec"]["hosts"]}
        ctx.report("IM103", f"merged into existing VirtualService {merged.namespace}/{merged.name}"
                   f" ({merged.ref.location()})", cause)
    return ctx.resource(Role.ROUTES, "VirtualService", namespace, name, spec, hosts.rules,
                        comments, merged, hosts.host.fqdn)


def _destination_rule(hosts: m.HostPlan, ctx: Context) -> Resource | None:
    host = hosts.host
    policies = hosts.policies
    legacy = list(hosts.policy_sources)
    merged = ctx.existing.find("DestinationRule", host.fqdn)
    namespace = merged.namespace if merged else hosts.namespace
    spec: Json = {"host": ctx.shown(host, namespace), **ctx.dialect.visibility()}
    top = traffic_policy(policies[()], ctx) if () in policies else {}
    if hosts.tls is not None:
        top.update(origination(host.fqdn, hosts.tls.ports, top, ctx))
        legacy.append(hosts.tls.rule)
    if top:
        spec["trafficPolicy"] = top
    subsets = [_subset(name, labels, policies, ctx)
               for name, labels in ctx.subsets.subsets(host.fqdn)]
    if subsets:
        spec["subsets"] = subsets
    if () in policies and subsets:
        fields = ", ".join(shared_fields(top))
        ctx.report("IM208", f"unlabelled policy applied only to unlabelled traffic in v1alpha1; "
                   f"as the top-level trafficPolicy it now also applies to subsets "
                   f"{', '.join(s['name'] for s in subsets)} ({fields})",
                   policies[()].source.ref)
    if not {"trafficPolicy", "subsets"} & set(spec) and not merged:
        return None
    name = merged.name if merged else resource_name(host)
    if merged:
        spec = ctx.existing.merge_destination_rule(merged, spec)
        cause = legacy or hosts.rules
        if cause and spec != merged.data.get("spec"):
            ctx.report("IM103", f"merged into existing DestinationRule {merged.namespace}/"
                       f"{merged.name} ({merged.ref.location()})", cause[0].ref)
    resource = ctx.resource(Role.POLICY, "DestinationRule", namespace, name, spec, legacy,
                            None, merged, host.fqdn)
    resource.beside = list(hosts.wanted_by)
    return resource


def _subset(name: str, labels: dict[str, str], policies: dict[LabelSet, m.Policy],
            ctx: Context) -> Json:
    subset: Json = {"name": name, "labels": labels}
    policy = policies.get(tuple(sorted(labels.items())))
    if policy is not None:
        body = traffic_policy(policy, ctx)
        if body:
            subset["trafficPolicy"] = body
    return subset


def _service_entry(entry: m.EgressEntry, ctx: Context) -> Resource:
    spec: Json = {"hosts": list(entry.hosts)}
    if entry.addresses:
        spec["addresses"] = list(entry.addresses)
    spec["ports"] = [{"number": p.number, "protocol": p.protocol,
                      "name": f"{p.protocol.lower()}-{p.number}"} for p in entry.ports]
    spec["location"] = "MESH_EXTERNAL"
    spec["resolution"] = "NONE"
    spec.update(ctx.dialect.visibility())
    return ctx.resource(Role.ENTRY, "ServiceEntry", entry.namespace, entry.name, spec,
                        [entry.rule])


def unique_names(resources: list[Resource]) -> None:
    """Two hosts can make one name (``a.b`` and ``a-b``): later ones get a stable hash suffix."""
    seen: set[tuple[str, str, str]] = set()
    for res in resources:
        if res.key in seen and res.merged_into is None:
            res.name = f"{res.name[:56]}-{short_hash(repr(res.spec.get('hosts') or res.spec))}"
        seen.add(res.key)

