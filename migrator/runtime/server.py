"""The local backend as an ASGI app (Starlette) and a uvicorn runner for ``migrate serve``.

One route per endpoint of :class:`OpenAIApi` (the same handler the in-process clients call), plus a
catch-all that answers OpenAI's 404. Generation runs in worker threads, so the event loop keeps serving;
a streamed answer whose client disconnects is cancelled (the scheduler drops it at its next step).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from migrator.runtime.api import ApiResponse, EventStream, OpenAIApi
from migrator.runtime.backend import LocalBackend, shared_backend
from migrator.runtime.errors import ApiError

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def create_app(backend: LocalBackend | None = None, max_tokens_cap: int = 512) -> Any:
    """An ASGI app answering OpenAI's API with ``backend`` (default: the process's shared backend)."""
    from starlette.applications import Starlette
    from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    api = OpenAIApi(backend or shared_backend(), max_tokens_cap=max_tokens_cap)

    async def events(stream: EventStream) -> AsyncIterator[bytes]:
        try:
            async for chunk in iterate_in_threadpool(stream):
                yield chunk
        finally:  # normal end, or the client went away and Starlette cancelled the response
            stream.close()

    def reply(result: ApiResponse) -> Response:
        if result.stream is not None:
            return StreamingResponse(events(result.stream), status_code=result.status, media_type="text/event-stream",
                                     headers={"cache-control": "no-cache", **result.headers})
        return Response(result.body, status_code=result.status, media_type="application/json", headers=result.headers)

    def endpoint(path: str | None) -> Callable[[Request], Any]:
        async def answer(request: Request) -> Response:
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > api.max_body_bytes:
                error = ApiError(413, f"Request body too large: {declared} bytes, at most {api.max_body_bytes}.")
                return Response(error.json(), status_code=413, media_type="application/json")
            body = await request.body()
            result = await run_in_threadpool(api.handle, request.method, path or request.url.path, body)
            return reply(result)

        return answer

    routes = [Route(path, endpoint(path), methods=METHODS) for path in api.routes]
    routes.append(Route("/{path:path}", endpoint(None), methods=METHODS))
    return Starlette(routes=routes)


def serve(model: str | None, host: str, port: int, echo: Callable[[str], Any] = print, device: str | None = None) -> None:
    """Load the model, then serve until interrupted (Ctrl-C stops cleanly)."""
    import os
    import sys

    if "torch" not in sys.modules:
        # OpenMP worker threads that spin while waiting compete with the server's own threads for the
        # cores: measured on 2 cores, requests slowed down 4-8x after a few streamed answers without this.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import uvicorn

    backend = shared_backend(model, device)
    backend.load()  # fail before listening, with a clear message, if the model is missing
    config = uvicorn.Config(create_app(backend), host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    echo(f"Serving {backend.model_id!r} on {backend.device} ({backend.dtype}) at http://{host}:{port}/v1 "
         "for any model name.")
    echo(f"  export OPENAI_BASE_URL=http://{host}:{port}/v1 OPENAI_API_KEY=local")
    server.run()
