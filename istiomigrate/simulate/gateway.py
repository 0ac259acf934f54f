"""How the ingress gateway routed a request from outside the mesh under v1alpha3 config.

Read from istio/istio 0.8.0 and 1.0.0 (``pilot/pkg/model/config.go``,
``gateway.go``; ``pilot/pkg/networking/core/v1alpha3/gateway.go``,
``route/route.go``):

- the gateway workload (pods labelled ``istio: ingressgateway`` by default)
  takes every Gateway whose ``selector`` its labels include (no selector: every
  workload), in any namespace. A Gateway is known as ``name.namespace.svc.DOMAIN``.
- ``MergeGateways``: servers of all those Gateways per port; the first server on
  a port (by ``namespace/name`` here, creation time in Istio) decides whether the
  port is plain text or TLS, and later servers that do not fit are skipped. No
  server on the port: the connection is refused.
- a plain-text port serves plain HTTP; its hosts are those of all its servers. A
  TLS port (``HTTPS`` with ``tls``) terminates TLS: the client's SNI picks the
  server whose hosts match it (none: the handshake fails, refused); ``MUTUAL``
  wants a client certificate this client does not have; ``PASSTHROUGH`` and
  ``TLS`` servers do not route HTTP (not simulated: refused).
- VirtualServices bound to a Gateway of the workload: a ``gateways`` entry is a
  Gateway name, short names resolved in the VirtualService's namespace
  (``mesh`` is the sidecars, not a gateway). Their hosts (short names resolved
  the same way) are kept where they match a host of the server either way (``*``
  and ``*.suffix`` wildcards on both sides); each such host is a domain of Envoy's
  route table, the first VirtualService (by ``namespace/name``) taking a domain
  claimed twice. Routes: a match whose ``port`` is not the gateway port, or with
  ``sourceLabels``, or whose ``gateways`` name none of the workload's, is left out;
  a VirtualService with no route left is skipped.
- Envoy picks the domain by the Host header (exact, longest wildcard, ``*``;
  none: 404) and the first route whose match holds (none: 404). A destination is
  ``host:port``: the port number, else the Service's only port, else the gateway
  port; a port given by name is a black hole (503). Subsets resolve through the
  DestinationRules, as in the mesh (missing: 503). Traffic policies are not
  compared for ingress requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from istiomigrate.read.services import Port, PortLookup
from istiomigrate.simulate.request import (
    NO_LABELS,
    NO_ROUTE,
    REDIRECT,
    REFUSED,
    ROUTE,
    UNAVAILABLE,
    Destination,
    Labels,
    Outcome,
    Ref,
    Request,
    host_matches,
    labels_of,
    specificity,
    weighted,
    with_port,
)
from istiomigrate.simulate.v1alpha3 import (
    HTTP_PORTS,
    MESH,
    Doc,
    NetworkingConfig,
    _actions,
    _request_matches,
    destination_rule,
    subset_of,
)
from istiomigrate.simulate.v1alpha3 import index as mesh_index

DEFAULT_WORKLOAD = (("istio", "ingressgateway"),)  # Istio 0.8's helm chart
# Details of refused connections that explanations look for.
NO_SERVER = "no Gateway server on port"
NO_SNI = "no server of the TLS port has the SNI host"
_Route = tuple[int, dict[str, Any], dict[str, Any] | None]  # (index in http, route, match)


@dataclass(frozen=True)
class Server:
    gateway: Ref
    port: int
    protocol: str  # upper case
    hosts: tuple[str, ...]
    tls: Mapping[str, Any] | None

    @property
    def is_tls(self) -> bool:
        """1.0's isTLSServer: TLS settings on a port that is not plain HTTP."""
        return self.tls is not None and self.protocol not in HTTP_PORTS


@dataclass
class GatewayConfig:
    mesh: NetworkingConfig = field(default_factory=NetworkingConfig)  # DestinationRules
    workload: Labels = NO_LABELS
    names: dict[str, Ref] = field(default_factory=dict)  # FQDN of each Gateway -> Gateway
    servers: dict[int, list[Server]] = field(default_factory=dict)
    virtual_services: list[Doc] = field(default_factory=list)  # bound to one of ``names``
    # (namespace, name) -> [(port name, number)]
    service_ports: PortLookup = field(default_factory=dict[tuple[str, str], list[Port]])
    tables: dict[tuple[int, int | None], RouteTable] = field(default_factory=dict)  # cache
    sni: dict[int, tuple[dict[str, int], list[tuple[str, int]]]] = field(
        default_factory=dict)  # cache: per TLS port, SNI host -> server

    def fqdn(self, host: str, namespace: str) -> str:
        return self.mesh.fqdn(host, namespace)

    def hosts(self) -> set[str]:
        """Every host of the servers and of the bound VirtualServices."""
        out = {h for servers in self.servers.values() for s in servers for h in s.hosts}
        out.update(h for vs in self.virtual_services for h in vs.hosts)
        return out

    def ports(self) -> dict[int, bool]:
        """The gateway's ports, and whether each is TLS."""
        return {port: servers[0].is_tls for port, servers in self.servers.items()}


def index(docs: Iterable[object], cluster_domain: str = "cluster.local",
          default_namespace: str = "default",
          workload: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
          service_ports: PortLookup | None = None) -> GatewayConfig:
    """Gateways selecting ``workload`` (default ``istio=ingressgateway``) and what binds to them."""
    mappings = [d for d in docs if isinstance(d, dict)]
    labels = labels_of(dict(workload if workload is not None else DEFAULT_WORKLOAD))
    config = GatewayConfig(mesh_index(mappings, cluster_domain, default_namespace), labels,
                           service_ports=service_ports or {})
    gateways: list[Doc] = []
    services: list[Doc] = []
    for doc in mappings:
        meta = doc.get("metadata") or {}
        namespace = str(meta.get("namespace") or default_namespace)
        ref = Ref(str(doc.get("kind")), namespace, str(meta.get("name") or ""))
        spec = doc.get("spec") or {}
        if ref.kind == "Gateway":
            _check_gateway(ref, spec)
            if labels_of(spec.get("selector")) <= labels:
                gateways.append(Doc(ref, spec, ()))
        elif ref.kind == "VirtualService":
            services.append(Doc(ref, spec, tuple(config.fqdn(str(h), namespace)
                                                 for h in spec.get("hosts") or [])))
    gateways.sort(key=lambda d: (d.ref.namespace, d.ref.name))
    for gateway in gateways:
        config.names[config.fqdn(gateway.ref.name, gateway.ref.namespace)] = gateway.ref
        for server in gateway.spec.get("servers") or []:
            _merge(config, gateway.ref, server)
    for vs in sorted(services, key=lambda d: (d.ref.namespace, d.ref.name)):
        if any(_resolve(config, g, vs.ref.namespace) in config.names
               for g in vs.spec.get("gateways") or []):
            config.virtual_services.append(vs)
    return config


def _check_gateway(ref: Ref, spec: Any) -> None:
    """A hand-written Gateway of the wrong shape: a ValueError that says where."""
    def fail(where: str, what: str) -> None:
        raise ValueError(f"{ref.label()}: spec.{where} must be {what}")

    if not isinstance(spec, dict):
        fail("", "a mapping")
    if not isinstance(spec.get("selector") or {}, dict):
        fail("selector", "a mapping")
    if not isinstance(spec.get("servers") or [], list):
        fail("servers", "a list")
    for i, server in enumerate(spec.get("servers") or []):
        if not isinstance(server, dict):
            fail(f"servers[{i}]", "a mapping")
        for key, kind, what in (("port", dict, "a mapping"), ("hosts", list, "a list"),
                                ("tls", dict, "a mapping")):
            if not isinstance(server.get(key) or kind(), kind):
                fail(f"servers[{i}].{key}", what)


def _resolve(config: GatewayConfig, gateway: Any, namespace: str) -> str:
    name = str(gateway)
    return MESH if name == MESH else config.fqdn(name, namespace)


def _merge(config: GatewayConfig, ref: Ref, spec: dict[str, Any]) -> None:
    port = spec.get("port") or {}
    server = Server(ref, int(port.get("number") or 0), str(port.get("protocol") or "").upper(),
                    tuple(str(h) for h in spec.get("hosts") or []), spec.get("tls"))
    present = config.servers.setdefault(server.port, [])
    if present:
        first = present[0]
        fits = server.is_tls if first.is_tls else (
            server.protocol == first.protocol and server.protocol in HTTP_PORTS)
        if not fits:
            return  # MergeGateways: "skipping server ... conflict with existing server"
    present.append(server)


def hostname_matches(a: str, b: str) -> bool:
    """Pilot's Hostname.Matches: ``*`` wildcards on either side."""
    a_wild, b_wild = a.startswith("*"), b.startswith("*")
    if a_wild and b_wild:
        short, long_ = sorted((a[1:], b[1:]), key=len)
        return long_.endswith(short)
    if a_wild:
        return b.endswith(a[1:])
    if b_wild:
        return a.endswith(b[1:])
    return a == b


# --- simulation -----------------------------------------------------------------------------


def simulate(config: GatewayConfig, request: Request) -> Outcome:
    """The outcome of a request to the ingress gateway."""
    port = request.port or 0
    servers = config.servers.get(port) or []
    gateways = tuple(dict.fromkeys(s.gateway for s in servers))
    if not servers:
        return Outcome(REFUSED, detail=f"{NO_SERVER} {port}",
                       involved=tuple(config.names.values()))
    key: tuple[int, int | None] = (port, None)
    if servers[0].is_tls:
        chosen = _tls(config, servers, request)
        if isinstance(chosen, str):
            return Outcome(REFUSED, detail=chosen, involved=gateways)
        servers = [chosen]
        gateways = (chosen.gateway,)
        key = (port, config.servers[port].index(chosen))
    elif request.tls:
        return Outcome(REFUSED, detail=f"TLS to the plain-text port {port}", involved=gateways)
    elif servers[0].protocol not in HTTP_PORTS:
        return Outcome(REFUSED, detail=f"port {port} is {servers[0].protocol}, not HTTP",
                       involved=gateways)
    table = config.tables.get(key)
    if table is None:
        table = config.tables[key] = RouteTable.build(config, servers, port)
    found = table.lookup(request.host)
    if found is None:
        return Outcome(NO_ROUTE, detail=f"no VirtualService for host {request.host} on port {port}",
                       involved=gateways)
    domain, vs, routes = found
    involved = (*gateways, vs.ref)
    if any(not s.is_tls and s.tls and s.tls.get("httpsRedirect") and any(
            hostname_matches(h, domain) for h in s.hosts) for s in servers):
        return Outcome(REDIRECT, redirect=(f"https:{request.header('uri')}", request.host),
                       detail="httpsRedirect", involved=involved, matched=vs.ref)
    for i, route, match in routes:
        if match is None or _request_matches(match, request):
            out = _route(config, vs, route, request, involved)
            return Outcome(out.status, out.destinations, out.redirect, out.actions, None,
                           "; ".join(p for p in (out.detail, f"{vs.ref.label()} http[{i}], "
                                                 f"domain {domain}, port {port}") if p),
                           out.involved, out.matched)
    return Outcome(NO_ROUTE, detail=f"no route of {vs.ref.label()} matched (domain {domain})",
                   involved=involved)


def _tls(config: GatewayConfig, servers: list[Server], request: Request) -> Server | str:
    """The server whose hosts match the SNI, or why the handshake fails."""
    if not request.tls:
        return f"plain HTTP to the TLS port {request.port}"
    port = request.port or 0
    sni = config.sni.get(port)
    if sni is None:
        exact: dict[str, int] = {}
        for i, server in enumerate(servers):
            for host in server.hosts:
                exact.setdefault(host, i)
        wild = sorted((specificity(h), i, h) for h, i in exact.items() if h.startswith("*"))
        sni = config.sni[port] = (exact, [(h, i) for _, i, h in wild])
    index_ = sni[0].get(request.host) if not request.host.startswith("*") else None
    if index_ is None:
        index_ = next((i for h, i in sni[1] if host_matches(h, request.host)), None)
    if index_ is None:
        return f"{NO_SNI} {request.host}"
    server = servers[index_]
    mode = str((server.tls or {}).get("mode") or "SIMPLE").upper()
    if server.protocol != "HTTPS" or mode == "PASSTHROUGH":
        return f"port {server.port} is {server.protocol} {mode}: not HTTP (not simulated)"
    if mode == "MUTUAL":
        return f"port {server.port} wants a client certificate (MUTUAL)"
    return server


@dataclass
class RouteTable:
    """Envoy's route table for a listener: domain -> (VirtualService, its routes for the port)."""

    exact: dict[str, tuple[Doc, list[_Route]]] = field(default_factory=dict)
    wildcards: list[tuple[tuple[int, int], str]] = field(default_factory=list)

    @classmethod
    def build(cls, config: GatewayConfig, servers: list[Server], port: int) -> RouteTable:
        hosts = {h for s in servers for h in s.hosts}
        wild = [h for h in hosts if h.startswith("*")]
        table = cls()
        for vs in config.virtual_services:
            matching = [h for h in vs.hosts if h in hosts or any(hostname_matches(h, s) for s in (
                hosts if h.startswith("*") else wild))]
            if not matching:
                continue
            routes = _routes(config, vs, port)
            if not routes:
                continue  # "omitting routes for service ...: no routes matched"
            for host in matching:
                table.exact.setdefault(host, (vs, routes))  # a duplicate domain: first wins
        table.wildcards = sorted((specificity(d), d) for d in table.exact if d.startswith("*"))
        return table

    def lookup(self, host: str) -> tuple[str, Doc, list[_Route]] | None:
        """Envoy's domain match: the exact domain, else the longest wildcard, else ``*``."""
        domain = host if host in self.exact and not host.startswith("*") else next(
            (d for _, d in self.wildcards if host_matches(d, host)), None)
        return None if domain is None else (domain, *self.exact[domain])


def _routes(config: GatewayConfig, vs: Doc, port: int) -> list[_Route]:
    """translateRoute per match: port, source labels and gateways filter the matches."""
    out: list[_Route] = []
    for i, route in enumerate(vs.spec.get("http") or []):
        matches = route.get("match") or []
        if not matches:
            out.append((i, route, None))
            break  # a catch-all: later routes are of no use
        for match in matches:
            wanted = match.get("gateways") or []
            if wanted:
                ok = any(_resolve(config, g, vs.ref.namespace) in config.names for g in wanted)
            else:
                ok = not match.get("sourceLabels")
            if match.get("port") and int(match["port"]) != port:
                ok = False
            if ok:
                out.append((i, route, match))
    return out


def _route(config: GatewayConfig, vs: Doc, route: dict[str, Any], request: Request,
           involved: tuple[Ref, ...]) -> Outcome:
    if route.get("redirect") is not None:
        redirect = route["redirect"]
        return Outcome(REDIRECT, redirect=(redirect.get("uri") or "",
                                           redirect.get("authority") or ""),
                       involved=involved, matched=vs.ref)
    entries = route.get("route") or []
    dests: list[Destination] = []
    problems: list[str] = []
    rules: list[Ref] = []
    for entry in entries:
        dest = entry.get("destination") or {}
        weight = 100 if len(entries) == 1 else int(entry.get("weight") or 0)
        if weight <= 0:
            continue
        host = config.fqdn(str(dest.get("host", "")), vs.ref.namespace)
        port = _port(config, host, dest.get("port"), request.port)
        if port is None:
            problems.append(f"{host}: port {dest['port'].get('name')} by name is a black hole")
            continue
        labels: Labels = NO_LABELS
        if dest.get("subset"):
            rule = destination_rule(config.mesh, host)
            rules.extend([rule.ref] if rule else [])
            subset = subset_of(rule, dest["subset"])
            if subset is None:
                problems.append(f"{host} has no subset {dest['subset']}")
                continue
            labels = labels_of(subset.get("labels"))
        dests.append(Destination(with_port(host, port), labels, weight))
    involved = tuple(dict.fromkeys((*involved, *rules)))
    if problems:
        return Outcome(UNAVAILABLE, detail="; ".join(problems), involved=involved,
                       matched=vs.ref)
    return Outcome(ROUTE, weighted((d.host, d.labels, d.weight, ()) for d in dests),
                   actions=_actions(config.mesh, vs, route), involved=involved, matched=vs.ref)


def _port(config: GatewayConfig, host: str, selector: Any, listener: int | None) -> int | None:
    """GetDestinationCluster: the number; a name: black hole (None); none: the only port."""
    if isinstance(selector, dict) and selector.get("number"):
        return int(selector["number"])
    if isinstance(selector, dict) and selector.get("name"):
        return None
    parts = host.split(".")
    ports = config.service_ports.get((parts[1], parts[0])) if len(parts) > 2 else None
    if ports and len(ports) == 1:
        return ports[0][1]
    return listener

