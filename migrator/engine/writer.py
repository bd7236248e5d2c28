"""Atomic writes: a temporary file in the same folder, then ``os.replace``; the mode is kept."""

from __future__ import annotations

import os
import stat
import tempfile


def _replace(target: str, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".migrate-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_atomic(path: str, data: bytes) -> None:
    """Replace the file at ``path`` (the file a symlink points to, not the link) with ``data``."""
    target = os.path.realpath(path)
    _replace(target, data, stat.S_IMODE(os.stat(target).st_mode))


def write_new(path: str, data: bytes) -> None:
    """Write a file that may not exist yet (reports), atomically."""
    _replace(os.path.abspath(path), data, 0o644)
