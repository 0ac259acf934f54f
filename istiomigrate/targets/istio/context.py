"""What every v1alpha3 writer needs: the dialect, subset names, existing resources, findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from istiomigrate.findings import Finding, SourceRef
from istiomigrate.hosts import Host
from istiomigrate.model import Json, Resource, Role
from istiomigrate.options import Options
from istiomigrate.reader import ExistingResource, LegacyResource
from istiomigrate.subsets import SubsetNames
from istiomigrate.targets.istio.existing import ExistingIndex


@dataclass(frozen=True)
class Dialect:
    """Where Istio releases read the same v1alpha3 differently (docs/semantics.md §1)."""

    version: str
    api_version: str
    # 1.0 made TCP destination subnets a list (0.8: one subnet per match).
    subnet_list: bool
    # 0.8 nested outlier detection under ``http``; 1.0 flattened it.
    outlier_under_http: bool


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
