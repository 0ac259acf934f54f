"""What v1alpha3 config means: its documents read back into the plan's normal form.

The normal form is ``istiomigrate.plan.normal``'s: subsets become the labels
they select, short hosts become FQDNs (resolved against the namespace of the
resource that holds them), a lone destination without weight gets weight 100,
and 0.8's ``outlierDetection.http`` is flattened. Referencing a subset that no
DestinationRule defines is a failure here, because Istio answers 503. Fields
the plan does not model are kept as written, so that they still count.

VirtualServices bound to gateways (not to ``mesh``) mean something for the
gateway's workloads, not for sidecars: they are listed under ``gateways``,
keyed by the selector of the Gateway their reference resolves to (as Pilot
0.8/1.0 resolved it: a name without a dot is in the VirtualService's
namespace), with that selector's servers. The key is present only when there
are gateways.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from istiomigrate.model import Json
from istiomigrate.plan.normal import label_key, seconds

CLUSTER_DOMAIN = "cluster.local"
Resolve = Callable[[str, str], str]  # (host, namespace) -> FQDN


def fqdn(host: str, namespace: str, cluster_domain: str = CLUSTER_DOMAIN) -> str:
    if "." in host or "*" in host:
        return host
    return f"{host}.{namespace}.svc.{cluster_domain}"


class MissingSubset(AssertionError):
    pass


def meaning(docs: list[Json], cluster_domain: str = CLUSTER_DOMAIN) -> dict[str, Any]:
    """Canonical meaning of v1alpha3 documents: {hosts: {fqdn: {...}}, entries: {...}}."""

    def resolve(host: str, namespace: str) -> str:
        return fqdn(host, namespace, cluster_domain)

    def _route(route: Json, ns: str, rules: Json) -> Json:
        return _route_meaning(route, ns, rules, resolve)

    rules = {}
    for doc in docs:
        if doc["kind"] == "DestinationRule":
            ns = doc["metadata"]["namespace"]
            rules[resolve(doc["spec"]["host"], ns)] = doc
    hosts: dict[str, Json] = {}
    for doc in docs:
        ns = doc["metadata"]["namespace"]
        spec = doc["spec"]
        if doc["kind"] == "VirtualService":
            if "mesh" not in (spec.get("gateways") or ["mesh"]):
                continue
            for host in spec["hosts"]:
                entry = hosts.setdefault(resolve(host, ns), {})
                entry["namespace"] = ns
                for section in ("http", "tcp"):
                    if section in spec:
                        entry[section] = [_route(r, ns, rules) for r in spec[section]]
        elif doc["kind"] == "DestinationRule":
            entry = hosts.setdefault(resolve(spec["host"], ns), {})
            entry["policies"] = _policies(spec)
    entries = {}
    for doc in docs:
        if doc["kind"] == "ServiceEntry":
            spec = doc["spec"]
            entries[doc["metadata"]["name"]] = {
                "hosts": spec["hosts"],
                "addresses": spec.get("addresses", []),
                "ports": sorted([p["number"], p["protocol"].upper()] for p in spec["ports"]),
                "location": spec.get("location", "MESH_EXTERNAL"),
                "resolution": spec.get("resolution", "NONE"),
            }
    out = {"hosts": hosts, "entries": entries}
    gateways = _gateways(docs, rules, resolve, cluster_domain)
    if gateways:
        out["gateways"] = gateways
    normal: dict[str, Any] = seconds(out)
    return normal


def _gateways(docs: list[Json], rules: Json, fqdn: Resolve, cluster_domain: str) -> dict[str, Json]:
    """{selector: {servers: [...], hosts: {host: {namespace, http}}}} of gateways and their VSs."""
    selectors: dict[str, str] = {}
    out: dict[str, Json] = {}
    for doc in docs:
        if doc["kind"] == "Gateway":
            meta, spec = doc["metadata"], doc["spec"]
            key = ",".join(f"{k}={v}" for k, v in sorted(spec.get("selector", {}).items()))
            selectors[f"{meta['name']}.{meta['namespace']}.svc.{cluster_domain}"] = key
            entry = out.setdefault(key, {"servers": [], "hosts": {}})
            for server in spec["servers"]:
                item = {"port": server["port"]["number"], "protocol": server["port"]["protocol"],
                        "hosts": sorted(server["hosts"])}
                if "tls" in server:
                    item["tls"] = server["tls"]
                entry["servers"].append(item)
            entry["servers"].sort(key=lambda s: (s["port"], s["protocol"], s["hosts"]))
    for doc in docs:
        if doc["kind"] != "VirtualService":
            continue
        ns, spec = doc["metadata"]["namespace"], doc["spec"]
        for gateway in spec.get("gateways") or []:
            if gateway == "mesh":
                continue
            resolved = gateway if "." in gateway else f"{gateway}.{ns}.svc.{cluster_domain}"
            key = selectors.get(resolved, f"unresolved {resolved}")
            entry = out.setdefault(key, {"servers": [], "hosts": {}})
            for host in spec["hosts"]:
                item = entry["hosts"].setdefault(fqdn(host, ns), {})
                item["namespace"] = ns
                for section in ("http", "tcp"):
                    if section in spec:
                        item[section] = [_route_meaning(r, ns, rules, fqdn) for r in spec[section]]
    return out


def _route_meaning(route: Json, ns: str, rules: dict[str, Json], fqdn: Resolve) -> Json:
    out = {k: v for k, v in route.items() if k not in ("route", "mirror", "match")}
    if "match" in route:
        out["match"] = [_match(m) for m in route["match"]]
    if "route" in route:
        dests = route["route"]
        out["route"] = [
            {**_destination(d["destination"], fqdn(d["destination"]["host"], ns), rules),
             "weight": d.get("weight", 100 if len(dests) == 1 else 0)}
            for d in dests
        ]
    if "mirror" in route:
        out["mirror"] = _destination(route["mirror"], fqdn(route["mirror"]["host"], ns), rules)
    return out


def _match(match: Json) -> Json:
    out = dict(match)
    if "destinationSubnet" in out:  # 0.8 layout -> 1.0 layout
        out["destinationSubnets"] = [out.pop("destinationSubnet")]
    return out


def _destination(dest: Json, host: str, rules: dict[str, Json]) -> Json:
    out: Json = {"host": host, "labels": {}}
    if "port" in dest:
        out["port"] = dest["port"]
    if "subset" in dest:
        rule = rules.get(host)
        subsets = {s["name"]: s for s in (rule["spec"].get("subsets", []) if rule else [])}
        if dest["subset"] not in subsets:
            raise MissingSubset(f"subset {dest['subset']} of {host} is not defined")
        out["labels"] = subsets[dest["subset"]].get("labels", {})
    return out


def _policies(spec: Json) -> dict[str, Json]:
    """Policy per subset label set, keyed like ``version=v1,zone=a``, and ``top`` for the rule's."""
    out = {}
    if "trafficPolicy" in spec:
        out["top"] = _flat(spec["trafficPolicy"])
    for subset in spec.get("subsets", []):
        out[label_key(subset.get("labels", {}))] = _flat(subset.get("trafficPolicy", {}))
    return out


def _flat(policy: Json) -> Json:
    """A traffic policy with 0.8's ``outlierDetection.http`` flattened, port levels too."""
    out = dict(policy)
    outlier = out.get("outlierDetection")
    if isinstance(outlier, dict) and "http" in outlier:
        out["outlierDetection"] = dict(outlier["http"])
    if isinstance(out.get("portLevelSettings"), list):
        out["portLevelSettings"] = [_flat(p) if isinstance(p, dict) else p
                                    for p in out["portLevelSettings"]]
    return out
