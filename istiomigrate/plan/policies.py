"""DestinationPolicy -> planned traffic policies per label set (docs/semantics.md §4)."""

from __future__ import annotations

from istiomigrate.plan import model as m
from istiomigrate.plan.context import Context
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.subsets import LabelSet, label_set

# simpleCb field -> planned connection pool field.
_POOL = {
    "max_connections": "max_connections",
    "http_max_pending_requests": "http1_max_pending_requests",
    "http_max_requests": "http2_max_requests",
    "http_max_requests_per_connection": "max_requests_per_connection",
    "http_max_retries": "max_retries",
}
# simpleCb field -> planned outlier detection field.
_OUTLIER = {
    "http_consecutive_errors": "consecutive_errors",
    "http_detection_interval": "interval",
    "sleep_window": "base_ejection_time",
    "http_max_ejection_percent": "max_ejection_percent",
}


def winning_policies(policies: list[LegacyResource], ctx: Context) -> dict[LabelSet, m.Policy]:
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
    return {key: traffic_policy(policy, ctx) for key, policy in chosen.items()}


def traffic_policy(policy: LegacyResource, ctx: Context) -> m.Policy:
    spec = policy.spec
    balancer = pool = outlier = None
    if spec.custom is not None:
        ctx.report("IM306", "custom policy cannot be expressed; dropped", policy.ref)
    if spec.load_balancing:
        if spec.load_balancing.custom is not None:
            ctx.report("IM306", "loadBalancing.custom cannot be expressed; dropped", policy.ref)
        balancer = spec.load_balancing.name or None
    breaker = spec.circuit_breaker
    if breaker:
        if breaker.custom is not None:
            ctx.report("IM306", "circuitBreaker.custom cannot be expressed; dropped", policy.ref)
        if breaker.simple_cb:
            cb = breaker.simple_cb
            given = {ours: getattr(cb, theirs) for theirs, ours in _POOL.items()
                     if getattr(cb, theirs) is not None}
            pool = m.ConnectionPool(**given) if given else None
            # Pilot 0.8 turned outlier detection on for every simple circuit breaker, with
            # Envoy's defaults for the fields not set.
            outlier = m.OutlierDetection(**{ours: getattr(cb, theirs)
                                            for theirs, ours in _OUTLIER.items()})
    return m.Policy(policy, balancer, pool, outlier)
