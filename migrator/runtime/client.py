"""Real ``openai`` clients wired to the local backend without a socket (or to ``MIGRATE_BACKEND_URL``)."""

from __future__ import annotations

import asyncio
import os

from migrator.runtime.api import OpenAIApi
from migrator.runtime.backend import LocalBackend, shared_backend

LOCAL_BASE_URL = "http://migrate.local/v1"


def _api(backend: LocalBackend | None, model: str | None) -> OpenAIApi:
    return OpenAIApi(backend or shared_backend(model))


def _remote() -> str | None:
    return os.environ.get("MIGRATE_BACKEND_URL") or None


def local_client(model: str | None = None, backend: LocalBackend | None = None, **kwargs):
    """An ``openai.OpenAI`` whose requests go to the local model in this process.

    With ``MIGRATE_BACKEND_URL`` set, the client talks to that OpenAI-compatible server instead (vLLM,
    Ollama, ``transformers serve``, ``migrate serve``)."""
    import httpx2
    from openai import OpenAI

    kwargs.setdefault("api_key", os.environ.get("OPENAI_API_KEY") or "local")
    kwargs.setdefault("max_retries", 0)
    if _remote():
        return OpenAI(base_url=_remote(), **kwargs)
    api = _api(backend, model)

    def handle(request: httpx2.Request) -> httpx2.Response:
        result = api.handle(request.method, request.url.path, request.read())
        content = result.stream if result.stream is not None else result.body
        return httpx2.Response(result.status, headers={"content-type": result.content_type}, content=content)

    return OpenAI(base_url=LOCAL_BASE_URL, http_client=httpx2.Client(transport=httpx2.MockTransport(handle)), **kwargs)


def local_async_client(model: str | None = None, backend: LocalBackend | None = None, **kwargs):
    """The ``openai.AsyncOpenAI`` twin of :func:`local_client`; generation runs in a worker thread."""
    import httpx2
    from openai import AsyncOpenAI

    kwargs.setdefault("api_key", os.environ.get("OPENAI_API_KEY") or "local")
    kwargs.setdefault("max_retries", 0)
    if _remote():
        return AsyncOpenAI(base_url=_remote(), **kwargs)
    api = _api(backend, model)

    async def handle(request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        result = await asyncio.to_thread(api.handle, request.method, request.url.path, body)
        if result.stream is None:
            return httpx2.Response(result.status, headers={"content-type": result.content_type}, content=result.body)
        chunks = await asyncio.to_thread(list, result.stream)

        async def stream():
            for chunk in chunks:
                yield chunk

        return httpx2.Response(result.status, headers={"content-type": result.content_type}, content=stream())

    return AsyncOpenAI(
        base_url=LOCAL_BASE_URL, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handle)), **kwargs
    )
