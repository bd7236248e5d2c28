"""The provider table (``providers.toml``) and ``PROVIDER[:MODEL]`` target parsing."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Provider:
    name: str
    kind: str  # "api" or "hf"
    template: str
    base_url: str
    key_env: str
    docs: str
    chat_model: str
    embedding_model: str
    endpoint_env: str = ""
    api_version: str = ""


def _load() -> dict[str, Provider]:
    data = tomllib.loads((Path(__file__).parent / "providers.toml").read_text(encoding="utf-8"))
    return {name: Provider(name=name, **row) for name, row in data.items()}


PROVIDERS: dict[str, Provider] = _load()


class TargetError(ValueError):
    """A malformed target or an unknown provider; the message lists the valid ones."""


@dataclass(frozen=True)
class Target:
    provider: Provider
    model: str
    model_given: bool = True  # False: the provider's default model (`--target azure` without `:MODEL`)

    @property
    def is_hf(self) -> bool:
        return self.provider.kind == "hf"

    def __str__(self) -> str:
        return f"{self.provider.name}:{self.model}"


def parse_target(text: str) -> Target:
    """``anthropic:claude-sonnet-4-5``, ``hf:meta-llama/Llama-3.1-8B-Instruct`` or just ``gemini``."""
    name, _, model = text.strip().partition(":")
    valid = ", ".join(PROVIDERS)
    if not name or name not in PROVIDERS:
        raise TargetError(f"unknown provider {name!r} in target {text!r}; valid providers: {valid}")
    provider = PROVIDERS[name]
    given = bool(model.strip())
    model = model.strip() or provider.chat_model
    if not model or any(c.isspace() for c in model):
        raise TargetError(f"malformed target {text!r}: expected PROVIDER[:MODEL] with one of {valid}")
    return Target(provider, model, given)
