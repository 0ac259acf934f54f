"""The output model: a resource of the target API with what it came from, ready for an emitter."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from istiomigrate import kinds
from istiomigrate.read.inventory import ExistingResource, LegacyResource

Json = dict[str, Any]
"""A JSON object as read or written: a resource, its spec, or part of one."""


class Role(str, Enum):
    """What a resource does, whatever a target calls it: placement goes by role."""

    ROUTES = "routes"  # how requests to a host are routed
    POLICY = "policy"  # traffic policy and subsets of a host
    ENTRY = "entry"  # an external destination
    LISTENER = "listener"  # the ingress gateway's ports and hosts


@dataclass
class Resource:
    """A converted resource.

    ``legacy`` lists the legacy resources it replaces, most important first
    (for routes, the highest-precedence RouteRule); placement in files
    follows that order. ``comments`` maps a path such as ``spec.http[0]`` to
    the comment an emitter writes above that item. ``beside`` lists legacy
    resources that need it without being replaced by it (the RouteRules that
    send to a subset of another host): a resource that replaces nothing is
    placed next to what they became.
    """

    kind: str
    namespace: str
    name: str
    spec: Json
    legacy: list[LegacyResource] = field(default_factory=list)
    comments: dict[str, str] = field(default_factory=dict)
    merged_into: ExistingResource | None = None
    host: str | None = None  # the FQDN a routes or policy resource is for
    role: Role | None = None
    api_version: str = f"{kinds.NETWORKING_GROUP}/v1alpha3"
    beside: list[LegacyResource] = field(default_factory=list)

    def document(self) -> Json:
        metadata = {"name": self.name, "namespace": self.namespace}
        if self.merged_into is not None:
            kept = self.merged_into.data.get("metadata") or {}
            metadata = {**{k: v for k, v in kept.items() if k in ("labels", "annotations")},
                        **metadata}
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": metadata,
                "spec": self.spec}

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)
