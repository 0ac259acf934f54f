"""Write step: put planned files on disk (a mirrored tree or in place), atomically, and diff them.

Nothing a user had is lost: every file is written to a temporary file and
renamed over (mode kept; in place, owner and group too), all target directories
are checked before the first write, and no path outside the output directory is
ever written. In place, files are rewritten through a journal (``journal.py``) so that
an interrupted run loses nothing and an edit made meanwhile is never overwritten.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from pathlib import Path

from istiomigrate.errors import InputError
from istiomigrate.escape import shown
from istiomigrate.files import write_all
from istiomigrate.place import FilePlan
from istiomigrate.read.inventory import SourceFile

YAML_SUFFIXES = (".yaml", ".yml")


def mirror_path(source: SourceFile, base: Path, out: Path) -> Path:
    """Where ``source`` goes under ``out``: its path relative to ``base``, never outside ``out``.

    No symlink under ``out`` is followed, even one pointing inside it: a link planted in
    the output directory could lead a write anywhere, or make two files one.
    """
    if source.path is None:
        relative = Path("stdin.yaml")
    else:
        relative = Path(os.path.relpath(source.path.resolve(), base))
    top = out.resolve()
    target = top / relative
    if ".." in relative.parts or not target.is_relative_to(top):
        raise InputError(f"output path {target} would leave the output directory {out}",
                         file=source.display)
    step = top
    for part in relative.parts:
        step = step / part
        if step.is_symlink():
            raise InputError(f"{step} is a symbolic link in the output directory: not "
                             "followed, nothing written", file=source.display)
    return target


def common_base(inputs: list[str]) -> Path:
    """The directory input paths are mirrored relative to: the one directory given, else
    the deepest directory holding every input."""
    real = [Path(p).resolve() for p in inputs if p != "-"]
    if len(real) == 1 and real[0].is_dir():
        return real[0]
    parents = [p if p.is_dir() else p.parent for p in real] or [Path.cwd()]
    return Path(os.path.commonpath(parents))


def write_tree(plans: list[FilePlan], inputs: list[str], out: Path) -> list[Path]:
    """Mirror the input tree under ``out``: YAML files (converted or not) and converted JSON."""
    base = common_base(inputs)
    targets = []
    for item in plans:
        if item.source.display.endswith(YAML_SUFFIXES) or item.changed or item.source.path is None:
            targets.append((item, mirror_path(item.source, base, out)))
    _check_writable(sorted({t.parent for _, t in targets}))
    created = _make_parents(sorted({t.parent for _, t in targets}))
    try:
        write_all([(target, item.text) for item, target in targets])
    except BaseException:
        for directory in reversed(created):  # what this run made, if still empty
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    return [t for _, t in targets]


def _make_parents(directories: list[Path]) -> list[Path]:
    """Create the missing directories, parents first; the ones created, in that order."""
    created: list[Path] = []
    for directory in directories:
        missing = [d for d in (directory, *directory.parents) if not d.exists()]
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
    return created


def write_in_place(plans: list[FilePlan], inputs: list[str]) -> list[Path]:
    """Rewrite the changed input files through the journal (``journal.py``): nothing lost
    if the run dies, nothing overwritten that changed since it was read.

    A symlink is written through to its target (the link stays a link) when the target is
    inside the tree the file was found in; one leading out of it is refused before anything
    is written. Owner, group and mode are kept.
    """
    from istiomigrate import journal

    changes = [journal.Change(_real_target(p.source), p.source.text, p.text)
               for p in plans if p.changed and p.source.path is not None]
    base = common_base(inputs)
    _check_writable(sorted({c.path.parent for c in changes} | ({base} if changes else set())))
    for change in changes:
        _check_owner(change.path)
    if changes:
        journal.rewrite(base, changes)
    return [c.path for c in changes]


def _real_target(source: SourceFile) -> Path:
    """The real file behind ``source.path``; a symlink leaving its tree is an InputError."""
    assert source.path is not None
    tree = Path(os.path.realpath(source.root if source.root is not None else source.path.parent))
    real = Path(os.path.realpath(source.path))
    if not real.is_relative_to(tree):
        raise InputError(f"a symbolic link to {real}, outside the tree {tree}: not written "
                         "through, nothing written", file=source.display)
    return real


def _check_owner(path: Path) -> None:
    """A rewrite keeps owner and group: refuse, before any write, what could not keep them."""
    st = os.stat(path)
    if os.geteuid() == 0:
        return
    if st.st_uid != os.geteuid() or st.st_gid not in {os.getegid(), *os.getgroups()}:
        raise InputError(f"owned by {st.st_uid}:{st.st_gid}: a rewrite could not keep its "
                         "owner and group; nothing written", file=str(path))


def _check_writable(directories: list[Path]) -> None:
    """Fail before the first write, so that a run never leaves a tree half-written."""
    for directory in directories:
        existing = directory
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise InputError(f"cannot write to {existing}: permission denied or not a directory",
                             file=str(directory))


def unified_diff(item: FilePlan, label: str | None = None) -> str:
    name = shown(label or item.source.display).lstrip("/")
    return "".join(difflib.unified_diff(
        item.source.text.splitlines(keepends=True), item.text.splitlines(keepends=True),
        fromfile=f"a/{name}", tofile=f"b/{name}",
    ))
