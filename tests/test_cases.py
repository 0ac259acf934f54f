"""The project's own fixtures (fixtures/cases): docs/semantics.md §3-§6, every finding code.

Each case directory holds ``input.yaml`` and one or more ``expect*.yaml``:
the options to convert with, the finding codes expected (exactly), the
meaning of the output (tests/meaning.py) and, where names matter, the
subset names per host.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from istiomigrate import targets
from istiomigrate.findings import CODES
from tests.helpers import FIXTURES, codes, convert_paths

CASES = FIXTURES / "cases"
EXPECTATIONS = sorted(CASES.glob("*/expect*.yaml"))
# Codes that no manifest can produce through this path, tested where they arise.
ELSEWHERE = {
    "IM106": "cluster reading (tests/test_cluster.py)",
    "IM211": "manifest trees with unparsable files (tests/test_cli.py)",
    "IM307": "schema failure of a broken output (tests/test_pipeline.py)",
    "IM310": "convert --verify on a broken converter (tests/test_convert_verify.py)",
}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("expect", EXPECTATIONS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case(expect: Path) -> None:
    spec = _load(expect)
    options = _options(spec)
    docs, result = convert_paths([expect.parent / "input.yaml"], **options)
    cluster_domain = options.get("cluster_domain", "cluster.local")
    got = _meaning(docs, options, cluster_domain)
    assert got["hosts"] == spec.get("hosts", {})
    assert got["entries"] == spec.get("entries", {})
    assert codes(result) == sorted(spec["findings"])
    for host, names in spec.get("subset_names", {}).items():
        assert _subset_names(docs, host, cluster_domain) == names


def _options(spec: dict) -> dict:
    """An expectation's options as ``Options`` takes them (label pairs as tuples)."""
    options = dict(spec.get("options", {}))
    if "ingress_gateway_selector" in options:
        options["ingress_gateway_selector"] = tuple(
            tuple(pair) for pair in options["ingress_gateway_selector"])
    return options


def _meaning(docs: list[dict], options: dict, cluster_domain: str = "cluster.local") -> dict:
    """What the documents mean to the target they were written for."""
    target = options.get("target", targets.DEFAULT_VERSION)
    read: dict = targets.for_version(target).meaning(docs, cluster_domain)
    return read


def _subset_names(docs: list[dict], host: str, cluster_domain: str) -> dict:
    from tests.meaning import fqdn

    for doc in docs:
        if doc["kind"] == "DestinationRule":
            ns = doc["metadata"]["namespace"]
            if fqdn(doc["spec"]["host"], ns, cluster_domain) == host:
                return {s["name"]: s.get("labels", {}) for s in doc["spec"]["subsets"]}
    return {}


@pytest.mark.parametrize("expect", EXPECTATIONS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_name_is_a_dns_label_and_every_subset_is_defined(expect: Path) -> None:
    options = _options(_load(expect))
    docs, _ = convert_paths([expect.parent / "input.yaml"], **options)
    for doc in docs:
        assert DNS_LABEL.match(doc["metadata"]["name"]), doc["metadata"]["name"]
        for subset in doc["spec"].get("subsets", []):
            assert DNS_LABEL.match(subset["name"]), subset["name"]
    _meaning(docs, options)  # raises MissingSubset if a route names an undefined subset


def test_fixtures_cover_every_finding_code() -> None:
    covered = {code for p in EXPECTATIONS for code in _load(p)["findings"]}
    assert set(CODES) - covered == set(ELSEWHERE)
