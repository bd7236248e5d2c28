"""The worker pool shared by scanning and fixing."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.context import BaseContext


def default_jobs() -> int:
    """One worker per core."""
    return os.cpu_count() or 1


def pool_context() -> BaseContext | None:
    # fork starts workers in milliseconds and shares the already-imported modules; elsewhere use the default.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None
