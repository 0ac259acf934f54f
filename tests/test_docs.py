"""Documents generated from code stay in sync with it, and the code stays ruff-clean."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from istiomigrate.findings import CODES
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_findings_table_is_the_catalogue() -> None:
    block = README.split("<!-- findings-table")[1].split("<!-- end findings-table -->")[0]
    rows = re.findall(r"^\| (IM\d{3}) \| (\w+) \| (.+) \|$", block, re.M)
    assert rows == [(c.code, c.severity.value, c.title) for c in CODES.values()]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```sh\n{ci}\n```" in README


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or (shutil.which("ruff", path=str(ROOT / ".venv" / "bin")))
    if ruff is None:
        pytest.skip("ruff is not installed (pip install '.[test]' brings it)")
    proc = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
