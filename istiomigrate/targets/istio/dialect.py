"""How one Istio release spells what the plan says: the one place each spelling lives.

``Dialect`` is v1alpha3 as Istio 0.8 and 1.0 read it (docs/semantics.md §1.2);
the modern target (``targets.modern``) subclasses it for ``networking.istio.io/v1``
(§8), overriding only what that API spells or defaults differently. The
renderers (``fields.py``, ``render.py``, ``gateway.py``) ask the dialect and
never test a version themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from istiomigrate.findings import SourceRef
    from istiomigrate.model import Json
    from istiomigrate.plan import model as m
    from istiomigrate.targets.istio.context import Context


@dataclass(frozen=True)
class Dialect:
    version: str
    api_version: str
    # 1.0 made TCP destination subnets a list (0.8: one subnet per match).
    subnet_list: bool
    # 0.8 nested outlier detection under ``http``; 1.0 flattened it.
    outlier_under_http: bool

    def retries(self, route: m.Route, ctx: Context) -> Json | None:
        """The route's retry policy; None: write no ``retries`` (0.8/1.0 then never retry)."""
        if route.retries is None:
            return None
        return _present(attempts=route.retries.attempts,
                        perTryTimeout=route.retries.per_try_timeout)

    def fault_percent(self, percent: int) -> Json:
        return {"percent": percent}

    def allow_origins(self, origins: list[str]) -> Json:
        return {"allowOrigin": origins}

    def request_headers(self, headers: dict[str, str]) -> Json:
        return {"appendHeaders": headers}

    def websocket_upgrade(self, route: m.Route, ctx: Context) -> Json:
        if route.websocket_upgrade is None:
            return {}
        return {"websocketUpgrade": route.websocket_upgrade}

    def load_balancer(self, simple: str) -> str:
        return simple

    def outlier_detection(self, fields: Json, policy: m.Policy, ctx: Context) -> Json:
        """The ``outlierDetection`` section from 1.0-named fields (``policy``: where from)."""
        return {"http": fields} if self.outlier_under_http else fields

    def origination_tls(self, host: str, ctx: Context) -> Json:
        """TLS settings of a port whose TLS the sidecar originates; SNI for a concrete name."""
        tls: Json = {"mode": "SIMPLE"}
        if "*" not in host:
            tls["sni"] = host
        return tls

    def visibility(self) -> Json:
        """Fields every VirtualService, DestinationRule and ServiceEntry gets (0.8/1.0: none)."""
        return {}

    def gateway_ref(self, name: str, namespace: str, cluster_domain: str) -> str:
        """How a VirtualService in another namespace names a Gateway (1.0 refuses ns/name)."""
        return f"{name}.{namespace}.svc.{cluster_domain}"

    def server_certificate(self, secret: str, cert_dir: str) -> Json:
        """An HTTPS server's certificate: the files the 0.8 ingress gateway mounted."""
        return {"serverCertificate": f"{cert_dir}/tls.crt", "privateKey": f"{cert_dir}/tls.key"}

    def ingress_route(self, route: Json, source: SourceRef, ctx: Context) -> Json:
        """An ingress route (from the Ingress at ``source``) as the gateway should run it
        (0.8/1.0: as planned)."""
        return route


def _present(**fields: object) -> Json:
    """The fields that are set, in the order given."""
    return {key: value for key, value in fields.items() if value is not None}
