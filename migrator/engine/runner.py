"""Analyse files: read, pre-filter, parse once with libcst, run every candidate rule in one traversal.

Many files go to a process pool (one worker per core); a single file is analysed in-process. libcst is
imported only by a process that actually has a file to parse.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from migrator.engine.pool import default_jobs, pool_context
from migrator.engine.prefilter import prefilter_for
from migrator.engine.results import FileResult
from migrator.engine.source import SourceError, read_source, syntax_error_message
from migrator.engine.suppression import is_suppressed, parse_suppressions
from migrator.rules.registry import BY_CODE


def analyse_file(path: str, codes: tuple[str, ...]) -> FileResult:
    """Analyse one file with the rules ``codes``. Never raises: failures become ``FileResult.error``."""
    result, candidates, text = _triage(path, tuple(codes))
    if not candidates:
        return result
    return analyse_text(path, text, candidates, prefilter=False)


def _triage(path: str, codes: tuple[str, ...]) -> tuple[FileResult, list[str], str]:
    """Read and pre-filter: the cheap part. Returns the result so far, the rules to run and the text."""
    if path.endswith(".ipynb"):
        return _triage_notebook(path, codes)
    try:
        source = read_source(path)
    except SourceError as exc:
        return FileResult(path=path, error=str(exc)), [], ""
    if source.is_generated:
        return FileResult(path=path, skipped="generated"), [], ""
    return FileResult(path=path), prefilter_for(codes).candidate_rules(source.text), source.text


def _triage_notebook(path: str, codes: tuple[str, ...]) -> tuple[FileResult, list[str], str]:
    from migrator.engine.notebook import read_notebook

    try:
        text = read_notebook(path).to_python()
    except SourceError as exc:
        return FileResult(path=path, error=str(exc)), [], ""
    return FileResult(path=path), prefilter_for(codes).candidate_rules(text), text


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


def _parse_candidate(path: str, codes: list[str]) -> FileResult:
    """Worker side of :func:`analyse_paths`: the file passed triage in the parent, so parse it."""
    import time

    start = time.perf_counter()
    if path.endswith(".ipynb"):
        result = analyse_notebook(path, codes)
    else:
        try:
            source = read_source(path)
        except SourceError as exc:  # changed or vanished since triage
            return FileResult(path=path, error=str(exc))
        result = analyse_text(path, source.text, codes, prefilter=False)
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
        return result
    suppressions = parse_suppressions(text)
    for finding in findings:
        if suppressions and is_suppressed(finding.code, [finding.line, finding.statement_line], suppressions):
            result.suppressed += 1
        else:
            result.findings.append(finding)
    return result


def _run(path: str, text: str, codes: list[str]):
    import libcst as cst

    from migrator.engine.analysis import run_rules

    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise SourceError(syntax_error_message(text, exc)) from None
    except RecursionError:
        raise SourceError("too deeply nested to parse") from None
    except Exception as exc:  # noqa: BLE001 - a parser bug must not end the run
        raise SourceError(f"could not be parsed: {type(exc).__name__}: {exc}") from None
    try:
        return run_rules(path, module, [BY_CODE[c].load() for c in codes])
    except RecursionError:
        raise SourceError("too deeply nested to analyse") from None
    except Exception as exc:  # noqa: BLE001 - report, keep going; the exit code says it failed
        raise SourceError(f"internal error while analysing: {type(exc).__name__}: {exc}") from None


def analyse_paths(
    paths: Sequence[str], codes: Sequence[str], jobs: int | None = None, codes_for=None
) -> Iterator[FileResult]:
    """Analyse ``paths`` and yield results in the order of ``paths``.

    Reading and pre-filtering run here, in the parent (they are cheap, and most files stop there). Files
    that need parsing are handed to a worker pool as soon as they are found, so triage overlaps parsing;
    the pool starts with the first such file, so a tree without legacy code never forks or imports libcst.
    ``codes_for(path)``, when given, narrows the rules per file (per-file-ignores).
    """
    codes = tuple(codes)
    jobs = jobs or default_jobs()
    use_pool = jobs > 1 and len(paths) > 1
    pool: ProcessPoolExecutor | None = None
    slots: list[FileResult | Future[FileResult]] = []
    try:
        for path in paths:
            result, candidates, text = _triage(path, tuple(codes_for(path)) if codes_for else codes)
            if not candidates:
                slots.append(result)
            elif not use_pool:
                slots.append(_parse_candidate(path, candidates))
            else:
                if pool is None:
                    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=pool_context())
                slots.append(pool.submit(_parse_candidate, path, candidates))
        for slot in slots:
            yield slot.result() if isinstance(slot, Future) else slot
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
