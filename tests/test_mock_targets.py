"""Every patch target the rewrites can emit exists in the installed current openai SDK."""

import importlib

import pytest

from migrator.rules.openai_v0.catalog import ERRORS, RESOURCES
from migrator.rules.openai_v0.mock_target import current_target

openai = pytest.importorskip("openai")

TARGETS = sorted(
    {
        target
        for resource, methods in RESOURCES.items()
        for method in methods
        for variant in (method, "a" + method)
        if (target := current_target(f"openai.{resource}.{variant}")) is not None
    }
    | {current_target(f"openai.error.{name}") for name, (current, _) in ERRORS.items() if current}
)


def resolve(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(dotted)


def test_targets_cover_sync_and_async():
    assert "openai.resources.chat.completions.Completions.create" in TARGETS
    assert "openai.resources.chat.completions.AsyncCompletions.create" in TARGETS
    assert "openai.resources.images.Images.generate" in TARGETS
    assert "openai.resources.files.Files.content" in TARGETS


@pytest.mark.parametrize("target", TARGETS)
def test_target_exists(target):
    assert callable(resolve(target)) or isinstance(resolve(target), type)
