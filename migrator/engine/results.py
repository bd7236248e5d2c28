"""Typed results of analysing files."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.rules.types import Finding, FixSafety

__all__ = ["FileResult", "Finding", "FixSafety"]


@dataclass
class FileResult:
    """What analysing one file produced."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # one-line reason the file could not be analysed
    parsed: bool = False  # passed the pre-filter and went through libcst
    suppressed: int = 0  # findings silenced by inline comments
    skipped: str | None = None  # reason a file was deliberately not analysed (e.g. @generated)
    seconds: float = 0.0  # time spent parsing and running rules
    cacheable: bool = True  # False: the outcome depends on more than the content (time limit, crash, I/O)
