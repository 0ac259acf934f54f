"""Pipeline-level guarantees that no manifest can trigger on purpose."""

from __future__ import annotations

from istiomigrate.findings import Severity
from istiomigrate.model import Resource
from istiomigrate.pipeline import Conversion, validate


def test_output_that_fails_the_schema_is_reported_as_a_bug() -> None:
    broken = Resource("VirtualService", "default", "x",
                      {"hosts": ["x"], "http": [{"route": [{"destination": {"hots": "x"}}]}]})
    ok = Resource("VirtualService", "default", "y",
                  {"hosts": ["y"], "http": [{"route": [{"destination": {"host": "y"}}]}]})
    findings = validate(Conversion([broken, ok]), "1.0")
    assert {f.code for f in findings} == {"IM307"}
    assert all(f.severity is Severity.ERROR for f in findings)
    assert all("VirtualService default/x fails" in f.message for f in findings)
    assert any("spec.http[0].route[0].destination.hots" in f.message for f in findings)


def test_target_decides_what_is_valid() -> None:
    flat = Resource("DestinationRule", "default", "x",
                    {"host": "x", "trafficPolicy": {"outlierDetection": {"consecutiveErrors": 1}}})
    assert validate(Conversion([flat]), "1.0") == []
    assert [f.code for f in validate(Conversion([flat]), "0.8")] == ["IM307"]
