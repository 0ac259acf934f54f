"""Planned routes and policies as v1alpha3 fields: the one place that spells them.

Only fields the plan sets are written, in the order Istio's own examples use,
so that a reviewer reads the output like hand-written config.
"""

from __future__ import annotations

import itertools

from istiomigrate.model import Json
from istiomigrate.plan import model as m
from istiomigrate.targets.istio.context import Context
from istiomigrate.targets.istio.dialect import Dialect


def http_route(route: m.Route, placed_in: str, ctx: Context) -> Json:
    """One HTTPRoute; ``placed_in`` is the namespace short hosts resolve against."""
    out: Json = {}
    matches = [_http_match(match) for match in route.matches if isinstance(match, m.HttpMatch)]
    if matches:
        out["match"] = matches
    if route.redirect is not None:
        out["redirect"] = _present(uri=route.redirect.uri, authority=route.redirect.authority)
    else:
        out["route"] = [_weighted(d, placed_in, ctx) for d in route.destinations]
    if route.rewrite is not None:
        out["rewrite"] = _present(uri=route.rewrite.uri, authority=route.rewrite.authority)
    out.update(ctx.dialect.websocket_upgrade(route, ctx))
    if route.timeout:
        out["timeout"] = route.timeout
    retries = ctx.dialect.retries(route, ctx)
    if retries is not None:
        out["retries"] = retries
    if route.fault is not None:
        out["fault"] = _fault(route.fault, ctx.dialect)
    if route.mirror is not None:
        out["mirror"] = destination(route.mirror, placed_in, ctx)
    if route.cors is not None:
        out["corsPolicy"] = _cors(route.cors, ctx.dialect)
    if route.append_headers:
        out.update(ctx.dialect.request_headers(dict(route.append_headers)))
    return out


def _present(**fields: object) -> Json:
    """The fields that are set, in the order given."""
    return {key: value for key, value in fields.items() if value is not None}


def _http_match(match: m.HttpMatch) -> Json:
    out: Json = {}
    for condition in match.conditions:
        value = {condition.match.kind: condition.match.value}
        if condition.attribute == "header":
            out.setdefault("headers", {})[condition.name] = value
        else:
            out[condition.attribute] = value
    if match.source_labels:
        out["sourceLabels"] = dict(match.source_labels)
    return out


def _fault(fault: m.Fault, dialect: Dialect) -> Json:
    out: Json = {}
    if fault.delay is not None:
        out["delay"] = {**dialect.fault_percent(fault.delay.percent),
                        "fixedDelay": fault.delay.fixed_delay}
    if fault.abort is not None:
        out["abort"] = {**dialect.fault_percent(fault.abort.percent),
                        "httpStatus": fault.abort.http_status}
    return out


def _cors(cors: m.Cors, dialect: Dialect) -> Json:
    def listed(value: tuple[str, ...] | None) -> list[str] | None:
        return list(value) if value is not None else None

    origins = dialect.allow_origins(list(cors.allow_origin)) if cors.allow_origin is not None \
        else {}
    return {**origins, **_present(allowMethods=listed(cors.allow_methods),
                                  allowHeaders=listed(cors.allow_headers),
                                  exposeHeaders=listed(cors.expose_headers), maxAge=cors.max_age,
                                  allowCredentials=cors.allow_credentials)}


def destination(dest: m.Destination, placed_in: str, ctx: Context) -> Json:
    """A Destination: the host as its reader resolves it, the subset of its labels, a port."""
    out: Json = {"host": ctx.shown(dest.host, placed_in)}
    subset = ctx.subsets.name(dest.host.fqdn, dict(dest.labels))
    if subset:
        out["subset"] = subset
    if dest.port is not None:
        out["port"] = {"number": dest.port}
    return out


def _weighted(dest: m.Destination, placed_in: str, ctx: Context) -> Json:
    out: Json = {"destination": destination(dest, placed_in, ctx)}
    if dest.weight is not None:
        out["weight"] = dest.weight
    return out


def tcp_route(route: m.Route, placed_in: str, ctx: Context) -> Json:
    """A TCPRoute; v1alpha1's subnet lists are OR-ed, which 0.8 needs one match per subnet for."""
    entries: list[Json] = []
    for match in route.matches:
        if isinstance(match, m.TcpMatch):
            entries.extend(_l4_matches(match, ctx.dialect))
    out: Json = {}
    entries = [e for e in entries if e]
    if entries:
        out["match"] = entries
    out["route"] = [_weighted(d, placed_in, ctx) for d in route.destinations]
    return out


def _l4_matches(match: m.TcpMatch, dialect: Dialect) -> list[Json]:
    sources: list[str | None] = list(match.source_subnets) or [None]
    dests = list(match.destination_subnets)
    labels = dict(match.source_labels)
    if dialect.subnet_list:
        return [_l4(src, {"destinationSubnets": dests} if dests else {}, labels)
                for src in sources]
    pairs = itertools.product(sources, list[str | None](dests) or [None])
    return [_l4(src, {"destinationSubnet": dst} if dst else {}, labels) for src, dst in pairs]


def _l4(source: str | None, dest: Json, labels: dict[str, str]) -> Json:
    out = dict(dest)
    if source:
        out["sourceSubnet"] = source
    if labels:
        out["sourceLabels"] = labels
    return out


# Planned connection pool field -> (section, v1alpha3 field).
_POOL = {
    "max_connections": ("tcp", "maxConnections"),
    "http1_max_pending_requests": ("http", "http1MaxPendingRequests"),
    "http2_max_requests": ("http", "http2MaxRequests"),
    "max_requests_per_connection": ("http", "maxRequestsPerConnection"),
    "max_retries": ("http", "maxRetries"),
}
_OUTLIER = {
    "consecutive_errors": "consecutiveErrors",
    "interval": "interval",
    "base_ejection_time": "baseEjectionTime",
    "max_ejection_percent": "maxEjectionPercent",
}


def traffic_policy(policy: m.Policy, ctx: Context) -> Json:
    dialect = ctx.dialect
    out: Json = {}
    if policy.load_balancer:
        out["loadBalancer"] = {"simple": dialect.load_balancer(policy.load_balancer)}
    if policy.connection_pool is not None:
        pool: Json = {}
        for field, (section, name) in _POOL.items():
            value = getattr(policy.connection_pool, field)
            if value is not None:
                pool.setdefault(section, {})[name] = value
        out["connectionPool"] = {k: pool[k] for k in ("tcp", "http") if k in pool}
    if policy.outlier_detection is not None:
        # An empty section turns outlier detection on with Envoy's defaults, as Pilot 0.8 did.
        outlier = {name: getattr(policy.outlier_detection, field)
                   for field, name in _OUTLIER.items()
                   if getattr(policy.outlier_detection, field) is not None}
        out["outlierDetection"] = dialect.outlier_detection(outlier, policy, ctx)
    return out


def shared_fields(policy: Json) -> list[str]:
    """Leaf field paths of a traffic policy, for the message about what subsets now share."""
    out: list[str] = []
    for key, value in policy.items():
        if isinstance(value, dict):
            out.extend(f"{key}.{leaf}" for leaf in shared_fields(value))
        else:
            out.append(key)
    return out


# Pilot applies a matching port-level entry instead of the top-level settings, component by
# component: a port that only set TLS would lose the host's pool and outlier detection.
_PORT_COMPONENTS = ("loadBalancer", "connectionPool", "outlierDetection")


def origination(host: str, ports: list[int], top: Json, ctx: Context) -> Json:
    """Port-level TLS settings that originate TLS to ``host``; SNI only for a concrete name.

    Each entry repeats the top-level components of ``top`` so that the port keeps them.
    """
    settings = []
    for number in sorted(set(ports)):
        tls = ctx.dialect.origination_tls(host, ctx)
        kept = {key: top[key] for key in _PORT_COMPONENTS if key in top}
        settings.append({"port": {"number": number}, **kept, "tls": tls})
    return {"portLevelSettings": settings}
