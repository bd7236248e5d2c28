"""OpenAI's HTTP API over the local backend, independent of any web framework.

``OpenAIApi.handle(method, path, body)`` returns an :class:`ApiResponse`: a JSON body, or an iterator of
server-sent-event bytes for ``stream: true``. Errors use OpenAI's shape,
``{"error": {"message", "type", "param", "code"}}``, with OpenAI's status codes.

Approximations, documented because a 124M-parameter local model is not GPT-4o:
- ``presence_penalty``/``frequency_penalty`` become one ``repetition_penalty`` of
  ``1 + (max(presence, 0) + max(frequency, 0)) / 4`` (so 2 and 2 give 2.0); negative values are ignored.
- ``n > 1`` with ``temperature: 0`` returns the single greedy answer ``n`` times.
- Streaming generates the whole answer, then sends it token by token: chunks always reassemble to the
  non-streamed text for the same request and seed.
- Every model name is answered by the local model, and the response echoes the name that was asked for.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from migrator.runtime.backend import LocalBackend, ModelUnavailable

MAX_BODY_BYTES = 1_000_000
DEFAULT_MAX_TOKENS = 64


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    stream: Iterator[bytes] | None = None

    @property
    def content_type(self) -> str:
        return "text/event-stream" if self.stream is not None else "application/json"


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def response(self) -> ApiResponse:
        body = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}
        return ApiResponse(self.status, json.dumps(body).encode())


def _json(status: int, payload: dict) -> ApiResponse:
    return ApiResponse(status, json.dumps(payload).encode())


def _sse(events: Iterator[dict]) -> Iterator[bytes]:
    for event in events:
        yield f"data: {json.dumps(event)}\n\n".encode()
    yield b"data: [DONE]\n\n"


class OpenAIApi:
    """Routes and validates requests; ``max_tokens_cap`` bounds any one request's generation."""

    def __init__(self, backend: LocalBackend, max_tokens_cap: int = 512, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.backend = backend
        self.max_tokens_cap = max_tokens_cap
        self.max_body_bytes = max_body_bytes

    def handle(self, method: str, path: str, body: bytes) -> ApiResponse:
        path = path.split("?", 1)[0].rstrip("/") or "/"
        try:
            if len(body) > self.max_body_bytes:
                raise ApiError(413, f"Request body too large: {len(body)} bytes, at most {self.max_body_bytes}.")
            if method == "GET" and path == "/health":
                return _json(200, {"status": "ok", "model": self.backend.model_id})
            if method == "GET" and path == "/v1/models":
                return _json(200, {"object": "list", "data": [self._model_card()]})
            routes = {
                "/v1/chat/completions": self.chat_completions,
                "/v1/completions": self.completions,
                "/v1/embeddings": self.embeddings,
            }
            if path not in routes:
                raise ApiError(404, f"Unknown request URL: {method} {path}.", code="unknown_url")
            if method != "POST":
                raise ApiError(405, f"Method {method} is not allowed on {path}; use POST.")
            return routes[path](self._parse(body))
        except ApiError as exc:
            return exc.response()
        except ModelUnavailable as exc:
            return ApiError(503, str(exc), kind="server_error", code="model_unavailable").response()

    # -- helpers ----------------------------------------------------------------------------------
    def _model_card(self) -> dict:
        return {"id": self.backend.model_id, "object": "model", "created": 0, "owned_by": "migrate-local"}

    @staticmethod
    def _parse(body: bytes) -> dict:
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "We could not parse the JSON body of your request. The body must be valid JSON.") from None
        if not isinstance(data, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return data

    @staticmethod
    def _require(data: dict, name: str, kind: type | tuple[type, ...], what: str) -> object:
        if name not in data:
            raise ApiError(400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
        value = data[name]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise ApiError(400, f"Invalid type for '{name}': expected {what}.", param=name, code="invalid_type")
        return value

    def _number(self, data: dict, name: str, default: float, low: float, high: float) -> float:
        value = data.get(name)
        if value is None:
            return default
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
            raise ApiError(400, f"Invalid value for '{name}': expected a number from {low} to {high}.", param=name)
        return float(value)

    def _settings(self, data: dict, prompt_tokens: int) -> dict:
        if data.get("tools") or data.get("functions"):
            param = "tools" if data.get("tools") else "functions"
            raise ApiError(400, "The local test model cannot call tools or functions; mock the tool call in "
                                "this test or run it against a real model (MIGRATE_BACKEND_URL).", param=param)
        max_tokens = data.get("max_completion_tokens", data.get("max_tokens"))
        if max_tokens is None:
            max_tokens = DEFAULT_MAX_TOKENS
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise ApiError(400, "Invalid value for 'max_tokens': expected a positive integer.", param="max_tokens")
        if max_tokens > self.max_tokens_cap:
            raise ApiError(400, f"max_tokens is too large: {max_tokens}. This server supports at most "
                                f"{self.max_tokens_cap} completion tokens.", param="max_tokens")
        limit = self.backend.context_length
        if prompt_tokens + max_tokens > limit:
            raise ApiError(400, f"This model's maximum context length is {limit} tokens. However, you requested "
                                f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, {max_tokens} "
                                "in the completion). Please reduce the length of the messages or completion.",
                           param="messages", code="context_length_exceeded")
        stop = data.get("stop") or []
        stop = [stop] if isinstance(stop, str) else stop
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop) or len(stop) > 4:
            raise ApiError(400, "Invalid value for 'stop': expected a string or a list of at most 4 strings.", param="stop")
        n = data.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 8:
            raise ApiError(400, "Invalid value for 'n': expected an integer from 1 to 8.", param="n")
        seed = data.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ApiError(400, "Invalid type for 'seed': expected an integer.", param="seed")
        presence = max(0.0, self._number(data, "presence_penalty", 0.0, -2.0, 2.0))
        frequency = max(0.0, self._number(data, "frequency_penalty", 0.0, -2.0, 2.0))
        return {
            "max_tokens": max_tokens,
            "temperature": self._number(data, "temperature", 1.0, 0.0, 2.0),
            "top_p": self._number(data, "top_p", 1.0, 0.0, 1.0),
            "n": n,
            "stop": stop,
            "seed": seed,
            "repetition_penalty": 1.0 + (presence + frequency) / 4,
        }

    # -- endpoints --------------------------------------------------------------------------------
    def chat_completions(self, data: dict) -> ApiResponse:
        model = self._require(data, "model", str, "a string")
        messages = self._require(data, "messages", list, "an array of messages")
        if not messages:
            raise ApiError(400, "Invalid 'messages': empty array. Expected an array with minimum length 1.", param="messages")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                raise ApiError(400, f"Invalid value for 'messages[{index}]': expected an object with a 'role'.",
                               param=f"messages[{index}]")
            content = message.get("content")
            if isinstance(content, list):  # content parts: keep the text ones
                message = {**message, "content": "".join(p.get("text", "") for p in content if isinstance(p, dict))}
                messages[index] = message
            elif content is not None and not isinstance(content, str):
                raise ApiError(400, f"Invalid type for 'messages[{index}].content'.", param=f"messages[{index}].content")
        prompt_ids = self.backend.chat_prompt_ids(messages)
        settings = self._settings(data, len(prompt_ids))
        outputs = self.backend.generate(prompt_ids, **settings)
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        usage = self._usage(len(prompt_ids), outputs)
        if data.get("stream"):
            include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
            return ApiResponse(200, stream=_sse(self._chat_chunks(ident, created, model, outputs, usage, include_usage)))
        return _json(200, {
            "id": ident, "object": "chat.completion", "created": created, "model": model,
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": out.text, "refusal": None},
                 "logprobs": None, "finish_reason": out.finish_reason}
                for i, out in enumerate(outputs)
            ],
            "usage": usage, "system_fingerprint": "migrate-local",
        })

    def _chat_chunks(self, ident, created, model, outputs, usage, include_usage) -> Iterator[dict]:
        base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": "migrate-local"}
        extra = {"usage": None} if include_usage else {}
        for i, out in enumerate(outputs):
            yield {**base, **extra, "choices": [{"index": i, "delta": {"role": "assistant", "content": ""},
                                                 "logprobs": None, "finish_reason": None}]}
            for piece in self._pieces(out.text):
                yield {**base, **extra, "choices": [{"index": i, "delta": {"content": piece}, "logprobs": None,
                                                     "finish_reason": None}]}
            yield {**base, **extra, "choices": [{"index": i, "delta": {}, "logprobs": None,
                                                 "finish_reason": out.finish_reason}]}
        if include_usage:
            yield {**base, "choices": [], "usage": usage}

    def _pieces(self, text: str) -> list[str]:
        """Split ``text`` into token-sized pieces that join back to exactly ``text``."""
        tokenizer = self.backend.tokenizer
        pieces, previous = [], ""
        ids = self.backend.encode(text)
        for end in range(1, len(ids) + 1):
            current = tokenizer.decode(ids[:end], skip_special_tokens=True)
            if current.startswith(previous) and len(current) > len(previous):
                pieces.append(current[len(previous):])
                previous = current
        if previous != text:  # a piece split inside a multi-byte character: send the rest at once
            pieces.append(text[len(previous):])
        return pieces

    @staticmethod
    def _usage(prompt_tokens: int, outputs) -> dict:
        completion = sum(out.completion_tokens for out in outputs)
        return {"prompt_tokens": prompt_tokens, "completion_tokens": completion, "total_tokens": prompt_tokens + completion}

    def completions(self, data: dict) -> ApiResponse:
        model = self._require(data, "model", str, "a string")
        prompt = self._require(data, "prompt", (str, list), "a string or an array of strings")
        prompts = [prompt] if isinstance(prompt, str) else prompt
        if not prompts or not all(isinstance(p, str) for p in prompts):
            raise ApiError(400, "Invalid value for 'prompt': expected a string or an array of strings.", param="prompt")
        choices, prompt_total, outputs_all = [], 0, []
        for text in prompts:
            ids = self.backend.encode(text) or [self.backend.tokenizer.eos_token_id]
            settings = self._settings(data, len(ids))
            outputs = self.backend.generate(ids, **settings)
            prompt_total += len(ids)
            outputs_all.extend(outputs)
            for out in outputs:
                choices.append({"index": len(choices), "text": out.text, "logprobs": None, "finish_reason": out.finish_reason})
        ident, created = f"cmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        usage = self._usage(prompt_total, outputs_all)
        if data.get("stream"):
            base = {"id": ident, "object": "text_completion", "created": created, "model": model}

            def events() -> Iterator[dict]:
                for choice in choices:
                    for piece in self._pieces(choice["text"]):
                        yield {**base, "choices": [{"index": choice["index"], "text": piece, "logprobs": None, "finish_reason": None}]}
                    yield {**base, "choices": [{"index": choice["index"], "text": "", "logprobs": None,
                                                "finish_reason": choice["finish_reason"]}]}
                if (data.get("stream_options") or {}).get("include_usage"):
                    yield {**base, "choices": [], "usage": usage}

            return ApiResponse(200, stream=_sse(events()))
        return _json(200, {"id": ident, "object": "text_completion", "created": created, "model": model,
                           "choices": choices, "usage": usage})

    def embeddings(self, data: dict) -> ApiResponse:
        model = self._require(data, "model", str, "a string")
        raw = self._require(data, "input", (str, list), "a string or an array of strings")
        texts = [raw] if isinstance(raw, str) else raw
        if not texts or not all(isinstance(t, str) for t in texts):
            raise ApiError(400, "The local backend embeds strings only ('input' must be a string or an array of strings).",
                           param="input")
        encoding = data.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise ApiError(400, "Invalid value for 'encoding_format': expected 'float' or 'base64'.", param="encoding_format")
        vectors, tokens = self.backend.embed(texts)
        items = []
        for index, vector in enumerate(vectors):
            value: object = vector
            if encoding == "base64":
                value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            items.append({"object": "embedding", "index": index, "embedding": value})
        return _json(200, {"object": "list", "data": items, "model": model,
                           "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
