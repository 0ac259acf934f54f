"""How Pilot 0.8/1.0 routed a request under v1alpha3 config.

Read from istio/istio 0.8.0 and 1.0.0 (``pilot/pkg/model/config.go``,
``pilot/pkg/networking/core/v1alpha3/route/route.go`` and ``cluster.go``):

- short hosts resolve against the namespace of the resource holding them
  (``name`` -> ``name.NS.svc.DOMAIN``; anything with a dot is kept);
- the VirtualService for a host: exact host before wildcards; two for one
  host are not merged (Istio's choice is undefined: the first by
  ``namespace/name`` is taken and the outcome says so);
- HTTP: routes whose ``sourceLabels`` are not a subset of the caller's labels
  are left out of the caller's config; if none is left, the VirtualService is
  skipped and the host gets its default route (the whole service). Otherwise
  the first remaining route whose match holds wins; none: 404;
- a destination's subset must be defined in the DestinationRule for its
  host (the most specific host match), else Envoy has no cluster: 503;
- the cluster's traffic policy: the top-level policy, then the subset's on
  top. Per port, a matching ``portLevelSettings`` entry replaces all four
  components. Within a component Pilot replaced the circuit-breaker
  thresholds and the outlier detection as wholes, and set
  ``maxRequestsPerConnection``, ``connectTimeout``, the load balancer and
  TLS one by one;
- external hosts: allowed when a ServiceEntry covers host (or address) and
  port; an ``HTTPS``/``TLS`` port is passthrough (the application must speak
  TLS), an ``HTTP`` port with DestinationRule TLS ``SIMPLE`` is TLS
  origination. Load balancing does not apply to their original-destination
  clusters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from istiomigrate.simulate.request import (
    BLOCKED,
    NO_LABELS,
    NO_ROUTE,
    ORIGINAL_DST,
    REDIRECT,
    ROUTE,
    TCP,
    UNAVAILABLE,
    Actions,
    Labels,
    Outcome,
    Policy,
    Ref,
    Request,
    host_matches,
    in_subnet,
    labels_of,
    policy_key,
    seconds,
    specificity,
    string_matches,
    weighted,
)
from istiomigrate.simulate.v1alpha1 import cors_key

HTTP_PORTS = {"HTTP", "HTTP2", "GRPC"}
PASSTHROUGH = {"HTTPS", "TLS"}
MESH = "mesh"


@dataclass(frozen=True)
class Doc:
    """A v1alpha3 resource: its reference, namespace, spec, and the FQDNs it is about."""

    ref: Ref
    spec: dict[str, Any]
    hosts: tuple[str, ...]


@dataclass
class NetworkingConfig:
    cluster_domain: str = "cluster.local"
    virtual_services: list[Doc] = field(default_factory=list)
    destination_rules: list[Doc] = field(default_factory=list)
    service_entries: list[Doc] = field(default_factory=list)

    def fqdn(self, host: str, namespace: str) -> str:
        """Pilot's ResolveShortnameToFQDN."""
        if "." in host or "*" in host:
            return host
        return f"{host}.{namespace}.svc.{self.cluster_domain}"

    def is_external(self, host: str) -> bool:
        return not host.endswith(f".svc.{self.cluster_domain}")

    def hosts(self) -> set[str]:
        out: set[str] = set()
        for doc in self.virtual_services + self.destination_rules + self.service_entries:
            out.update(doc.hosts)
        return out


def index(docs: Iterable[object], cluster_domain: str = "cluster.local",
          default_namespace: str = "default") -> NetworkingConfig:
    """Index VirtualServices (bound to the mesh), DestinationRules and ServiceEntries."""
    config = NetworkingConfig(cluster_domain)
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        meta = doc.get("metadata") or {}
        namespace = str(meta.get("namespace") or default_namespace)
        ref = Ref(str(doc.get("kind")), namespace, str(meta.get("name") or ""))
        spec = doc.get("spec") or {}
        if ref.kind == "VirtualService" and MESH in (spec.get("gateways") or [MESH]):
            hosts = tuple(config.fqdn(str(h), namespace) for h in spec.get("hosts") or [])
            config.virtual_services.append(Doc(ref, spec, hosts))
        elif ref.kind == "DestinationRule" and spec.get("host"):
            config.destination_rules.append(
                Doc(ref, spec, (config.fqdn(str(spec["host"]), namespace),)))
        elif ref.kind == "ServiceEntry":
            config.service_entries.append(Doc(ref, spec, tuple(str(h) for h in spec.get("hosts")
                                                                or [])))
    for docs_ in (config.virtual_services, config.destination_rules, config.service_entries):
        docs_.sort(key=lambda d: (d.ref.namespace, d.ref.name))
    return config


def most_specific(docs: list[Doc], host: str) -> list[Doc]:
    """The docs for ``host``: those naming it exactly, else those of the most specific wildcard."""
    candidates = [(specificity(h), d) for d in docs for h in d.hosts if host_matches(h, host)]
    if not candidates:
        return []
    best = min(c[0] for c in candidates)
    out: list[Doc] = []
    for key, doc in candidates:
        if key == best and doc not in out:
            out.append(doc)
    return out


@dataclass
class _Egress:
    entry: Doc
    protocol: str
    target: str


def simulate(config: NetworkingConfig, request: Request) -> Outcome:
    """The outcome of one request under v1alpha3 config."""
    egress: _Egress | None = None
    if not request.host or config.is_external(request.host):
        egress = _egress(config, request)
        if egress is None:
            return Outcome(BLOCKED, detail="no ServiceEntry allows this host and port",
                           involved=tuple(d.ref for d in config.service_entries))
    app = _app_protocol(egress)
    services = most_specific(config.virtual_services, request.host) if request.host else []
    vs = services[0] if services else None
    target = egress.target if egress else request.host
    rule, host, labels, weight, policy = _destination(config, request, target, None, 100, egress)
    assert labels is not None  # no subset named: the whole service is never missing
    whole = weighted([(host, labels, weight, policy)])
    involved = tuple(d.ref for d in services) + ((egress.entry.ref,) if egress else ()) + (
        (rule,) if rule else ())
    if egress is not None and (egress.protocol not in HTTP_PORTS or request.protocol == TCP):
        return Outcome(ROUTE, whole, egress=app, detail=f"egress port {egress.protocol}",
                       involved=involved, matched=egress.entry.ref)
    note = f"{len(services)} VirtualServices for this host; Istio picks one" if len(
        services) > 1 else ""
    section = "tcp" if request.protocol == TCP else "http"
    routes = (vs.spec.get(section) or []) if vs else []
    if vs is None or not routes:
        return Outcome(ROUTE, whole, egress=app, detail=note or "no route: the whole service",
                       involved=involved)
    survivors = _survivors(routes, request)
    if not survivors:
        return Outcome(ROUTE, whole, egress=app, involved=involved,
                       detail=note or "no route applies to this caller: the whole service")
    for index_, route, match in survivors:
        if match is None or _request_matches(match, request):
            out = _route_outcome(config, vs, route, request, egress, involved)
            return _with(out, f"{vs.ref.label()} {section}[{index_}]", note)
    return Outcome(NO_ROUTE, egress=app, detail=note or "no route matched", involved=involved)


def _with(outcome: Outcome, where: str, note: str) -> Outcome:
    detail = "; ".join(p for p in (outcome.detail, note, where) if p)
    return Outcome(outcome.status, outcome.destinations, outcome.redirect, outcome.actions,
                   outcome.egress, detail, outcome.involved, outcome.matched)


def _survivors(routes: list[dict[str, Any]], request: Request
               ) -> list[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    """Pilot's per-caller route list: matches that pass the source and port filters."""
    out: list[tuple[int, dict[str, Any], dict[str, Any] | None]] = []
    for i, route in enumerate(routes):
        matches = route.get("match") or []
        if not matches:
            out.append((i, route, None))
            break  # a catch-all: later routes are of no use
        for match in matches:
            if _source_ok(match, request):
                out.append((i, route, match))
    return out


def _source_ok(match: dict[str, Any], request: Request) -> bool:
    gateways = match.get("gateways") or []
    if gateways and MESH not in gateways:
        return False
    port = match.get("port")
    if port and request.port is not None and int(port) != request.port:
        return False
    return labels_of(match.get("sourceLabels")) <= request.caller.labels


def _request_matches(match: dict[str, Any], request: Request) -> bool:
    if request.protocol == TCP:
        return _l4_matches(match, request)
    for key in ("uri", "method", "authority", "scheme"):
        if match.get(key) is not None and not string_matches(match[key], request.header(key)):
            return False
    headers = match.get("headers") or {}
    return all(string_matches(cond or {}, _ordinary_header(request, str(name)))
               for name, cond in headers.items())


_PSEUDO = frozenset({"uri", "authority", "scheme", "method"})


def _ordinary_header(request: Request, name: str) -> str | None:
    """``match.headers`` names ordinary headers: ``authority`` there is not ``:authority``
    (Envoy's header matcher), and requests carry no ordinary header of those names."""
    return None if name.lower() in _PSEUDO else request.header(name)


def _l4_matches(match: dict[str, Any], request: Request) -> bool:
    source = match.get("sourceSubnet")
    if source and not in_subnet(source, request.source_ip):
        return False
    dests = list(match.get("destinationSubnets") or [])
    if match.get("destinationSubnet"):
        dests.append(match["destinationSubnet"])
    return not dests or any(in_subnet(d, request.destination_ip) for d in dests)


# --- egress ---------------------------------------------------------------------------------


def _egress(config: NetworkingConfig, request: Request) -> _Egress | None:
    found = []
    for entry in config.service_entries:
        port = _port(entry, request.port)
        if port is None:
            continue
        addresses = entry.spec.get("addresses") or []
        if request.protocol == TCP and any(in_subnet(a, request.destination_ip)
                                           for a in addresses):
            found.append(((0, 0), entry, port, ORIGINAL_DST + str(request.destination_ip)))
        for host in entry.hosts:
            if request.host and host_matches(host, request.host):
                found.append((specificity(host), entry, port, host))
    if not found:
        return None
    _, entry, port, target = min(found, key=lambda f: f[0])
    return _Egress(entry, str(port.get("protocol", "")).upper(), target)


def _port(entry: Doc, number: int | None) -> dict[str, Any] | None:
    ports: list[dict[str, Any]] = entry.spec.get("ports") or []
    for port in ports:
        if number is None or port.get("number") == number:
            return port
    return None


def _app_protocol(egress: _Egress | None) -> str | None:
    if egress is None:
        return None
    return "TLS" if egress.protocol in PASSTHROUGH else egress.protocol


# --- outcome of a route ---------------------------------------------------------------------


def _route_outcome(config: NetworkingConfig, vs: Doc, route: dict[str, Any], request: Request,
                   egress: _Egress | None, involved: tuple[Ref, ...]) -> Outcome:
    app = _app_protocol(egress)
    if route.get("redirect") is not None and request.protocol != TCP:
        redirect = route["redirect"]
        return Outcome(REDIRECT, redirect=(redirect.get("uri") or "",
                                           redirect.get("authority") or ""),
                       egress=app, involved=involved, matched=vs.ref)
    entries = route.get("route") or []
    dests: list[tuple[str, Labels, int, Policy]] = []
    missing: list[str] = []
    drs: list[Ref] = []
    for entry in entries:
        dest = entry.get("destination") or {}
        host = config.fqdn(str(dest.get("host", "")), vs.ref.namespace)
        weight = 100 if len(entries) == 1 else int(entry.get("weight") or 0)
        if weight <= 0:
            continue
        dr, target, labels, _, policy = _destination(config, request, host, dest.get("subset"),
                                                     weight, egress)
        drs.extend([dr] if dr else [])
        if labels is None:
            missing.append(f"{host} subset {dest.get('subset')}")
        else:
            dests.append((target, labels, weight, policy))
    involved = tuple(dict.fromkeys(involved + tuple(drs)))
    if missing:
        return Outcome(UNAVAILABLE, egress=app, detail="no such subset: " + ", ".join(missing),
                       involved=involved, matched=vs.ref)
    actions = Actions() if request.protocol == TCP else _actions(config, vs, route)
    return Outcome(ROUTE, weighted(dests), actions=actions, egress=app, involved=involved,
                   matched=vs.ref)


def destination_rule(config: NetworkingConfig, host: str) -> Doc | None:
    rules = most_specific(config.destination_rules, host)
    return rules[0] if rules else None


def subset_of(rule: Doc | None, name: str | None) -> dict[str, Any] | None:
    if rule is None or not name:
        return None
    for subset in rule.spec.get("subsets") or []:
        if isinstance(subset, dict) and subset.get("name") == name:
            return subset
    return None


def _destination(config: NetworkingConfig, request: Request, host: str, subset_name: str | None,
                 weight: int, egress: _Egress | None
                 ) -> tuple[Ref | None, str, Labels | None, int, Policy]:
    """(DestinationRule ref, host, labels or None when the subset is missing, weight, policy)."""
    external = egress is not None and (host == request.host or host_matches(egress.target, host))
    if external and egress is not None:
        host = egress.target
    rule = destination_rule(config, host)
    subset = subset_of(rule, subset_name)
    labels: Labels | None = NO_LABELS
    if subset_name:
        labels = None if subset is None else labels_of(subset.get("labels"))
    cluster: dict[str, Any] = {}
    if rule is not None:
        apply_policy(cluster, rule.spec.get("trafficPolicy"), request.port)
        if subset is not None:
            apply_policy(cluster, subset.get("trafficPolicy"), request.port)
    if external:
        cluster.pop("loadBalancer", None)
        labels = labels if labels is None else NO_LABELS
    return (rule.ref if rule else None, host, labels, weight, policy_key(cluster))


def apply_policy(cluster: dict[str, Any], policy: dict[str, Any] | None, port: int | None) -> None:
    """Pilot's applyTrafficPolicy: port-level settings replace every component for their port."""
    if not policy:
        return
    components = policy
    if port is not None:
        for level in policy.get("portLevelSettings") or []:
            if (level.get("port") or {}).get("number") == port:
                components = level
                break
    _apply_pool(cluster, components.get("connectionPool"))
    outlier = components.get("outlierDetection")
    if outlier is not None:
        flat = {**(outlier.get("http") or {}), **{k: v for k, v in outlier.items() if k != "http"}}
        cluster["outlierDetection"] = policy_key({
            "consecutiveErrors": flat.get("consecutiveErrors") or None,
            "interval": seconds(flat.get("interval")),
            "baseEjectionTime": seconds(flat.get("baseEjectionTime")),
            "maxEjectionPercent": flat.get("maxEjectionPercent") or None,
        })
    balancer = components.get("loadBalancer")
    if balancer is not None:
        cluster["loadBalancer"] = balancer.get("simple") or repr(sorted(balancer.items()))
    tls = components.get("tls")
    if tls is not None:
        mode = str(tls.get("mode") or "DISABLE")
        cluster["tls"] = None if mode == "DISABLE" else mode


def _apply_pool(cluster: dict[str, Any], pool: dict[str, Any] | None) -> None:
    if pool is None:
        return
    http, tcp = pool.get("http") or {}, pool.get("tcp") or {}
    thresholds = {"maxConnections": tcp.get("maxConnections"),
                  "http1MaxPendingRequests": http.get("http1MaxPendingRequests"),
                  "http2MaxRequests": http.get("http2MaxRequests"),
                  "maxRetries": http.get("maxRetries")}
    cluster["pool"] = tuple(sorted((k, v) for k, v in thresholds.items() if (v or 0) > 0)) or None
    if (http.get("maxRequestsPerConnection") or 0) > 0:
        cluster["maxRequestsPerConnection"] = http["maxRequestsPerConnection"]
    if seconds(tcp.get("connectTimeout")):
        cluster["connectTimeout"] = seconds(tcp.get("connectTimeout"))


def _actions(config: NetworkingConfig, vs: Doc, route: dict[str, Any]) -> Actions:
    retries = route.get("retries") or {}
    mirror = None
    if route.get("mirror"):
        target = route["mirror"]
        host = config.fqdn(str(target.get("host", "")), vs.ref.namespace)
        labels: Labels | None = NO_LABELS
        if target.get("subset"):
            subset = subset_of(destination_rule(config, host), target["subset"])
            labels = labels_of(subset.get("labels")) if subset else None
        mirror = (host, labels)
    cors = route.get("corsPolicy")
    return Actions(
        rewrite=tuple(sorted((k, v) for k, v in (route.get("rewrite") or {}).items() if v)),
        timeout=seconds(route.get("timeout")),
        retries=(int(retries["attempts"]), seconds(retries.get("perTryTimeout")))
        if int(retries.get("attempts") or 0) > 0 else None,
        fault=_fault(route.get("fault") or {}),
        mirror=mirror,
        cors=None if cors is None else cors_key(
            cors.get("allowOrigin"), cors.get("allowMethods"), cors.get("allowHeaders"),
            cors.get("exposeHeaders"), seconds(cors.get("maxAge")), cors.get("allowCredentials")),
        append_headers=frozenset((str(k), str(v)) for k, v in
                                 (route.get("appendHeaders") or {}).items()),
        websocket=bool(route.get("websocketUpgrade")),
    )


def _percent(block: dict[str, Any]) -> Any:
    percentage = block.get("percentage")
    if isinstance(percentage, dict) and percentage.get("value") is not None:
        return percentage["value"]
    return block.get("percent") or 0


def _fault(fault: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    out: list[tuple[str, Any]] = []
    delay, abort = fault.get("delay"), fault.get("abort")
    if delay and _percent(delay) > 0 and seconds(delay.get("fixedDelay")):
        out.append(("delay", (_percent(delay), seconds(delay.get("fixedDelay")))))
    if abort and _percent(abort) > 0 and int(abort.get("httpStatus") or 0) > 0:
        out.append(("abort", (_percent(abort), int(abort["httpStatus"]))))
    return tuple(out)
