"""Render the planned ingress as one Gateway and a VirtualService per host (semantics §7).

What the output relies on (istio/istio 0.8.0 and 1.0.0): a Gateway is known by
``name.namespace.svc.<domain>`` and a VirtualService's ``gateways`` entry is
resolved against the VirtualService's own namespace (``ResolveShortnameToFQDN``
in ``pilot/pkg/model/config.go``, ``MergeGateways`` in ``gateway.go``), so the
fully qualified form is the one that works across namespaces in both (1.0's
validation rejects ``namespace/name``). A VirtualService is bound to a server
whose hosts match its host, ``*`` matching every host either way; a match's
``port`` selects the gateway port. ``destination.port.name`` sends traffic to a
black hole in both (``route.go``), so named ports are resolved to numbers.
"""

from __future__ import annotations

from istiomigrate.hosts import dns_label
from istiomigrate.model import Json, Resource, Role
from istiomigrate.plan.ingress import ANY_HOST, CERT_DIR, CERT_SECRET, HTTP, HTTPS
from istiomigrate.plan.model import IngressPath, IngressPlan
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.targets.istio.context import Context

GATEWAY_NAME = "k8s-ingress"
_Path = IngressPath


def render(ingress: IngressPlan, ctx: Context) -> list[Resource]:
    """The Gateway (first), then one VirtualService per host, in host order.

    A Gateway of the same name already in the input (an earlier run) gets the
    servers' hosts added.
    """
    table = ingress.table
    gateway = _gateway(table, ingress.ingresses, ctx)
    own = sorted({host for hosts in table.values() for host in hosts})
    return [gateway, *(_virtual_service(host, table, gateway, ingress.rank, ctx) for host in own)]

def _gateway(table: dict[int, dict[str, list[_Path]]], ingresses: list[LegacyResource],
             ctx: Context) -> Resource:
    servers = []
    if table[HTTP]:
        servers.append({"port": {"number": HTTP, "protocol": "HTTP",
                                 "name": f"http-{GATEWAY_NAME}"},
                        "hosts": sorted(table[HTTP])})
    if table[HTTPS]:
        servers.append({"port": {"number": HTTPS, "protocol": "HTTPS",
                                 "name": f"https-{GATEWAY_NAME}"},
                        "hosts": sorted(table[HTTPS]),
                        "tls": {"mode": "SIMPLE",
                                **ctx.dialect.server_certificate(CERT_SECRET, CERT_DIR)}})
    spec = {"selector": dict(ctx.options.ingress_gateway_selector), "servers": servers}
    namespace = ctx.options.ingress_gateway_namespace
    merged = ctx.existing.named("Gateway", namespace, GATEWAY_NAME)
    if merged is not None:
        spec = _merge_gateway(merged.data.get("spec") or {}, spec)
        ctx.report("IM103", f"merged into existing Gateway {namespace}/{GATEWAY_NAME} "
                   f"({merged.ref.location()}): its servers got these Ingresses' hosts",
                   ingresses[0].ref)
    return ctx.resource(Role.LISTENER, "Gateway", namespace, GATEWAY_NAME, spec, list(ingresses),
                        None, merged)


def _merge_gateway(old: Json, new: Json) -> Json:
    """The existing Gateway (selector included) with our hosts added to its servers."""
    servers = [dict(s) for s in old.get("servers") or [] if isinstance(s, dict)]
    for ours in new["servers"]:
        same = next((s for s in servers if (s.get("port") or {}).get("number") ==
                     ours["port"]["number"]), None)
        if same is None:
            servers.append(ours)
        else:
            hosts = list(same.get("hosts") or [])
            same["hosts"] = hosts + [h for h in ours["hosts"] if h not in hosts]
    return {**new, **old, "servers": servers}


def _covers(pattern: str, host: str) -> bool:
    """A virtual-host domain match: exact, ``*``, or a ``*.suffix`` wildcard."""
    return pattern in (ANY_HOST, host) or (pattern.startswith("*") and host.endswith(pattern[1:]))


def _bound_ports(host: str, table: dict[int, dict[str, list[_Path]]]) -> list[int]:
    """Ports whose server a VirtualService for ``host`` binds to: Pilot binds it to every
    server with a host that matches it, wildcards counting either way."""
    return [port for port in (HTTP, HTTPS)
            if any(_covers(host, other) or _covers(other, host) for other in table[port])]


def _fallback(host: str, hosts: dict[str, list[_Path]]) -> str | None:
    """The host whose routes Istio 0.7 served for ``host`` when it had none of its own on a
    port: the longest wildcard covering it, else ``*``."""
    covering = [other for other in hosts if other != host and _covers(other, host)]
    return max(covering, key=lambda other: (other != ANY_HOST, len(other)), default=None)


def _virtual_service(host: str, table: dict[int, dict[str, list[_Path]]], gateway: Resource,
                     rank: dict[int, tuple[str, int]], ctx: Context) -> Resource:
    """Placed with the first Ingress (namespace/name, then file order) that routes ``host``.

    On 0.8 it is placed beside the Gateway instead: 0.8's validation takes only a DNS-1123
    label in ``gateways`` (no namespace, no FQDN), resolved in the VirtualService's own
    namespace, so a cross-namespace reference is refused (``ValidateVirtualService``).
    """
    own = sorted({id(p.ingress): p.ingress for port in table for p in table[port].get(host, [])
                  }.values(), key=lambda i: rank[id(i)])
    namespace = gateway.namespace if ctx.dialect.version == "0.8" else own[0].namespace
    per_port: dict[int, list[tuple[Json, str]]] = {}
    for port in _bound_ports(host, table):
        if host in table[port]:
            per_port[port] = [(_route(p, namespace, ctx), p.origin()) for p in table[port][host]]
        else:  # Envoy fell back to a covering host's routes on that port, or answered 404
            cover = _fallback(host, table[port])
            per_port[port] = [(_route(p, namespace, ctx), f"{p.origin()}, host {cover}: "
                               f"{host} has no routes of its own on port {port}")
                              for p in (table[port][cover] if cover else [])]
    distinct = len({repr([r for r, _ in routes]) for routes in per_port.values()}) > 1
    http: list[Json] = []
    comments: dict[str, str] = {}
    for port, routes in per_port.items():
        for route, origin in routes:
            if distinct:
                route["match"][0]["port"] = port
            comments[f"spec.http[{len(http)}]"] = origin + (f"; port {port}" if distinct else "")
            http.append(route)
        if not distinct:
            break  # the same routes on every bound port: written once, for all of them
    gateway_ref = gateway.name if gateway.namespace == namespace else ctx.dialect.gateway_ref(
        gateway.name, gateway.namespace, ctx.options.cluster_domain)
    spec = {"hosts": [host], **ctx.dialect.visibility(), "gateways": [gateway_ref], "http": http}
    return ctx.resource(Role.ROUTES, "VirtualService", namespace, dns_label(f"{host}-ingress"),
                        spec, own, comments)


def _route(path: _Path, namespace: str, ctx: Context) -> Json:
    destination: Json = {"host": ctx.shown(path.backend, namespace)}
    if path.number is not None:
        destination["port"] = {"number": path.number}
    return ctx.dialect.ingress_route(
        {"match": [{"uri": {path.kind: path.value}}], "route": [{"destination": destination}]},
        path.ingress.ref, ctx)
