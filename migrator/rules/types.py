"""Value types shared by rules and the engine (no libcst import here: the scan path stays light)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from migrator.rules.project import EMPTY, ProjectView


class FixSafety(str, enum.Enum):
    """How a finding's fix may be applied."""

    SAFE = "safe"  # applied by default
    UNSAFE = "unsafe"  # applied only with --unsafe-fixes
    REPORT = "report-only"  # no automatic fix; a human acts on the finding


@dataclass(frozen=True, order=True)
class Finding:
    """One legacy site. Lines and columns are 1-based; columns count characters."""

    path: str
    line: int
    column: int
    code: str
    message: str
    end_line: int = 0
    end_column: int = 0
    fix: FixSafety = FixSafety.REPORT
    statement_line: int = 0  # first line of the enclosing statement: a suppression comment may stand there

    @property
    def fixable(self) -> bool:
        return self.fix is not FixSafety.REPORT


@dataclass(frozen=True)
class RunOptions:
    """Run options that rules may read."""

    client_style: str = "client"  # "client": build OpenAI() clients; "module": the SDK's module client
    target: str | None = None  # --target PROVIDER[:MODEL], unparsed (rules.options.run_target parses it)
    shim: bool = True  # with an hf: target, wrap model ids in resolve_model(...)
    project: ProjectView = EMPTY  # whole-program facts (migrator.rules.project)
