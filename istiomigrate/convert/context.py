"""What every converter needs: options, the subset names, Service selectors, and a findings sink."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from istiomigrate.findings import Finding, SourceRef
from istiomigrate.hosts import Host, resolve_host
from istiomigrate.subsets import SubsetNames

Target = Literal["0.8", "1.0"]
EgressTLS = Literal["originate", "passthrough"]


@dataclass(frozen=True)
class Options:
    target: Target = "1.0"
    cluster_domain: str = "cluster.local"
    egress_tls: EgressTLS = "originate"
    default_namespace: str = "default"
    # Kubernetes Ingresses of class istio: the ingress gateway's pod labels and namespace
    # (Istio 0.8's helm chart: istio=ingressgateway in istio-system).
    ingress_gateway_selector: tuple[tuple[str, str], ...] = (("istio", "ingressgateway"),)
    ingress_gateway_namespace: str = "istio-system"
    # Simulate both configurations and turn unexplained differences into errors (IM310).
    verify: bool = False


@dataclass
class Context:
    options: Options
    subsets: SubsetNames
    services: dict[tuple[str, str], dict[str, str]]
    findings: list[Finding] = field(default_factory=list)

    def report(self, code: str, message: str, source: SourceRef | None) -> None:
        self.findings.append(Finding(code, message, source))

    def host(self, service, namespace: str) -> Host:
        return resolve_host(service, namespace, self.options.cluster_domain)

    def shown(self, host: Host, namespace: str) -> str:
        return host.shown_from(namespace, self.options.cluster_domain)
