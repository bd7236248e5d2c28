"""Where migrated code should go: the provider registry and rendering of client construction code."""

from migrator.targets.registry import PROVIDERS, Target, TargetError, parse_target

__all__ = ["PROVIDERS", "Target", "TargetError", "parse_target"]
