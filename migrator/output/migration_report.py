"""`migrate report`: totals, a table per file and the work left for humans, as Markdown or HTML."""

from __future__ import annotations

import inspect
import re
from collections import Counter
from dataclasses import dataclass

from migrator import __version__
from migrator.output.report import ScanReport
from migrator.rules.registry import BY_CODE
from migrator.rules.security.redact import redact_text
from migrator.rules.types import Finding, FixSafety
from migrator.templating import render

FAMILIES = {"OAI": "openai v0 SDK", "HF": "transformers / GPT-2", "SEC": "secrets"}


@dataclass
class HumanItem:
    finding: Finding
    message: str
    explanation: str
    suggestion: str


def _sections(code: str) -> tuple[str, str]:
    doc = inspect.cleandoc(BY_CODE[code].load().__doc__ or "")
    what = doc.split("## What it does", 1)[-1].split("##", 1)[0].strip()
    example = doc.split("## Example", 1)[-1].split("## Fix safety", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", example, re.DOTALL)
    suggestion = blocks[1] if "Use instead" in example and len(blocks) > 1 else ""
    return " ".join(what.split()), suggestion.rstrip()


def needs_human(finding: Finding) -> bool:
    return finding.fix is FixSafety.REPORT or BY_CODE[finding.code].needs_target


def report_context(report: ScanReport) -> dict:
    findings = sorted(report.findings)
    human = [f for f in findings if needs_human(f)]
    families = Counter(FAMILIES.get(re.match(r"[A-Z]+", f.code).group(0), "other") for f in findings)  # type: ignore[union-attr]
    by_code = report.by_code
    files = []
    for path in sorted({f.path for f in findings}):
        mine = [f for f in findings if f.path == path]
        files.append({"path": path, "findings": len(mine), "fixable": sum(not needs_human(f) for f in mine),
                      "human": sum(needs_human(f) for f in mine)})
    items = []
    for f in human:
        explanation, suggestion = _sections(f.code)
        items.append(HumanItem(f, redact_text(f.message), explanation, suggestion))
    peak = max(by_code.values(), default=1)
    bars = [{"code": code, "name": BY_CODE[code].name, "count": count, "width": round(360 * count / peak)}
            for code, count in by_code.items()]
    return {
        "version": __version__,
        "files_scanned": report.files_scanned,
        "files_with_findings": report.files_with_findings,
        "total": len(findings),
        "fixable": len(findings) - len(human),
        "human": len(human),
        "families": dict(sorted(families.items())),
        "by_code": by_code,
        "bars": bars,
        "files": files,
        "items": items,
        "errors": [(path, redact_text(reason)) for path, reason in report.errors],
    }


def render_report(report: ScanReport, fmt: str) -> str:
    return render(f"report.{fmt}.j2", **report_context(report))
