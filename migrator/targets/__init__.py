"""Where migrated code should go: the provider registry and rendering of client construction code."""

from migrator.targets.registry import (
    PROVIDERS,
    ModelInfo,
    Target,
    TargetError,
    model_info,
    parse_target,
)

__all__ = ["PROVIDERS", "ModelInfo", "Target", "TargetError", "model_info", "parse_target"]
