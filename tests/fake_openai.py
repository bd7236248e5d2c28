"""A deterministic OpenAI-compatible server for tests: real HTTP on 127.0.0.1, a free port, stdlib only.

Both SDKs talk to it: the legacy v0 SDK (requests/aiohttp) and the current one (httpx2). Replies are
derived from the request, so the legacy and the migrated program must print the same thing.
A model named ``error-<status>`` answers with that HTTP status and OpenAI's error body; ``slow-<ms>``
answers after that many milliseconds (to test client timeouts).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

CREATED = 1700000000


def _words(text: str) -> int:
    return len(str(text).split())


def _vector(text: str, dims: int = 8) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round((b - 128) / 128, 4) for b in digest[:dims]]


def _reply(messages: list[dict]) -> str:
    if _answered(messages):
        return f"echo: {messages[-1].get('content') or ''}"
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {"content": ""})
    return f"echo: {last.get('content') or ''}"


def _answered(messages: list[dict]) -> bool:
    """A conversation ending in a function/tool result gets a plain answer (agent loops end)."""
    return bool(messages) and messages[-1].get("role") in ("function", "tool")


def _chosen(names: list[str], messages: list[dict]) -> str:
    """The function whose name the last user message mentions, else the first one."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {"content": ""})
    return next((n for n in names if n in str(last.get("content") or "")), names[0])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    # -- plumbing ---------------------------------------------------------------------------------
    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", self.headers.get("X-Request-Id", "req_fake"))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        kinds = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error", 429: "rate_limit_exceeded"}
        self._send(status, {"error": {"message": message, "type": kinds.get(status, "server_error"), "param": None, "code": None}})

    def _stream(self, chunks: list[dict]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in [*(json.dumps(c) for c in chunks), "[DONE]"]:
            data = f"data: {chunk}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Type", "").startswith("application/json") and raw:
            return json.loads(raw)
        return {"_raw": raw}

    def _route(self) -> tuple[str, str | None]:
        path = self.path.split("?")[0]
        azure = re.match(r"^/openai/deployments/([^/]+)/(.*)$", path)
        if azure:
            return "/" + azure.group(2), azure.group(1)
        path = re.sub(r"^/v1", "", path)
        engine = re.match(r"^/engines/([^/]+)(/.*)$", path)  # v0's `engine=` outside Azure
        if engine:
            return engine.group(2), engine.group(1)
        return path, None

    # -- endpoints --------------------------------------------------------------------------------
    def do_GET(self) -> None:
        path, _ = self._route()
        if path == "/models":
            self._send(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": CREATED, "owned_by": "fake"} for m in ("gpt-4o", "gpt-4o-mini")
            ]})
        elif path.startswith("/models/"):
            self._send(200, {"id": path.split("/")[-1], "object": "model", "created": CREATED, "owned_by": "fake"})
        else:
            self._error(404, f"no route {path}")

    def _settings(self) -> str:
        """What the request says about the caller's configuration, echoed in replies so that a migration
        that drops it (organization, Azure api-version) changes the program's output."""
        parts = []
        organization = self.headers.get("OpenAI-Organization")
        if organization:
            parts.append(f"org={organization}")
        version = re.search(r"[?&]api-version=([^&]+)", self.path)
        if version:
            parts.append(f"api-version={version.group(1)}")
        return f" [{' '.join(parts)}]" if parts else ""

    def do_POST(self) -> None:
        path, deployment = self._route()
        if not (self.headers.get("Authorization", "").removeprefix("Bearer ").strip() not in ("", "None")
                or self.headers.get("api-key")):
            self._error(401, "no API key")  # what api.openai.com answers (v0 sent 'Bearer None' or nothing)
            return
        body = self._body()
        model = deployment or body.get("model") or ""
        status = re.match(r"^error-(\d{3})$", model)
        if status:
            self._error(int(status.group(1)), f"simulated {status.group(1)}")
            return
        slow = re.match(r"^slow-(\d+)$", model)
        if slow:  # answers late: a client with a shorter timeout gives up first (and has hung up)
            time.sleep(int(slow.group(1)) / 1000)
            try:
                self._answer(path, body, model)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            return
        self._answer(path, body, model)

    def _answer(self, path: str, body: dict, model: str) -> None:
        if path == "/chat/completions":
            self._chat(body, model)
        elif path == "/completions":
            self._completion(body, model)
        elif path == "/embeddings":
            self._embeddings(body, model)
        elif path == "/moderations":
            self._moderation(body)
        elif path == "/images/generations":
            self._send(200, {"created": CREATED, "data": [{"url": f"https://images.invalid/{_words(body.get('prompt', ''))}.png"}]})
        else:
            self._error(404, f"no route {path}")

    def _chat(self, body: dict, model: str) -> None:
        messages = body.get("messages", [])
        content = _reply(messages) + self._settings()
        n = int(body.get("n") or 1)
        message: dict = {"role": "assistant", "content": content}
        finish = "stop"
        if body.get("tools") and not _answered(messages):
            name = _chosen([t["function"]["name"] for t in body["tools"]], messages)
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": name, "arguments": '{"city": "Paris"}'}}]}
            finish = "tool_calls"
        elif body.get("functions") and not _answered(messages):
            name = _chosen([f["name"] for f in body["functions"]], messages)
            message = {"role": "assistant", "content": None, "function_call": {"name": name, "arguments": '{"city": "Paris"}'}}
            finish = "function_call"
        usage = {"prompt_tokens": sum(_words(m.get("content", "")) for m in messages),
                 "completion_tokens": _words(content), "total_tokens": 0}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream"):
            base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": CREATED, "model": model}
            chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
            for i, word in enumerate(content.split(" ")):
                piece = word if i == 0 else " " + word
                chunks.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            self._stream(chunks)
            return
        self._send(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": CREATED, "model": model,
            "choices": [{"index": i, "message": message, "finish_reason": finish} for i in range(n)],
            "usage": usage,
        })

    def _completion(self, body: dict, model: str) -> None:
        prompt = body.get("prompt", "")
        text = f" echo: {prompt}"
        if body.get("stream"):
            base = {"id": "cmpl-fake", "object": "text_completion", "created": CREATED, "model": model}
            chunks = [{**base, "choices": [{"index": 0, "text": w, "finish_reason": None, "logprobs": None}]} for w in text.split(" ")]
            self._stream(chunks)
            return
        self._send(200, {
            "id": "cmpl-fake", "object": "text_completion", "created": CREATED, "model": model,
            "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": _words(prompt), "completion_tokens": _words(text), "total_tokens": _words(prompt) + _words(text)},
        })

    def _embeddings(self, body: dict, model: str) -> None:
        inputs = body.get("input", [])
        inputs = [inputs] if isinstance(inputs, str) else inputs
        data = []
        for i, text in enumerate(inputs):
            vector = _vector(str(text))
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                data.append({"object": "embedding", "index": i, "embedding": encoded})
            else:
                data.append({"object": "embedding", "index": i, "embedding": vector})
        tokens = sum(_words(t) for t in inputs)
        self._send(200, {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _moderation(self, body: dict) -> None:
        inputs = body.get("input", "")
        inputs = [inputs] if isinstance(inputs, str) else inputs
        names = ["harassment", "harassment/threatening", "hate", "hate/threatening", "self-harm", "self-harm/instructions",
                 "self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic"]
        results = []
        for text in inputs:
            flagged = "hurt myself" in text
            results.append({
                "flagged": flagged,
                "categories": {n: flagged and n.startswith("self-harm") for n in names},
                "category_scores": {n: 0.9 if flagged and n.startswith("self-harm") else 0.01 for n in names},
            })
        self._send(200, {"id": "modr-fake", "model": "text-moderation-latest", "results": results})


class FakeOpenAI:
    """Start with ``with FakeOpenAI() as server: server.url``; stops on exit."""

    def __enter__(self) -> Self:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
