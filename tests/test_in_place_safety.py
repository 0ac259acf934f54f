"""`convert --in-place` loses nothing: killed runs, concurrent edits, owners, symlinks.

Real runs are killed (SIGKILL) at random moments of their writes, widened by a launcher
that makes ``os.replace`` sleep; each time, every file must be its original or its
converted version, and a second run must bring the tree to exactly the bytes of an
uninterrupted run, with no temporary or journal file left.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from istiomigrate import files, journal
from istiomigrate.cli import app
from tests.helpers import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
MIXED = FIXTURES / "trees" / "mixed"
PAUSE = 0.08  # seconds each os.replace sleeps in the killed runs
MARK = "@replace"

# Wraps os.replace to announce itself on stderr and sleep, then runs the CLI.
LAUNCHER = f"""
import os, sys, time
_replace = os.replace
def _slow(src, dst, *args, **kwargs):
    sys.stderr.write({MARK!r} + "\\n")
    sys.stderr.flush()
    time.sleep({PAUSE})
    return _replace(src, dst, *args, **kwargs)
os.replace = _slow
sys.argv = ["istiomigrate", *sys.argv[1:]]
from istiomigrate.cli import main
main()
"""


def run(*args: str):
    return CliRunner().invoke(app, ["convert", *args])


def make_tree(root: Path) -> Path:
    """The mixed tree, with the host's highest-precedence RouteRule in the file written
    last: the other rules' files (now comments) are rewritten before the VirtualService's."""
    shutil.copytree(MIXED, root)
    (root / "mesh" / "reviews-extra.yaml").rename(root / "mesh" / "zz-reviews-top.yaml")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too) and its bytes, the root's own path (which
    the comments name) replaced by ``ROOT``."""
    return {str(p.relative_to(root)): p.read_bytes().replace(str(root).encode(), b"ROOT")
            for p in sorted(root.rglob("*")) if p.is_file() or p.is_symlink()}


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The tree before, and after an uninterrupted run."""
    root = make_tree(tmp_path_factory.mktemp("expected") / "in")
    before = snapshot(root)
    result = run(str(root), "--in-place")
    assert result.exit_code == 0, result.stderr
    after = snapshot(root)
    assert after != before
    return before, after


def _killed_run(root: Path, rng: random.Random, replaces: int) -> None:
    """Start a real run and SIGKILL it at a random moment: before its first write if
    ``replaces`` is 0, else during the sleep before its ``replaces``-th rename (the journal's
    manifest is the first rename, each file one more, so every phase is hit)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, "convert", str(root), "--in-place"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env,
                            cwd=ROOT, text=True)
    assert proc.stderr is not None
    if replaces == 0:
        time.sleep(rng.uniform(0, 1.0))
    else:
        seen = 0
        for line in proc.stderr:
            seen += line.strip() == MARK
            if seen == replaces:
                break
        time.sleep(rng.uniform(0, PAUSE))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()


def test_killed_runs_lose_nothing_and_a_second_run_completes_them(
        tmp_path: Path, expected: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    before, after = expected
    changed = {n for n in before if before[n] != after[n]}
    rng = random.Random(20261201)
    partial = 0
    for attempt in range(2 * (len(changed) + 2)):
        root = make_tree(tmp_path / f"t{attempt}")
        _killed_run(root, rng, attempt % (len(changed) + 2))
        now = snapshot(root)
        for name in before:
            assert now[name] in (before[name], after[name]), (attempt, name)
        partial += 0 < sum(now[n] == after[n] for n in changed) < len(changed)
        result = run(str(root), "--in-place")
        assert result.exit_code == 0, (attempt, result.stderr)
        assert snapshot(root) == after, attempt  # same bytes, no temporary or journal file
    assert partial >= 2  # the kills did land between renames


def test_a_run_killed_after_the_first_rename_is_completed(
        tmp_path: Path, expected: tuple[dict[str, bytes], dict[str, bytes]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic twin of the random kills: die right after the first file is renamed."""
    before, after = expected
    root = make_tree(tmp_path / "in")
    real = os.replace
    renamed: list[str] = []

    def die_after_first(src: str, dst: str) -> None:
        real(src, dst)
        if not str(dst).endswith(journal.MANIFEST):
            renamed.append(str(dst))
            raise KeyboardInterrupt  # leaves the journal, as a kill would
    monkeypatch.setattr(os, "replace", die_after_first)
    with pytest.raises(KeyboardInterrupt):
        journal.rewrite(root.resolve(), [
            journal.Change(root.resolve() / n, before[n].decode(), after[n].decode())
            for n in sorted(before) if before[n] != after[n]])
    monkeypatch.undo()
    assert len(renamed) == 1 and (root / journal.JOURNAL / journal.MANIFEST).exists()
    refused = run(str(root), "--output-dir", str(tmp_path / "out"))
    assert refused.exit_code == 2 and "interrupted --in-place run" in refused.stderr
    result = run(str(root), "--in-place")
    assert result.exit_code == 0, result.stderr
    assert "completed an interrupted --in-place run" in result.stderr
    assert snapshot(root) == after


def test_a_journal_entry_whose_file_was_edited_is_refused(
        tmp_path: Path, expected: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    before, after = expected
    root = make_tree(tmp_path / "in").resolve()
    names = [n for n in sorted(before) if before[n] != after[n]]
    _journal_only(root, [journal.Change(root / n, before[n].decode(), after[n].decode())
                         for n in names])
    (root / names[0]).write_text("edited by someone\n")
    result = run(str(root), "--in-place")
    assert result.exit_code == 1
    assert names[0] in result.stderr and "not overwritten" in result.stderr
    assert (root / names[0]).read_text() == "edited by someone\n"


def _journal_only(root: Path, changes: list[journal.Change]) -> None:
    """Commit a journal for ``changes`` and stop before any file is renamed."""
    real = os.replace

    def stop(src: str, dst: str) -> None:
        real(src, dst)
        if str(dst).endswith(journal.MANIFEST):
            raise KeyboardInterrupt
    os.replace = stop  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            journal.rewrite(root, changes)
    finally:
        os.replace = real


def test_a_planted_journal_cannot_write_outside_the_tree(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "in")
    outside = tmp_path / "victim.yaml"
    outside.write_text("kept\n")
    directory = root / journal.JOURNAL
    directory.mkdir(mode=0o700)
    sha = files.sha256_of(outside)
    entry = {"relative": "../victim.yaml", "original": sha, "new": "0" * 64, "text": "0.new",
             "tmp": ".victim.yaml.0123456789abcdef.istiomigrate.tmp"}
    (directory / journal.MANIFEST).write_text(json.dumps({"version": 1, "entries": [entry]}))
    (directory / "0.new").write_text("owned\n")
    result = run(str(root), "--in-place")
    assert result.exit_code == 2 and "outside the tree" in result.stderr
    assert outside.read_text() == "kept\n"


def test_a_journal_not_written_by_this_user_is_not_obeyed(
        tmp_path: Path, expected: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    """A journal checked out of a repository (mode 0755) or planted in a shared directory."""
    before, after = expected
    root = make_tree(tmp_path / "in").resolve()
    names = [n for n in sorted(before) if before[n] != after[n]]
    _journal_only(root, [journal.Change(root / n, before[n].decode(), "planted\n")
                         for n in names])
    os.chmod(root / journal.JOURNAL, 0o755)
    assert run(str(root)).exit_code == 0  # to stdout: not a pending run of this user's
    result = run(str(root), "--in-place")
    assert result.exit_code == 2 and "not a journal this user's istiomigrate wrote" in result.stderr
    assert snapshot(root) == {**before, **_journal_files(root)}


def _journal_files(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(root).items() if k.startswith(journal.JOURNAL)}


def test_two_runs_never_write_one_journal_at_once(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "in")
    directory = root / journal.JOURNAL
    lock = journal._create(directory)  # a run in progress
    try:
        result = run(str(root), "--in-place")
        assert result.exit_code == 2 and "another istiomigrate run" in result.stderr
    finally:
        os.close(lock)


def test_a_file_edited_between_read_and_write_is_not_overwritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The edit lands after the first file is replaced: that one is rolled back too."""
    root = make_tree(tmp_path / "in")
    before = snapshot(root)
    real = files.replace_unchanged
    calls: list[Path] = []

    def edit_the_last(path: Path, text: str, expected: str, tmp_name: str) -> None:
        calls.append(path)
        if len(calls) == 2:
            (root / "mesh" / "zz-reviews-top.yaml").write_text("# edited meanwhile\n")
        real(path, text, expected, tmp_name)
    monkeypatch.setattr(journal, "replace_unchanged", edit_the_last)
    result = run(str(root), "--in-place")
    assert result.exit_code == 1
    assert ("zz-reviews-top.yaml: changed on disk since it was read; not overwritten"
            in result.stderr)
    now = snapshot(root)
    assert now.pop("mesh/zz-reviews-top.yaml") == b"# edited meanwhile\n"
    assert now == {k: v for k, v in before.items() if k != "mesh/zz-reviews-top.yaml"}


def test_a_file_deleted_before_the_write_is_not_recreated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tree(tmp_path / "in")
    before = snapshot(root)
    real = journal.rewrite

    def delete_first(base: Path, changes: list[journal.Change]) -> None:
        (root / "mesh" / "zz-reviews-top.yaml").unlink()
        real(base, changes)
    monkeypatch.setattr(journal, "rewrite", delete_first)
    result = run(str(root), "--in-place")
    assert result.exit_code == 1
    assert "zz-reviews-top.yaml: deleted since it was read; not recreated" in result.stderr
    now = snapshot(root)
    del before["mesh/zz-reviews-top.yaml"]
    assert now == before


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_in_place_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "in")
    target = root / "mesh" / "zz-reviews-top.yaml"
    os.chown(target, 1234, 5678)
    os.chmod(target, 0o640)
    assert run(str(root), "--in-place").exit_code == 0
    st = os.stat(target)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 5678, 0o640)
    assert "VirtualService" in target.read_text()


def test_an_owner_that_could_not_be_kept_is_refused_before_any_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as a user who is neither the files' owner nor in their group (and not root)."""
    root = make_tree(tmp_path / "in")
    before = snapshot(root)
    stranger = max(os.stat(root / "mesh" / "zz-reviews-top.yaml").st_uid, 0) + 4242
    monkeypatch.setattr(os, "geteuid", lambda: stranger)
    monkeypatch.setattr(os, "getegid", lambda: stranger)
    monkeypatch.setattr(os, "getgroups", lambda: [])
    result = run(str(root), "--in-place")
    assert result.exit_code == 2
    assert "could not keep its owner and group; nothing written" in result.stderr
    assert snapshot(root) == before


def test_a_symlink_inside_the_tree_is_written_through(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "in")
    hidden = root / ".real"
    hidden.mkdir()
    (root / "mesh" / "zz-reviews-top.yaml").rename(hidden / "top.yaml")
    link = root / "mesh" / "zz-reviews-top.yaml"
    link.symlink_to(Path("..") / ".real" / "top.yaml")
    assert run(str(root), "--in-place").exit_code == 0
    assert link.is_symlink()
    assert "VirtualService" in (hidden / "top.yaml").read_text()


def test_a_symlink_leaving_the_tree_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    shutil.copytree(MIXED / "mesh", outside)
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(MIXED / "mesh" / "reviews-rules.yaml", tree / "rules.yaml")
    (tree / "extra.yaml").symlink_to(outside / "reviews-extra.yaml")
    before, elsewhere = snapshot(tree), snapshot(outside)
    result = run(str(tree / "rules.yaml"), str(tree / "extra.yaml"), "--in-place")
    assert result.exit_code == 2
    assert "outside the tree" in result.stderr and "nothing written" in result.stderr
    assert snapshot(tree) == before and snapshot(outside) == elsewhere


def test_output_dir_does_not_follow_a_planted_symlink(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "in")
    out = tmp_path / "out"
    (out / "mesh").mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.mkdir()
    (out / "apps").symlink_to(victim)  # a directory link leading out
    (out / "mesh" / "policies.yaml").symlink_to(out / "mesh" / "x.yaml")  # one staying in
    result = run(str(root), "--output-dir", str(out))
    assert result.exit_code == 2
    assert "symbolic link in the output directory" in result.stderr
    assert list(victim.iterdir()) == []
    assert sorted(p.name for p in (out / "mesh").iterdir()) == ["policies.yaml"]


def test_paths_in_messages_have_control_characters_escaped() -> None:
    assert journal.shown(Path("/t/a\x1b[31m.yaml")) == "/t/a\\x1b[31m.yaml"
