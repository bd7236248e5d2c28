"""GPT-2 as the local test backend behind the real openai SDK.

Nothing heavy is imported here: torch and transformers load on first use of the backend. Public API:
:func:`resolve_model`, :func:`local_client`, :func:`local_async_client`, :func:`create_app`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from migrator.runtime.models import resolve_model
from migrator.runtime.text_generation import text_generation_pipeline

if TYPE_CHECKING:  # pragma: no cover
    from migrator.runtime.client import local_async_client, local_client
    from migrator.runtime.server import create_app

__all__ = ["create_app", "local_async_client", "local_client", "resolve_model", "text_generation_pipeline"]


def __getattr__(name: str) -> Any:
    if name in ("local_client", "local_async_client"):
        from migrator.runtime import client

        return getattr(client, name)
    if name == "create_app":
        from migrator.runtime.server import create_app

        return create_app
    raise AttributeError(name)
