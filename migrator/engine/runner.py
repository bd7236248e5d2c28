"""Analyse files: read, pre-filter, parse once with libcst, run every candidate rule in one traversal.

Many files go to a process pool (one worker per core); a single file is analysed in-process. libcst is
imported only by a process that actually has a file to parse.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migrator.engine.cache import ResultCache
from migrator.engine.limits import DEFAULT_TIMEOUT, FileTimeout, parse_module, time_limit
from migrator.engine.pool import WorkerPool, default_jobs, init_worker
from migrator.engine.prefilter import prefilter_for
from migrator.engine.results import FileResult
from migrator.engine.source import SourceError, content_digest, decode_source
from migrator.engine.suppression import is_suppressed, parse_suppressions
from migrator.rules.registry import BY_CODE
from migrator.rules.types import RunOptions

if TYPE_CHECKING:
    from migrator.engine.settings import Settings


def analyse_file(path: str, codes: tuple[str, ...]) -> FileResult:
    """Analyse one file with the rules ``codes``. Never raises: failures become ``FileResult.error``."""
    triage = _triage(path, tuple(codes))
    if not triage.candidates:
        return triage.result
    return _parse_candidate(path, triage.candidates, triage.text, triage.notebook)


@dataclass
class _Triage:
    result: FileResult
    candidates: list[str] = field(default_factory=list)
    text: str = ""  # the decoded source (notebooks: the JSON)
    notebook: bool = False
    digest: str = ""  # of the bytes read, when a cache wants it
    stamp: os.stat_result | None = None  # the file's stat when it was opened, for the cache


def _triage(path: str, codes: tuple[str, ...], cache: ResultCache | None = None) -> _Triage:
    """Read once and pre-filter: the cheap part. A cached result ends it early."""
    stamp = None
    try:
        with open(path, "rb") as fh:
            if cache is not None:
                stamp = os.fstat(fh.fileno())  # before the read: a change during it shows next time
            data = fh.read()
    except IsADirectoryError:
        return _Triage(FileResult(path=path, error="is a directory", cacheable=False))
    except OSError as exc:
        return _Triage(FileResult(path=path, error=f"cannot read file: {exc.strerror or exc}", cacheable=False))
    digest = content_digest(data) if cache is not None else ""
    if cache is not None:
        hit = cache.get(path, digest, codes)
        if hit is not None:
            return _Triage(hit, digest=digest, stamp=stamp)
    triage = _triage_data(path, data, codes, digest)
    triage.stamp = stamp
    return triage


def _triage_data(path: str, data: bytes, codes: tuple[str, ...], digest: str) -> _Triage:
    prefilter = prefilter_for(codes)
    if path.endswith(".ipynb"):
        from migrator.engine.notebook import Notebook

        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:
            return _Triage(FileResult(path=path, error="notebook is not valid UTF-8; left alone"), digest=digest)
        try:
            text = Notebook.parse(path, raw).to_python()
        except SourceError as exc:
            return _Triage(FileResult(path=path, error=str(exc)), digest=digest)
        return _Triage(FileResult(path=path), prefilter.candidate_rules(text), raw, True, digest)
    if data.isascii() and prefilter.rules_out_bytes(data):
        # Nothing any rule needs is in the bytes (ASCII: they are the text); the checks a decode would
        # make still run, so a binary file or a bad cookie is reported as before.
        if b"\0" in data:
            return _Triage(FileResult(path=path, error="binary file (contains NUL bytes), not Python source"),
                           digest=digest)
        if b"coding" not in data[:400]:
            return _Triage(FileResult(path=path, skipped="generated" if b"@generated" in data[:2048] else None),
                           digest=digest)
    try:
        source = decode_source(path, data, digest=False)
    except SourceError as exc:
        return _Triage(FileResult(path=path, error=str(exc)), digest=digest)
    if source.is_generated:
        return _Triage(FileResult(path=path, skipped="generated"), digest=digest)
    if not data.isascii() and prefilter.rules_out_text(source.text):
        return _Triage(FileResult(path=path), digest=digest)
    return _Triage(FileResult(path=path), prefilter.candidate_rules(source.text), source.text, False, digest)


def analyse_notebook(path: str, codes: list[str], raw: str | None = None) -> FileResult:
    """Analyse a notebook's code cells (read from ``path``, or given as JSON text ``raw``); findings
    point at ``path:cell N`` and the line in that cell."""
    import dataclasses

    from migrator.engine.notebook import Notebook, read_notebook

    try:
        notebook = read_notebook(path) if raw is None else Notebook.parse(path, raw)
    except SourceError as exc:
        return FileResult(path=path, error=str(exc))
    result = analyse_text(path, notebook.to_python(), codes, prefilter=False)
    findings = []
    for finding in result.findings:
        where = notebook.locate(finding.line)
        if where is None:
            continue
        cell, line = where
        end = notebook.locate(finding.end_line) or (cell, line)
        findings.append(dataclasses.replace(finding, path=f"{path}:cell {cell}", line=line,
                                            end_line=end[1] if end[0] == cell else line))
    result.findings = findings
    if result.error:
        result.error = f"{result.error} (in the notebook's code cells)"
    return result


def _parse_candidate(path: str, codes: list[str], text: str, notebook: bool = False,
                     timeout: float | None = None) -> FileResult:
    """Parse and check a file that passed triage (in a worker, or here), from the text triage read."""
    import time

    start = time.perf_counter()
    try:
        with time_limit(timeout):
            if notebook:
                result = analyse_notebook(path, codes, raw=text)
            else:
                result = analyse_text(path, text, codes, prefilter=False)
    except FileTimeout as exc:
        result = FileResult(path=path, error=str(exc), parsed=True, cacheable=False)
    result.seconds = time.perf_counter() - start
    return result


def analyse_text(path: str, text: str, codes: tuple[str, ...] | list[str], prefilter: bool = True) -> FileResult:
    """Analyse decoded source ``text`` as if it were the file ``path``."""
    result = FileResult(path=path)
    candidates = prefilter_for(tuple(codes)).candidate_rules(text) if prefilter else list(codes)
    if not candidates:
        return result
    result.parsed = True
    try:
        findings = _run(path, text, candidates)
    except SourceError as exc:
        result.error = str(exc)
        result.cacheable = not isinstance(exc, FileTimeout)
        return result
    suppressions = parse_suppressions(text)
    for finding in findings:
        if suppressions and is_suppressed(finding.code, [finding.line, finding.statement_line], suppressions):
            result.suppressed += 1
        else:
            result.findings.append(finding)
    return result


def _run(path: str, text: str, codes: list[str]):  # type: ignore[no-untyped-def]
    from migrator.engine.analysis import run_rules

    module = parse_module(text)
    try:
        return run_rules(path, module, [BY_CODE[c].load() for c in codes])
    except RecursionError:
        raise SourceError("too deeply nested to analyse") from None
    except FileTimeout:
        raise
    except Exception as exc:  # noqa: BLE001 - report, keep going; the exit code says it failed
        raise SourceError(f"internal error while analysing: {type(exc).__name__}: {exc}") from None


# A file's result, the digest of the bytes read and their stat (for the cache; "" and None without one).
_Outcome = tuple[FileResult, str, "os.stat_result | None"]

CHUNK_FILES = 32  # files per task once the pool runs: triage and analysis of a chunk stay in one worker
# From this many files on, the workers pre-filter too: forking costs less than pre-filtering on one core.
EAGER_POOL_FILES = 256

_WORKER_CACHE: ResultCache | None = None  # set once per scan worker (inherited, not pickled, when forked)


def _init_scan_worker(cache: ResultCache | None, parent: int) -> None:
    global _WORKER_CACHE
    _WORKER_CACHE = cache
    init_worker(parent)


def _analyse_one(path: str, codes: tuple[str, ...], cache: ResultCache | None,
                 timeout: float | None) -> _Outcome:
    triage = _triage(path, codes, cache)
    if not triage.candidates:
        return triage.result, triage.digest, triage.stamp
    return (_parse_candidate(path, triage.candidates, triage.text, triage.notebook, timeout), triage.digest,
            triage.stamp)


def _analyse_chunk(items: list[tuple[str, tuple[str, ...]]], timeout: float | None) -> list[_Outcome]:
    """Worker side: read, pre-filter and analyse a run of files (the cache answers what it knows)."""
    return [_analyse_one(path, codes, _WORKER_CACHE, timeout) for path, codes in items]


def _crash_reporter(path: str) -> Callable[[str], list[_Outcome]]:
    def report(reason: str) -> list[_Outcome]:
        return [(FileResult(path=path, error=reason, parsed=True, cacheable=False), "", None)]
    return report


def analyse_paths(
    paths: Sequence[str], codes: Sequence[str], jobs: int | None = None,
    codes_for: Callable[[str], Sequence[str]] | None = None, cache: ResultCache | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Iterator[FileResult]:
    """Analyse ``paths`` and yield results in the order of ``paths``.

    Each file is read once. With several workers, a run of many files goes to them in chunks from the
    start, each read, pre-filtered and analysed by one worker (they import libcst only if they parse).
    A smaller run is read and pre-filtered here, in the parent, so it never forks unless it must: the
    first file that needs parsing starts the pool, and it and every file after it go to the workers.
    ``codes_for(path)``, when given, narrows the rules per file (per-file-ignores); ``cache`` answers for
    files analysed before with the same content and rules (an unchanged stat spares even the read), and
    learns the rest.
    """
    codes = tuple(codes)
    per_file = [(path, tuple(codes_for(path)) if codes_for else codes) for path in paths]
    answered: dict[int, FileResult] = {}  # unchanged files the cache knows, by their stat alone
    if cache is not None:
        for index, (path, file_codes) in enumerate(per_file):
            hit = cache.answer(path, file_codes)
            if hit is not None:
                answered[index] = hit
    pending = [item for index, item in enumerate(per_file) if index not in answered]
    analysed = _analyse_pending(pending, jobs or default_jobs(), cache, timeout)
    try:
        for index in range(len(per_file)):
            yield answered[index] if index in answered else next(analysed)
    finally:
        analysed.close()
        if cache is not None:
            cache.save()


def _analyse_pending(per_file: list[tuple[str, tuple[str, ...]]], jobs: int, cache: ResultCache | None,
                     timeout: float | None) -> Generator[FileResult, None, None]:
    use_pool = jobs > 1 and len(per_file) > 1
    pool = WorkerPool(jobs, initializer=_init_scan_worker, initargs=(cache,))
    try:
        index = 0
        eager = use_pool and len(per_file) >= EAGER_POOL_FILES
        while index < len(per_file) and not eager:  # in the parent until a file needs parsing
            path, file_codes = per_file[index]
            triage = _triage(path, file_codes, cache)
            if triage.candidates and use_pool:
                break
            result = triage.result
            if triage.candidates:
                result = _parse_candidate(path, triage.candidates, triage.text, triage.notebook, timeout)
            index += 1
            yield _learned(cache, triage.digest, triage.stamp, path, file_codes, result)
        chunks = [per_file[i:i + CHUNK_FILES] for i in range(index, len(per_file), CHUNK_FILES)]
        slots = [(chunk, pool.submit(_analyse_chunk, chunk, timeout)) for chunk in chunks]
        nothing: list[_Outcome] = []
        for chunk, slot in slots:
            results = pool.result(slot, lambda reason: nothing)
            if len(results) != len(chunk):  # a worker died on this chunk: find the file, one at a time
                results = []
                for item in chunk:
                    alone = pool.submit(_analyse_chunk, [item], timeout)
                    found: list[_Outcome] = pool.result(alone, _crash_reporter(item[0]))
                    results.extend(found)
            for (path, file_codes), (result, digest, stamp) in zip(chunk, results):
                yield _learned(cache, digest, stamp, path, file_codes, result)
    finally:
        pool.close()


def _learned(cache: ResultCache | None, digest: str, stamp: os.stat_result | None, path: str,
             codes: tuple[str, ...], result: FileResult) -> FileResult:
    if cache is not None and digest:
        cache.put(digest, codes, result)
        if stamp is not None and result.cacheable:
            cache.remember(path, stamp, digest, time.time())
    return result


def scan_paths(settings: Settings, files: Sequence[str], jobs: int | None) -> Iterator[FileResult]:
    """:func:`analyse_paths` with a run's settings: per-file rules, the result cache, the time limit."""
    cache = None
    if not settings.no_cache:
        root = os.path.dirname(os.path.abspath(settings.config.path)) if settings.config.path else os.getcwd()
        cache = ResultCache(root, options=repr(RunOptions()))
    timeout = settings.timeout if settings.timeout is not None else DEFAULT_TIMEOUT
    return analyse_paths(files, settings.codes, jobs, codes_for=settings.codes_for, cache=cache, timeout=timeout or None)
