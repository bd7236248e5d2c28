"""The worker pool shared by scanning and fixing.

Workers never outlive the run: on Linux each asks the kernel for SIGKILL when its parent dies
(``prctl(PR_SET_PDEATHSIG)``), and everywhere a watchdog thread exits the worker once its parent is gone,
so even a parent killed with SIGKILL leaves nothing behind. Workers ignore SIGINT: Ctrl-C reaches the
parent, which stops submitting and shuts the pool down.

A worker that dies (a crash in a native parser, the out-of-memory killer) breaks a
``ProcessPoolExecutor``; :class:`WorkerPool` then starts a fresh pool, runs the file whose result was
due on its own to find out whether it is the culprit, and reports that file instead of failing the run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # imported when a pool starts: a run the cache answers never needs them
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.context import BaseContext

T = TypeVar("T")

WATCHDOG_SECONDS = 0.5
CRASH_MESSAGE = "the worker process died while handling this file (a crash in the parser, or out of memory); skipped"


def default_jobs() -> int:
    """One worker per core."""
    return os.cpu_count() or 1


def pool_context() -> BaseContext | None:
    import multiprocessing

    # fork starts workers in milliseconds and shares the already-imported modules; elsewhere use the default.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCHDOG_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def init_worker(parent: int) -> None:
    """Pool initializer: tie the worker's life to ``parent``'s and leave Ctrl-C to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog still works
            pass
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="migrate-parent-watchdog", daemon=True).start()


def _init_plain(parent: int) -> None:
    init_worker(parent)


class Slot(Generic[T]):
    """A submitted call whose result is taken in order with :meth:`WorkerPool.result`."""

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.future: Future[T] | None = None


class WorkerPool:
    """A process pool started on first use, whose workers die with the parent and which survives a
    worker's death. Results are taken slot by slot, in the order the caller chooses."""

    def __init__(self, jobs: int, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> None:
        self.jobs = jobs
        self.initializer = initializer or _init_plain
        self.initargs = initargs
        self.parent = os.getpid()
        self._executor: ProcessPoolExecutor | None = None
        self._outstanding: list[Slot[Any]] = []

    def _new_executor(self, workers: int) -> ProcessPoolExecutor:
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(), initializer=self.initializer,
                                   initargs=(*self.initargs, self.parent))

    def submit(self, fn: Callable[..., T], *args: Any) -> Slot[T]:
        slot: Slot[T] = Slot(fn, args)
        if self._executor is None:
            self._executor = self._new_executor(self.jobs)
        slot.future = self._executor.submit(fn, *args)
        self._outstanding.append(slot)
        return slot

    def result(self, slot: Slot[T], on_crash: Callable[[str], T]) -> T:
        """The slot's result; if a worker died, ``on_crash(reason)`` for the file that killed it."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            assert slot.future is not None
            value = slot.future.result()
        except BrokenProcessPool:
            value = self._recover(slot, on_crash)
        self._outstanding.remove(slot)
        return value

    def _recover(self, slot: Slot[T], on_crash: Callable[[str], T]) -> T:
        from concurrent.futures.process import BrokenProcessPool

        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        alone = self._new_executor(1)  # run the due file alone: did it kill the worker?
        try:
            value = alone.submit(slot.fn, *slot.args).result()
        except BrokenProcessPool:
            value = on_crash(CRASH_MESSAGE)
        finally:
            alone.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor(self.jobs)
        for other in self._outstanding:  # the unfinished rest start again in the new pool
            done = other.future
            if other is not slot and (done is None or not done.done() or done.cancelled() or done.exception()):
                other.future = self._executor.submit(other.fn, *other.args)
        return value

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def run_ordered(pool: WorkerPool, fn: Callable[..., T], items: list[tuple[Any, ...]],
                on_crash: Callable[[tuple[Any, ...], str], T], window: int | None = None) -> Iterator[T]:
    """``fn(*item)`` for every item, in order, with at most ``window`` items in flight (bounded memory)."""
    window = window or pool.jobs * 4
    pending: deque[tuple[tuple[Any, ...], Slot[T]]] = deque()
    try:
        for item in items:
            pending.append((item, pool.submit(fn, *item)))
            if len(pending) >= window:
                done, slot = pending.popleft()
                yield pool.result(slot, lambda reason, done=done: on_crash(done, reason))  # type: ignore[misc]
        while pending:
            done, slot = pending.popleft()
            yield pool.result(slot, lambda reason, done=done: on_crash(done, reason))  # type: ignore[misc]
    finally:
        pool.close()
