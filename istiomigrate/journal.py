"""The in-place journal: a run of ``convert --in-place`` that dies half-way loses nothing.

One conversion rewrites several files that only make sense together: a host's
VirtualService goes into the file of its highest-precedence RouteRule while its other
RouteRules become comments saying where they went. Renaming each file atomically is not
enough: a run killed after the comment but before the VirtualService would lose routes,
and a second run would never see them again. So every rewrite goes through a journal:

1. every new text, and a manifest of (path, SHA-256 of the bytes read, SHA-256 of the new
   text, name of the temporary file), is written under ``.istiomigrate-journal/`` at the
   inputs' base directory; the manifest is renamed into place last, and commits the run;
2. the files are replaced one by one, each only if its bytes are still the ones read;
3. the journal is removed.

A run that finds a committed journal completes it before it reads anything: a file still
holding its original bytes gets its new text, a file already new is skipped, anything else
was edited by someone and is refused (:class:`Conflict`, exit 1) rather than overwritten.
A journal without a manifest died before any file changed and is discarded. A file found
edited half-way through a run stops it: the files already replaced get their original
text back through a reversed journal (so that being killed then is safe too).

The journal lives in a hidden directory, which input walks skip. It is input like any
other file of the tree: opened without following symlinks, and an entry must name a file
inside the base directory and a temporary file beside it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from istiomigrate.errors import InputError
from istiomigrate.escape import shown  # file names are input: control characters escaped
from istiomigrate.files import (
    FileChanged,
    atomic_write,
    remove_leftover,
    replace_unchanged,
    sha256_of,
)

JOURNAL = ".istiomigrate-journal"
MANIFEST = "manifest.json"
_TEXT = re.compile(r"[0-9]{1,6}\.(new|old)")
_TMP = re.compile(r"\.[^/\\]+\.[0-9a-f]{16}\.istiomigrate\.tmp")


class Conflict(Exception):
    """A file is not what the run expects (edited or deleted by someone else): exit 1."""


@dataclass(frozen=True)
class Change:
    """One file to rewrite: its real path, the text read from it, its new text."""

    path: Path
    before: str
    after: str


@dataclass(frozen=True)
class Entry:
    relative: str  # the file, relative to the journal's base directory
    original: str  # SHA-256 of its bytes before
    new: str  # SHA-256 of its bytes after
    text: str  # the journal file holding the new text
    tmp: str  # the temporary file's name, beside the file


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rewrite(base: Path, changes: list[Change]) -> None:
    """Replace every file of ``changes`` so that no interruption loses anything (see above).

    Raises :class:`Conflict` (nothing left changed) when a file is no longer what was read.
    """
    for change in changes:
        if sha256_of(change.path) != sha256_text(change.before):
            raise Conflict(_changed_message(change.path))
    directory = base / JOURNAL
    token = secrets.token_hex(8)
    entries = [Entry(_relative(base, c.path), sha256_text(c.before), sha256_text(c.after),
                     f"{i}.new", f".{c.path.name}.{token}.istiomigrate.tmp")
               for i, c in enumerate(changes)]
    lock = _create(directory)
    try:
        try:
            for entry, change in zip(entries, changes, strict=True):
                _write_text(directory / entry.text, change.after)
            _commit(directory, entries)
        except OSError as exc:  # a full disk, most likely: no input file was touched yet
            _remove(directory)
            raise InputError(f"cannot write the journal: {exc.strerror or exc}; nothing "
                             "written", file=shown(directory)) from None
        _replace_all(directory, entries, changes)
        _remove(directory)
    finally:
        os.close(lock)


def _replace_all(directory: Path, entries: list[Entry], changes: list[Change]) -> None:
    """The renames, once the journal is committed: on a failure, the files already
    replaced are put back; if even that fails, the committed journal completes them."""
    done: list[tuple[Entry, Change]] = []
    try:
        for entry, change in zip(entries, changes, strict=True):
            replace_unchanged(change.path, change.after, entry.original, entry.tmp)
            done.append((entry, change))
    except FileChanged as exc:
        _roll_back(directory, done)
        raise Conflict(f"{shown(exc.path)}: {exc.reason}; nothing written") from None
    except OSError as exc:
        failed = shown(changes[len(done)].path)
        try:
            _roll_back(directory, done)
        except OSError:
            raise InputError(f"cannot write: {exc.strerror or exc}; the journal "
                             f"{shown(directory)} holds the rest: free space and run convert "
                             "--in-place again to complete it", file=failed) from None
        raise InputError(f"cannot write: {exc.strerror or exc}; every file is unchanged",
                         file=failed) from None


def complete(base: Path) -> list[Path]:
    """Finish what a killed run left in ``base``'s journal; the files it wrote, if any."""
    directory = base / JOURNAL
    if not _exists(directory):
        return []
    lock = _lock(directory)
    try:
        return _complete(base, directory)
    finally:
        os.close(lock)


def _complete(base: Path, directory: Path) -> list[Path]:
    entries = _read(directory)
    if entries is None:  # died before committing: no file was touched
        _remove(directory)
        return []
    written = []
    for entry in entries:
        path = base / entry.relative
        current = sha256_of(path)
        if current == entry.new:
            remove_leftover(path.parent / entry.tmp)
            continue
        if current != entry.original:
            raise Conflict(f"{shown(path)}: changed or deleted since an interrupted --in-place "
                           "run read it "
                           f"(its journal is {shown(directory)}); not overwritten. Restore the "
                           "file, or remove the journal to abandon that run")
        text = _read_text(directory / entry.text, entry.new)
        try:
            replace_unchanged(path, text, entry.original, entry.tmp)
        except FileChanged as exc:
            raise Conflict(f"{shown(exc.path)}: {exc.reason}") from None
        written.append(path)
    _remove(directory)
    return written


def pending(base: Path) -> bool:
    """Whether ``base`` holds a committed journal of this user's interrupted run (one that
    is not, checked out or planted, does not stop a run that writes nothing in place)."""
    directory = base / JOURNAL
    try:
        return _exists(directory) and _read(directory) is not None
    except InputError:
        return False


def _changed_message(path: Path) -> str:
    if sha256_of(path) is None:
        return f"{shown(path)}: deleted since it was read; not recreated; nothing written"
    return f"{shown(path)}: changed on disk since it was read; not overwritten; nothing written"


def _relative(base: Path, path: Path) -> str:
    if not path.is_relative_to(base):
        raise InputError(f"outside the base directory {base} of the inputs", file=str(path))
    return path.relative_to(base).as_posix()


def _create(directory: Path) -> int:
    """Make the journal directory, private to this user, and lock it; the lock's descriptor."""
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        raise InputError("a journal is already there (another run?); not overwritten",
                         file=str(directory)) from None
    return _lock(directory)


def _lock(directory: Path) -> int:
    """An exclusive lock on the journal, so that two runs never complete or write one
    journal at once; released by the kernel however the run ends."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise InputError("another istiomigrate run is writing this tree; try again when "
                         "it is done", file=str(directory)) from None
    return fd


def _write_text(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _commit(directory: Path, entries: list[Entry]) -> None:
    """Rename the manifest into place: from now on the run is completed, never lost."""
    data = {"version": 1, "entries": [e.__dict__ for e in entries]}
    atomic_write(directory / MANIFEST, json.dumps(data, indent=1) + "\n")
    _fsync_directory(directory)


def _roll_back(directory: Path, done: list[tuple[Entry, Change]]) -> None:
    """Put back the original text of the files already replaced, through a reversed journal."""
    reverse = []
    for i, (entry, change) in enumerate(done):
        name = f"{i}.old"
        _write_text(directory / name, change.before)
        reverse.append(Entry(entry.relative, entry.new, entry.original, name, entry.tmp))
    _commit(directory, reverse)
    for entry, (_, change) in zip(reverse, done, strict=True):
        try:
            replace_unchanged(change.path, change.before, entry.original, entry.tmp)
        except FileChanged as exc:
            raise Conflict(f"{shown(exc.path)}: {exc.reason}; the journal {shown(directory)} "
                           "is kept") from None
    _remove(directory)


def _exists(directory: Path) -> bool:
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise InputError("not a journal directory (a symlink or a file); remove it",
                         file=str(directory))
    if st.st_uid != os.geteuid() or st.st_mode & 0o077:
        # istiomigrate makes it 0700 as the user running it: anything else was put there
        # (checked out of a repository, planted in a shared directory) and is not obeyed.
        raise InputError("not a journal this user's istiomigrate wrote (its owner or mode "
                         "differ); not completed, remove it", file=str(directory))
    return True


def _read(directory: Path) -> list[Entry] | None:
    """The committed entries, validated as hostile input; None if no manifest."""
    try:
        fd = os.open(directory / MANIFEST, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"unreadable journal manifest ({exc.strerror})",
                         file=str(directory)) from None
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read()
    try:
        data = json.loads(raw.decode("utf-8"))
        entries = [Entry(**item) for item in data["entries"]]
    except (ValueError, KeyError, TypeError):
        raise InputError("not a journal manifest istiomigrate wrote; remove the journal",
                         file=str(directory / MANIFEST)) from None
    for entry in entries:
        _check_entry(directory, entry)
    return entries


def _check_entry(directory: Path, entry: Entry) -> None:
    """An entry names a file under the base directory, a journal text and a temp file beside."""
    fields = (entry.relative, entry.original, entry.new, entry.text, entry.tmp)
    parts = entry.relative.split("/") if isinstance(entry.relative, str) else [""]
    ok = (all(isinstance(f, str) for f in fields) and not entry.relative.startswith("/")
          and all(p not in ("", ".", "..") and "\\" not in p and "\0" not in p for p in parts)
          and _TEXT.fullmatch(entry.text) is not None and _TMP.fullmatch(entry.tmp) is not None
          and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in (entry.original, entry.new)))
    base = directory.parent
    if ok:
        real = Path(os.path.realpath(base / entry.relative))
        ok = real == Path(os.path.realpath(base)) / entry.relative
    if not ok:
        raise InputError("a journal entry names a file outside the tree or is malformed; "
                         "remove the journal", file=str(directory / MANIFEST))


def _read_text(path: Path, expected: str) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != expected:
        raise InputError("a journal text does not match its manifest; remove the journal",
                         file=str(path))
    return data.decode("utf-8")


def _remove(directory: Path) -> None:
    """Remove the journal: the manifest first (uncommits it), then what istiomigrate wrote."""
    for name in [MANIFEST, *sorted(set(_names(directory)) - {MANIFEST})]:
        remove_leftover(directory / name)
    try:
        os.rmdir(directory)
    except OSError:
        raise InputError("the journal holds files istiomigrate did not write; remove it",
                         file=str(directory)) from None


def _names(directory: Path) -> Iterator[str]:
    """Files of ours in the journal: texts, the manifest, the manifest's temporary file."""
    for name in os.listdir(directory):
        if name == MANIFEST or _TEXT.fullmatch(name) or (
                name.startswith(f".{MANIFEST}.") and name.endswith(".tmp")):
            yield name


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
