"""What every planning step needs: the options, Service selectors and ports, a findings sink."""

from __future__ import annotations

from dataclasses import dataclass, field

from istiomigrate.findings import Finding, SourceRef
from istiomigrate.hosts import Host, resolve_host
from istiomigrate.options import Options
from istiomigrate.read.legacy import IstioService
from istiomigrate.read.services import ServicePorts


@dataclass
class Context:
    options: Options
    services: dict[tuple[str, str], dict[str, str]]
    service_ports: ServicePorts = field(default_factory=ServicePorts)
    findings: list[Finding] = field(default_factory=list)

    def report(self, code: str, message: str, source: SourceRef | None) -> None:
        self.findings.append(Finding(code, message, source))

    def host(self, service: IstioService, namespace: str) -> Host:
        return resolve_host(service, namespace, self.options.cluster_domain)
