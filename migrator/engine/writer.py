"""Atomic writes: a temporary file in the same folder, then ``os.replace``; the mode is kept.

Temporary files are named ``.migrate-<pid>-<random>.tmp``. A run killed between creating one and
renaming it leaves it behind; :func:`remove_stale_temp_files` deletes those whose process is gone (the
next ``apply`` calls it on the folders it writes to), and discovery never takes one for a source.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable

_TEMP = re.compile(r"^\.migrate-(?:(\d+)-)?[^/]*\.tmp$")
LEGACY_TEMP_SECONDS = 3600.0  # a temp file without a pid in its name (older versions) counts as stale after this


def _replace(target: str, data: bytes, mode: int, check: Callable[[], None] | None = None) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=f".migrate-{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if check is not None:
            check()  # as late as possible: right before the rename
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_atomic(path: str, data: bytes, check: Callable[[str], None] | None = None) -> None:
    """Replace the file at ``path`` (the file a symlink points to, not the link) with ``data``.
    ``check(target)``, if given, runs just before the rename and may raise to cancel the write."""
    target = os.path.realpath(path)
    _replace(target, data, stat.S_IMODE(os.stat(target).st_mode), (lambda: check(target)) if check else None)


def write_new(path: str, data: bytes) -> None:
    """Write a file that may not exist yet (reports), atomically."""
    _replace(os.path.abspath(path), data, 0o644)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temp_files(directories: Iterable[str]) -> list[str]:
    """Delete temporary files of runs that no longer exist from ``directories``; returns their paths."""
    import time

    removed = []
    now = time.time()
    for directory in sorted(set(directories)):
        try:
            names = [n for n in os.listdir(directory) if n.startswith(".migrate-") and n.endswith(".tmp")]
        except OSError:
            continue
        for name in names:
            match = _TEMP.match(name)
            if match is None:
                continue
            path = os.path.join(directory, name)
            try:
                if match.group(1) is not None:
                    stale = not _alive(int(match.group(1)))
                else:
                    stale = now - os.stat(path).st_mtime > LEGACY_TEMP_SECONDS
                if stale:
                    os.unlink(path)
                    removed.append(path)
            except OSError:
                continue
    return removed
