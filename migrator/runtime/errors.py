"""OpenAI-shaped errors: ``{"error": {"message", "type", "param", "code"}}`` with the real status codes."""

from __future__ import annotations

import json


class ApiError(Exception):
    """An error answer. ``kind`` is the body's ``type``; ``headers`` go on the HTTP response."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}

    def json(self) -> bytes:
        return json.dumps(self.body()).encode()
