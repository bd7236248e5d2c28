"""Run options that rules read: the parsed ``--target`` and ``--shim``."""

from __future__ import annotations

from migrator.rules.base import RuleContext
from migrator.targets import Target, TargetError, parse_target


def run_target(ctx: RuleContext) -> Target | None:
    """The ``--target`` of this run, parsed once per file (None when absent or invalid)."""
    key = "target"
    if key not in ctx.memo:
        text = ctx.options.get("target")
        try:
            ctx.memo[key] = parse_target(str(text)) if text else None
        except TargetError:
            ctx.memo[key] = None
    return ctx.memo[key]  # type: ignore[return-value]


def shim(ctx: RuleContext) -> bool:
    """Wrap new model ids in ``resolve_model(...)`` (default for hf targets)."""
    return bool(ctx.options.get("shim", True))
