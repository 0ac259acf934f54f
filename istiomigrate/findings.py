"""Findings: every conversion that is not exact is reported, never silent.

The catalogue below is the single source of truth for finding codes: the
README's table is checked against it by a test. Codes are stable: once
published, a code keeps its meaning; retired codes are never reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class SourceRef:
    """Where a finding comes from: a legacy resource and, when known, its file and line."""

    kind: str
    namespace: str
    name: str
    file: str | None = None
    line: int | None = None

    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "file": self.file,
            "line": self.line,
        }


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title: str


def _catalogue(*codes: Code) -> dict[str, Code]:
    return {c.code: c for c in codes}


I, W, E = Severity.INFO, Severity.WARNING, Severity.ERROR  # noqa: E741 - a table's column

CODES: dict[str, Code] = _catalogue(
    # 1xx: information, the output is exact but a reader should know.
    Code("IM101", I, "legacy apiVersion accepted by kind"),
    Code("IM102", I, "fallthrough route to the whole service appended"),
    Code("IM103", I, "merged into an existing v1alpha3 resource"),
    Code("IM104", I, "egress TLS origination converted to a DestinationRule"),
    Code("IM105", I, "egress HTTPS port kept as TLS passthrough"),
    Code("IM106", I, "legacy kind not served by the cluster (CRD or Ingress API missing)"),
    Code("IM107", I, "resource placed in the destination's namespace"),
    Code("IM108", I, "Ingress without an ingress class left alone (Istio's default ignored it)"),
    Code("IM109", I, "Ingress default backend converted to the last route for any host"),
    Code("IM110", I, "retry policy without attempts never applied by Pilot; not written"),
    Code("IM120", I, "target default accepted (--accept-target-defaults); legacy not pinned"),
    Code("IM121", I, "websocketUpgrade dropped: modern Istio allows upgrades on every route"),
    Code("IM122", I, "no load balancer named: modern Istio's default is LEAST_REQUEST"),
    # 2xx: warnings, the output routes as before but something changed or is suspicious.
    Code("IM201", W, "label value was not a string"),
    Code("IM202", W, "equal precedence with overlapping matches"),
    Code("IM203", W, "rule is shadowed and can never match"),
    Code("IM204", W, "source service not found; sourceLabels guessed as app=<name>"),
    Code("IM205", W, "overrideHeaderName has no v1alpha3 equivalent"),
    Code("IM206", W, "fault percentage rounded to an integer"),
    Code("IM207", W, "abort grpcStatus/http2Error never implemented by Pilot"),
    Code("IM208", W, "unlabelled policy now applies to every subset"),
    Code("IM209", W, "duplicate DestinationPolicy for the same host and labels"),
    Code("IM210", W, "useEgressProxy has no ServiceEntry equivalent"),
    Code("IM211", W, "file could not be parsed as YAML and was left untouched"),
    Code("IM212", W, "field ignored by Pilot"),
    Code("IM213", W, "source service matched by its pods' labels in every namespace"),
    Code("IM214", W, "EgressRule for a host another EgressRule already opened; not applied"),
    Code("IM215", W, "Ingress annotation had no effect in Istio; not converted"),
    Code("IM216", W, "Ingress TLS served with the ingress gateway's one mounted certificate"),
    Code("IM217", W, "identical Ingress paths for one host; the order is fixed by namespace/name"),
    Code("IM218", W, "Ingress path ignored by Pilot (Service port missing or not HTTP); dropped"),
    Code("IM230", W, "TLS origination now verifies the server certificate"),
    Code("IM231", W, "Gateway selects istio=ingressgateway; Helm gateways are istio=ingress"),
    Code("IM232", W, "success-rate outlier ejection is always off on modern Istio"),
    Code("IM233", W, "services without a VirtualService retry by default on modern Istio"),
    Code("IM234", W, "Service port without a protocol name: modern Istio applies HTTP routes"),
    # 3xx: errors, the output applied as is does not do what the legacy config did.
    Code("IM301", E, "UDP match cannot be expressed in v1alpha3"),
    Code("IM302", E, "custom timeout/retry policy cannot be expressed"),
    Code("IM303", E, "exponential delay fault cannot be expressed"),
    Code("IM304", E, "L4 fault cannot be expressed"),
    Code("IM305", E, "source-selected DestinationPolicy cannot be expressed; not applied"),
    Code("IM306", E, "custom load balancer or circuit breaker cannot be expressed"),
    Code("IM307", E, "output failed the schema or Istio's validation (a bug in istiomigrate)"),
    Code("IM308", E, "Ingress servicePort name not resolved; destination written without port"),
    Code("IM309", E, "RouteRules of an Ingress backend no longer apply to its ingress traffic"),
    Code("IM310", E, "verify: requests routed differently, and no finding explains it"),
)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    source: SourceRef | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code}")

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "source": self.source.as_dict() if self.source else None,
        }
