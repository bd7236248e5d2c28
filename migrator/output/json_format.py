"""JSON output. The schema below is the contract; ``schema_version`` changes when it breaks."""

from __future__ import annotations

import json

from migrator import __version__
from migrator.output.report import ScanReport
from migrator.rules.registry import BY_CODE
from migrator.rules.security.redact import redact_text

SCHEMA_VERSION = 1

_LOCATION = {"type": "integer", "minimum": 1}
SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "migrate scan --output-format json",
    "type": "object",
    "required": ["schema_version", "tool", "findings", "errors", "summary"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"const": "migrate"}, "version": {"type": "string"}},
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path", "line", "column", "end_line", "end_column", "code", "rule", "message", "fix"],
                "properties": {
                    "path": {"type": "string"},
                    "line": _LOCATION,
                    "column": _LOCATION,
                    "end_line": _LOCATION,
                    "end_column": _LOCATION,
                    "code": {"type": "string", "pattern": "^[A-Z]+[0-9]+$"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                    "fix": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["available", "safety", "needs_target"],
                        "properties": {
                            "available": {"type": "boolean"},
                            "safety": {"enum": ["safe", "unsafe", "report-only"]},
                            "needs_target": {"type": "boolean"},
                        },
                    },
                },
            },
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "summary": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "files_scanned", "files_parsed", "files_skipped", "findings", "fixable", "suppressed",
                "errors", "by_code",
            ],
            "properties": {
                "files_scanned": {"type": "integer"},
                "files_parsed": {"type": "integer"},
                "files_skipped": {"type": "integer"},
                "findings": {"type": "integer"},
                "fixable": {"type": "integer"},
                "suppressed": {"type": "integer"},
                "errors": {"type": "integer"},
                "by_code": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
    },
}


def render_json(report: ScanReport) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "migrate", "version": __version__},
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "end_line": f.end_line,
                "end_column": f.end_column,
                "code": f.code,
                "rule": BY_CODE[f.code].name,
                "message": redact_text(f.message),
                "fix": {
                    "available": f.fixable,
                    "safety": f.fix.value,
                    "needs_target": BY_CODE[f.code].needs_target,
                },
            }
            for f in sorted(report.findings)
        ],
        "errors": [{"path": p, "message": m} for p, m in report.errors],
        "summary": {
            "files_scanned": report.files_scanned,
            "files_parsed": report.files_parsed,
            "files_skipped": report.files_skipped,
            "findings": len(report.findings),
            "fixable": report.fixable,
            "suppressed": report.suppressed,
            "errors": len(report.errors),
            "by_code": report.by_code,
        },
    }
    return json.dumps(document, indent=2)
