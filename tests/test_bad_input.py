"""Bad input: one clear line naming file, line and field; exit 2; no stdout; no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from istiomigrate.cli import app

RULE = """\
apiVersion: config.istio.io/v1alpha2
kind: RouteRule
metadata:
  name: reviews
  namespace: shop
spec:
  destination:
    name: reviews
{body}"""

CASES = {
    "invalid-yaml": ("kind: RouteRule\nmetadata: {name: x\n", 3, None, "YAML does not parse"),
    "wrong-type": (RULE.format(body="  precedence: high\n"), 9, "spec.precedence",
                   "valid integer"),
    "unknown-field": (RULE.format(body="  routes: []\n"), 9, "spec.routes",
                      "unknown field 'routes'"),
    "invalid-duration": (RULE.format(body="  httpReqTimeout:\n    simpleTimeout:\n"
                                          "      timeout: 5 seconds\n"),
                         11, "spec.httpReqTimeout.simpleTimeout.timeout", "invalid duration"),
    "negative-duration": (RULE.format(body="  httpReqRetries:\n    simpleRetry:\n"
                                           "      perTryTimeout: -1s\n"),
                          11, "spec.httpReqRetries.simpleRetry.perTryTimeout",
                          "negative duration"),
    "weights": (RULE.format(body="  route:\n  - labels: {version: v1}\n    weight: 60\n"
                                 "  - labels: {version: v2}\n    weight: 30\n"),
                1, "spec.route", "sum to 90, not 100"),
    "empty-destination": (RULE.format(body="  route:\n  - destination: {}\n"),
                          1, "spec.route[0].destination", "empty destination"),
    "no-destination": ("kind: RouteRule\nmetadata: {name: x}\nspec:\n  precedence: 1\n",
                       1, "spec.destination", "destination needs a name or a service"),
    "bad-regex": (RULE.format(body="  match:\n    request:\n      headers:\n"
                                   "        cookie: {regex: 'user=(jason'}\n"),
                  1, "spec.match.request.headers.cookie.regex", "regex does not compile"),
    "source-by-labels-only": (RULE.format(body="  match:\n    source:\n      labels: {app: a}\n"),
                              11, "spec.match.source", "needs a name or a service"),
    "circuit-breaker-without-interval": (
        "kind: DestinationPolicy\nmetadata: {name: x}\nspec:\n  destination: {name: r}\n"
        "  circuitBreaker:\n    simpleCb:\n      maxConnections: 1\n      sleepWindow: 1s\n",
        7, "spec.circuitBreaker.simpleCb", "simpleCb needs httpDetectionInterval"),
    "two-string-matches": (RULE.format(body="  match:\n    request:\n      headers:\n"
                                            "        x: {exact: a, prefix: b}\n"),
                           12, "spec.match.request.headers.x", "only one of exact, prefix, regex"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_clear_line(tmp_path: Path, name: str) -> None:
    text, line, field, message = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["convert", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"istiomigrate: error: {path}:{line}: ")
    assert message in lines[0]
    if field:
        assert f"field {field}" in lines[0]
    assert "Traceback" not in result.stderr


def test_no_traceback_from_the_real_entry_point(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(CASES["unknown-field"][0])
    proc = subprocess.run([sys.executable, "-m", "istiomigrate", "convert", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert f"{path}:9: document 1: field spec.routes" in proc.stderr


def test_missing_path_and_bad_option_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr
    result = CliRunner().invoke(app, ["convert", "--target", "0.9", str(tmp_path)])
    assert result.exit_code == 2
