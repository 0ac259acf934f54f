"""`convert --output-dir` and `--in-place` on manifest trees: only legacy documents change.

Every byte of every other document is kept (comments, quoting, flow style,
separators with comments, CRLF, a missing trailing newline), placement
follows the rules in istiomigrate/place.py, writes are atomic, and a second
run changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from istiomigrate.cli import app
from istiomigrate.read.documents import split_documents
from tests.helpers import FIXTURES
from tests.meaning import meaning

MIXED = FIXTURES / "trees" / "mixed"
LEGACY = ("config.istio.io",)


def run(*args: str):
    return CliRunner().invoke(app, ["convert", *args])


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    shutil.copytree(MIXED, root)
    return root


def _is_legacy(chunk_text: str) -> bool:
    return "config.istio.io/" in chunk_text


def _kept_chunks(path: Path) -> list[str]:
    with open(path, newline="") as handle:
        text = handle.read()
    return [c.text for c in split_documents(text) if not _is_legacy(c.text)]


def test_output_dir_mirrors_yaml_and_keeps_every_other_byte(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(str(tree), "--output-dir", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == sorted([
        "kustomization.yaml", "apps/reviews.yaml", "mesh/reviews-rules.yaml",
        "mesh/reviews-extra.yaml", "mesh/policies.yaml", "charts/reviews/Chart.yaml",
        "charts/reviews/templates/routerule.yaml", "json/egress.json",
    ])  # NOTES.txt is not a manifest: not copied
    for name in ("kustomization.yaml", "apps/reviews.yaml", "charts/reviews/Chart.yaml",
                 "charts/reviews/templates/routerule.yaml"):
        assert (out / name).read_bytes() == (tree / name).read_bytes(), name
    for name in ("mesh/reviews-rules.yaml", "mesh/policies.yaml"):
        original = _kept_chunks(tree / name)
        with open(out / name, newline="") as handle:
            text = handle.read()
        position = 0
        for chunk in original:  # every non-legacy document, byte for byte, in order
            found = text.find(chunk, position)
            assert found >= 0, (name, chunk)
            position = found + len(chunk)
    assert (out / "mesh/reviews-rules.yaml").read_bytes().endswith(b'newline"')
    policies = (out / "mesh/policies.yaml").read_bytes()
    assert b"\r\n" in policies and b"\n" not in policies.replace(b"\r\n", b"")


def test_placement_and_meaning(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(str(tree), "--output-dir", str(out))
    rules = (out / "mesh/reviews-rules.yaml").read_text()
    # reviews-beta has the highest precedence: the VirtualService replaces it
    extra = list(yaml.safe_load_all((out / "mesh/reviews-extra.yaml").read_text()))
    assert [d["kind"] for d in extra] == ["VirtualService"]
    # the other RouteRules leave a one-line comment saying where their routes went
    for name in ("reviews-default", "reviews-jason"):
        assert (f"# RouteRule bookinfo/{name}: converted into VirtualService bookinfo/reviews "
                f"({tree / 'mesh/reviews-extra.yaml'})") in rules
    assert "kind: RouteRule" not in rules
    # the DestinationRule goes where the host's first DestinationPolicy was
    policies = [d for d in yaml.safe_load_all((out / "mesh/policies.yaml").read_text())]
    assert [d["kind"] for d in policies] == ["ConfigMap", "DestinationRule", "ConfigMap"]
    # the JSON list keeps its ConfigMap and gets the ServiceEntry
    items = json.loads((out / "json/egress.json").read_text())["items"]
    assert [i["kind"] for i in items] == ["ConfigMap", "ServiceEntry"]
    docs = [d for p in sorted(out.rglob("*.yaml")) if "charts" not in str(p)
            for d in yaml.safe_load_all(p.read_text()) if d and "apiVersion" in d
            and d["apiVersion"].startswith("networking.istio.io")]
    reviews = meaning(docs)["hosts"]["reviews.bookinfo.svc.cluster.local"]
    assert [r["route"][0]["labels"] for r in reviews["http"]] == [
        {"version": "v3"}, {"version": "v2"}, {"version": "v1"}]
    assert reviews["http"][0]["match"] == [{"headers": {"x-track": {"exact": "beta"}}}]


def test_helm_template_is_a_warning_and_the_rest_converts(tree: Path, tmp_path: Path) -> None:
    result = run(str(tree), "--output-dir", str(tmp_path / "out"), "--report-format", "json")
    report = json.loads(result.stderr)
    unparsed = [f for f in report["findings"] if f["code"] == "IM211"]
    assert len(unparsed) == 1
    assert unparsed[0]["source"]["file"].endswith("charts/reviews/templates/routerule.yaml")
    assert unparsed[0]["source"]["line"] == 4
    per_file = {Path(f["file"]).name: f for f in report["files"]}
    assert per_file["reviews-rules.yaml"]["legacy"] == 2
    assert per_file["reviews-extra.yaml"]["written"] == 1


def test_second_run_changes_nothing(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(str(tree), "--output-dir", str(out))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = run(str(out), "--in-place", "--diff")
    assert again.exit_code == 0
    assert again.stdout == ""
    assert "nothing to convert" in again.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_in_place_is_atomic_keeps_mode_and_shows_a_diff(tree: Path) -> None:
    target = tree / "mesh" / "policies.yaml"
    os.chmod(target, 0o640)
    result = run(str(tree), "--in-place", "--diff")
    assert result.exit_code == 0
    assert f"--- a/{str(tree / 'mesh/policies.yaml').lstrip('/')}" in result.stdout
    assert "-kind: DestinationPolicy" in result.stdout
    assert "+kind: DestinationRule" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "DestinationRule" in target.read_text()
    assert not list(tree.rglob("*.tmp"))


def test_in_place_with_error_findings_writes_nothing_unless_allowed(tmp_path: Path) -> None:
    source = FIXTURES / "cases" / "tcp-routes" / "input.yaml"  # a UDP match: IM301
    target = tmp_path / "rules.yaml"
    shutil.copy(source, target)
    refused = run(str(tmp_path), "--in-place")
    assert refused.exit_code == 1
    assert "nothing written" in refused.stderr
    assert target.read_bytes() == source.read_bytes()
    allowed = run(str(tmp_path), "--in-place", "--allow-lossy")
    assert allowed.exit_code == 1
    assert "VirtualService" in target.read_text()


def test_diff_alone_writes_nothing(tree: Path) -> None:
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    result = run(str(tree), "--diff")
    assert "+kind: VirtualService" in result.stdout
    assert {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()} == before


def test_merge_into_an_existing_virtual_service_in_the_tree(tmp_path: Path) -> None:
    text = (FIXTURES / "cases" / "existing-v1alpha3" / "input.yaml").read_text()
    current, legacy = text.split("---\napiVersion: config.istio.io", 1)
    (tmp_path / "current.yaml").write_text(current)
    (tmp_path / "legacy.yaml").write_text("apiVersion: config.istio.io" + legacy)
    result = run(str(tmp_path), "--in-place", "--report-format", "json")
    report = json.loads(result.stderr)
    assert sum(f["code"] == "IM103" for f in report["findings"]) == 2
    docs = list(yaml.safe_load_all((tmp_path / "current.yaml").read_text()))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("DestinationRule", "reviews-dr"), ("VirtualService", "reviews-vs")]
    assert len(docs[1]["spec"]["http"]) == 3
    legacy_after = (tmp_path / "legacy.yaml").read_text()
    assert "kind: RouteRule" not in legacy_after
    assert "converted into VirtualService bookinfo/reviews-vs" in legacy_after


def test_unwritable_output_directory_is_a_clear_error(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run(str(tree), "--output-dir", str(blocker / "out"))
    assert result.exit_code == 2
    assert "cannot write to" in result.stderr and "Traceback" not in result.stderr
    assert blocker.read_text() == "not a directory"


def test_symlinks_leaving_the_root_are_not_followed(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(FIXTURES / "cases" / "fallthrough" / "input.yaml", outside / "rules.yaml")
    (tree / "link").symlink_to(outside)
    (tree / "link.yaml").symlink_to(outside / "rules.yaml")
    result = run(str(tree), "--report-format", "json")
    assert "outside" not in result.stderr
    assert "api.shop" not in result.stdout


def test_output_dir_and_in_place_exclude_each_other(tree: Path, tmp_path: Path) -> None:
    result = run(str(tree), "--in-place", "--output-dir", str(tmp_path / "o"))
    assert result.exit_code == 2


def test_a_yaml_list_keeps_its_other_items(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: keep-me, namespace: default}\n"
        "  data: {replicas: '3', enabled: true, count: 2}\n"
        "- apiVersion: config.istio.io/v1alpha2\n  kind: RouteRule\n"
        "  metadata: {name: r, namespace: default}\n"
        "  spec:\n    destination: {name: reviews}\n    route: [{labels: {version: v1}}]\n")
    result = run(str(tmp_path), "--in-place")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "list.yaml").read_text()
    docs = list(yaml.safe_load_all(text))
    assert docs[0]["kind"] == "List"
    assert docs[0]["items"] == [{"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "keep-me", "namespace": "default"},
                                 "data": {"replicas": "3", "enabled": True, "count": 2}}]
    assert [d["kind"] for d in docs[1:]] == ["VirtualService", "DestinationRule"]
    assert "# a kind: List that held legacy items" in text


def test_a_merged_resource_without_namespace_is_replaced_in_a_json_list(tmp_path: Path) -> None:
    """The existing VirtualService names no namespace; --namespace gives it one."""
    items = [
        {"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
         "metadata": {"name": "reviews-vs"},
         "spec": {"hosts": ["reviews"], "http": [
             {"match": [{"uri": {"prefix": "/health"}}],
              "route": [{"destination": {"host": "reviews"}}]}]}},
        {"apiVersion": "config.istio.io/v1alpha2", "kind": "RouteRule",
         "metadata": {"name": "reviews-default"},
         "spec": {"destination": {"name": "reviews"}, "route": [{"labels": {"version": "v1"}}]}},
    ]
    path = tmp_path / "mesh.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    result = run(str(tmp_path), "--in-place", "--namespace", "team-a")
    assert result.exit_code == 0, result.stderr
    written = json.loads(path.read_text())["items"]
    services = [i for i in written if i["kind"] == "VirtualService"]
    assert [s["metadata"]["name"] for s in services] == ["reviews-vs"]  # merged, not twice
    assert len(services[0]["spec"]["http"]) == 2
    assert "RouteRule" not in {i["kind"] for i in written}


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_output_dir_equal_to_the_input_is_refused_and_nothing_is_written(tree: Path) -> None:
    before = _tree_bytes(tree)
    result = run(str(tree), "--output-dir", str(tree))
    assert result.exit_code == 2 and result.stdout == ""
    assert "is the input directory" in result.stderr
    assert _tree_bytes(tree) == before


def test_output_dir_inside_the_input_is_not_read_again(tree: Path) -> None:
    out = tree / "migrated"
    first = run(str(tree), "--output-dir", str(out))
    assert first.exit_code == 0, first.stderr
    written = _tree_bytes(out)
    second = run(str(tree), "--output-dir", str(out))
    assert second.exit_code == 0, second.stderr
    assert "not read as input" in second.stderr
    assert _tree_bytes(out) == written
    assert not (out / "migrated").exists()
