"""``networking.istio.io/v1`` as Istio 1.22-1.30 reads it (docs/semantics.md §8), read at 1.30.3.

The one place that knows where modern Istio spells a field differently from
1.0 (§8.1) and where its defaults differ from Pilot 0.8's legacy behaviour
(§8.2). Where a default differs, the legacy behaviour is written explicitly,
unless the user accepted the target's defaults (``--accept-target-defaults``);
then nothing is written and an info finding says what changes. What cannot be
pinned is a finding (``render.py`` reports the run-wide ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from istiomigrate.targets.istio.dialect import Dialect

if TYPE_CHECKING:
    from istiomigrate.findings import SourceRef
    from istiomigrate.model import Json
    from istiomigrate.plan import model as m
    from istiomigrate.targets.istio.context import Context

# What Pilot 0.8 retried on for a v1alpha1 simpleRetry (semantics §3.11, v1/route.go).
LEGACY_RETRY_ON = "5xx,connect-failure,refused-stream"
# Modern Istio retries a route without ``retries`` (1.30.3 core/route/retry/retry.go
# DefaultPolicy); ``attempts: 0`` turns that off (ConvertPolicy).
NO_RETRIES: Json = {"attempts": 0}
DEFAULT_RETRIES: Json = {"attempts": 2, "retryOn": "connect-failure,refused-stream,unavailable,"
                         "cancelled,retriable-status-codes"}
# Envoy's healthy panic threshold, which legacy clusters had; 1.30.3 applyOutlierDetection
# sets minHealthPercent (default 0: panic mode off) wherever outlier detection is on.
LEGACY_MIN_HEALTH_PERCENT = 50
# Every namespace sees the resource, as every legacy resource was seen (mesh defaults may
# narrow exportTo on a modern mesh).
EXPORT_ALL: Json = {"exportTo": ["*"]}


@dataclass(frozen=True)
class ModernDialect(Dialect):
    """Istio 1.22-1.30: flat outlier detection, subnet lists, and the fields of §8.1."""

    def retries(self, route: m.Route, ctx: Context) -> Json | None:
        accept = ctx.options.accept_target_defaults
        if route.redirect is not None:
            return None  # answered by the sidecar itself: nothing to retry
        if route.retries is None:
            if accept:
                _accepted(ctx, route, "no retries: the route now retries as the mesh's "
                          "defaultHttpRetryPolicy says (Istio's default: 2 retries on "
                          "connect-failure, refused-stream, unavailable, cancelled and 503)")
                return None
            return dict(NO_RETRIES)
        out: Json = {"attempts": route.retries.attempts}
        if route.retries.per_try_timeout is not None:
            out["perTryTimeout"] = route.retries.per_try_timeout
        if accept:
            _accepted(ctx, route, f"retryOn {LEGACY_RETRY_ON}: the route's retries now use "
                      "Istio's default conditions (connect-failure, refused-stream, "
                      "unavailable, cancelled, 503), no longer every 5xx")
        else:
            out["retryOn"] = LEGACY_RETRY_ON
        return out

    def fault_percent(self, percent: int) -> Json:
        # abort.percent is gone from the proto: without percentage an abort never fires.
        return {"percentage": {"value": percent}}

    def allow_origins(self, origins: list[str]) -> Json:
        return {"allowOrigins": [{"exact": origin} for origin in origins]}

    def request_headers(self, headers: dict[str, str]) -> Json:
        return {"headers": {"request": {"add": headers}}}

    def websocket_upgrade(self, route: m.Route, ctx: Context) -> Json:
        if route.websocket_upgrade is not None:
            ref = route.rule.ref if route.rule is not None else None
            ctx.report("IM121", f"websocketUpgrade: {str(route.websocket_upgrade).lower()} not "
                       "written: the field is gone from networking.istio.io, and modern Istio "
                       "allows WebSocket upgrades on every HTTP route of both sidecars", ref)
        return {}

    def load_balancer(self, simple: str) -> str:
        return "LEAST_REQUEST" if simple == "LEAST_CONN" else simple

    def outlier_detection(self, fields: Json, policy: m.Policy, ctx: Context) -> Json:
        out = {("consecutive5xxErrors" if key == "consecutiveErrors" else key): value
               for key, value in fields.items()}
        source = policy.source.ref
        ctx.report("IM232", f"circuit breaker of {source.label()}: modern Istio turns "
                   "success-rate outlier ejection off (Envoy had it on for legacy clusters) and "
                   "no field turns it back on; only consecutive 5xx errors eject hosts", source)
        if ctx.options.accept_target_defaults:
            ctx.report("IM120", f"outlierDetection of {source.label()}: minHealthPercent not "
                       f"pinned to {LEGACY_MIN_HEALTH_PERCENT}: with Istio's default (0) the "
                       "load balancer never enters panic mode, so when most hosts are ejected "
                       "requests go to the few healthy ones", source)
        else:
            out["minHealthPercent"] = LEGACY_MIN_HEALTH_PERCENT
        return out

    def origination_tls(self, host: str, ctx: Context) -> Json:
        # No sni: 1.30.3 sends the request's host as SNI and checks the certificate's name
        # against it; an explicit sni turns that check off (core/cluster_tls.go
        # setAutoSniAndAutoSanValidation). Legacy verified nothing: kept only when asked.
        tls: Json = {"mode": "SIMPLE"}
        if ctx.options.insecure_skip_verify:
            tls["insecureSkipVerify"] = True
        return tls

    def visibility(self) -> Json:
        return dict(EXPORT_ALL)

    def gateway_ref(self, name: str, namespace: str, cluster_domain: str) -> str:
        return f"{namespace}/{name}"

    def server_certificate(self, secret: str, cert_dir: str) -> Json:
        # Modern gateways mount no certificate files: the same secret, read through SDS from
        # the gateway's namespace (keys tls.crt and tls.key, as the 0.8 secret had).
        return {"credentialName": secret}

    def ingress_route(self, route: Json, source: SourceRef, ctx: Context) -> Json:
        # Pilot 0.7/0.8's ingress never retried; modern gateways would.
        if ctx.options.accept_target_defaults:
            uri = next(iter(route["match"][0]["uri"].items()))
            ctx.report("IM120", f"--accept-target-defaults: no retries on the ingress route for "
                       f"uri {uri[0]} {uri[1]!r}: the gateway now retries as the mesh's "
                       "defaultHttpRetryPolicy says; Istio 0.8's ingress did not retry", source)
            return route
        return {**route, "retries": dict(NO_RETRIES)}


def _accepted(ctx: Context, route: m.Route, what: str) -> None:
    ref = route.rule.ref if route.rule is not None else None
    ctx.report("IM120", f"--accept-target-defaults: {what}", ref)
