"""`istiomigrate convert` through the CLI: streams, formats, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from istiomigrate.cli import app
from tests.helpers import FIXTURES

CASES = FIXTURES / "cases"


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def test_yaml_on_stdout_report_on_stderr() -> None:
    result = invoke("convert", str(CASES / "fallthrough" / "input.yaml"))
    assert result.exit_code == 0
    docs = list(yaml.safe_load_all(result.stdout))
    assert [d["kind"] for d in docs] == ["VirtualService", "DestinationRule"]
    assert "IM102" in result.stderr and "IM102" not in result.stdout
    assert "1 legacy" not in result.stdout


def test_json_output_is_a_list_for_kubectl_apply() -> None:
    result = invoke("convert", "-o", "json", str(CASES / "egress" / "input.yaml"))
    doc = json.loads(result.stdout)
    assert doc["kind"] == "List"
    assert {i["kind"] for i in doc["items"]} == {"ServiceEntry", "VirtualService",
                                                 "DestinationRule"}


def test_json_report_names_source_file_and_line() -> None:
    path = CASES / "source-resolution" / "input.yaml"
    result = invoke("convert", "--report-format", "json", str(path))
    report = json.loads(result.stderr)
    assert report["inputs"] == [str(path)]
    assert {o["kind"] for o in report["outputs"]} == {"VirtualService", "DestinationRule"}
    guessed = [f for f in report["findings"] if f["code"] == "IM204"]
    assert guessed == [{
        "code": "IM204", "severity": "warning",
        "message": guessed[0]["message"],
        "source": {"kind": "RouteRule", "namespace": "bookinfo", "name": "from-unknown",
                   "file": str(path), "line": 25},
    }]
    assert report["files"][0]["legacy"] == 2


def test_error_findings_exit_1_and_still_print(tmp_path: Path) -> None:
    result = invoke("convert", str(CASES / "tcp-routes" / "input.yaml"))
    assert result.exit_code == 1
    assert "IM301" in result.stderr
    assert next(yaml.safe_load_all(result.stdout))["kind"] == "VirtualService"


def test_markdown_report_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = invoke("convert", "--report-format", "markdown", "--report-file", str(out),
                    str(CASES / "policies" / "input.yaml"))
    assert result.exit_code == 1  # IM305/IM306 are errors
    text = out.read_text()
    assert text.startswith("## istiomigrate conversion report")
    assert "| file | legacy | written | errors | warnings | info |" in text
    assert "**IM305** (error)" in text
    assert result.stderr == ""


def test_stdin_and_default_namespace() -> None:
    rule = (CASES / "custom-domain" / "input.yaml").read_text().replace("namespace: corp", "")
    result = invoke("convert", "-", "--namespace", "team-a", stdin=rule.split("---")[0])
    doc = yaml.safe_load(result.stdout.split("---")[0])
    assert doc["metadata"]["namespace"] == "team-a"
    assert "<stdin>" in invoke("convert", "--report-format", "json", "-",
                               stdin=rule.split("---")[0]).stderr


def test_directory_is_read_recursively_and_services_resolve_sources(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    text = (CASES / "source-resolution" / "input.yaml").read_text()
    service, rules = text.split("---", 1)
    (tmp_path / "service.yml").write_text(service)
    (nested / "rules.yaml").write_text(rules)
    (nested / "notes.txt").write_text("kind: RouteRule\n")
    result = invoke("convert", "--report-format", "json", str(tmp_path))
    report = json.loads(result.stderr)
    assert report["inputs"] == [str(tmp_path / "service.yml"), str(nested / "rules.yaml")]
    assert "IM213" in {f["code"] for f in report["findings"]}


def test_unparsable_file_in_a_tree_is_a_warning_but_named_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "chart.yaml").write_text("kind: RouteRule\nmetadata:\n  name: {{ .Values.x }}\n")
    (tmp_path / "ok.yaml").write_text((CASES / "fallthrough" / "input.yaml").read_text())
    result = invoke("convert", "--report-format", "json", str(tmp_path))
    assert result.exit_code == 0
    findings = json.loads(result.stderr)["findings"]
    assert [f["code"] for f in findings if f["severity"] == "warning"] == ["IM211"]
    assert findings[0]["source"]["file"] == str(tmp_path / "chart.yaml")
    assert "VirtualService" in result.stdout
    named = invoke("convert", str(tmp_path / "chart.yaml"))
    assert named.exit_code == 2 and "YAML does not parse" in named.stderr


def test_help_reads_well() -> None:
    result = invoke("convert", "--help")
    assert result.exit_code == 0
    for option in ("--target", "--namespace", "--cluster-domain", "--output", "--egress-tls",
                   "--report-format", "--report-file"):
        assert option in result.stdout


def test_no_colour_when_not_a_terminal_or_with_no_color(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "istiomigrate", "convert", str(CASES / "tcp-routes" / "input.yaml")],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert "\x1b[" not in proc.stderr and "\x1b[" not in proc.stdout
    assert "IM301" in proc.stderr
