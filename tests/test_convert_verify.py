"""`convert --verify`: the converter checks its own output by simulation."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from istiomigrate.cli import app
from istiomigrate.plan import routes
from tests.helpers import FIXTURES

CASES = sorted(str(p) for p in (FIXTURES / "cases").glob("*/input.yaml"))


def convert(*args: str):
    result = CliRunner().invoke(app, ["convert", "--verify", "--report-format", "json", *args])
    return result, json.loads(result.stderr)


def test_every_fixture_verifies() -> None:
    for case in CASES:
        _, report = convert(case)
        assert not [f for f in report["findings"] if f["code"] == "IM310"], case


def test_a_broken_converter_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropping source matches (the old converter's defect) must not go unnoticed."""
    monkeypatch.setattr(routes, "source_labels", lambda rule, ctx: {})
    case = str(FIXTURES / "cases" / "source-resolution" / "input.yaml")
    result, report = convert(case)
    assert result.exit_code == 1
    caught = [f for f in report["findings"] if f["code"] == "IM310"]
    assert caught and all(f["severity"] == "error" for f in caught)
    assert {f["source"]["name"] for f in caught} <= {"from-productpage", "from-unknown"}
    assert caught[0]["source"]["file"] == case
    assert "simulated request(s) differ" in caught[0]["message"]


def test_without_verify_the_broken_converter_goes_unnoticed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "source_labels", lambda rule, ctx: {})
    case = str(FIXTURES / "cases" / "source-resolution" / "input.yaml")
    result = CliRunner().invoke(app, ["convert", "--report-format", "json", case])
    assert "IM310" not in result.stderr


def test_a_custom_ingress_gateway_is_verified_with_its_own_selector(tmp_path) -> None:
    case = str(FIXTURES / "cases" / "ingress-merge" / "input.yaml")
    selector = "app=edge-gateway"
    _, report = convert("--ingress-gateway-selector", selector, case)
    assert not [f for f in report["findings"] if f["code"] == "IM310"]
    out = tmp_path / "out.yaml"
    converted = CliRunner().invoke(app, ["convert", "--ingress-gateway-selector", selector, case])
    out.write_text(converted.stdout)
    same = CliRunner().invoke(app, ["verify", case, "--against", str(out),
                                    "--ingress-gateway-selector", selector])
    assert same.exit_code == 0, same.stdout
    other = CliRunner().invoke(app, ["verify", case, "--against", str(out)])
    assert other.exit_code == 1  # the default selector finds no Gateway: every request refused
