"""Shared test helpers: run the converter as a library and read its output back."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from istiomigrate.emit import yaml_stream
from istiomigrate.options import Options
from istiomigrate.pipeline import Result, run
from istiomigrate.read.inventory import read_paths

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"
CONFORMANCE = SHARED / "conformance" / "istioctl-0.8"


def convert_paths(paths: list[Path | str], **options) -> tuple[list[dict], Result]:
    """Convert files; return the emitted documents (as YAML would be read back) and the result."""
    namespace = options.get("default_namespace", "default")
    inventory = read_paths([str(p) for p in paths], default_namespace=namespace)
    result = run(inventory, Options(**options))
    docs = [d for d in yaml.safe_load_all(yaml_stream(result.conversion.resources)) if d]
    return docs, result


def namespace_repaired(docs: list[dict]) -> list[dict]:
    """An old ingress golden with its namespace defect undone: VirtualServices moved to the
    Ingress's namespace (default), bound to the gateway in istio-system by its full name."""
    out = copy.deepcopy(docs)
    gateways = {d["metadata"]["name"] for d in out if d["kind"] == "Gateway"}
    for doc in out:
        if doc["kind"] == "VirtualService":
            doc["metadata"]["namespace"] = "default"
            doc["spec"]["gateways"] = [f"{g}.istio-system.svc.cluster.local" if g in gateways
                                       else g for g in doc["spec"]["gateways"]]
    return out


def gateways_on(target: str, gateways: dict, gateway_namespace: str = "istio-system") -> dict:
    """Expected ingress meaning for ``target``: on 0.8 every VirtualService bound to the
    Gateway lives beside it (0.8's validation refuses a namespaced or FQDN ``gateways``
    entry; docs/semantics.md §7.2), on 1.0 in its Ingress's namespace (as written)."""
    if target != "0.8":
        return gateways
    out = copy.deepcopy(gateways)
    for gateway in out.values():
        for host in gateway.get("hosts", {}).values():
            host["namespace"] = gateway_namespace
    return out


def codes(result: Result) -> list[str]:
    return sorted(f.code for f in result.findings)
