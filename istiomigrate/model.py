"""The output model: a v1alpha3 resource with what it came from, ready for an emitter."""

from __future__ import annotations

from dataclasses import dataclass, field

from istiomigrate.reader import ExistingResource, LegacyResource

API_VERSION = "networking.istio.io/v1alpha3"


@dataclass
class Resource:
    """A converted v1alpha3 resource.

    ``legacy`` lists the legacy resources it replaces, most important first
    (for a VirtualService, the highest-precedence RouteRule); placement in
    files follows that order. ``comments`` maps a path such as
    ``spec.http[0]`` to the comment an emitter writes above that item.
    """

    kind: str
    namespace: str
    name: str
    spec: dict
    legacy: list[LegacyResource] = field(default_factory=list)
    comments: dict[str, str] = field(default_factory=dict)
    merged_into: ExistingResource | None = None
    host: str | None = None  # the FQDN a VirtualService or DestinationRule is for

    def document(self) -> dict:
        metadata = {"name": self.name, "namespace": self.namespace}
        if self.merged_into is not None:
            kept = self.merged_into.data.get("metadata") or {}
            metadata = {**{k: v for k, v in kept.items() if k in ("labels", "annotations")},
                        **metadata}
        return {"apiVersion": API_VERSION, "kind": self.kind, "metadata": metadata,
                "spec": self.spec}

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)
