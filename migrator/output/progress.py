"""Progress on stderr for long runs: only on a terminal, never in CI logs or pipes."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

MIN_FILES = 50  # below this a run is too short to be worth a bar


def with_progress(items: Iterable[T], total: int, label: str, enabled: bool, stream=None) -> Iterator[T]:
    """Yield ``items`` while drawing ``label 120/5000 (2%) ETA 12s`` on ``stream`` (stderr)."""
    stream = stream or sys.stderr
    if not enabled or total < MIN_FILES or not stream.isatty():
        yield from items
        return
    start = last = time.monotonic()
    done = 0
    try:
        for item in items:
            done += 1
            now = time.monotonic()
            if now - last > 0.1 or done == total:
                last = now
                rate = done / max(now - start, 1e-6)
                eta = (total - done) / rate if rate else 0
                stream.write(f"\r{label} {done}/{total} ({100 * done // total}%) ETA {eta:4.0f}s ")
                stream.flush()
            yield item
    finally:
        stream.write("\r" + " " * 60 + "\r")
        stream.flush()
