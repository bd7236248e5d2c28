"""Rewriting files: run the rules, apply the fixes they offer, repeat until nothing changes.

Every intermediate result is re-parsed (libcst and CPython's own parser) before it is kept, so a rewrite
can never leave a file that does not parse; on any failure the file is left exactly as it was.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from migrator.engine.results import FileResult, Finding, FixSafety
from migrator.engine.pool import default_jobs, pool_context
from migrator.engine.prefilter import prefilter_for
from migrator.engine.runner import analyse_text
from migrator.engine.source import Source, SourceError, read_source, syntax_error_message
from migrator.engine.suppression import is_suppressed, parse_suppressions
from migrator.rules.registry import BY_CODE
from migrator.rules.project import EMPTY, ProjectView
from migrator.rules.types import RunOptions

MAX_PASSES = 8


@dataclass(frozen=True)
class FixOptions:
    """How fixes are applied: opt-in unsafe fixes, and options rules read (client style, target)."""

    unsafe: bool = False
    client_style: str = "client"
    target: str | None = None
    shim: bool = True
    project: ProjectView = EMPTY  # whole-program facts, built before any file is fixed

    def run_options(self) -> RunOptions:
        return RunOptions(client_style=self.client_style, target=self.target, shim=self.shim, project=self.project)


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
    known = {(f.code, f.message) for f in findings}
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _TODO_LINE.match(line)
        if match and (match.group(1), match.group(2)) not in known:
            out.append(Finding(path, number + 1, 1, match.group(1), match.group(2)))
    return out


def fix_text(path: str, text: str, codes: Sequence[str], options: FixOptions = FixOptions()) -> tuple[str, list[Finding]]:
    """Return the rewritten text and the findings fixed. Raises SourceError if a rewrite goes wrong."""
    import libcst as cst

    from migrator.engine.analysis import analyse
    from migrator.engine.fix_apply import apply_fixes

    codes = tuple(codes)
    current = text
    fixed: list[Finding] = []
    for _ in range(MAX_PASSES):
        candidates = prefilter_for(codes).candidate_rules(current)
        if not candidates:
            break
        try:
            module = cst.parse_module(current)
        except cst.ParserSyntaxError as exc:
            raise SourceError(syntax_error_message(current, exc)) from None
        ctx = analyse(path, module, [BY_CODE[c].load() for c in candidates], options.run_options())
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
        if not plans:
            break
        new_text = apply_fixes(module, plans).code
        if new_text == current:
            break
        try:
            cst.parse_module(new_text)
            ast.parse(new_text)
        except Exception as exc:  # noqa: BLE001 - never write what does not parse
            raise SourceError(f"internal error: a rewrite did not parse ({type(exc).__name__}); file left unchanged") from None
        fixed.extend(applied)
        current = new_text
    else:
        raise SourceError(f"rewrites did not settle after {MAX_PASSES} passes; file left unchanged")
    return current, sorted(fixed)


def _guarded(result: FileFix, work) -> bool:
    """Run ``work()``; a failure becomes ``result.error`` (one file's failure never ends the run)."""
    try:
        work()
    except SourceError as exc:
        result.error = str(exc)
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
        result.source = Source(path=path, text=notebook.raw, encoding="utf-8", bom=False)
        text = notebook.to_python()
        new_text, result.fixed = fix_text(path, text, codes, options)
        if new_text != text:
            old_cells = {n: c.get("source", "") for n, c in enumerate(notebook.data["cells"], start=1)}
            old_cells = {n: "".join(s) if isinstance(s, list) else s for n, s in old_cells.items()}
            result.new_text = notebook.from_python(new_text)
            for number, cell in enumerate(notebook.data["cells"], start=1):
                source = cell.get("source", "")
                source = "".join(source) if isinstance(source, list) else source
                if cell.get("cell_type") == "code" and source != old_cells[number]:
                    result.cells.append((number, old_cells[number], source))

    if not _guarded(result, work):
        return result
    result.remaining = analyse_notebook(path, list(codes), raw=result.new_text or result.source.text)
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

    def work() -> None:
        new_text, result.fixed = fix_text(path, text, codes, options)
        if new_text != text:
            result.new_text = new_text

    if not _guarded(result, work):
        return result
    final = result.new_text or text
    result.remaining = analyse_text(path, final, tuple(codes))
    result.remaining.findings.extend(todo_findings(path, final, result.remaining.findings))
    result.remaining.findings.sort()
    return result


def fix_paths(
    paths: Sequence[str], codes: Sequence[str], options: FixOptions, jobs: int | None = None, codes_for=None
) -> Iterator[FileFix]:
    """:func:`fix_file` over many files, in a process pool when there are several; in path order.
    ``codes_for(path)``, when given, narrows the rules per file (per-file-ignores)."""
    jobs = min(jobs or default_jobs(), len(paths))
    per_file = [(path, tuple(codes_for(path)) if codes_for else tuple(codes)) for path in paths]
    if jobs <= 1:
        for path, file_codes in per_file:
            yield fix_file(path, file_codes, options)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=pool_context()) as pool:
        futures = [pool.submit(fix_file, path, file_codes, options) for path, file_codes in per_file]
        for future in futures:
            yield future.result()
