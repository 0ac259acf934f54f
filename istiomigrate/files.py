"""Writing files without ever leaving one half-written."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path

from istiomigrate.errors import InputError


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over; keep the mode.

    A failure (a full disk, a quota, a read-only file system) leaves ``path`` as it was and
    no temporary file behind, and is one ``InputError`` naming the file.
    """
    path = Path(path)
    try:
        _write_and_replace(path, text)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}; the file is unchanged",
                         file=str(path)) from None


def _write_and_replace(path: Path, text: str) -> None:
    tmp = _staged(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _staged(path: Path, text: str) -> str:
    """``text`` in a temporary file beside ``path``, with the mode ``path`` has or will
    have; the temporary file is gone again if this fails."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def write_all(files: list[tuple[Path, str]]) -> None:
    """Write every file or none: all texts are staged beside their targets first (where a
    full disk or a quota shows), and only then renamed over them.

    A failure while staging removes every staged file and leaves every target as it was:
    one ``InputError`` naming the file that could not be written.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files:
            try:
                staged.append((_staged(path, text), path))
            except OSError as exc:
                raise InputError(f"cannot write: {exc.strerror or exc}; nothing written",
                                 file=str(path)) from None
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


class FileChanged(Exception):
    """A file is no longer what was read (edited or deleted meanwhile): it is not written."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def sha256_of(path: Path) -> str | None:
    """The SHA-256 of a file's bytes, read without following a final symlink; None if absent."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def replace_unchanged(path: Path, text: str, expected: str, tmp_name: str) -> None:
    """Replace ``path`` by ``text`` only if its bytes still hash to ``expected``.

    Unlike :func:`atomic_write` this keeps the owner and group as well as the mode (an
    in-place rewrite must not hand a file to whoever ran the tool), names its temporary
    file ``tmp_name`` (recorded beforehand in the journal, so that a killed run's leftover
    is found and removed), and compares the file's bytes right before the rename, so an
    edit made since the file was read is never overwritten and a deleted file is not
    recreated (:class:`FileChanged`).
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileChanged(path, "deleted since it was read; not recreated") from None
    tmp = path.parent / tmp_name
    remove_leftover(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                os.fchown(handle.fileno(), st.st_uid, st.st_gid)
            os.fchmod(handle.fileno(), st.st_mode & 0o7777)
            os.fsync(handle.fileno())
        current = sha256_of(path)
        if current != expected:
            raise FileChanged(path, "deleted since it was read; not recreated" if current is None
                              else "changed on disk since it was read; not overwritten")
        os.replace(tmp, path)
    except BaseException:
        remove_leftover(tmp)
        raise


def remove_leftover(tmp: Path) -> None:
    """Remove a temporary file of ours if it is there (a regular file, never a symlink's target)."""
    try:
        if stat.S_ISREG(os.lstat(tmp).st_mode):
            os.unlink(tmp)
    except FileNotFoundError:
        pass
