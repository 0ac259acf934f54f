"""Crashes the fuzzer found, kept fixed: each is a converted result or one exit-2 line.

An error is ``istiomigrate: error: FILE[:LINE]: ...`` on one line of standard error,
nothing on standard output, never a traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from istiomigrate.cli import app
from tests.helpers import FIXTURES

CASES = FIXTURES / "cases"
EXPECTATIONS = sorted(CASES.glob("*/expect*.yaml"))
# The fixture options a command line can give, and their flags.
FLAGS = {"target": "--target", "cluster_domain": "--cluster-domain", "egress_tls": "--egress-tls"}


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result


def assert_one_error_line(result, name: str) -> None:
    """Exit 2, nothing on stdout, one stderr line naming the file."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("istiomigrate: error: ") and name in lines[0], lines[0]


def _flags(expect: Path) -> list[str] | None:
    options = (yaml.safe_load(expect.read_text()) or {}).get("options", {})
    if set(options) - set(FLAGS):
        return None
    return [arg for key, value in options.items() for arg in (FLAGS[key], str(value))]


def _documents(root: Path) -> list[dict]:
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            for doc in yaml.safe_load_all(path.read_text()):
                items = doc.get("items", []) if isinstance(doc, dict) and doc.get(
                    "kind") == "List" else [doc]
                out.extend(d for d in items if isinstance(d, dict))
    return out


@pytest.mark.parametrize("expect", EXPECTATIONS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_tree_modes_write_every_resource_stdout_has(expect: Path, tmp_path: Path) -> None:
    """A DestinationRule only for another host's subsets (a route or mirror to them) replaces
    no legacy document: it goes beside the routes that need it, and is never lost."""
    flags = _flags(expect)
    if flags is None:
        pytest.skip("options not spelled on the command line here")
    source = expect.parent / "input.yaml"
    stdout = invoke("convert", str(source), "--allow-lossy", *flags)
    assert stdout.exit_code in (0, 1), stdout.stderr
    wanted = [d for d in yaml.safe_load_all(stdout.stdout) if d]
    diff = invoke("convert", str(source), "--diff", *flags)
    assert diff.exit_code in (0, 1), diff.stderr
    out = tmp_path / "out"
    tree = invoke("convert", str(source), "--output-dir", str(out), "--allow-lossy", *flags)
    assert tree.exit_code in (0, 1), tree.stderr
    written = _documents(out)
    for doc in wanted:
        assert doc in written, (doc["kind"], doc["metadata"])
    root = tmp_path / "in"
    root.mkdir()
    shutil.copy(source, root / "input.yaml")
    in_place = invoke("convert", str(root), "--in-place", "--allow-lossy", *flags)
    assert in_place.exit_code in (0, 1), in_place.stderr
    assert all(doc in _documents(root) for doc in wanted)


def test_policy_for_another_hosts_subsets_sits_beside_its_routes(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(
        "apiVersion: config.istio.io/v1alpha2\nkind: RouteRule\n"
        "metadata: {name: front, namespace: shop}\n"
        "spec:\n  destination: {name: front}\n"
        "  route: [{labels: {version: v1}}]\n"
        "  mirror: {name: other, labels: {version: v2}}\n")
    out = tmp_path / "out"
    result = invoke("convert", str(tmp_path), "--output-dir", str(out), "--target", "0.8")
    assert result.exit_code in (0, 1), result.stderr
    docs = list(yaml.safe_load_all((out / "rules.yaml").read_text()))
    kinds = {(d["kind"], d["spec"].get("host")) for d in docs if d}
    assert ("DestinationRule", "other") in kinds
    assert kinds >= {("VirtualService", None), ("DestinationRule", "front")}
