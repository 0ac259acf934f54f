"""The Istio 0.8 converter's own cases, judged by meaning (routes, subsets, policies).

Expectations are ours (fixtures/conformance-expected.yaml, written from the rules of
docs/semantics.md). Where the old golden is right it must mean the same as our
output; where it has a documented defect it must not.
"""

from __future__ import annotations

import pytest
import yaml

from tests.helpers import CONFORMANCE, FIXTURES, codes, convert_paths, gateways_on
from tests.meaning import meaning

EXPECTED = yaml.safe_load((FIXTURES / "conformance-expected.yaml").read_text())["cases"]

pytestmark = pytest.mark.skipif(
    not CONFORMANCE.is_dir(), reason="../shared/conformance is not present on this machine"
)


# Known gaps (docs/semantics-gaps.md): codes a case gets beyond its expectation, per target.
# A-29: 0.8's validation refuses a DestinationRule whose only field is portLevelSettings.
KNOWN_GAPS = {(11, "0.8"): ["IM307"]}


def _expected(case: dict, target: str = "1.0") -> dict:
    out = {"hosts": case.get("hosts", {}), "entries": case.get("entries", {})}
    if "gateways" in case:  # Ingresses (cases 20 and 21)
        out["gateways"] = gateways_on(target, case["gateways"])
    return out


def _inputs(case: dict) -> list:
    return [CONFORMANCE / "v1alpha1" / name for name in case["inputs"]]


@pytest.mark.parametrize("target", ["0.8", "1.0"])
@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_case_means_what_v1alpha1_meant(number: int, target: str) -> None:
    case = EXPECTED[number]
    docs, result = convert_paths(_inputs(case), target=target)
    assert meaning(docs) == _expected(case, target)
    gaps = KNOWN_GAPS.get((number, target), [])
    assert codes(result) == sorted([*case["findings"], *gaps])
    assert [f.code for f in result.findings if f.severity.value == "error"] == gaps


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_old_golden_agrees_only_where_it_is_right(number: int) -> None:
    case = EXPECTED[number]
    golden = CONFORMANCE / "v1alpha3" / case["golden"]
    golden_docs = [d for d in yaml.safe_load_all(golden.read_text()) if d]
    ours, _ = convert_paths(_inputs(case), target="0.8")
    if case["agrees"] is True:
        assert meaning(golden_docs) == meaning(ours)
    else:
        assert meaning(golden_docs) != meaning(ours), case["agrees"]
