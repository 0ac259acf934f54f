"""A target is one module: a toy one, registered in the test suite only, runs end to end.

The CLI is started in a fresh interpreter that imports ``tests.toy`` first, the
way a plugin would register itself, so the ``--target`` choices, rendering,
emitting and placement by role all come from the registry with no change to
any module of istiomigrate.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import FIXTURES, ROOT

EXAMPLE = FIXTURES / "example"
LAUNCH = "import tests.toy; from istiomigrate.cli import main; main()"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", LAUNCH, *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_the_toy_target_is_a_choice_and_converts_to_stdout() -> None:
    done = run("convert", "--target", "toy", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    assert {d["apiVersion"] for d in docs} == {"toy.example/v1"}
    routes = {d["spec"]["host"]: d["spec"]["routes"] for d in docs if d["kind"] == "Route"}
    assert "reviews.bookinfo.svc.cluster.local" in routes
    weights = [dest["weight"] for dest in routes["reviews.bookinfo.svc.cluster.local"][-1]["route"]]
    assert sum(weights) == 100
    assert {d["kind"] for d in docs} == {"Route", "Policy", "Entry"}


def test_the_toy_target_places_by_role_in_a_tree(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("convert", "--target", "toy", str(EXAMPLE), "--output-dir", str(out))
    assert done.returncode == 0, done.stderr
    routing = (out / "bookinfo" / "routing.yaml").read_text()
    written = [d for d in yaml.safe_load_all(routing) if d]
    assert "RouteRule" not in {d["kind"] for d in written}
    assert "Route" in {d["kind"] for d in written}
    egress = [d for d in yaml.safe_load_all((out / "egress" / "googleapis.yaml").read_text()) if d]
    assert [d["kind"] for d in egress] == ["Entry"]


def test_without_the_plugin_the_toy_target_is_unknown() -> None:
    done = subprocess.run([sys.executable, "-m", "istiomigrate", "convert", "--target", "toy",
                           str(EXAMPLE)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert "toy" in done.stderr and done.stdout == ""


def test_verify_uses_the_targets_simulator_and_refuses_a_target_without_one(
        tmp_path: Path) -> None:
    case, out = str(FIXTURES / "cases" / "tcp-routes" / "input.yaml"), tmp_path / "out.yaml"
    converted = run("convert", "--target", "0.8", case)
    out.write_text(converted.stdout)
    same = run("verify", "--target", "0.8", case, "--against", str(out))
    assert same.returncode == 0, same.stdout + same.stderr
    toy = run("verify", "--target", "toy", case, "--against", str(out))
    assert toy.returncode == 2 and toy.stdout == ""
    assert toy.stderr.strip() == ("istiomigrate: error: --target toy: this target has no "
                                  "simulator to verify with")
