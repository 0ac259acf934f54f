"""DestinationPolicy -> DestinationRule traffic policies (MAPPING §4)."""

from __future__ import annotations

from istiomigrate.convert.context import Context
from istiomigrate.reader import LegacyResource
from istiomigrate.subsets import LabelSet, label_set

# simpleCb field -> (section, field) in ConnectionPoolSettings / OutlierDetection.
_POOL = {
    "max_connections": ("tcp", "maxConnections"),
    "http_max_pending_requests": ("http", "http1MaxPendingRequests"),
    "http_max_requests": ("http", "http2MaxRequests"),
    "http_max_requests_per_connection": ("http", "maxRequestsPerConnection"),
    "http_max_retries": ("http", "maxRetries"),
}
_OUTLIER = {
    "http_consecutive_errors": "consecutiveErrors",
    "http_detection_interval": "interval",
    "sleep_window": "baseEjectionTime",
    "http_max_ejection_percent": "maxEjectionPercent",
}


def winning_policies(
    policies: list[LegacyResource], ctx: Context
) -> dict[LabelSet, LegacyResource]:
    """Pilot's choice per exact label set: the smallest ``namespace/name`` among the applicable.

    A policy that selects callers (``source``) cannot be expressed, and applying
    it to every caller would widen it, so it is reported and left out.
    """
    chosen: dict[LabelSet, LegacyResource] = {}
    for policy in policies:  # already sorted by namespace/name
        if policy.spec.source is not None:
            ctx.report("IM305", "source-selected policy cannot be expressed in a "
                       "DestinationRule; not applied", policy.ref)
            continue
        key = label_set(policy.spec.destination.labels)
        if key in chosen:
            winner = chosen[key]
            ctx.report("IM209", f"DestinationPolicy {winner.namespace}/{winner.name} has the "
                       "same host and labels and wins (smallest namespace/name, as in Pilot); "
                       "this one is not applied", policy.ref)
            continue
        chosen[key] = policy
    return chosen


def traffic_policy(policy: LegacyResource, ctx: Context) -> dict:
    spec = policy.spec
    out: dict = {}
    if spec.custom is not None:
        ctx.report("IM306", "custom policy cannot be expressed; dropped", policy.ref)
    if spec.load_balancing:
        if spec.load_balancing.custom is not None:
            ctx.report("IM306", "loadBalancing.custom cannot be expressed; dropped", policy.ref)
        if spec.load_balancing.name:
            out["loadBalancer"] = {"simple": spec.load_balancing.name}
    breaker = spec.circuit_breaker
    if breaker:
        if breaker.custom is not None:
            ctx.report("IM306", "circuitBreaker.custom cannot be expressed; dropped", policy.ref)
        if breaker.simple_cb:
            out.update(_circuit_breaker(breaker.simple_cb, ctx.options.target))
    return out


def _circuit_breaker(cb, target: str) -> dict:
    pool: dict = {}
    for field, (section, name) in _POOL.items():
        value = getattr(cb, field)
        if value is not None:
            pool.setdefault(section, {})[name] = value
    outlier = {
        name: getattr(cb, field)
        for field, name in _OUTLIER.items()
        if getattr(cb, field) is not None
    }
    out: dict = {}
    if pool:
        out["connectionPool"] = {k: pool[k] for k in ("tcp", "http") if k in pool}
    # Pilot 0.8 turned outlier detection on for every simple circuit breaker, with Envoy's
    # defaults for the fields not set; an empty section does the same in v1alpha3.
    out["outlierDetection"] = {"http": outlier} if target == "0.8" else outlier
    return out


def shared_fields(policy: dict) -> list[str]:
    """Leaf field paths of a traffic policy, for the message about what subsets now share."""
    out: list[str] = []
    for key, value in policy.items():
        if isinstance(value, dict):
            out.extend(f"{key}.{leaf}" for leaf in shared_fields(value))
        else:
            out.append(key)
    return out
