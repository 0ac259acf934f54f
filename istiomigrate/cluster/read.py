"""Read step for a cluster: list what the converter needs into an ``Inventory``.

What ``-n NS`` reads, and why (also in docs/cluster.md):

* v1alpha3 resources and Services are read from all namespaces: a conversion must merge
  into an existing VirtualService or DestinationRule for its host wherever it lives, and
  ``match.source.name`` may name a Service of any namespace;
* legacy resources are read from all namespaces too, then selected: those of NS, plus the
  RouteRules and DestinationPolicies of other namespaces whose destination is a service of
  NS or a host that a resource of NS targets. Pilot merged the rules of every namespace for
  a host and v1alpha3 wants one VirtualService per host, so converting only some of them
  would write a VirtualService that drops the others' routes;
* Kubernetes Ingresses (``extensions/v1beta1``, else ``networking.k8s.io/v1beta1``) of class
  istio are legacy resources too, but only those of NS are converted: Pilot merged the paths
  of every namespace per host, so an Ingress elsewhere that routes a host of NS is named in
  a note (``-A`` converts them together);
* when listing all namespaces is forbidden, the selected namespace is read alone, and a
  note says what cannot be seen.

``-A`` reads and converts everything. Every resource read gets the source label
``cluster:<context>`` in place of a file name, so findings and route comments say where
they came from.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from istiomigrate.cluster import ClusterError
from istiomigrate.cluster.client import Connection
from istiomigrate.errors import InputError
from istiomigrate.findings import Finding, SourceRef
from istiomigrate.hosts import Host
from istiomigrate.kinds import INGRESSES, LEGACY, SERVICES, Kind
from istiomigrate.plan.resolve import destination_host
from istiomigrate.read.inventory import (
    ExistingResource,
    Inventory,
    LegacyResource,
    existing_problem,
    legacy_ingress,
    parse_legacy,
)
from istiomigrate.read.services import ports_of

Key = tuple[str, str, str]  # (kind, namespace, name)


@dataclass
class Snapshot:
    """What was read: the inventory to convert, the live v1alpha3 objects, notes for stderr."""

    inventory: Inventory
    live: dict[Key, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scope: str = ""


@dataclass
class _Reader:
    conn: Connection
    namespace: str | None  # None: -A
    on_page: Callable[[str], None]
    notes: list[str]

    def objects(self, kind: Kind, consequence: str) -> Iterator[dict[str, Any]]:
        """Every object of ``kind`` this run may need (see the module docstring)."""
        if self.namespace is None:
            yield from self._list(kind, None)
            return
        yielded = 0
        try:
            for obj in self._list(kind, None):
                yielded += 1
                yield obj
        except ClusterError as exc:
            if exc.status != 403 or yielded:
                raise
            self.notes.append(f"listing {kind.qualified} in all namespaces is forbidden: read "
                              f"namespace {self.namespace} only; {consequence}")
            yield from self._list(kind, self.namespace)

    def _list(self, kind: Kind, namespace: str | None) -> Iterator[dict[str, Any]]:
        for page in self.conn.pages(kind, namespace):
            self.on_page(f"{kind.plural} {namespace or 'all namespaces'}")
            yield from page


def read_cluster(conn: Connection, namespace: str, all_namespaces: bool, cluster_domain: str,
                 on_page: Callable[[str], None] = lambda _: None,
                 written: tuple[Kind, ...] = ()) -> Snapshot:
    """List services, the ``written`` kinds (the target's) and legacy resources into an
    inventory (module docstring)."""
    selected = None if all_namespaces else namespace
    reader = _Reader(conn, selected, on_page, [])
    label = f"cluster:{conn.context}"
    inventory = Inventory()
    snapshot = Snapshot(inventory, notes=reader.notes, scope=describe_scope(selected))
    _read_services(reader, inventory)
    _read_existing(reader, snapshot, label, written)
    parsed = _read_legacy(reader, inventory, label)
    for resource, findings in select(parsed, selected, cluster_domain):
        inventory.legacy.append(resource)
        inventory.findings.extend(findings)
    inventory.legacy.extend(_read_ingresses(reader, inventory, label))
    return snapshot


def describe_scope(namespace: str | None) -> str:
    if namespace is None:
        return "all namespaces"
    return (f"namespace {namespace} (and the legacy rules of other namespaces for the same "
            "hosts)")


def _read_services(reader: _Reader, inventory: Inventory) -> None:
    for obj in reader.objects(SERVICES, "source matches on services of other namespaces "
                              "are guessed (IM204), and Ingresses' named ports of their "
                              "Services may not resolve (IM308)"):
        meta = obj.get("metadata") or {}
        selector = (obj.get("spec") or {}).get("selector")
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        if isinstance(selector, dict) and selector:
            inventory.services[key] = {str(k): str(v) for k, v in selector.items()}
        if key[1]:  # an Ingress's servicePort may be the name of one of these ports
            inventory.service_ports.add(key, ports_of(obj))


def _read_existing(reader: _Reader, snapshot: Snapshot, label: str,
                   written: tuple[Kind, ...]) -> None:
    for kind in written:
        try:
            for obj in reader.objects(kind, "existing v1alpha3 resources of other namespaces "
                                      "are not merged into"):
                meta = obj.get("metadata") or {}
                ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
                problem = existing_problem(obj)
                if problem is not None:  # what conversions merge into must have its shape
                    raise ClusterError(f"{kind.qualified} {ns}/{name}: field {problem[0]} "
                                       f"{problem[1]}; cannot be merged into")
                ref = SourceRef(kind.kind, ns, name, label)
                snapshot.inventory.existing.append(
                    ExistingResource(kind.kind, ns, name, obj, None, ref))
                snapshot.live[(kind.kind, ns, name)] = copy.deepcopy(obj)
        except ClusterError as exc:
            if exc.status != 404:
                raise
            snapshot.notes.append(f"{kind.qualified} is not installed in the cluster: "
                                  "install Istio's v1alpha3 CRDs before --apply")


def _read_legacy(reader: _Reader, inventory: Inventory, label: str
                 ) -> list[tuple[LegacyResource, list[Finding]]]:
    """Parse every legacy object read; a kind whose CRD is missing is IM106 and none."""
    parsed: list[tuple[LegacyResource, list[Finding]]] = []
    for kind in LEGACY:
        try:
            for obj in reader.objects(kind, "rules of other namespaces for its hosts are not "
                                      "seen, and their routes would be missing"):
                item = _parse(obj, kind, label, reader)
                if item is not None:
                    parsed.append(item)
        except ClusterError as exc:
            if exc.status != 404:
                raise
            inventory.findings.append(Finding(
                "IM106", f"{kind.qualified} is not installed in the cluster (context "
                f"{reader.conn.context}): no {kind.kind} to convert"))
    return parsed


def _read_ingresses(reader: _Reader, inventory: Inventory, label: str) -> list[LegacyResource]:
    """The Ingresses of class istio to convert: from the first Ingress API the cluster serves.

    Only those of the selected namespace (all with ``-A``); one of another namespace that
    routes a host they route gets a note. Neither API served (Kubernetes 1.22 and later) is
    IM106 and none. Other classes are never converted, so never deleted either.
    """
    for kind in INGRESSES:
        try:
            objects = list(reader.objects(kind, "Ingresses of other namespaces for the same "
                                          "hosts cannot be seen"))
        except ClusterError as exc:
            if exc.status != 404:
                raise
            continue
        return _select_ingresses(objects, kind, label, reader, inventory)
    apis = " nor ".join(k.api_version for k in INGRESSES)
    inventory.findings.append(Finding(
        "IM106", f"the cluster (context {reader.conn.context}) serves Ingresses in neither "
        f"{apis} (Kubernetes 1.22 and later): no Ingress to convert"))
    return []


def _select_ingresses(objects: list[dict[str, Any]], kind: Kind, label: str, reader: _Reader,
                      inventory: Inventory) -> list[LegacyResource]:
    """The file reader's choice (class istio; IM108 without a class) in the namespace."""
    selected: list[LegacyResource] = []
    elsewhere: list[LegacyResource] = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        ref = SourceRef(kind.kind, ns, name, label)
        if reader.namespace is None or ns == reader.namespace:
            resource = legacy_ingress(obj, ref, None, None, inventory)
            if resource is not None:
                selected.append(resource)
            continue
        try:
            other = legacy_ingress(obj, ref, None, None, Inventory())
        except InputError:
            continue  # not converted here; -A or -n of its namespace reports it
        if other is not None:
            elsewhere.append(other)
    hosts = {host for resource in selected for host in ingress_hosts(resource)}
    for other in elsewhere:
        shared = sorted(hosts & ingress_hosts(other))
        if shared:
            reader.notes.append(
                f"Ingress {other.namespace}/{other.name} (namespace not selected) also routes "
                f"host {', '.join(shared)}: Istio merged its paths with those of namespace "
                f"{reader.namespace}, the VirtualService planned for that host lacks them; "
                "migrate both namespaces at once with -A")
    return selected


def ingress_hosts(resource: LegacyResource) -> set[str]:
    """The hosts an Ingress routes: its rules' hosts, ``*`` for rules without one and for the
    default backend (the any-host routes, which Pilot merged across Ingresses too)."""
    spec = resource.spec
    hosts = {rule.host or "*" for rule in spec.rules or [] if rule.http is not None}
    return hosts | ({"*"} if spec.backend is not None else set())


def _parse(obj: dict[str, Any], kind: Kind, label: str, reader: _Reader
           ) -> tuple[LegacyResource, list[Finding]] | None:
    """Validate one object; a broken one outside the selected namespace is only noted."""
    meta = obj.get("metadata") or {}
    ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    scratch = Inventory()
    try:
        resource = parse_legacy(obj, SourceRef(kind.kind, ns, name, label), None, None, scratch)
    except InputError as exc:
        if reader.namespace is None or ns == reader.namespace:
            raise
        reader.notes.append(f"skipped {kind.kind} {ns}/{name} (namespace not selected): "
                            f"{exc.message}")
        return None
    return resource, scratch.findings


def select(parsed: list[tuple[LegacyResource, list[Finding]]], namespace: str | None,
           cluster_domain: str) -> list[tuple[LegacyResource, list[Finding]]]:
    """The legacy resources to convert for ``-n namespace`` (all for ``-A``).

    Those of the namespace; and routing rules and policies elsewhere whose destination is
    a service of the namespace or a host that one of the namespace's resources targets.
    """
    if namespace is None:
        return parsed
    hosts = {h.fqdn for r, _ in parsed if r.namespace == namespace
             for h in [_host(r, cluster_domain)] if h is not None}

    def wanted(resource: LegacyResource) -> bool:
        if resource.namespace == namespace:
            return True
        host = _host(resource, cluster_domain)
        return host is not None and (host.fqdn in hosts or host.namespace == namespace
                                     or host.fqdn.endswith(local))

    local = f".{namespace}.svc.{cluster_domain}"

    return [item for item in parsed if wanted(item[0])]


def _host(resource: LegacyResource, cluster_domain: str) -> Host | None:
    """The destination host of a RouteRule or DestinationPolicy; None for egress or broken."""
    if resource.kind == "EgressRule":
        return None
    try:
        return destination_host(resource, cluster_domain)
    except InputError:
        return None  # reported by the conversion if the resource is converted
