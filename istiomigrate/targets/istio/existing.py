"""v1alpha3 resources already in the input: conversions merge into them (docs/semantics.md §5).

Istio 0.8 and 1.0 do not merge two VirtualServices or DestinationRules for
one host (which one wins is undefined), so a host that already has one must
get that one back, extended, never a second.
"""

from __future__ import annotations

from istiomigrate.model import Json
from istiomigrate.read.inventory import ExistingResource


def fqdn_of(host: str, namespace: str, cluster_domain: str) -> str:
    """Pilot's short-name resolution: a name without dots lives in the resource's namespace."""
    if "." in host or "*" in host:
        return host
    return f"{host}.{namespace}.svc.{cluster_domain}"


class ExistingIndex:
    def __init__(self, resources: list[ExistingResource], cluster_domain: str) -> None:
        self._resources = resources
        self._by_host: dict[tuple[str, str], ExistingResource] = {}
        for res in sorted(resources, key=lambda r: (r.namespace, r.name)):
            spec = res.data.get("spec") or {}
            if res.kind == "VirtualService":
                gateways = spec.get("gateways") or ["mesh"]
                if "mesh" not in gateways:
                    continue
                hosts = spec.get("hosts") or []
            elif res.kind == "DestinationRule":
                hosts = [spec.get("host")] if spec.get("host") else []
            else:
                continue
            for host in hosts:
                key = (res.kind, fqdn_of(str(host), res.namespace, cluster_domain))
                self._by_host.setdefault(key, res)

    def find(self, kind: str, fqdn: str) -> ExistingResource | None:
        return self._by_host.get((kind, fqdn))

    def named(self, kind: str, namespace: str, name: str) -> ExistingResource | None:
        return next((r for r in self._resources if (r.kind, r.namespace, r.name) == (
            kind, namespace, name)), None)

    def subsets(self, fqdn: str) -> list[tuple[str, dict[str, str]]]:
        dr = self.find("DestinationRule", fqdn)
        if dr is None:
            return []
        subsets = (dr.data.get("spec") or {}).get("subsets") or []
        return [(s["name"], {str(k): str(v) for k, v in (s.get("labels") or {}).items()})
                for s in subsets if isinstance(s, dict) and s.get("name")]

    @staticmethod
    def merge_destination_rule(existing: ExistingResource, converted: Json) -> Json:
        """The existing spec, with the subsets it lacks and traffic policy fields it did not set."""
        spec = dict(existing.data.get("spec") or {})
        converted_subsets = {s["name"]: s for s in converted.get("subsets", [])}
        subsets = []
        for subset in spec.get("subsets") or []:
            ours = converted_subsets.pop(subset.get("name"), None)
            if ours is not None and "trafficPolicy" in ours:
                subset = {**subset, "trafficPolicy": _fill(subset.get("trafficPolicy") or {},
                                                           ours["trafficPolicy"])}
            subsets.append(subset)
        subsets.extend(converted_subsets.values())
        if subsets:
            spec["subsets"] = subsets
        if "trafficPolicy" in converted:
            spec["trafficPolicy"] = _fill(spec.get("trafficPolicy") or {},
                                          converted["trafficPolicy"])
        return spec


def _fill(kept: Json, added: Json) -> Json:
    out = dict(kept)
    for key, value in added.items():
        if key not in out:
            out[key] = value
        elif isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _fill(out[key], value)
    return out
