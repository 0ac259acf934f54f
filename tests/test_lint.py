"""The code stays clean: ``ruff check`` over the repository, strict ``mypy`` over the package.

Both run as the project configures them in ``pyproject.toml`` (``[tool.ruff]``,
``[tool.mypy]``), from the repository root, with the interpreter running the tests, so
that the tools see the packages and stubs of this environment. Each test is skipped
when its tool is not installed (``pip install '.[test]'`` brings both).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          check=False)


def _ruff() -> list[str] | None:
    """How to run ruff: the module of this environment, else an executable on PATH."""
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    executable = shutil.which("ruff")
    return [executable] if executable is not None else None


def test_ruff_is_clean() -> None:
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (pip install '.[test]' brings it)")
    proc = _run([*ruff, "check", "."], timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install '.[test]' brings it)")
    # No paths: the files to check are those of ``[tool.mypy] files``.
    proc = _run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
                timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# Distribution name -> the module the package imports it as.
_IMPORT_NAMES = {"PyYAML": "yaml", "ruamel.yaml": "ruamel"}


def test_every_declared_dependency_is_imported_by_the_package() -> None:
    """A runtime dependency the package never imports belongs in an extra, or nowhere."""
    import re

    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0] for spec in declared]
    source = "\n".join(p.read_text() for p in (ROOT / "istiomigrate").rglob("*.py"))
    for name in names:
        module = _IMPORT_NAMES.get(name, name)
        assert re.search(rf"^\s*(?:import|from) {re.escape(module)}\b", source, re.M), name
