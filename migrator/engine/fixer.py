"""Rewriting files: run the rules, apply the fixes they offer, repeat until nothing changes.

Every intermediate result is re-parsed (libcst and CPython's own parser) before it is kept, so a rewrite
can never leave a file that does not parse; on any failure the file is left exactly as it was.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from migrator.engine.limits import DEFAULT_TIMEOUT, parse_module, time_limit
from migrator.engine.pool import WorkerPool, default_jobs, init_worker, run_ordered
from migrator.engine.prefilter import prefilter_for
from migrator.engine.results import FileResult, Finding, FixSafety
from migrator.engine.runner import analyse_text
from migrator.engine.source import Source, SourceError, read_source
from migrator.engine.suppression import is_suppressed, parse_suppressions
from migrator.rules.project import EMPTY, ProjectView
from migrator.rules.registry import BY_CODE
from migrator.rules.types import RunOptions

MAX_PASSES = 8


@dataclass(frozen=True)
class FixOptions:
    """How fixes are applied: opt-in unsafe fixes, options rules read (client style, target), the
    whole-program view, files that must be fixed whatever the pre-filter says, and the time limit."""

    unsafe: bool = False
    client_style: str = "client"
    target: str | None = None
    shim: bool = True
    project: ProjectView = EMPTY  # whole-program facts, built before any file is fixed
    # (path, codes): rules that run on ``path`` even where the pre-filter would skip them, e.g. a helper
    # module without ``import openai`` that the project phase found receiving v0 responses.
    force: tuple[tuple[str, tuple[str, ...]], ...] = ()
    timeout: float | None = DEFAULT_TIMEOUT  # seconds per file; None: no limit

    def run_options(self) -> RunOptions:
        return RunOptions(client_style=self.client_style, target=self.target, shim=self.shim, project=self.project)

    def forced_codes_for(self, path: str) -> tuple[str, ...]:
        """Rules forced on ``path``: from :attr:`force` and, when the project view has one, from its
        ``forced_codes_for(path)`` method."""
        codes = [code for known, forced in self.force if known == path for code in forced]
        hook = getattr(self.project, "forced_codes_for", None)
        if hook is not None:
            codes.extend(hook(path))
        return tuple(dict.fromkeys(codes))


@dataclass
class FileFix:
    """The outcome of fixing one file."""

    path: str
    source: Source | None = None
    new_text: str | None = None  # None: unchanged
    fixed: list[Finding] = field(default_factory=list)
    remaining: FileResult | None = None
    error: str | None = None
    cells: list[tuple[int, str, str]] = field(default_factory=list)  # notebooks: (cell, old code, new code)

    @property
    def changed(self) -> bool:
        return self.new_text is not None and self.source is not None and self.new_text != self.source.text


def _applicable(finding: Finding, options: FixOptions) -> bool:
    return finding.fix is FixSafety.SAFE or (finding.fix is FixSafety.UNSAFE and options.unsafe)


_TODO_LINE = re.compile(r"^\s*# TODO\(migrate\): ([A-Z]+[0-9]+) (.*)$")


def todo_findings(path: str, text: str, findings: Sequence[Finding]) -> list[Finding]:
    """Findings for the ``# TODO(migrate)`` comments in ``text`` that no current finding stands for
    (their origin was rewritten, so the rules no longer see it)."""
    if "TODO(migrate)" not in text:
        return []
    known = {(f.code, f.message) for f in findings}
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _TODO_LINE.match(line)
        if match and (match.group(1), match.group(2)) not in known:
            out.append(Finding(path, number + 1, 1, match.group(1), match.group(2)))
    return out


def _candidates(codes: tuple[str, ...], forced: tuple[str, ...], text: str, target: bool) -> list[str]:
    found = prefilter_for(codes, target).candidate_rules(text)
    if forced:
        found = [c for c in codes if c in found or c in forced]
    return found


def _rewrite_failed(exc: BaseException) -> SourceError:
    return SourceError(f"internal error: a rewrite did not parse ({type(exc).__name__}); file left unchanged")


def _verify(text: str) -> None:
    """A rewrite must parse with CPython's own parser before it is kept."""
    try:
        ast.parse(text)
    except (SyntaxError, RecursionError, MemoryError) as exc:
        if isinstance(exc, SyntaxError) and "too many nested" not in str(exc.msg):
            raise _rewrite_failed(exc) from None
        raise SourceError("too deeply nested for Python's own parser; file left unchanged") from None
    except ValueError as exc:
        raise _rewrite_failed(exc) from None


def _parse_rewrite(text: str):  # type: ignore[no-untyped-def]
    """The libcst tree of a verified rewrite, for the next pass (made only when a rule can still fire)."""
    import libcst as cst

    try:
        return cst.parse_module(text)
    except RecursionError:
        raise SourceError("too deeply nested to rewrite; file left unchanged") from None
    except Exception as exc:  # noqa: BLE001 - never write what libcst cannot read back
        raise _rewrite_failed(exc) from None


def _remaining(path: str, findings: list[Finding], suppressions: dict[int, frozenset[str]]) -> FileResult:
    result = FileResult(path=path, parsed=True)
    for finding in findings:
        if suppressions and is_suppressed(finding.code, [finding.line, finding.statement_line], suppressions):
            result.suppressed += 1
        else:
            result.findings.append(finding)
    result.findings.sort()
    return result


def _fix_loop(path: str, text: str, codes: Sequence[str], options: FixOptions) -> tuple[str, list[Finding], FileResult]:
    """Fix ``text`` until it stops changing. Returns the text, the findings fixed, and what the last
    analysis (of the final text) found. Every pass parses and analyses once; a rewrite is verified with
    CPython's parser at once, and parsed with libcst only if the next pass has a rule that could fire
    (the pre-filter says so): a file the first pass migrated completely costs one analysis."""
    from migrator.engine.analysis import analyse
    from migrator.engine.fix_apply import apply_fixes

    codes = tuple(codes)
    forced = tuple(c for c in options.forced_codes_for(path) if c in codes)
    run_options = options.run_options()
    current, module = text, None
    fixed: list[Finding] = []
    for _ in range(MAX_PASSES):
        candidates = _candidates(codes, forced, current, options.target is not None)
        if not candidates:
            return current, sorted(fixed), FileResult(path=path)
        if module is None:
            module = parse_module(current) if current is text else _parse_rewrite(current)
        ctx = analyse(path, module, [BY_CODE[c].load() for c in candidates], run_options)
        suppressions = parse_suppressions(current)
        plans, applied = [], []
        for index, finding in enumerate(ctx.findings):
            plan = ctx.fixes.get(index)
            if plan is None or not (plan.annotation or _applicable(finding, options)):
                continue
            if suppressions and is_suppressed(finding.code, [finding.line, finding.statement_line], suppressions):
                continue
            plans.append(plan)
            if not plan.annotation:
                applied.append(finding)
        new_text = apply_fixes(module, plans).code if plans else current
        if new_text == current:
            return current, sorted(fixed), _remaining(path, ctx.findings, suppressions)
        _verify(new_text)
        module = None
        fixed.extend(applied)
        current = new_text
    raise SourceError(f"rewrites did not settle after {MAX_PASSES} passes; file left unchanged")


def fix_text(path: str, text: str, codes: Sequence[str], options: FixOptions = FixOptions()) -> tuple[str, list[Finding]]:
    """Return the rewritten text and the findings fixed. Raises SourceError if a rewrite goes wrong."""
    new_text, fixed, _ = _fix_loop(path, text, codes, options)
    return new_text, fixed


def _guarded(result: FileFix, work: Callable[[], None], timeout: float | None) -> bool:
    """Run ``work()`` under the time limit; a failure becomes ``result.error`` (one file's failure never
    ends the run)."""
    try:
        with time_limit(timeout):
            work()
    except SourceError as exc:
        result.error = str(exc)
    except RecursionError:
        result.error = "too deeply nested to rewrite; file left unchanged"
    except Exception as exc:  # noqa: BLE001
        result.error = f"internal error while fixing: {type(exc).__name__}: {exc}"
    return result.error is None


def fix_notebook(path: str, codes: Sequence[str], options: FixOptions) -> FileFix:
    """Rewrite a notebook's code cells; outputs, metadata and JSON formatting are kept."""
    from migrator.engine.notebook import read_notebook
    from migrator.engine.runner import analyse_notebook

    result = FileFix(path=path)

    def work() -> None:
        notebook = read_notebook(path)
        result.source = Source(path=path, text=notebook.raw, encoding="utf-8", bom=False, digest=notebook.digest)
        text = notebook.to_python()
        new_text, result.fixed, _ = _fix_loop(path, text, codes, options)
        if new_text != text:
            old_cells = {n: c.get("source", "") for n, c in enumerate(notebook.data["cells"], start=1)}
            old_cells = {n: "".join(s) if isinstance(s, list) else s for n, s in old_cells.items()}
            result.new_text = notebook.from_python(new_text)
            for number, cell in enumerate(notebook.data["cells"], start=1):
                source = cell.get("source", "")
                source = "".join(source) if isinstance(source, list) else source
                if cell.get("cell_type") == "code" and source != old_cells[number]:
                    result.cells.append((number, old_cells[number], source))
        assert result.source is not None
        result.remaining = analyse_notebook(path, list(codes), raw=result.new_text or result.source.text)

    _guarded(result, work, options.timeout)
    return result


def fix_file(path: str, codes: Sequence[str], options: FixOptions = FixOptions()) -> FileFix:
    """Compute the rewrite of one file (nothing is written). Never raises."""
    if path.endswith(".ipynb"):
        return fix_notebook(path, codes, options)
    result = FileFix(path=path)
    try:
        result.source = read_source(path)
    except SourceError as exc:
        result.error = str(exc)
        return result
    if result.source.is_generated:
        result.remaining = FileResult(path=path, skipped="generated")
        return result
    text = result.source.text
    # What the last pass found is what a scan of the result finds, when the rules saw the options a scan
    # uses; otherwise the result is analysed again with them.
    reuse = replace(options.run_options(), project=EMPTY) == RunOptions()

    def work() -> None:
        new_text, result.fixed, last = _fix_loop(path, text, codes, options)
        if new_text != text:
            result.new_text = new_text
        remaining = last if reuse else analyse_text(path, new_text, tuple(codes))
        remaining.findings.extend(todo_findings(path, new_text, remaining.findings))
        remaining.findings.sort()
        result.remaining = remaining

    _guarded(result, work, options.timeout)
    return result


# -- many files ------------------------------------------------------------------------------------

_WORKER_OPTIONS: FixOptions | None = None  # set once per worker process (see fix_paths)


def _init_fix_worker(options: FixOptions, parent: int) -> None:
    """Pool initializer: the options, with the project view, arrive once per worker, not once per file."""
    global _WORKER_OPTIONS
    _WORKER_OPTIONS = options
    init_worker(parent)


def _fix_in_worker(path: str, codes: tuple[str, ...]) -> FileFix:
    assert _WORKER_OPTIONS is not None
    return fix_file(path, codes, _WORKER_OPTIONS)


def fix_paths(
    paths: Sequence[str], codes: Sequence[str], options: FixOptions, jobs: int | None = None,
    codes_for: Callable[[str], Sequence[str]] | None = None,
) -> Iterator[FileFix]:
    """:func:`fix_file` over many files, in a process pool when there are several; in path order.

    ``codes_for(path)``, when given, narrows the rules per file (per-file-ignores). Results stream: at
    most a few files per worker are in flight, so memory stays bounded and a caller that writes each
    result as it arrives keeps every finished file if the run is interrupted. The options, including the
    (possibly large) project view, reach each worker once through the pool initializer (inherited, not
    pickled, where workers are forked).
    """
    jobs = min(jobs or default_jobs(), len(paths))
    per_file = [(path, tuple(codes_for(path)) if codes_for else tuple(codes)) for path in paths]
    if jobs <= 1:
        for path, file_codes in per_file:
            yield fix_file(path, file_codes, options)
        return
    pool = WorkerPool(jobs, initializer=_init_fix_worker, initargs=(options,))
    yield from run_ordered(pool, _fix_in_worker, per_file, on_crash=lambda item, reason: FileFix(path=item[0], error=reason))
