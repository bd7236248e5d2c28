"""Which model to load: production ids stay as written; ``MIGRATE_BACKEND=local`` swaps in GPT-2."""

from __future__ import annotations

import os

DEFAULT_LOCAL_MODEL = "gpt2"


def local_model_id() -> str:
    """The model the local backend loads: ``MIGRATE_LOCAL_MODEL`` (an id or a path), else "gpt2"."""
    return os.environ.get("MIGRATE_LOCAL_MODEL") or DEFAULT_LOCAL_MODEL


def resolve_model(model_id: str) -> str:
    """``model_id`` unchanged in production; the local test model when ``MIGRATE_BACKEND=local``.

    Migrated transformers code loads ``from_pretrained(resolve_model("meta-llama/Llama-3.1-8B-Instruct"))``:
    production gets Llama, a test run with ``MIGRATE_BACKEND=local`` gets GPT-2 on a laptop.
    """
    if os.environ.get("MIGRATE_BACKEND", "").lower() == "local":
        return local_model_id()
    return model_id
