"""Real ``openai`` clients wired to the local backend without a socket (or to ``MIGRATE_BACKEND_URL``).

The transport calls :meth:`OpenAIApi.handle`, the handler ``migrate serve`` mounts, and streams its
server-sent events as they are produced; closing the SDK's stream cancels the generation.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

from migrator.runtime.api import ApiResponse, EventStream, OpenAIApi
from migrator.runtime.backend import LocalBackend, shared_backend

LOCAL_BASE_URL = "http://migrate.local/v1"


def _api(backend: LocalBackend | None, model: str | None) -> OpenAIApi:
    return OpenAIApi(backend or shared_backend(model))


def _remote() -> str | None:
    return os.environ.get("MIGRATE_BACKEND_URL") or None


def _headers(result: ApiResponse) -> dict[str, str]:
    return {"content-type": result.content_type, **result.headers}


def local_client(model: str | None = None, backend: LocalBackend | None = None, **kwargs: Any) -> Any:
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

    class Events(httpx2.SyncByteStream):
        def __init__(self, stream: EventStream) -> None:
            self.stream = stream

        def __iter__(self) -> Iterator[bytes]:
            return iter(self.stream)

        def close(self) -> None:
            self.stream.close()

    def handle(request: httpx2.Request) -> httpx2.Response:
        result = api.handle(request.method, request.url.path, request.read())
        if result.stream is None:
            return httpx2.Response(result.status, headers=_headers(result), content=result.body)
        return httpx2.Response(result.status, headers=_headers(result), stream=Events(result.stream))

    return OpenAI(base_url=LOCAL_BASE_URL, http_client=httpx2.Client(transport=httpx2.MockTransport(handle)), **kwargs)


def local_async_client(model: str | None = None, backend: LocalBackend | None = None, **kwargs: Any) -> Any:
    """The ``openai.AsyncOpenAI`` twin of :func:`local_client`; generation runs in worker threads."""
    import httpx2
    from openai import AsyncOpenAI

    kwargs.setdefault("api_key", os.environ.get("OPENAI_API_KEY") or "local")
    kwargs.setdefault("max_retries", 0)
    if _remote():
        return AsyncOpenAI(base_url=_remote(), **kwargs)
    api = _api(backend, model)

    class Events(httpx2.AsyncByteStream):
        def __init__(self, stream: EventStream) -> None:
            self.stream = stream

        async def __aiter__(self) -> AsyncIterator[bytes]:
            while True:
                chunk = await asyncio.to_thread(next, self.stream, None)
                if chunk is None:
                    return
                yield chunk

        async def aclose(self) -> None:
            self.stream.close()

    async def handle(request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        result = await asyncio.to_thread(api.handle, request.method, request.url.path, body)
        if result.stream is None:
            return httpx2.Response(result.status, headers=_headers(result), content=result.body)
        return httpx2.Response(result.status, headers=_headers(result), stream=Events(result.stream))

    return AsyncOpenAI(
        base_url=LOCAL_BASE_URL, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handle)), **kwargs
    )
