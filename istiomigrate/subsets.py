"""Subset naming (docs/semantics.md §5.2): one subset per label set a route, mirror or policy names.

Names are chosen once all label sets of a host are known, so they do not
depend on input order: the name people would write (``v1`` for
``version: v1``), made a DNS-1123 label, with a stable hash suffix only where
two label sets would otherwise share a name. Names already used by a
v1alpha3 DestinationRule in the input are kept.
"""

from __future__ import annotations

from collections import defaultdict

from istiomigrate.hosts import DNS_LABEL_MAX, dns_label, short_hash

LabelSet = tuple[tuple[str, str], ...]


def label_set(labels: dict[str, str] | None) -> LabelSet:
    return tuple(sorted((labels or {}).items()))


def preferred_name(labels: LabelSet) -> str:
    if len(labels) == 1 and labels[0][0] == "version":
        return dns_label(labels[0][1], fallback="version")
    return dns_label("-".join(f"{k}-{v}" for k, v in labels), fallback="subset")


def _with_hash(name: str, labels: LabelSet) -> str:
    digest = short_hash(repr(labels))
    return name[: DNS_LABEL_MAX - len(digest) - 1].rstrip("-") + "-" + digest


class SubsetNames:
    """Collects label sets per host, then names them all at once."""

    def __init__(self) -> None:
        self._wanted: dict[str, set[LabelSet]] = defaultdict(set)
        self._existing: dict[str, dict[LabelSet, str]] = defaultdict(dict)
        self._names: dict[str, dict[LabelSet, str]] = {}

    def want(self, host: str, labels: dict[str, str] | None) -> None:
        key = label_set(labels)
        if key:
            self._wanted[host].add(key)

    def keep_existing(self, host: str, name: str, labels: dict[str, str]) -> None:
        self._existing[host][label_set(labels)] = name

    def finalize(self) -> None:
        for host in set(self._wanted) | set(self._existing):
            self._names[host] = self._name_host(host)

    def _name_host(self, host: str) -> dict[LabelSet, str]:
        names = dict(self._existing[host])
        taken = set(names.values())
        fresh = sorted(self._wanted[host] - set(names))
        by_name: dict[str, list[LabelSet]] = defaultdict(list)
        for labels in fresh:
            by_name[preferred_name(labels)].append(labels)
        for name, sets in by_name.items():
            clash = len(sets) > 1 or name in taken
            for labels in sets:
                names[labels] = _with_hash(name, labels) if clash else name
        return names

    def name(self, host: str, labels: dict[str, str] | None) -> str | None:
        key = label_set(labels)
        return self._names[host][key] if key else None

    def subsets(self, host: str) -> list[tuple[str, dict[str, str]]]:
        """All (name, labels) for ``host``, in a stable order (by name)."""
        named = self._names.get(host, {})
        return sorted((name, dict(labels)) for labels, name in named.items())
