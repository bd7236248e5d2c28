"""Run options that rules read: the parsed ``--target`` and ``--shim``."""

from __future__ import annotations

from migrator.rules.base import RuleContext
from migrator.targets import Target, TargetError, parse_target


def run_target(ctx: RuleContext) -> Target | None:
    """The ``--target`` of this run, parsed once per file (None when absent or invalid)."""
    def parse() -> Target | None:
        try:
            return parse_target(ctx.options.target) if ctx.options.target else None
        except TargetError:
            return None

    return ctx.cached(("run_target",), parse)


def shim(ctx: RuleContext) -> bool:
    """Wrap new model ids in ``resolve_model(...)`` (default for hf targets)."""
    return ctx.options.shim
