"""Writing files without ever leaving one half-written."""

from __future__ import annotations

import contextlib
import os
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
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
