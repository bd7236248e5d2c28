"""OpenAI's HTTP API over the local backend, independent of any web framework.

``OpenAIApi.handle(method, path, body)`` is the one handler: the in-process clients call it directly and
the Starlette app (``server.py``) mounts each of its routes. It returns an :class:`ApiResponse`: a JSON
body, or an :class:`EventStream` of server-sent-event bytes for ``stream: true``. Errors use OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}``, with OpenAI's status codes.

Approximations, documented because a 124M-parameter local model is not GPT-4o:
- ``presence_penalty``/``frequency_penalty`` become one ``repetition_penalty`` of
  ``1 + (max(presence, 0) + max(frequency, 0)) / 4`` (so 2 and 2 give 2.0); negative values are ignored.
- ``n > 1`` with ``temperature: 0`` returns the single greedy answer ``n`` times.
- Tool calls and ``response_format`` JSON are built from the request's JSON Schemas and filled with the
  model's words (``structured.py``): they validate, they do not mean anything.
- Every model name is answered by the local model, and the response echoes the name that was asked for.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from migrator.runtime import schemas
from migrator.runtime.backend import LocalBackend, ModelUnavailable
from migrator.runtime.errors import ApiError
from migrator.runtime.events import (
    Answer,
    End,
    Piece,
    chain,
    collect,
    json_events,
    pieces,
    text_events,
    tool_events,
)
from migrator.runtime.scheduler import Job, QueueFull, Sampling
from migrator.runtime.structured import check_schema, instance, json_object, pick_tools

__all__ = ["ApiError", "ApiResponse", "EventStream", "OpenAIApi"]

MAX_BODY_BYTES = 1_000_000
DEFAULT_MAX_TOKENS = 64
FILLER_TOKENS = 24  # model text generated to fill JSON strings and tool arguments


class EventStream:
    """Server-sent-event bytes; :meth:`close` (a client that went away) cancels the generation."""

    def __init__(self, chunks: Iterator[bytes], on_close: Callable[[], None]) -> None:
        self._chunks, self._on_close = chunks, on_close

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self._on_close()


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    stream: EventStream | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return "text/event-stream" if self.stream is not None else "application/json"


def _json(status: int, payload: Any) -> ApiResponse:
    return ApiResponse(status, json.dumps(payload).encode())


def _error(exc: ApiError) -> ApiResponse:
    return ApiResponse(exc.status, exc.json(), headers=dict(exc.headers))


def data_events(payloads: Iterator[dict[str, Any]], done: bool = True) -> Iterator[bytes]:
    """Chat and completion chunks end with ``data: [DONE]``; Responses API events instead name their
    type on an ``event:`` line and end with their last event, as the real API sends them."""
    for payload in payloads:
        name = "" if done else f"event: {payload['type']}\n"
        yield f"{name}data: {json.dumps(payload)}\n\n".encode()
    if done:
        yield b"data: [DONE]\n\n"


Route = Callable[[bytes], ApiResponse]


@dataclass(frozen=True)
class ToolPlan:
    """The tools a chat request calls (none: answer with text), their parameter schemas, and whether
    they came as legacy ``functions`` (answered with ``function_call``)."""

    calls: list[str]
    schemas: dict[str, dict[str, Any] | None]
    legacy: bool


class OpenAIApi:
    """Routes and validates requests; ``max_tokens_cap`` bounds any one request's generation."""

    def __init__(self, backend: LocalBackend, max_tokens_cap: int = 512, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        from migrator.runtime.responses_api import ResponsesEndpoint

        self.backend = backend
        self.max_tokens_cap = max_tokens_cap
        self.max_body_bytes = max_body_bytes
        self.responses = ResponsesEndpoint(self)
        self.routes: dict[str, tuple[str, Route]] = {
            "/health": ("GET", lambda body: _json(200, {"status": "ok", **self.backend.describe()})),
            "/v1/models": ("GET", lambda body: _json(200, {"object": "list", "data": [self._model_card()]})),
            "/openapi.json": ("GET", lambda body: _json(200, self.openapi())),
            "/v1/chat/completions": ("POST", self.chat_completions),
            "/v1/completions": ("POST", self.completions),
            "/v1/embeddings": ("POST", self.embeddings),
            "/v1/responses": ("POST", self.responses.create),
        }

    def handle(self, method: str, path: str, body: bytes) -> ApiResponse:
        path = path.split("?", 1)[0].rstrip("/") or "/"
        if path not in self.routes:
            return _error(ApiError(404, f"Unknown request URL: {method} {path}. Please check the URL for typos.",
                                   code="unknown_url"))
        allowed, route = self.routes[path]
        if method != allowed:
            return _error(ApiError(405, f"Method {method} is not allowed on {path}; use {allowed}.",
                                   code="method_not_allowed"))
        return self.call(route, body)

    def call(self, route: Route, body: bytes) -> ApiResponse:
        """Run one route, turning every failure into an OpenAI error body."""
        try:
            if len(body) > self.max_body_bytes:
                raise ApiError(413, f"Request body too large: {len(body)} bytes, at most {self.max_body_bytes}.")
            return route(body)
        except ApiError as exc:
            return _error(exc)
        except ModelUnavailable as exc:
            return _error(ApiError(503, str(exc), kind="server_error", code="model_unavailable"))
        except QueueFull as exc:
            return _error(ApiError(429, f"Rate limit reached: {exc}. Please try again in 1s.", kind="requests",
                                   code="rate_limit_exceeded", headers={"retry-after": "1"}))
        except Exception as exc:  # noqa: BLE001 - a bug must still answer in OpenAI's shape, never hang
            return _error(ApiError(500, f"The local backend failed: {type(exc).__name__}: {exc}", kind="server_error",
                                   code="internal_error"))

    def openapi(self) -> dict[str, Any]:
        from migrator.runtime.openapi import document

        return document(self)

    # -- shared by the endpoints ------------------------------------------------------------------
    def _model_card(self) -> dict[str, Any]:
        return {"id": self.backend.model_id, "object": "model", "created": 0, "owned_by": "migrate-local"}

    def sampling(self, req: Any, prompt_tokens: int, max_tokens: int | None, param: str = "max_tokens",
                 filler: bool = False) -> Sampling:
        """The decoding settings of a request, checked against the context window (once per request)."""
        limit = self.backend.context_length
        if max_tokens is not None and max_tokens > self.max_tokens_cap:
            raise ApiError(400, f"max_tokens is too large: {max_tokens}. This model supports at most "
                                f"{self.max_tokens_cap} completion tokens, whereas you provided {max_tokens}.",
                           param=param, code="invalid_value")
        wanted = max_tokens if max_tokens is not None else min(DEFAULT_MAX_TOKENS, max(1, limit - prompt_tokens))
        if prompt_tokens + wanted > limit:
            raise ApiError(400, f"This model's maximum context length is {limit} tokens. However, you requested "
                                f"{prompt_tokens + wanted} tokens ({prompt_tokens} in the messages, {wanted} in "
                                "the completion). Please reduce the length of the messages or completion.",
                           param="messages", code="context_length_exceeded")
        stop = getattr(req, "stop", None)
        presence = max(0.0, getattr(req, "presence_penalty", None) or 0.0)
        frequency = max(0.0, getattr(req, "frequency_penalty", None) or 0.0)
        return Sampling(
            max_tokens=min(wanted, FILLER_TOKENS) if filler else wanted,
            temperature=1.0 if req.temperature is None else req.temperature,
            top_p=1.0 if req.top_p is None else req.top_p,
            n=getattr(req, "n", None) or 1,
            stop=() if filler or not stop else (stop,) if isinstance(stop, str) else tuple(stop),
            seed=req.seed,
            repetition_penalty=1.0 + (presence + frequency) / 4,
        )

    def submit(self, prompt_ids: list[int], sampling: Sampling) -> Job:
        return self.backend.submit(prompt_ids, sampling)

    def split(self, text: str) -> list[str]:
        tokenizer = self.backend.tokenizer
        return pieces(text, self.backend.encode, lambda ids: tokenizer.decode(ids, skip_special_tokens=True))

    @staticmethod
    def usage(answer_prompt: int, completion: int) -> dict[str, int]:
        return {"prompt_tokens": answer_prompt, "completion_tokens": completion,
                "total_tokens": answer_prompt + completion}

    def stream(self, answer: Answer, payloads: Iterator[dict[str, Any]], done: bool = True) -> ApiResponse:
        return ApiResponse(200, stream=EventStream(data_events(payloads, done), answer.cancel))

    # -- chat completions -------------------------------------------------------------------------
    def chat_completions(self, body: bytes) -> ApiResponse:
        req = schemas.parse(schemas.ChatCompletionRequest, body)
        messages = [self._chat_message(m) for m in req.messages]
        tools = self._chat_tools(req)
        prompt_ids = self.backend.chat_prompt_ids(messages)
        structured = bool(tools.calls) or (req.response_format is not None and req.response_format.type != "text")
        sampling = self.sampling(req, len(prompt_ids), req.max_completion_tokens or req.max_tokens,
                                 param="max_completion_tokens" if req.max_completion_tokens else "max_tokens",
                                 filler=structured)
        job = self.submit(prompt_ids, sampling)
        if tools.calls:
            chosen, schemas_by_name = tools.calls, tools.schemas
            for name in chosen:
                check_schema(schemas_by_name[name], f"function '{name}'", "tools" if not tools.legacy else "functions")

            def calls(words: Any) -> list[tuple[str, Any]]:
                return [(name, instance(schemas_by_name[name] or {"type": "object", "properties": {}}, words))
                        for name in chosen]

            events = tool_events(job, calls, self.split, self.backend.count_tokens,
                                 "function_call" if tools.legacy else "tool_calls")
        elif structured:
            events = json_events(job, self._format_builder(req.response_format), self.split, self.backend.count_tokens)
        else:
            events = text_events(job)
        answer = Answer(len(prompt_ids), events, [job])
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        head = {"id": ident, "created": created, "model": req.model, "system_fingerprint": "migrate-local"}
        if req.stream:
            include_usage = bool(req.stream_options and req.stream_options.include_usage)
            return self.stream(answer, self._chat_chunks(answer, head, sampling.n, include_usage, tools.legacy))
        choices = collect(answer)
        completion = sum(c.completion_tokens for c in choices.values())
        return _json(200, {
            **head, "object": "chat.completion",
            "choices": [{"index": i, "message": self._message(c, tools.legacy), "logprobs": None,
                         "finish_reason": c.finish_reason} for i, c in sorted(choices.items())],
            "usage": self.usage(answer.prompt_tokens, completion),
        })

    @staticmethod
    def _chat_message(message: schemas.ChatMessage) -> dict[str, Any]:
        """A message as the chat template sees it: text content, tool calls written out as text."""
        content = message.content
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(str(p.get("text", "")) for p in content if isinstance(p.get("text", ""), str))
        text = content or ""
        for call in message.tool_calls or []:
            function = call.get("function")
            function = function if isinstance(function, dict) else {}
            text += f"{function.get('name', '')}({function.get('arguments', '')})"
        if message.function_call:
            text += f"{message.function_call.get('name', '')}({message.function_call.get('arguments', '')})"
        return {"role": message.role, "content": text}

    @staticmethod
    def _chat_tools(req: schemas.ChatCompletionRequest) -> ToolPlan:
        legacy = req.tools is None and req.functions is not None
        choice: str | schemas.NamedToolChoice | schemas.NamedFunction | None
        if req.tools:
            defs = [t.function for t in req.tools]
            choice = req.tool_choice
            param = "tool_choice"
        else:
            defs = list(req.functions or [])
            choice = req.function_call
            param = "function_call"
        names = [d.name for d in defs]
        forced = None
        if isinstance(choice, schemas.NamedToolChoice):
            forced = choice.function.name
        elif isinstance(choice, schemas.NamedFunction):
            forced = choice.name
        if forced is not None and forced not in names:
            raise ApiError(400, f"Invalid value for '{param}': function '{forced}' not found in "
                                f"'{'tools' if param == 'tool_choice' else 'functions'}' parameter.",
                           param=param, code="invalid_value")
        if isinstance(choice, str) and choice == "required" and not names:
            raise ApiError(400, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                                "specified.", param="tool_choice", code="invalid_value")
        last_user = next((m for m in reversed(req.messages) if m.role == "user"), None)
        last_text = OpenAIApi._chat_message(last_user)["content"] if last_user else ""
        chosen = pick_tools(names, choice if isinstance(choice, str) else None, forced, last_text,
                            req.messages[-1].role, parallel=req.parallel_tool_calls is not False and not legacy)
        return ToolPlan(chosen, {d.name: d.parameters for d in defs}, legacy)

    @staticmethod
    def _format_builder(fmt: schemas.ResponseFormat | None) -> Callable[[Any], Any]:
        if fmt is not None and fmt.type == "json_schema":
            if fmt.json_schema is None:
                raise ApiError(400, "Missing required parameter: 'response_format.json_schema'.",
                               param="response_format.json_schema", code="missing_required_parameter")
            schema = fmt.json_schema.schema_ or {"type": "object"}
            check_schema(schema, f"response_format '{fmt.json_schema.name}'", "response_format")
            return lambda words: instance(schema, words)
        return json_object

    @staticmethod
    def _message(choice: Any, legacy: bool) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": choice.text if not choice.calls else None,
                                   "refusal": None}
        if choice.calls and legacy:
            call, arguments = choice.calls[0]
            message["function_call"] = {"name": call.name, "arguments": arguments}
        elif choice.calls:
            message["tool_calls"] = [{"id": call.call_id, "type": "function",
                                      "function": {"name": call.name, "arguments": arguments}}
                                     for call, arguments in choice.calls]
        return message

    def _chat_chunks(self, answer: Answer, head: dict[str, Any], n: int, include_usage: bool,
                     legacy: bool) -> Iterator[dict[str, Any]]:
        base = {**head, "object": "chat.completion.chunk", **({"usage": None} if include_usage else {})}

        def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        for index in range(n):
            yield chunk(index, {"role": "assistant", "content": ""})
        completion = 0
        for event in answer.events:
            if isinstance(event, End):
                completion += event.completion_tokens
                yield chunk(event.index, {}, event.finish_reason)
            elif event.call is None:
                yield chunk(event.index, {"content": event.text})
            elif legacy:
                start = {"name": event.call.name} if not event.text else {}
                yield chunk(event.index, {"function_call": {**start, "arguments": event.text}})
            elif not event.text:  # a call begins: its id, type and name
                yield chunk(event.index, {"tool_calls": [{"index": event.call.position, "id": event.call.call_id,
                                                          "type": "function",
                                                          "function": {"name": event.call.name, "arguments": ""}}]})
            else:
                yield chunk(event.index, {"tool_calls": [{"index": event.call.position,
                                                          "function": {"arguments": event.text}}]})
        if include_usage:
            yield {**base, "choices": [], "usage": self.usage(answer.prompt_tokens, completion)}

    # -- completions ------------------------------------------------------------------------------
    def completions(self, body: bytes) -> ApiResponse:
        req = schemas.parse(schemas.CompletionRequest, body)
        prompts = [req.prompt] if isinstance(req.prompt, str) else list(req.prompt)
        eos = self.backend.tokenizer.eos_token_id
        encoded = [self.backend.encode(text) or [eos] for text in prompts]
        plans = [(ids, self.sampling(req, len(ids), req.max_tokens)) for ids in encoded]  # all checked first
        jobs = [self.submit(ids, sampling) for ids, sampling in plans]
        n = plans[0][1].n
        events = chain(*(text_events(job, offset=i * n, prefix=prompts[i] if req.echo else "")
                         for i, job in enumerate(jobs)))
        answer = Answer(sum(len(ids) for ids in encoded), events, jobs)
        ident, created = f"cmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        head = {"id": ident, "object": "text_completion", "created": created, "model": req.model,
                "system_fingerprint": "migrate-local"}
        if req.stream:
            include_usage = bool(req.stream_options and req.stream_options.include_usage)
            return self.stream(answer, self._completion_chunks(answer, head, include_usage))
        choices = collect(answer)
        completion = sum(c.completion_tokens for c in choices.values())
        return _json(200, {
            **head,
            "choices": [{"index": i, "text": c.text, "logprobs": None, "finish_reason": c.finish_reason}
                        for i, c in sorted(choices.items())],
            "usage": self.usage(answer.prompt_tokens, completion),
        })

    def _completion_chunks(self, answer: Answer, head: dict[str, Any], include_usage: bool) -> Iterator[dict[str, Any]]:
        completion = 0
        for event in answer.events:
            if isinstance(event, Piece):
                choice = {"index": event.index, "text": event.text, "logprobs": None, "finish_reason": None}
            else:
                completion += event.completion_tokens
                choice = {"index": event.index, "text": "", "logprobs": None, "finish_reason": event.finish_reason}
            yield {**head, "choices": [choice], **({"usage": None} if include_usage else {})}
        if include_usage:
            yield {**head, "choices": [], "usage": self.usage(answer.prompt_tokens, completion)}

    # -- embeddings -------------------------------------------------------------------------------
    def embeddings(self, body: bytes) -> ApiResponse:
        req = schemas.parse(schemas.EmbeddingRequest, body)
        texts = [req.input] if isinstance(req.input, str) else list(req.input)
        vectors, tokens = self.backend.embed(texts)
        items = []
        for index, vector in enumerate(vectors):
            value: object = vector
            if req.encoding_format == "base64":
                value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            items.append({"object": "embedding", "index": index, "embedding": value})
        return _json(200, {"object": "list", "data": items, "model": req.model,
                           "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
