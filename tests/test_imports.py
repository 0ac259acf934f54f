"""Every module imports cleanly whichever module comes first: no import cycle anywhere.

A cycle shows only when one of its modules is imported before the others, so
each module is imported first in an interpreter of its own, then all the
others (once in sorted order, once in reverse). Starting ~100 interpreters that
each load pydantic, jsonschema and the kubernetes client would take a minute,
so one fresh interpreter loads the third-party modules istiomigrate uses, and
forks a child per case: a child starts with no istiomigrate module loaded, as
a fresh interpreter would, and third-party modules cannot take part in a
cycle of ours.
"""

from __future__ import annotations

import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import istiomigrate

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"pydantic", "jsonschema", "rich", "kubernetes"}


def modules() -> list[str]:
    """Every module of the package but ``__main__`` (importing it runs the CLI).

    Walking imports each subpackage; one that fails to import is an error, not skipped.
    """
    found = pkgutil.walk_packages([str(ROOT / "istiomigrate")], "istiomigrate.",
                                  onerror=_reraise)
    return sorted(m.name for m in found if m.name != "istiomigrate.__main__")


def _reraise(name: str) -> None:
    """pkgutil calls this while it handles the exception: raise it again."""
    raise


def _import_in_every_order(root: str, names: list[str], jobs: int) -> None:
    """Run in a fresh interpreter: print, as JSON, {"first module (order)": traceback}
    for every case that fails. Self-contained: its source is sent to ``python -c``."""
    import contextlib
    import gc
    import importlib
    import json
    import os
    import sys
    import traceback

    sys.path.insert(0, root)

    def in_child(work) -> tuple[int, int]:
        """Fork; the child runs ``work`` and writes what it returns to a pipe."""
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                text, code = work(), 0
            except BaseException:
                text, code = traceback.format_exc(), 1
            os.write(write, text.encode()[-60_000:])  # within a pipe's buffer: no deadlock
            os._exit(code)
        os.close(write)
        return pid, read

    def collect(pid: int, read: int) -> tuple[int, str]:
        chunks = []
        while chunk := os.read(read, 65536):
            chunks.append(chunk)
        os.close(read)
        return os.waitpid(pid, 0)[1], b"".join(chunks).decode()

    def import_all() -> str:
        for name in names:
            importlib.import_module(name)
        return "\n".join(m for m in sys.modules if m.split(".")[0] != "istiomigrate")

    status, others = collect(*in_child(import_all))
    if status:
        print(json.dumps({"all modules": others}))
        return
    for name in others.splitlines():  # preload what every child would load again
        with contextlib.suppress(Exception):  # some import only in their own context
            importlib.import_module(name)
    gc.freeze()  # children's collections would otherwise touch, and copy, the whole heap

    def case(first: str, order: list[str]):
        def work() -> str:
            importlib.import_module(first)
            for name in order:
                importlib.import_module(name)
            return ""
        return work

    cases = [(f"{first} ({label})", case(first, order)) for first in names
             for label, order in (("sorted", names), ("reversed", names[::-1]))]
    failures, running = {}, {}
    while cases or running:
        while cases and len(running) < jobs:
            label, work = cases.pop()
            pid, read = in_child(work)
            running[pid] = (label, read)
        pid, status = os.wait()
        label, read = running.pop(pid)
        text = os.read(read, 65536).decode()
        os.close(read)
        if status:
            failures[label] = text
    print(json.dumps(failures))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_every_module_imports_first_in_any_order(tmp_path):
    names = modules()
    assert "istiomigrate.cli.check" in names and "istiomigrate.cli.app" in names
    code = (inspect.getsource(_import_in_every_order)
            + f"\n_import_in_every_order({str(ROOT)!r}, {names!r}, {os.cpu_count() or 2})\n")
    # Compile each module once, not once per child; the bytecode goes to tmp_path, not ROOT.
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    failures = json.loads(done.stdout)
    assert not failures, "\n\n".join(f"{case}:\n{text}" for case, text in sorted(failures.items()))


def test_check_command_module_alone_stays_light():
    """``check`` runs in pre-commit hooks: its module must not load the heavy libraries."""
    code = ("import sys\nimport istiomigrate.cli.check\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(HEAVY)!r})))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_package_under_test_is_this_checkout():
    """The subprocesses above import from ROOT, as pytest does: not an installed copy."""
    assert Path(istiomigrate.__file__).resolve().parent == ROOT / "istiomigrate"
