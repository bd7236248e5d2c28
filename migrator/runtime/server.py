"""The local backend as an ASGI app (Starlette) and a uvicorn runner for ``migrate serve``."""

from __future__ import annotations

from migrator.runtime.api import ApiError, OpenAIApi
from migrator.runtime.backend import LocalBackend, shared_backend


def create_app(backend: LocalBackend | None = None, max_tokens_cap: int = 512):
    """An ASGI app answering OpenAI's API with ``backend`` (default: the process's shared backend)."""
    from starlette.applications import Starlette
    from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    api = OpenAIApi(backend or shared_backend(), max_tokens_cap=max_tokens_cap)

    async def endpoint(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > api.max_body_bytes:
            error = ApiError(413, f"Request body too large: {declared} bytes, at most {api.max_body_bytes}.").response()
            return Response(error.body, status_code=413, media_type="application/json")
        body = await request.body()
        # Generation blocks: run it in a worker thread so the event loop keeps serving.
        result = await run_in_threadpool(api.handle, request.method, request.url.path, body)
        if result.stream is not None:
            return StreamingResponse(iterate_in_threadpool(result.stream), status_code=result.status,
                                     media_type="text/event-stream")
        return Response(result.body, status_code=result.status, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])])


def serve(model: str | None, host: str, port: int, echo=print) -> None:
    """Load the model, then serve until interrupted (Ctrl-C stops cleanly)."""
    import uvicorn

    backend = shared_backend(model)
    backend.load()  # fail before listening, with a clear message, if the model is missing
    config = uvicorn.Config(create_app(backend), host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    echo(f"Serving {backend.model_id!r} on http://{host}:{port}/v1 for any model name.")
    echo(f"  export OPENAI_BASE_URL=http://{host}:{port}/v1 OPENAI_API_KEY=local")
    server.run()
