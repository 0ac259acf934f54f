"""Crashes the fuzzer found, kept fixed: each is a converted result or one exit-2 line.

An error is ``istiomigrate: error: FILE[:LINE]: ...`` on one line of standard error,
nothing on standard output, never a traceback.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from istiomigrate.cli import app
from istiomigrate.files import atomic_write
from tests.helpers import FIXTURES

CASES = FIXTURES / "cases"
EXPECTATIONS = sorted(CASES.glob("*/expect*.yaml"))
# The fixture options a command line can give, and their flags.
FLAGS = {"target": "--target", "cluster_domain": "--cluster-domain", "egress_tls": "--egress-tls",
         "ingress_gateway_selector": "--ingress-gateway-selector",
         "ingress_gateway_namespace": "--ingress-gateway-namespace"}


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
    return [arg for key, value in options.items() for arg in (FLAGS[key], _flag_value(value))]


def _flag_value(value: object) -> str:
    """``[[app, edge]]`` (a selector's pairs) as ``app=edge``; anything else as text."""
    if isinstance(value, list):
        return ",".join(f"{k}={v}" for k, v in value)
    return str(value)


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


# --------------------------------------------------------------------------- wrong shapes

RULE = ("apiVersion: config.istio.io/v1alpha2\nkind: RouteRule\nmetadata: {name: r}\n"
        "spec:\n  destination: {name: reviews}\n  route: [{labels: {version: v1}}]\n")


@pytest.mark.parametrize(("kind", "body", "field"), [
    ("VirtualService", "metadata: {name: x}\nspec: 1\n", "spec"),
    ("VirtualService", "metadata: {name: x}\nspec: {hosts: 1}\n", "spec.hosts"),
    ("VirtualService", "metadata: {name: x}\nspec: {hosts: [reviews], http: {}}\n", "spec.http"),
    ("DestinationRule", "metadata: {name: x}\nspec: {host: reviews, subsets: 7}\n",
     "spec.subsets"),
    ("DestinationRule", "metadata: 5\nspec: {host: reviews}\n", "metadata"),
    ("DestinationRule", "metadata: !!int x\nspec: {host: reviews}\n", "document 2"),
])
def test_existing_resource_of_the_wrong_shape_is_one_error(tmp_path: Path, kind: str,
                                                          body: str, field: str) -> None:
    root = tmp_path / "in"
    root.mkdir()
    path = root / "mixed.yaml"
    path.write_text(f"{RULE}---\napiVersion: networking.istio.io/v1alpha3\nkind: {kind}\n"
                    f"{body}")
    for args in ([str(path)], [str(root), "--output-dir", str(tmp_path / "out")],
                 [str(root), "--diff"]):
        result = invoke("convert", *args)
        assert_one_error_line(result, "mixed.yaml")
        assert field in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("service", [
    "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: [1, 2]\n",
    "apiVersion: v1\nkind: Service\nmetadata: [a]\nspec: {selector: {app: a}}\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec: 7\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  selector: [1]\n",
])
def test_service_of_the_wrong_shape_is_no_selector(tmp_path: Path, service: str) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text(f"{RULE}---\n{service}")
    result = invoke("convert", str(path))
    assert result.exit_code == 0, result.stderr
    assert "VirtualService" in result.stdout


def test_a_service_holding_itself_is_one_error_line(tmp_path: Path) -> None:
    """A recursive alias is refused by the bounded loader (tests/test_hostile.py), here too."""
    path = tmp_path / "svc.yaml"
    path.write_text(f"{RULE}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n"
                    "spec: &x\n  selector: *x\n")
    result = invoke("convert", str(path))
    assert_one_error_line(result, "svc.yaml")
    assert "recursive alias" in result.stderr


def test_service_that_does_not_parse_in_a_tree_is_a_finding(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "rules.yaml").write_text(RULE)
    (root / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a\n")
    result = invoke("convert", str(root), "--output-dir", str(tmp_path / "out"))
    assert result.exit_code in (0, 1), result.stderr
    assert "IM211" in result.stderr


# --------------------------------------------------------------------------- JSON files

JSON_RULE = json.dumps({"apiVersion": "config.istio.io/v1alpha2", "kind": "RouteRule",
                        "metadata": {"name": "r"},
                        "spec": {"destination": {"name": "reviews"},
                                 "route": [{"labels": {"version": "v1"}}]}})


@pytest.mark.parametrize(("text", "reads_as"), [
    ("\ufeff" + JSON_RULE + "\n", "json"),
    (RULE, "yaml"),
    (RULE + "---\n" + RULE.replace("name: r}", "name: r2}").replace("reviews", "ratings"),
     "yaml"),
])
def test_json_file_with_a_bom_or_holding_yaml(tmp_path: Path, text: str, reads_as: str) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "rules.json").write_text(text, encoding="utf-8")
    diff = invoke("convert", str(root), "--diff")
    assert diff.exit_code == 0, diff.stderr
    out = tmp_path / "out"
    tree = invoke("convert", str(root), "--output-dir", str(out))
    assert tree.exit_code == 0, tree.stderr
    written = (out / "rules.json").read_text(encoding="utf-8")
    assert written.startswith("\ufeff") == text.startswith("\ufeff")
    body = written.lstrip("\ufeff")
    docs = [json.loads(body)] if reads_as == "json" else list(yaml.safe_load_all(body))
    kinds = sorted(d["kind"] for doc in docs if doc
                   for d in (doc["items"] if doc["kind"] == "List" else [doc]))
    assert "VirtualService" in kinds and "RouteRule" not in kinds
    again = invoke("convert", str(out), "--output-dir", str(tmp_path / "again"))
    assert again.exit_code == 0, again.stderr  # what was written reads back


# --------------------------------------------------------------------------- verify --against

POLICIES = str(CASES / "policies" / "input.yaml")
VS = "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\n"


@pytest.mark.parametrize(("text", "says"), [
    (VS + "metadata: {name: x}\nspec: {hosts: [a], http: [{route: "
     + "[" * 5000 + "]" * 5000 + "}]}\n", "against.yaml"),
    (VS + "metadata: {name: x}\nspec:\n  hosts: [a]\n  http:\n"
     + "".join("  " * (i + 2) + "- \n" for i in range(900)), "against.yaml"),
    (VS + "metadata: {name: x}\nspec: &s {hosts: [a], http: [{route: [*s]}]}\n", "against.yaml"),
    (VS + "metadata: {name: x}\nspec: {hosts: [a], http: [{route: [{destination: "
     "{host: a}, weight: -.inf}]}]}\n", "weight"),
    ("apiVersion: v1\nkind: List\nitems: 7\n", "items"),
    (VS + "metadata: 5\nspec: {hosts: [a]}\n", "metadata"),
    (VS + "metadata: !!int x\nspec: {hosts: [a]}\n", "against.yaml"),
    (VS + "metadata: {name: x}\nspec: {hosts: [a], http: [{route: [{destination: "
     "{host: a}, weight: x}]}]}\n", "weight"),
    (VS + "metadata: {name: x}\nspec: {hosts: [a], http: [{timeout: [1]}]}\n", "timeout"),
    ("apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: x}\n"
     "spec: {host: a, subsets: [{name: v1, labels: [a]}]}\n", "labels"),
    ("apiVersion: networking.istio.io/v1alpha3\nkind: ServiceEntry\nmetadata: {name: x}\n"
     "spec: {hosts: a}\n", "hosts"),
    (VS + "metadata: {name: x}\nspec: {hosts: [a]\n", "against.yaml"),
])
def test_verify_against_hand_written_files(tmp_path: Path, text: str, says: str) -> None:
    against = tmp_path / "against.yaml"
    against.write_text(text)
    result = invoke("verify", POLICIES, "--against", str(against))
    assert_one_error_line(result, "against.yaml")
    assert says in result.stderr


# --------------------------------------------------------------------------- a full disk

def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    root.mkdir()
    shutil.copy(CASES / "http-actions" / "input.yaml", root / "input.yaml")
    return root


def _no_temp_files(*roots: Path) -> None:
    left = [p for root in roots if root.exists() for p in root.rglob(".*.tmp")]
    assert left == []


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch):
    """Every write of a file's content fails as on a full disk."""
    real = os.fsync

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    yield real


@pytest.mark.parametrize("mode", ["--in-place", "--output-dir", "--report-file"])
def test_a_full_disk_is_one_error_and_nothing_changes(tmp_path: Path, full_disk,
                                                      mode: str) -> None:
    root = _tree(tmp_path)
    before = (root / "input.yaml").read_bytes()
    target = tmp_path / ("out" if mode == "--output-dir" else "report.txt")
    args = [str(root), "--allow-lossy", mode] + ([] if mode == "--in-place" else [str(target)])
    result = invoke("convert", *args)
    assert_one_error_line(result, "No space left on device")
    assert (root / "input.yaml").read_bytes() == before
    if mode == "--report-file":
        assert not target.exists()
    else:
        assert not any(p.is_file() for p in tmp_path.joinpath("out").rglob("*"))
    _no_temp_files(tmp_path)


def test_atomic_write_cleans_up_after_any_failure(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kept.yaml"
    path.write_text("old\n")

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, "new\n")
    assert path.read_text() == "old\n"
    _no_temp_files(tmp_path)


def test_a_real_full_file_system(tmp_path: Path) -> None:
    """On a 64 KiB tmpfs (root only): the same, without monkeypatching."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        root = mount / "in"
        root.mkdir()
        rules = "---\n".join(RULE.replace("name: r}", f"name: r{i}}}").replace(
            "reviews", f"svc{i}") for i in range(40))
        (root / "rules.yaml").write_text(rules)
        (mount / "filler").write_bytes(b"\0" * (64 * 1024 - 3 * len(rules)))
        for args in (["--in-place"], ["--output-dir", str(mount / "out")]):
            result = invoke("convert", str(root), *args)
            assert_one_error_line(result, "No space left on device")
            assert (root / "rules.yaml").read_text() == rules
            _no_temp_files(mount)
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_service_read_from_text_that_does_not_parse_names_its_file(tmp_path: Path) -> None:
    """A Service's selector is cut from its text; its ports are parsed only when an Ingress
    needs them, and then a Service that does not parse is an error naming it."""
    source = (CASES / "ingress-named-ports" / "input.yaml").read_text()
    path = tmp_path / "broken.yaml"
    path.write_text('"' + source)  # an unterminated quoted scalar, the first line
    result = invoke("convert", str(path))
    assert_one_error_line(result, "broken.yaml")
    assert "YAML does not parse" in result.stderr


def test_existing_resource_with_odd_scalars_is_merged_into_as_written(tmp_path: Path) -> None:
    """Only the shape is checked when reading: a number where a string label belongs is kept
    (the output's schema check reports it, IM307), not an input error."""
    path = tmp_path / "mixed.yaml"
    path.write_text(f"{RULE}---\napiVersion: networking.istio.io/v1alpha3\n"
                    "kind: DestinationRule\nmetadata: {name: reviews, labels: {team: 7}}\n"
                    "spec: {host: reviews, subsets: [{name: old, labels: {version: 1.0}}]}\n")
    result = invoke("convert", str(path))
    assert result.exit_code == 1 and "IM307" in result.stderr, result.stderr
    rule = next(d for d in yaml.safe_load_all(result.stdout) if d["kind"] == "DestinationRule")
    assert rule["metadata"]["labels"] == {"team": 7}
    assert rule["spec"]["subsets"][0]["name"] == "old"


def test_output_dir_is_written_whole_or_not_at_all(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills up at the third file leaves no output file, directory or temp file."""
    import errno

    real_fsync = os.fsync
    calls = {"n": 0}

    def third_fails(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    out = tmp_path / "out"
    monkeypatch.setattr(os, "fsync", third_fails)
    result = invoke("convert", str(FIXTURES / "trees" / "mixed"), "--output-dir", str(out))
    assert_one_error_line(result, "No space left on device")
    assert calls["n"] == 3
    assert not out.exists()
    _no_temp_files(tmp_path)
