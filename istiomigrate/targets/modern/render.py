"""Render step for modern Istio: the v1alpha3 renderer in the modern dialect, plus what only
modern defaults call for. Pure.

Modern Istio gives every host without a VirtualService a default route that
retries (semantics §8.2), where legacy never retried: so a host of the plan
that gets no VirtualService of its own (an external host opened by an
EgressRule, a host with only a DestinationPolicy) gets one whose only route
is the host itself with ``retries: {attempts: 0}``. That route is named
``DEFAULT_ROUTE`` so that ``meaning`` can read it as "the legacy default".
What no field can pin is a finding.
"""

from __future__ import annotations

from istiomigrate.findings import SourceRef
from istiomigrate.hosts import resource_name
from istiomigrate.model import Json, Resource, Role
from istiomigrate.plan import model as m
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.targets.istio import render as v1alpha3
from istiomigrate.targets.istio.context import Context
from istiomigrate.targets.modern.dialect import NO_RETRIES

DEFAULT_ROUTE = "legacy-default-route"
LEGACY_GATEWAY_LABELS = (("istio", "ingressgateway"),)


def render(plan: m.Plan, ctx: Context) -> list[Resource]:
    resources = v1alpha3.render(plan, ctx)
    resources.extend(_default_routes(plan, ctx))
    v1alpha3.unique_names(resources)
    _report_defaults(plan, ctx)
    _report_sniffed(plan, ctx)
    return resources


def _unrouted(plan: m.Plan) -> dict[str, tuple[str, list[LegacyResource]]]:
    """Hosts the plan gives no VirtualService: {host: (namespace, legacy sources)}."""
    out: dict[str, tuple[str, list[LegacyResource]]] = {}
    for entry in plan.entries:
        if not any(p.protocol.startswith("HTTP") for p in entry.ports):
            continue
        for host in entry.hosts:
            planned = plan.hosts.get(host)
            if planned is None or not planned.routed:
                out.setdefault(host, (entry.namespace, [entry.rule]))
    for fqdn, hosts in plan.hosts.items():  # policies only, or a destination of other routes
        if not hosts.routed and fqdn not in out:
            legacy = hosts.policy_sources or _routing_to(plan, fqdn)
            if legacy:
                out[fqdn] = (hosts.namespace, legacy)
    return out


def _routing_to(plan: m.Plan, fqdn: str) -> list[LegacyResource]:
    """The rules that route or mirror to ``fqdn``: where its default VirtualService comes from."""
    return [route.rule for hosts in plan.hosts.values() for route in (*hosts.http, *hosts.tcp)
            if route.rule is not None and any(
                d.host.fqdn == fqdn for d in (*route.destinations, route.mirror) if d)][:1]


def _default_routes(plan: m.Plan, ctx: Context) -> list[Resource]:
    out = []
    for fqdn, (namespace, legacy) in _unrouted(plan).items():
        if ctx.existing.find("VirtualService", fqdn) is not None:
            continue  # the user's own VirtualService decides its retries
        if ctx.options.accept_target_defaults:
            ctx.report("IM120", f"--accept-target-defaults: {fqdn} gets no VirtualService, so "
                       "its requests retry as the mesh's defaultHttpRetryPolicy says (Istio's "
                       "default: 2 retries); legacy did not retry", legacy[0].ref)
            continue
        shown = _shown(fqdn, plan, namespace, ctx)
        spec: Json = {"hosts": [shown], **ctx.dialect.visibility(),
                      "http": [{"name": DEFAULT_ROUTE, "route": [{"destination": {"host": shown}}],
                                "retries": dict(NO_RETRIES)}]}
        comments = {"spec.http[0]": f"{fqdn} had no RouteRule: legacy sent its requests to the "
                    "whole service without retries; modern Istio would retry them"}
        name = resource_name(plan.hosts[fqdn].host) if fqdn in plan.hosts else legacy[0].ref.name
        out.append(ctx.resource(Role.ROUTES, "VirtualService", namespace, name, spec, legacy,
                                comments, None, fqdn))
    return out


def _shown(fqdn: str, plan: m.Plan, namespace: str, ctx: Context) -> str:
    planned = plan.hosts.get(fqdn)
    return ctx.shown(planned.host, namespace) if planned is not None else fqdn


def _first_source(plan: m.Plan) -> SourceRef | None:
    for hosts in plan.hosts.values():
        for legacy in (*hosts.rules, *hosts.policy_sources):
            return legacy.ref
    if plan.entries:
        return plan.entries[0].rule.ref
    return plan.ingress.ingresses[0].ref if plan.ingress is not None else None


def _report_defaults(plan: m.Plan, ctx: Context) -> None:
    """The run-wide findings: defaults no field of this output can pin for the whole mesh."""
    first = _first_source(plan)
    if first is not None:
        ctx.report("IM233", "services that get no VirtualService from this conversion (every "
                   "service without RouteRules) retry failed requests on modern Istio (2 "
                   "retries by default); legacy Pilot never retried them. Set meshConfig "
                   "defaultHttpRetryPolicy: {attempts: 0} to keep that mesh-wide", first)
    unnamed = [h for h in plan.hosts.values() if h.routed and not _named_lb(h)]
    if unnamed:
        ctx.report("IM122", f"{len(unnamed)} routed host(s) name no load balancer (first: "
                   f"{unnamed[0].host.fqdn}): modern Istio balances by LEAST_REQUEST, legacy "
                   "by round robin; requests reach the same destinations, spread differently. "
                   "Add a DestinationRule loadBalancer simple: ROUND_ROBIN to keep it",
                   unnamed[0].rules[0].ref)
    for hosts in plan.hosts.values():
        if hosts.tls is not None and not ctx.options.insecure_skip_verify:
            ctx.report("IM230", f"TLS origination to {hosts.host.fqdn} now verifies the "
                       "server's certificate against the system CAs and its name against the "
                       "request's host (sent as SNI); legacy verified nothing. A server with a "
                       "self-signed or mismatched certificate now fails: add caCertificates, "
                       "or convert with --insecure-skip-verify to keep legacy's behaviour",
                       hosts.tls.rule.ref)
    if plan.ingress is not None and \
            ctx.options.ingress_gateway_selector == LEGACY_GATEWAY_LABELS:
        ctx.report("IM231", "the Gateway selects istio=ingressgateway, the label of Istio 0.8's "
                   "and istioctl's ingress gateway; gateways installed with today's Helm chart "
                   "are labelled istio=ingress: pass --ingress-gateway-selector istio=ingress "
                   "if yours is one, or the Gateway serves nothing",
                   plan.ingress.ingresses[0].ref)


# Port-name prefixes 1.30.3 reads as a protocol (pkg/config/protocol); any other name, and no
# name, is sniffed. Pilot 0.8 read every such port as TCP: no RouteRule applied (§3.1).
_PROTOCOLS = frozenset({"grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tcp", "tls",
                        "udp", "mongo", "redis", "mysql"})


def _report_sniffed(plan: m.Plan, ctx: Context) -> None:
    """IM234 per port of a routed Service that legacy kept TCP and modern Istio sniffs."""
    for hosts in plan.hosts.values():
        host = hosts.host
        if not hosts.has_http_rules or host.name is None or host.namespace is None:
            continue
        for name, number in plan.service_ports.get((host.namespace, host.name)) or []:
            if name is not None and name.split("-", 1)[0].lower() in _PROTOCOLS:
                continue
            shown = f"named {name!r}" if name else "unnamed"
            ctx.report("IM234", f"port {number} of Service {host.namespace}/{host.name} is "
                       f"{shown}: Pilot 0.8 took it for TCP, so no RouteRule applied to it; "
                       "modern Istio detects HTTP on it and applies the converted routes "
                       f"there too. Name it tcp-{number} (or set appProtocol: tcp) to keep "
                       "legacy's behaviour, or http-… if the routes were meant for it",
                       hosts.rules[0].ref)


def _named_lb(hosts: m.HostPlan) -> bool:
    top = hosts.policies.get(())
    return top is not None and top.load_balancer is not None
