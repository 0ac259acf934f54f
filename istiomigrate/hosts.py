"""Hosts and names: how Pilot resolved an IstioService, and how outputs name things.

Grouping is always by fully qualified host; short names appear only in output,
and only where the reader of that output (Pilot resolving against the
resource's own namespace) arrives at the same FQDN.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass

from istiomigrate.read.legacy import IstioService

DNS_LABEL_MAX = 63
_NOT_DNS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Host:
    """A resolved destination: the FQDN, and for in-mesh services their name and namespace."""

    fqdn: str
    name: str | None = None  # the Service's short name, for in-mesh hosts
    namespace: str | None = None  # the Service's namespace, for in-mesh hosts

    @property
    def in_mesh(self) -> bool:
        return self.name is not None

    def shown_from(self, namespace: str, cluster_domain: str) -> str:
        """The host as written in a resource placed in ``namespace``."""
        if (
            self.in_mesh
            and self.namespace == namespace
            and self.fqdn == f"{self.name}.{namespace}.svc.{cluster_domain}"
        ):
            return self.name  # type: ignore[return-value]
        return self.fqdn


def resolve_host(service: IstioService, rule_namespace: str, cluster_domain: str) -> Host:
    """Pilot's ResolveHostname: ``service`` as is, else name.namespace.(domain|svc.<cluster>)."""
    if service.service:
        return Host(service.service)
    namespace = service.namespace or rule_namespace
    suffix = service.domain if service.domain else f"svc.{cluster_domain}"
    return Host(f"{service.name}.{namespace}.{suffix}", service.name, namespace)


def is_ip_or_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def dns_label(text: str, fallback: str = "x") -> str:
    """Make ``text`` a DNS-1123 label: lower case, digits and '-', at most 63 characters.

    Text that had to be shortened gets a stable hash of the original, so two
    long inputs never collapse into one name.
    """
    label = _NOT_DNS.sub("-", text.lower().replace("*", "wildcard-")).strip("-")
    label = label or fallback
    if len(label) > DNS_LABEL_MAX:
        digest = short_hash(text)
        label = label[: DNS_LABEL_MAX - len(digest) - 1].rstrip("-") + "-" + digest
    return label


def resource_name(host: Host) -> str:
    """Name of the VirtualService/DestinationRule for ``host``: the short name when in-mesh."""
    return dns_label(host.name if host.in_mesh else host.fqdn)  # type: ignore[arg-type]
