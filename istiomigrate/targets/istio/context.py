"""What every v1alpha3 writer needs: the dialect, subset names, existing resources, findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from istiomigrate.findings import Finding, SourceRef
from istiomigrate.hosts import Host
from istiomigrate.model import Json, Resource, Role
from istiomigrate.options import Options
from istiomigrate.read.inventory import ExistingResource, LegacyResource
from istiomigrate.subsets import SubsetNames
from istiomigrate.targets.istio.dialect import Dialect
from istiomigrate.targets.istio.existing import ExistingIndex


@dataclass
class Context:
    options: Options
    dialect: Dialect
    subsets: SubsetNames
    existing: ExistingIndex
    findings: list[Finding] = field(default_factory=list)

    def report(self, code: str, message: str, source: SourceRef | None) -> None:
        self.findings.append(Finding(code, message, source))

    def shown(self, host: Host, namespace: str) -> str:
        return host.shown_from(namespace, self.options.cluster_domain)

    def resource(self, role: Role, kind: str, namespace: str, name: str, spec: Json,
                 legacy: list[LegacyResource], comments: dict[str, str] | None = None,
                 merged: ExistingResource | None = None, host: str | None = None) -> Resource:
        """A resource of this dialect's apiVersion."""
        return Resource(kind, namespace, name, spec, legacy, comments or {}, merged, host,
                        role, self.dialect.api_version)
