"""Input discovery: the one policy for files, directories and stdin, for every command.

``convert``, ``check`` and ``verify`` all read what :func:`iter_inputs` yields:

* ``-`` is standard input, shown as ``<stdin>``, read as bytes and decoded as UTF-8;
* a file is read as UTF-8 text, byte for byte (no newline translation);
* a directory is searched recursively, in sorted order (a directory's files before its
  subdirectories), for ``*.yaml``, ``*.yml`` and ``*.json``; hidden directories are
  skipped, and so are symlinks that leave the directory and directories in ``exclude``;
* every real file is read once: a file named twice, or reached twice through symlinks
  (``self -> .``, an alias of a directory), is read the first time, by its real path when
  it has one under the directory; a symlink loop (``me.yaml -> me.yaml``) is no file;
* a path that does not exist, an unreadable file or text that is not UTF-8 is an
  :class:`InputError` naming it, raised before anything is reported.

Standard library only, so that the light ``check`` command can use it.
"""

from __future__ import annotations

import errno
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from istiomigrate.errors import InputError

STDIN = "-"
STDIN_DISPLAY = "<stdin>"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Input:
    """One manifest as read.

    ``display`` names it in messages: the path as given, as found under a given directory,
    or ``<stdin>``. ``path`` is ``None`` for stdin; ``root`` is the directory, as given,
    it was found under, ``None`` for a file named on the command line and for stdin.
    """

    display: str
    path: Path | None
    text: str
    root: Path | None = None


def iter_inputs(paths: Iterable[str], exclude: Iterable[Path] = ()) -> Iterator[Input]:
    """Every manifest named by ``paths`` (files, directories, ``-``), each real file once.

    ``exclude``: directories left out of directory walks (with what is under them);
    a file named on the command line is read even there.
    """
    excluded = frozenset(Path(os.path.realpath(p)) for p in exclude)
    seen: set[object] = set()
    for given in paths:
        if given == STDIN:
            if STDIN not in seen:
                seen.add(STDIN)
                yield Input(STDIN_DISPLAY, None, read_stdin())
            continue
        path = Path(given)
        if path.is_dir():
            for found in _Walk(path, excluded, seen).run():
                yield Input(str(found), found, read_text(found), root=path)
        elif path.exists():
            key = _file_key(path)
            if key not in seen:
                seen.add(key)
                yield Input(given, path, read_text(path))
        else:
            raise InputError("no such file or directory", file=given)


def walk_manifests(root: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """Manifest files under the directory ``root``, in walk order, each real file once."""
    excluded = frozenset(Path(os.path.realpath(p)) for p in exclude)
    return _Walk(root, excluded, set()).run()


def read_text(path: Path) -> str:
    """A manifest file's text, byte-preserving; unreadable or non-UTF-8 input is an InputError."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=str(path)) from None


def read_stdin() -> str:
    """Standard input as UTF-8 text, byte-preserving; not UTF-8 is an InputError."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text-only stdin (embedding, tests): already decoded
        return sys.stdin.read()
    try:
        data: bytes = stream.read()
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", file=STDIN_DISPLAY) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=STDIN_DISPLAY) from None


def _file_key(path: Path) -> object:
    """What makes two paths one file: device and inode; a path that cannot be stat'ed is
    its own key (reading it then says why)."""
    try:
        st = os.stat(path)
    except OSError:
        return ("path", os.path.abspath(path))
    return (st.st_dev, st.st_ino)


def _inside(resolved: Path, top: Path) -> bool:
    return resolved == top or top in resolved.parents


class _Walk:
    """One directory walk. Real files and directories come first, so that a file reached both
    by its real path and through a symlink is read by its real path; what symlinks reach is
    walked after, then everything is put back in walk order.

    ``parts`` is a path relative to the root as found; ``resolved`` a directory's real path.
    """

    def __init__(self, root: Path, excluded: frozenset[Path], seen: set[object]) -> None:
        self.root = root
        self.top = Path(os.path.realpath(root))
        self.excluded = excluded
        self.seen = seen  # real files already yielded, shared by the walks of one run
        self.dirs: set[tuple[int, int]] = set()  # real directories visited
        self.found: list[tuple[tuple[tuple[int, str], ...], Path]] = []
        self.links: deque[tuple[Path, tuple[str, ...], bool]] = deque()

    def run(self) -> list[Path]:
        if self._left_out(self.top):
            return []
        self._directory(self.root, (), self.top)
        while self.links:
            path, parts, is_dir = self.links.popleft()
            resolved = Path(os.path.realpath(path))
            if self._left_out(resolved):
                continue
            if is_dir:
                self._directory(path, parts, resolved)
            else:
                self._file(path, parts)
        self.found.sort(key=lambda item: item[0])
        return [path for _, path in self.found]

    def _left_out(self, resolved: Path) -> bool:
        return not _inside(resolved, self.top) or any(
            _inside(resolved, excluded) for excluded in self.excluded)

    def _directory(self, directory: Path, parts: tuple[str, ...], resolved: Path) -> None:
        try:
            st = os.stat(directory)
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:  # unreadable: skipped, as os.walk does
            return
        if (st.st_dev, st.st_ino) in self.dirs:
            return
        self.dirs.add((st.st_dev, st.st_ino))
        subdirectories = []
        for entry in entries:
            path, where = directory / entry.name, (*parts, entry.name)
            try:
                is_dir = entry.is_dir()
                is_link = entry.is_symlink()
            except OSError:
                is_dir = is_link = False
            if is_dir and entry.name.startswith("."):
                continue
            if (is_dir or entry.name.endswith(MANIFEST_SUFFIXES)) and is_link:
                self.links.append((path, where, is_dir))
            elif is_dir and not self._left_out(resolved / entry.name):
                subdirectories.append((path, where, resolved / entry.name))
            elif not is_dir and entry.name.endswith(MANIFEST_SUFFIXES):
                self._file(path, where)
        for path, where, real in subdirectories:
            self._directory(path, where, real)

    def _file(self, path: Path, parts: tuple[str, ...]) -> None:
        try:
            st = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a symlink loop: there is no file to read
                return
            key: object = ("path", os.path.abspath(path))  # dangling: reading it says so
        else:
            key = (st.st_dev, st.st_ino)
        if key in self.seen:
            return
        self.seen.add(key)
        # os.walk's order: at each level, a directory's files (sorted) before its subdirectories
        order = (*((1, part) for part in parts[:-1]), (0, parts[-1]))
        self.found.append((order, path))
