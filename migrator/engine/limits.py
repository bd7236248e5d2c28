"""Limits that keep one pathological file from ending or stalling a run.

* Size: a file larger than :data:`MAX_PARSE_BYTES` is read and pre-filtered but never parsed (libcst
  builds a tree of several hundred bytes per source byte); it is reported with a one-line reason.
* Nesting: CPython's own parser checks the source first. Code it cannot compile (more than 200 nested
  brackets, recursion while building the tree) is reported, never handed to libcst's native parser,
  which can crash the process on such input.
* Time: :func:`time_limit` interrupts a file's analysis or rewrite after ``seconds`` (``--timeout``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from migrator.engine.source import SourceError, syntax_error_message

if TYPE_CHECKING:
    import libcst as cst

MAX_PARSE_BYTES = 8_000_000  # characters of source: above this a file is skipped with a reason
# libcst's native parser handles 1,000 levels of nesting; a text this short cannot hold more (each level
# takes two characters), so CPython's check is needed only above it.
NESTING_CHECK_CHARS = 2000
DEFAULT_TIMEOUT = 60.0  # seconds per file


class FileTimeout(SourceError):
    """A file took longer than the per-file time limit."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`FileTimeout` in this thread after ``seconds`` (no limit for None or 0, or off the
    main thread, where signals cannot be delivered)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    message = f"took longer than the {seconds:g}s limit per file; skipped (raise it with --timeout)"
    fired = []

    def expired(signum, frame):  # type: ignore[no-untyped-def]
        fired.append(True)
        raise FileTimeout(message)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except BaseException:
        if fired:  # the exception may have been caught and re-raised as another one on its way up
            raise FileTimeout(message) from None
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:  # raised inside code that turned it into a per-file error: the limit is the reason
        raise FileTimeout(message)


def check_size(text: str) -> None:
    if len(text) > MAX_PARSE_BYTES:
        raise SourceError(f"too large to analyse ({len(text) / 1e6:.1f} MB of source; the limit is "
                          f"{MAX_PARSE_BYTES / 1e6:.0f} MB); skipped")


def parse_module(text: str) -> cst.Module:
    """Parse ``text`` with libcst after CPython's parser accepted it. Raises :class:`SourceError`."""
    import ast

    import libcst as cst

    check_size(text)
    try:
        if len(text) > NESTING_CHECK_CHARS:
            ast.parse(text)
    except SyntaxError as exc:
        if "too many nested" in str(exc.msg) or "too many levels" in str(exc.msg):
            raise SourceError(f"too deeply nested to parse (line {exc.lineno}: {exc.msg})") from None
        # Anything else is left to libcst, whose grammar may be newer than this interpreter's.
    except (RecursionError, MemoryError):
        raise SourceError("too deeply nested to parse (Python's own parser gives up)") from None
    except ValueError:
        pass  # NUL bytes: read_source rejects them first
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise SourceError(syntax_error_message(text, exc)) from None
    except RecursionError:
        raise SourceError("too deeply nested to parse") from None
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser bug must not end the run
        raise SourceError(f"could not be parsed: {type(exc).__name__}: {exc}") from None
