"""Write step: put planned files on disk (a mirrored tree or in place), atomically, and diff them.

Nothing a user had is lost: every file is written to a temporary file and
renamed over (mode kept), all target directories are checked before the
first write, and no path outside the output directory is ever written.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from istiomigrate.errors import InputError
from istiomigrate.files import atomic_write
from istiomigrate.place import FilePlan
from istiomigrate.read.inventory import SourceFile

YAML_SUFFIXES = (".yaml", ".yml")


def mirror_path(source: SourceFile, base: Path, out: Path) -> Path:
    """Where ``source`` goes under ``out``: its path relative to ``base``, never outside ``out``."""
    if source.path is None:
        relative = Path("stdin.yaml")
    else:
        relative = Path(os.path.relpath(source.path.resolve(), base))
    target = (out / relative).resolve()
    if not target.is_relative_to(out.resolve()):
        raise InputError(f"output path {target} would leave the output directory {out}",
                         file=source.display)
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
    for item, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, item.text)
    return [t for _, t in targets]


def write_in_place(plans: list[FilePlan]) -> list[Path]:
    changed = [p for p in plans if p.changed and p.source.path is not None]
    _check_writable(sorted({p.source.path.parent for p in changed}))  # type: ignore[union-attr]
    for item in changed:
        atomic_write(item.source.path, item.text)  # type: ignore[arg-type]
    return [p.source.path for p in changed]  # type: ignore[misc]


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
    name = (label or item.source.display).lstrip("/")
    return "".join(difflib.unified_diff(
        item.source.text.splitlines(keepends=True), item.text.splitlines(keepends=True),
        fromfile=f"a/{name}", tofile=f"b/{name}",
    ))
