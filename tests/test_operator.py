"""What an operator meets at the command line: stdin with --in-place, empty inputs,
the kubectl plugin name."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from istiomigrate.cli import app
from istiomigrate.cli.app import prog_name
from tests.helpers import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
LEGACY = (FIXTURES / "cases" / "fallthrough" / "input.yaml").read_text()


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def test_stdin_with_in_place_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("convert", "-", "--in-place", stdin=LEGACY)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "--in-place" in result.stderr and "standard input" in result.stderr


def test_stdin_with_output_dir_is_mirrored_as_stdin_yaml(tmp_path: Path) -> None:
    result = invoke("convert", "-", "--output-dir", str(tmp_path / "out"), stdin=LEGACY)
    assert result.exit_code == 0, result.stderr
    assert "VirtualService" in (tmp_path / "out" / "stdin.yaml").read_text()


@pytest.fixture
def noyaml(tmp_path: Path) -> Path:
    (tmp_path / "README.txt").write_text("kind: RouteRule\n")
    return tmp_path


@pytest.mark.parametrize("command", [["convert"], ["check"], ["verify", "--against", "."]])
def test_no_manifests_is_a_usage_error(noyaml: Path, command: list[str]) -> None:
    result = invoke(command[0], str(noyaml), *(str(noyaml) if a == "." else a
                                              for a in command[1:]))
    assert result.exit_code == 2, result.output
    assert f"no manifests found under {noyaml}" in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("command", [["convert"], ["check"], ["verify", "--against", "."]])
def test_allow_empty_accepts_no_manifests(noyaml: Path, command: list[str]) -> None:
    result = invoke(command[0], str(noyaml), *(str(noyaml) if a == "." else a
                                              for a in command[1:]), "--allow-empty")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", ["convert", "check"])
def test_yaml_without_legacy_resources_is_not_empty(tmp_path: Path, command: str) -> None:
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    assert invoke(command, str(tmp_path)).exit_code == 0


def test_kubectl_plugin_script_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text()  # no tomllib on Python 3.10
    section = text.split("[project.scripts]\n", 1)[1].split("\n[", 1)[0]
    scripts = dict(re.findall(r'^([-\w]+) = "([^"]+)"$', section, re.MULTILINE))
    assert scripts["kubectl-istiomigrate"] == scripts["istiomigrate"] == "istiomigrate.cli:main"


def test_prog_name_follows_argv0() -> None:
    assert prog_name("/usr/local/bin/kubectl-istiomigrate") == "kubectl istiomigrate"
    assert prog_name("/usr/local/bin/istiomigrate") == "istiomigrate"


def test_help_as_kubectl_plugin_shows_kubectl_usage(tmp_path: Path) -> None:
    script = tmp_path / "kubectl-istiomigrate"
    script.write_text("import sys\nfrom istiomigrate.cli import main\nsys.exit(main())\n")
    run = subprocess.run([sys.executable, str(script), "check", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=False,
                         env={"PYTHONPATH": str(ROOT), "COLUMNS": "80", "PATH": ""})
    assert run.returncode == 0, run.stderr
    assert "Usage: kubectl istiomigrate check" in run.stdout
