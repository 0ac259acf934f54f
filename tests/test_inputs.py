"""``istiomigrate.read.inputs``: the one policy for files, directories and stdin.

convert, check and verify all read through it, so the rules are tested here once
(trees with symlinks and bad bytes are built in tmp_path), and the stdin error
through each command's CLI.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from istiomigrate.check.find import check_paths
from istiomigrate.cli import app
from istiomigrate.errors import InputError
from istiomigrate.read import inputs
from istiomigrate.read.inputs import Input, iter_inputs, walk_manifests
from istiomigrate.read.inventory import read_paths

ROUTE_RULE = """\
apiVersion: config.istio.io/v1alpha2
kind: RouteRule
metadata:
  name: reviews
spec:
  destination:
    name: reviews
  route:
  - labels:
      version: v1
"""
NOT_UTF8 = b"\xff\xfe"


def write(path: Path, text: str = ROUTE_RULE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def names(found: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in found]


def displays(paths: list[str], **kwargs) -> list[str]:
    return [i.display for i in iter_inputs(paths, **kwargs)]


# --------------------------------------------------------------------------- stdin


@pytest.mark.parametrize("args", [
    ["convert", "-"],
    ["check", "-"],
    ["verify", "-", "--against", "{against}"],
    ["verify", "{legacy}", "--against", "-"],
])
def test_stdin_not_utf8_is_one_line_naming_stdin(args: list[str], tmp_path: Path) -> None:
    files = {"legacy": str(write(tmp_path / "legacy.yaml")),
             "against": str(write(tmp_path / "converted.yaml", "{}\n"))}
    result = CliRunner().invoke(app, [a.format(**files) for a in args], input=NOT_UTF8)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "istiomigrate: error: <stdin>: not UTF-8 text (invalid start byte)"]


def test_stdin_is_read_as_bytes_and_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = "kind: RouteRule # é\r\n".encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="latin-1"))
    assert list(iter_inputs(["-"])) == [Input("<stdin>", None, raw.decode("utf-8"))]


def test_stdin_named_twice_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ROUTE_RULE.encode())))
    assert displays(["-", "-"]) == ["<stdin>"]


def test_stdin_without_a_byte_stream_is_read_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(ROUTE_RULE))
    assert [i.text for i in iter_inputs(["-"])] == [ROUTE_RULE]


# --------------------------------------------------------------------------- files


def test_records_name_path_text_and_root(tmp_path: Path) -> None:
    single = write(tmp_path / "single.yaml")
    tree = tmp_path / "tree"
    found = write(tree / "a.yaml", "kind: Service\n")
    assert list(iter_inputs([str(single), str(tree)])) == [
        Input(str(single), single, ROUTE_RULE, None),
        Input(str(found), found, "kind: Service\n", tree),
    ]


def test_missing_path_names_it(tmp_path: Path) -> None:
    given = str(tmp_path / "nope.yaml")
    with pytest.raises(InputError) as err:
        list(iter_inputs([given]))
    assert (err.value.message, err.value.file) == ("no such file or directory", given)


def test_file_not_utf8_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "tree" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_bytes(NOT_UTF8)
    for given in (bad, bad.parent):
        with pytest.raises(InputError) as err:
            list(iter_inputs([str(given)]))
        assert (err.value.message, err.value.file) == (
            "not UTF-8 text (invalid start byte)", str(bad))


def test_text_is_kept_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    path.write_bytes(b"kind: RouteRule\r\n---\r\n")
    assert [i.text for i in iter_inputs([str(path)])] == ["kind: RouteRule\r\n---\r\n"]


def test_file_named_twice_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    rr = write(tree / "rr.yaml")
    (tmp_path / "link.yaml").symlink_to(rr)
    monkeypatch.chdir(tmp_path)
    assert displays(["tree/rr.yaml", "./tree/rr.yaml", "link.yaml", "tree"]) == ["tree/rr.yaml"]
    assert displays(["tree", "tree/rr.yaml", "tree"]) == ["tree/rr.yaml"]


def test_each_command_reads_a_file_named_twice_once(tmp_path: Path) -> None:
    rr = str(write(tmp_path / "rr.yaml"))
    assert [f.display for f in read_paths([rr, rr]).files] == [rr]
    assert len(read_paths([rr, str(tmp_path)]).legacy) == 1
    assert check_paths([rr, rr, str(tmp_path)]).sources == [rr]


def test_dangling_symlink_in_a_tree_is_an_error_as_before(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    with pytest.raises(InputError) as err:
        list(iter_inputs([str(tmp_path)]))
    assert err.value.file == str(tmp_path / "gone.yaml")


# --------------------------------------------------------------------------- directories


def test_walk_order_is_sorted_files_before_subdirectories(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yml", "c.json", "z/a.yaml", "m/n/x.yaml", "m/a.yaml",
                 "notes.txt", "m/README.md"):
        write(tmp_path / name)
    expected = [Path(d, f) for d, ds, fs in _sorted_walk(tmp_path) for f in sorted(fs)
                if f.endswith((".yaml", ".yml", ".json"))]
    assert walk_manifests(tmp_path) == expected
    assert names(expected, tmp_path) == ["a.yml", "b.yaml", "c.json", "m/a.yaml",
                                         "m/n/x.yaml", "z/a.yaml"]


def _sorted_walk(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        yield dirpath, dirnames, filenames


def test_hidden_directories_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "rr.yaml")
    write(tmp_path / "apps" / ".cache" / "rr.yaml")
    write(tmp_path / "apps" / "rr.yaml")
    assert names(walk_manifests(tmp_path), tmp_path) == ["apps/rr.yaml"]


def test_symlinks_leaving_the_root_are_skipped(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "rr.yaml")
    tree = tmp_path / "tree"
    write(tree / "rr.yaml")
    (tree / "escape.yaml").symlink_to(outside)
    (tree / "escape").symlink_to(outside.parent, target_is_directory=True)
    assert names(walk_manifests(tree), tree) == ["rr.yaml"]


def test_symlink_loops_read_each_real_file_once(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml")
    write(tmp_path / "sub" / "b.yaml")
    (tmp_path / "me.yaml").symlink_to("me.yaml")
    (tmp_path / "self").symlink_to(".", target_is_directory=True)
    (tmp_path / "sub" / "up").symlink_to("..", target_is_directory=True)
    (tmp_path / "sub" / "again").symlink_to("../sub", target_is_directory=True)
    assert names(walk_manifests(tmp_path), tmp_path) == ["a.yaml", "sub/b.yaml"]
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert sorted(names([Path(f) for f in _files(result.stdout)], tmp_path)) == [
        "a.yaml", "sub/b.yaml"]


def _files(json_text: str) -> list[str]:
    return [e["file"] for e in json.loads(json_text)["legacy"]]


def test_a_file_reached_twice_is_read_by_its_real_path(tmp_path: Path) -> None:
    write(tmp_path / "real" / "rr.yaml")
    (tmp_path / "alias").symlink_to("real", target_is_directory=True)
    (tmp_path / "0-link.yaml").symlink_to("real/rr.yaml")
    assert names(walk_manifests(tmp_path), tmp_path) == ["real/rr.yaml"]


def test_what_only_a_symlink_reaches_is_read_in_walk_order(tmp_path: Path) -> None:
    write(tmp_path / ".hidden" / "rr.yaml")
    write(tmp_path / "b.yaml")
    write(tmp_path / "z" / "rr.yaml")
    (tmp_path / "m").symlink_to(".hidden", target_is_directory=True)
    (tmp_path / "a.yaml").symlink_to(".hidden/rr.yaml")
    assert names(walk_manifests(tmp_path), tmp_path) == ["a.yaml", "b.yaml", "z/rr.yaml"]


def test_exclude_leaves_directories_out_of_walks(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    write(tree / "rr.yaml")
    kept = write(tree / "out" / "kept.yaml")
    write(tree / "out" / "deeper" / "rr.yaml")
    (tree / "link").symlink_to("out/deeper", target_is_directory=True)
    (tree / "link.yaml").symlink_to("out/kept.yaml")
    exclude = {tree / "out"}
    assert names(walk_manifests(tree, exclude=exclude), tree) == ["rr.yaml"]
    assert displays([str(tree)], exclude=exclude) == [str(tree / "rr.yaml")]
    # unresolved and relative spellings of the directory work too
    monkeypatch.chdir(tmp_path)
    assert displays(["tree"], exclude={Path("tree/../tree/out")}) == ["tree/rr.yaml"]
    # a file named on the command line is read even in an excluded directory
    assert displays([str(kept)], exclude=exclude) == [str(kept)]
    # a given directory that is excluded yields nothing
    assert displays([str(tree / "out")], exclude=exclude) == []


def test_module_is_light() -> None:
    """check imports inputs: the standard library only (and istiomigrate.errors)."""
    source = Path(inputs.__file__).read_text()
    imported = {line.split()[1].split(".")[0] for line in source.splitlines()
                if line.startswith(("import ", "from "))}
    assert imported <= {"__future__", "errno", "os", "sys", "collections", "dataclasses",
                        "pathlib", "istiomigrate"}
