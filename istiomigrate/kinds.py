"""One table of the kinds and API groups istiomigrate reads and writes.

Every module that needs a kind name, an API group or a REST plural takes it
from here: the reader, ``check``, placement, the schemas and the cluster
client. Standard library only, so that the light ``check`` command can
import it without paying for pydantic, jsonschema or the kubernetes client.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One REST resource: enough to recognise it in a manifest and to build its URLs."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``plural.group``, as kubectl and RBAC rules name a resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


# --------------------------------------------------------------------------- legacy (v1alpha1)

LEGACY_GROUP = "config.istio.io"
LEGACY_VERSION = "v1alpha2"  # the CRD version that carried the v1alpha1 routing API
LEGACY_API_VERSION = f"{LEGACY_GROUP}/{LEGACY_VERSION}"

ROUTE_RULE = "RouteRule"
DESTINATION_POLICY = "DestinationPolicy"
EGRESS_RULE = "EgressRule"
LEGACY_KINDS = (ROUTE_RULE, DESTINATION_POLICY, EGRESS_RULE)
LEGACY = tuple(Kind(LEGACY_GROUP, LEGACY_VERSION, plural, kind) for plural, kind in (
    ("routerules", ROUTE_RULE), ("destinationpolicies", DESTINATION_POLICY),
    ("egressrules", EGRESS_RULE)))


def is_legacy_api(api_version: object) -> bool:
    """Pilot read a legacy kind by its name: any version of its group, or none at all."""
    return not api_version or str(api_version).startswith(LEGACY_GROUP + "/")


# --------------------------------------------------------------------------- Kubernetes Ingress

INGRESS_KIND = "Ingress"
# Istio 0.8 watched extensions/v1beta1; Kubernetes 1.14 to 1.21 also serve the same objects
# as networking.k8s.io/v1beta1, 1.22 neither.
INGRESS_API_VERSIONS = ("extensions/v1beta1", "networking.k8s.io/v1beta1")
INGRESSES = tuple(Kind(api.split("/")[0], "v1beta1", "ingresses", INGRESS_KIND)
                  for api in INGRESS_API_VERSIONS)
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
ISTIO_INGRESS_CLASS = "istio"

# --------------------------------------------------------------------------- core

SERVICE_KIND = "Service"
SERVICES = Kind("", "v1", "services", SERVICE_KIND)
LIST_KIND = "List"

# --------------------------------------------------------------------------- networking.istio.io

NETWORKING_GROUP = "networking.istio.io"
VIRTUAL_SERVICE = "VirtualService"
DESTINATION_RULE = "DestinationRule"
SERVICE_ENTRY = "ServiceEntry"
GATEWAY = "Gateway"
NETWORKING_KINDS = (VIRTUAL_SERVICE, DESTINATION_RULE, SERVICE_ENTRY, GATEWAY)
_NETWORKING_PLURALS = {VIRTUAL_SERVICE: "virtualservices", DESTINATION_RULE: "destinationrules",
                       SERVICE_ENTRY: "serviceentries", GATEWAY: "gateways"}


def networking(version: str) -> tuple[Kind, ...]:
    """The networking.istio.io kinds served at ``version`` (one proto behind every version)."""
    return tuple(Kind(NETWORKING_GROUP, version, _NETWORKING_PLURALS[kind], kind)
                 for kind in NETWORKING_KINDS)


# The networking kinds istiomigrate writes, merges into (the reader) and lists and writes in a
# cluster (the cluster client): the same for every target today. The target registry
# (``istiomigrate.targets``, ``for_version(v).kinds(v)``) is to own this once the chosen
# target is passed to the reader and the cluster client; until then they take it from here.
OUTPUT_NETWORKING = networking("v1alpha3")

# Kinds whose text makes a document worth parsing when a manifest is read.
KINDS_OF_INTEREST = (*LEGACY_KINDS, *NETWORKING_KINDS, INGRESS_KIND, SERVICE_KIND, LIST_KIND)
