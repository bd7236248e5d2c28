"""CI formats: GitHub workflow annotations, SARIF 2.1.0 and JUnit XML. Keys are redacted in all of them."""

from __future__ import annotations

import inspect
import json
from xml.sax.saxutils import escape, quoteattr

from migrator import __version__
from migrator.output.report import ScanReport
from migrator.rules.registry import BY_CODE, RULES
from migrator.rules.security.redact import redact_text
from migrator.rules.types import FixSafety

INFORMATION_URI = "https://github.com/migrate-llm/migrate"


def _gh_escape(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(report: ScanReport) -> str:
    """``::error`` workflow commands, one per finding and per file that could not be analysed."""
    lines = []
    for f in sorted(report.findings):
        props = f"file={_gh_escape(f.path, True)},line={f.line},col={f.column},endLine={f.end_line},endColumn={f.end_column}"
        title = _gh_escape(f"migrate ({f.code})", True)
        level = "warning" if f.fix is FixSafety.REPORT else "error"
        lines.append(f"::{level} title={title},{props}::{_gh_escape(redact_text(f'{f.code} {f.message}'))}")
    for path, reason in report.errors:
        lines.append(f"::error title=migrate,file={_gh_escape(path, True)}::{_gh_escape(redact_text(reason))}")
    return "\n".join(lines)


def _rule_doc(code: str) -> str:
    return inspect.cleandoc(BY_CODE[code].load().__doc__ or "")


def _summary(doc: str) -> str:
    body = doc.split("## What it does", 1)[-1].split("##", 1)[0].strip()
    return " ".join(body.split())


def render_sarif(report: ScanReport) -> str:
    """A SARIF 2.1.0 log: every rule with its documentation, results with regions and fix availability."""
    index = {entry.code: i for i, entry in enumerate(RULES)}
    rules = []
    for entry in RULES:
        doc = _rule_doc(entry.code)
        rules.append({
            "id": entry.code,
            "name": entry.name,
            "shortDescription": {"text": _summary(doc).split(". ")[0].rstrip(".") + "."},
            "fullDescription": {"text": _summary(doc)},
            "help": {"text": doc, "markdown": doc},
            "helpUri": f"{INFORMATION_URI}/blob/main/docs/rules.md#{entry.code.lower()}-{entry.name}",
            "defaultConfiguration": {"level": "warning" if entry.fix is FixSafety.REPORT else "error",
                                     "enabled": entry.default},
            "properties": {"fixSafety": entry.fix.value, "needsTarget": entry.needs_target},
        })
    results = []
    for f in sorted(report.findings):
        results.append({
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": "warning" if f.fix is FixSafety.REPORT else "error",
            "message": {"text": redact_text(f.message)},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.path.replace("\\", "/")},
                "region": {"startLine": f.line, "startColumn": f.column, "endLine": f.end_line, "endColumn": f.end_column},
            }}],
            "properties": {"fix": {"available": f.fixable, "safety": f.fix.value,
                                   "command": "migrate apply" + (" --unsafe-fixes" if f.fix is FixSafety.UNSAFE else "")}},
        })
    notifications = [
        {"level": "error", "message": {"text": redact_text(reason)},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": path.replace("\\", "/")}}}]}
        for path, reason in report.errors
    ]
    log = {
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "migrate", "version": __version__, "informationUri": INFORMATION_URI, "rules": rules}},
            "results": results,
            "invocations": [{"executionSuccessful": not report.errors, "toolExecutionNotifications": notifications}],
        }],
    }
    return json.dumps(log, indent=2)


def render_junit(report: ScanReport) -> str:
    """One test case per file with findings or errors; each finding is a failure."""
    by_file: dict[str, list] = {}
    for f in sorted(report.findings):
        by_file.setdefault(f.path, []).append(f)
    errors = dict(report.errors)
    cases = []
    for path in sorted(set(by_file) | set(errors)):
        body = "".join(
            f'<failure message={quoteattr(redact_text(f"{f.code} {f.message}"))} type={quoteattr(f.code)}>'
            f"{escape(f'{f.path}:{f.line}:{f.column}: {f.code} {redact_text(f.message)}')}</failure>"
            for f in by_file.get(path, [])
        )
        if path in errors:
            body += f'<error message={quoteattr(redact_text(errors[path]))}/>'
        cases.append(f'  <testcase classname="migrate" name={quoteattr(path)}>{body}</testcase>')
    failures = len(report.findings)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="migrate" tests="{max(1, len(cases))}" failures="{failures}" errors="{len(errors)}">\n'
        + ("\n".join(cases) or '  <testcase classname="migrate" name="no legacy code"/>')
        + "\n</testsuite>"
    )
