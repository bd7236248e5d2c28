"""Human-readable output in ruff's style: ``path:line:col: CODE [*] message`` and a summary."""

from __future__ import annotations

import click

from migrator.output.report import ScanReport
from migrator.rules.registry import BY_CODE
from migrator.rules.security.redact import redact_text
from migrator.rules.types import Finding, FixSafety

_MARKS = {FixSafety.SAFE: "[*] ", FixSafety.UNSAFE: "[*?] ", FixSafety.REPORT: ""}


def finding_line(finding: Finding) -> str:
    location = click.style(f"{finding.path}:{finding.line}:{finding.column}:", bold=True)
    code = click.style(finding.code, fg="red", bold=True)
    mark = click.style(_MARKS[finding.fix], fg="cyan")
    note = " (fix needs --target)" if finding.fixable and BY_CODE[finding.code].needs_target else ""
    return redact_text(f"{location} {code} {mark}{finding.message}{note}")


def render_findings(report: ScanReport) -> list[str]:
    return [finding_line(f) for f in sorted(report.findings)]


def render_summary(report: ScanReport) -> list[str]:
    lines = []
    total = len(report.findings)
    if total:
        safe = sum(f.fix is FixSafety.SAFE for f in report.findings)
        unsafe = sum(f.fix is FixSafety.UNSAFE for f in report.findings)
        lines.append(
            f"Found {total} legacy site{'s' * (total != 1)} in {report.files_with_findings} "
            f"file{'s' * (report.files_with_findings != 1)}."
        )
        if safe:
            lines.append(f"[*] {safe} with a safe automatic fix.")
        if unsafe:
            lines.append(f"[*?] {unsafe} with an unsafe (opt-in) fix.")
        for code, count in report.by_code.items():
            entry = BY_CODE[code]
            lines.append(f"  {code:<7} {entry.name:<28} {count:>5}   fix: {entry.fix.value}")
    else:
        lines.append("No legacy code found.")
    files = report.files_scanned
    detail = f"Scanned {files} file{'s' * (files != 1)}; {report.files_parsed} parsed after the pre-filter"
    if report.files_skipped:
        detail += f"; {report.files_skipped} skipped as @generated"
    if report.suppressed:
        detail += f"; {report.suppressed} findings suppressed inline"
    if report.errors:
        detail += f"; {len(report.errors)} could not be analysed"
    lines.append(detail + ".")
    return lines


def render_errors(report: ScanReport) -> list[str]:
    return [f"{click.style('error', fg='red', bold=True)}: {path}: {reason}" for path, reason in report.errors]
