"""``diff`` and ``apply`` output: the diffs, the writes as results arrive, the summary, the exit code.

The work is the engine's (:mod:`migrator.engine.apply`); this module decides what is shown and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import click

from migrator.engine.fixer import FileFix
from migrator.engine.results import Finding
from migrator.engine.source import SourceError

Echo = Callable[..., None]


@dataclass
class FixReport:
    """The outcome of ``diff`` (``writes`` False) or ``apply``, with the exit status each promises."""

    writes: bool
    errors: list[tuple[str, str]] = field(default_factory=list)
    changed: int = 0  # files with a rewrite (for diff: that would be rewritten)
    written: int = 0  # files written
    fixed: int = 0  # legacy sites fixed in the files written
    remaining: list[Finding] = field(default_factory=list)  # what still needs a human

    def exit_code(self, exit_zero: bool = False, exit_non_zero_on_fix: bool = False) -> int:
        """2 on any error; ``diff``: 1 when something would change; ``apply``: 1 when legacy code remains
        (or, with ``exit_non_zero_on_fix``, when a file was written); ``exit_zero`` turns those 1s into 0."""
        if self.errors:
            return 2
        if not self.writes:
            return 1 if self.changed and not exit_zero else 0
        return 1 if (self.remaining and not exit_zero) or (exit_non_zero_on_fix and self.written) else 0

    def error_lines(self) -> list[str]:
        return [f"{click.style('error', fg='red', bold=True)}: {path}: {reason}" for path, reason in self.errors]


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def diff_lines(result: FileFix) -> list[str]:
    """The unified diff of one result; a notebook is shown as the code of its changed cells, not as JSON."""
    from migrator.output.diff import unified_diff

    assert result.source is not None and result.new_text is not None
    parts = [(f"{result.path}:cell {n}", old, new) for n, old, new in result.cells] or [
        (result.path, result.source.text, result.new_text)]
    return [line for name, old, new in parts for line in unified_diff(name, _with_newline(old), _with_newline(new))]


def show_diffs(results: Iterable[FileFix], errors: list[tuple[str, str]], echo: Echo) -> FixReport:
    """``migrate diff``: print each change as it arrives; write nothing."""
    report = FixReport(writes=False, errors=list(errors))
    for result in results:
        if result.changed:
            report.changed += 1
            for line in diff_lines(result):
                echo(line)
        if result.error:
            report.errors.append((result.path, result.error))
    for line in report.error_lines():
        echo(line, err=True)
    echo(f"{report.changed} file{'s' * (report.changed != 1)} would be rewritten.", err=True)
    return report


def apply_results(results: Iterable[FileFix], errors: list[tuple[str, str]], echo: Echo,
                  review: Callable[[FileFix], bool] | None = None,
                  kept_findings: Callable[[FileFix], list[Finding]] | None = None,
                  environment: Sequence[str] = ()) -> FixReport:
    """``migrate apply``: write each result as soon as it arrives (``review(result)`` may decline one; its
    findings, ``kept_findings(result)``, then remain), then list what needs a human: those findings, then
    ``environment``, the old environment variables the migrated program no longer reads (a fact of where
    it runs, not of the code: they do not change the exit status)."""
    from migrator.engine.apply import write_fix
    from migrator.output.text import finding_line

    report = FixReport(writes=True, errors=list(errors))
    models: list[Finding] = []
    for result in results:
        if result.error:
            report.errors.append((result.path, result.error))
            continue
        if result.changed:
            report.changed += 1
            if review is not None and not review(result):
                report.remaining.extend(kept_findings(result) if kept_findings else [])
                continue
            try:
                write_fix(result)
            except SourceError as exc:
                report.errors.append((result.path, str(exc)))
                continue
            report.written += 1
            report.fixed += len(result.fixed)
            models.extend(f for f in result.fixed if f.code == "OAI701")
        if result.remaining is not None:
            report.remaining.extend(result.remaining.findings)
            if result.remaining.error:
                report.errors.append((result.path, result.remaining.error))
    fixed, files = report.fixed, report.written
    echo(f"Fixed {fixed} legacy site{'s' * (fixed != 1)} in {files} file{'s' * (files != 1)}.")
    if models:  # every model change is listed: it changes what the program gets back
        echo("Model changes:")
        for finding in sorted(models):
            echo(f"  {finding_line(finding)}")
    count = len(report.remaining) + len(environment)
    if count:
        echo(f"{count} need{'s' * (count == 1)} a human:")
        for finding in sorted(report.remaining):
            echo(finding_line(finding))
        for line in environment:
            echo(line)
    for line in report.error_lines():
        echo(line, err=True)
    return report
