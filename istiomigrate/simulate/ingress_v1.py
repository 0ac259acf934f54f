"""How Istio 0.7/0.8 served Kubernetes Ingresses of class istio (its ``istio-ingress``).

Read from istio/istio 0.7.1 and 0.8.0, independently of the converter (which
must agree with it, not the other way round):

- ``pilot/pkg/config/kube/ingress/conversion.go``: every path of every rule of
  an Ingress is one rule for the rule's host (none: any host, ``*``); a path
  ending in ``.*`` is a prefix without the ``.*``, any other path exact, no path
  the prefix ``/``; the default backend is a rule for any host with the prefix
  ``/``. An Ingress with ``spec.tls`` marks all its rules TLS.
- ``pilot/pkg/proxy/envoy/v1/ingress.go`` (``buildIngressListeners``,
  ``BuildIngressRoutes``, ``buildIngressRoute``): a plain HTTP listener on port
  80, always; a TLS listener on port 443 (the one mounted certificate, no SNI)
  only when a TLS rule has routes. Rules of every Ingress of every namespace are
  merged per host and port (TLS rules on 443 only, the others on 80 only), each
  host's routes sorted by ``RoutesByPath`` (``resources.go``: exact paths first,
  ascending, then prefixes, descending). Envoy picks the virtual host by the Host
  header: exact, else ``*``; then the first route whose path matches; none: 404.
- the backend is ``serviceName`` in the Ingress's namespace; ``servicePort`` a
  Service port number or name. Pilot dropped the rule when the Service had no
  such port or the port was not HTTP by its name (``http``, ``http2``, ``grpc``
  before the first ``-``, any case). A Service absent from the input is assumed
  to exist with that port, HTTP: the destination keeps the port as written.
- Pilot combined the backend's RouteRules into the ingress routes
  (``buildDestinationHTTPRoutes``, ``CombinePathPrefix``). This is approximated:
  the rule that would match the same request in the mesh (from a caller with no
  service) decides the destinations and actions. Only the existence of a
  difference matters there: IM309 says that v1alpha3 stops doing this.

Deliberately not modelled: DestinationPolicies at the ingress (ingress outcomes
carry no policy on either side), and Pilot's order between identical paths of
two Ingresses, which was undefined (Go's ``sort.Sort`` is not stable): the
simulator takes the order IM217 documents, smaller ``namespace/name`` first,
then file order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from istiomigrate.kinds import INGRESS_KIND
from istiomigrate.read.ingress import IngressBackend
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.read.services import PortLookup
from istiomigrate.simulate import v1alpha1
from istiomigrate.simulate.request import (
    INGRESS_HTTP,
    INGRESS_HTTPS,
    NO_ROUTE,
    REDIRECT,
    REFUSED,
    ROUTE,
    Caller,
    Destination,
    Outcome,
    Ref,
    Request,
    host_matches,
    specificity,
    with_port,
)

ANY_HOST = "*"
_HTTP_PROTOCOLS = ("http", "http2", "grpc")


@dataclass(frozen=True)
class IngressPath:
    """One rule as Pilot routed it: host, port, path match and backend."""

    ingress: Ref
    order: int  # position of its Ingress: namespace/name, then file order
    where: str  # spec.rules[0].http.paths[1], or spec.backend
    host: str
    port: int
    kind: str  # exact | prefix
    value: str
    backend: str  # FQDN
    service_port: int | str  # a number, or a name no Service of the input resolves

    def matches(self, uri: str | None) -> bool:
        if uri is None:
            return False
        return uri == self.value if self.kind == "exact" else uri.startswith(self.value)

    def describe(self) -> str:
        return f"{self.ingress.label()} {self.where} ({self.kind} {self.value})"


@dataclass
class IngressConfig:
    """The routes of the legacy ingress: per port, per host (``*``: any), in Envoy's order."""

    cluster_domain: str = "cluster.local"
    tables: dict[int, dict[str, list[IngressPath]]] = field(
        default_factory=lambda: {INGRESS_HTTP: {}, INGRESS_HTTPS: {}})
    ingresses: list[Ref] = field(default_factory=list)
    legacy: v1alpha1.LegacyConfig | None = None  # for the RouteRules of backends
    by_host: dict[str, tuple[Ref, ...]] = field(default_factory=dict)  # Ingresses of a host
    by_port: dict[int, tuple[Ref, ...]] = field(default_factory=dict)  # Ingresses of a port
    wildcards: dict[int, list[str]] = field(default_factory=dict)  # wildcard hosts, best first

    def hosts(self) -> set[str]:
        return {host for table in self.tables.values() for host in table}

    def paths(self) -> list[IngressPath]:
        return [p for table in self.tables.values() for paths in table.values() for p in paths]

    def listens(self, port: int | None) -> bool:
        """Port 80 always; port 443 when a TLS Ingress has a route."""
        return port == INGRESS_HTTP or (port == INGRESS_HTTPS and bool(self.tables[port]))


def ingress_ref(resource: LegacyResource) -> Ref:
    return Ref(INGRESS_KIND, resource.namespace, resource.name)


def index(resources: Iterable[LegacyResource], service_ports: PortLookup | None = None,
          cluster_domain: str = "cluster.local",
          legacy: v1alpha1.LegacyConfig | None = None) -> IngressConfig:
    """Index the Ingresses among ``resources`` (class istio: the reader kept only those).

    ``service_ports``: ``(namespace, name) -> [(port name, number)]`` (a mapping or the
    reader's ``ServicePorts``), for named ports and the ports Pilot dropped.
    """
    config = IngressConfig(cluster_domain, legacy=legacy)
    ingresses = [r for r in resources if r.kind == INGRESS_KIND]
    ordered = sorted(ingresses, key=lambda r: f"{r.namespace}/{r.name}")  # stable: file order
    paths: list[IngressPath] = []
    for order, ingress in enumerate(ordered):
        config.ingresses.append(ingress_ref(ingress))
        paths.extend(_paths(ingress, order, service_ports or {}, cluster_domain))
    for path in paths:
        config.tables[path.port].setdefault(path.host, []).append(path)
    for table in config.tables.values():
        for host, found in table.items():
            table[host] = routes_by_path(found)
    config.ingresses = list(dict.fromkeys(config.ingresses))
    for path in paths:
        config.by_host[path.host] = (*config.by_host.get(path.host, ()), path.ingress)
        config.by_port[path.port] = (*config.by_port.get(path.port, ()), path.ingress)
    for port, table in config.tables.items():
        config.wildcards[port] = sorted((h for h in table if h.startswith("*")),
                                        key=lambda h: (specificity(h), h))
    return config


def routes_by_path(paths: list[IngressPath]) -> list[IngressPath]:
    """RoutesByPath: exact paths ascending, then prefixes descending; ties by Ingress order."""
    exact = sorted((p for p in paths if p.kind == "exact"), key=lambda p: (p.value, p.order))
    prefix = sorted((p for p in paths if p.kind == "prefix"), key=lambda p: p.order)
    prefix.sort(key=lambda p: p.value, reverse=True)  # stable: equal prefixes keep the order
    return exact + prefix


def _paths(ingress: LegacyResource, order: int, service_ports: PortLookup,
           cluster_domain: str) -> list[IngressPath]:
    spec = ingress.spec
    port = INGRESS_HTTPS if spec.tls else INGRESS_HTTP
    items: list[tuple[str, str, str | None, IngressBackend]] = []
    if spec.backend is not None:
        items.append(("spec.backend", ANY_HOST, None, spec.backend))
    for i, rule in enumerate(spec.rules or []):
        if rule.http is None:
            continue  # Pilot: "invalid ingress rule ... no paths defined"
        for j, item in enumerate(rule.http.paths):
            items.append((f"spec.rules[{i}].http.paths[{j}]", rule.host or ANY_HOST, item.path,
                          item.backend))
    out = []
    for where, host, path, backend in items:
        number = _service_port(backend, ingress.namespace, service_ports)
        if number is None:
            continue  # buildIngressRoute failed: Pilot logged it and skipped the rule
        if not path:
            kind, value = "prefix", "/"
        elif path.endswith(".*"):
            kind, value = "prefix", path[:-2]
        else:
            kind, value = "exact", path
        fqdn = f"{backend.service_name}.{ingress.namespace}.svc.{cluster_domain}"
        out.append(IngressPath(ingress_ref(ingress), order, where, host, port, kind, value, fqdn,
                               number))
    return out


def _service_port(backend: IngressBackend, namespace: str,
                  service_ports: PortLookup) -> int | str | None:
    """Pilot's extractPort and IsHTTP: the port, or None when the rule was dropped."""
    wanted = backend.service_port
    ports = service_ports.get((namespace, backend.service_name)) or None
    if ports is None:
        return wanted
    for name, number in ports:
        if (number == wanted) if isinstance(wanted, int) else (name == wanted):
            return number if is_http(name) else None
    return None


def is_http(port_name: str | None) -> bool:
    """Pilot 0.7's ConvertProtocol + IsHTTP: the name's prefix up to the first ``-``."""
    return (port_name or "").split("-", 1)[0].lower() in _HTTP_PROTOCOLS


# --- simulation -----------------------------------------------------------------------------


def virtual_host(table: Mapping[str, list[IngressPath]], host: str,
                 wildcards: list[str] | None = None) -> str | None:
    """Envoy's choice of virtual host: the exact domain, else the most specific wildcard.

    ``wildcards``: the table's wildcard hosts, most specific first, if known.
    """
    if host in table:
        return host
    if wildcards is None:
        wildcards = sorted((h for h in table if h.startswith("*")),
                           key=lambda h: (specificity(h), h))
    return next((h for h in wildcards if host_matches(h, host)), None)


def simulate(config: IngressConfig, request: Request) -> Outcome:
    """The outcome of a request to the legacy ingress."""
    port = request.port
    if port is None or not config.listens(port) or request.tls != (port == INGRESS_HTTPS):
        why = (f"no listener on port {port}" if not config.listens(port) else
               f"the listener on port {port} {'is' if port == INGRESS_HTTPS else 'is not'} TLS")
        return Outcome(REFUSED, detail=why, involved=tuple(config.ingresses))
    table = config.tables[port]
    vhost = virtual_host(table, request.host, config.wildcards.get(port))
    if vhost is None:
        return Outcome(NO_ROUTE, detail=f"no Ingress rule for host {request.host} on port {port}",
                       involved=_fallback(config, request))
    routes = table[vhost]
    involved = tuple(dict.fromkeys(p.ingress for p in routes))
    uri = request.header("uri")
    for path in routes:
        if path.matches(uri):
            return _route(config, path, request, vhost, involved)
    return Outcome(NO_ROUTE, detail=f"no path of host {vhost} on port {port} matches",
                   involved=involved)


def _fallback(config: IngressConfig, request: Request) -> tuple[Ref, ...]:
    """Ingresses to blame for a request no rule took: those of its host, and the first of those
    that made the port's routes (the listener that took it), else the first Ingress."""
    own = (*config.by_host.get(request.host, ()), *config.by_port.get(request.port or 0, ())[:1])
    return tuple(dict.fromkeys(own or config.ingresses[:1]))


def _route(config: IngressConfig, path: IngressPath, request: Request, vhost: str,
           involved: tuple[Ref, ...]) -> Outcome:
    first = (path.ingress, *(r for r in involved if r != path.ingress))
    where = f"{path.describe()}, host {vhost}, port {path.port}"
    legacy = config.legacy
    rules = legacy.http_rules.get(path.backend, []) if legacy is not None else []
    if legacy is None or not rules:
        dest = Destination(with_port(path.backend, path.service_port), frozenset(), 100)
        return Outcome(ROUTE, (dest,), detail=where, involved=first, matched=path.ingress)
    # The backend's RouteRules applied to ingress traffic too (approximated, see above).
    mesh = Request.http(path.backend, Caller.external(), dict(request.headers))
    inner = v1alpha1.simulate(legacy, mesh)
    refs = (*first, *(v1alpha1.ref(r) for r in rules))
    detail = f"{where}; with the RouteRules of {path.backend}: {inner.detail or inner.status}"
    if inner.status == REDIRECT:
        return Outcome(REDIRECT, redirect=inner.redirect, detail=detail, involved=refs,
                       matched=path.ingress)
    dests = tuple(Destination(with_port(d.host, path.service_port), d.labels, d.weight)
                  for d in inner.destinations)
    return Outcome(inner.status, dests, actions=inner.actions, detail=detail, involved=refs,
                   matched=path.ingress)
