"""The aggregate of a run, shared by every output format."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from migrator.engine.results import FileResult, Finding


@dataclass
class ScanReport:
    """Everything a renderer needs. ``errors`` holds (path, reason) for files and paths that failed."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    files_scanned: int = 0
    files_parsed: int = 0
    files_skipped: int = 0
    suppressed: int = 0

    def add(self, result: FileResult) -> None:
        self.files_scanned += 1
        self.files_parsed += result.parsed
        self.files_skipped += result.skipped is not None
        self.suppressed += result.suppressed
        self.findings.extend(result.findings)
        if result.error:
            self.errors.append((result.path, result.error))

    @property
    def by_code(self) -> dict[str, int]:
        return dict(sorted(Counter(f.code for f in self.findings).items()))

    @property
    def fixable(self) -> int:
        return sum(f.fixable for f in self.findings)

    @property
    def files_with_findings(self) -> int:
        return len({f.path for f in self.findings})

    def exit_code(self) -> int:
        """0 clean, 1 findings, 2 when anything could not be analysed."""
        if self.errors:
            return 2
        return 1 if self.findings else 0
