"""The OpenAPI 3.1 document served at ``/openapi.json``, generated from the request models.

Request bodies come from :mod:`migrator.runtime.schemas`; response bodies are the openai SDK's own
pydantic types (``ChatCompletion``, ``Completion``, ``CreateEmbeddingResponse``, ``Response``), so the
document describes exactly what the SDK parses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from migrator.runtime.schemas import REQUEST_MODELS

if TYPE_CHECKING:  # pragma: no cover
    from migrator.runtime.api import OpenAIApi

_REF = "#/components/schemas/{model}"


def _response_models() -> dict[str, type[BaseModel]]:
    from openai.types import Completion, CreateEmbeddingResponse
    from openai.types.chat import ChatCompletion
    from openai.types.responses import Response

    return {"/v1/chat/completions": ChatCompletion, "/v1/completions": Completion,
            "/v1/embeddings": CreateEmbeddingResponse, "/v1/responses": Response}


def document(api: OpenAIApi) -> dict[str, Any]:
    responses = _response_models()
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m, "validation") for m in REQUEST_MODELS.values()]
    models += [(m, "serialization") for m in responses.values()]
    refs, defs = models_json_schema(models, ref_template=_REF)
    error = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["message", "type", "param", "code"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                       "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}}
    failure = {"description": "An OpenAI-shaped error", "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}}}
    paths: dict[str, Any] = {}
    for path, (method, _route) in api.routes.items():
        operation: dict[str, Any] = {"operationId": path.strip("/").replace("/", "_").replace(".", "_") or "root",
                                     "responses": {"default": failure}}
        if path in REQUEST_MODELS:
            request = refs[(REQUEST_MODELS[path], "validation")]
            answer = refs[(responses[path], "serialization")]
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
            content: dict[str, Any] = {"application/json": {"schema": answer}}
            if path != "/v1/embeddings":
                content["text/event-stream"] = {"schema": {"type": "string"}}
            operation["responses"]["200"] = {"description": "OK", "content": content}
        else:
            operation["responses"]["200"] = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
        paths[path] = {method.lower(): operation}
    return {
        "openapi": "3.1.0",
        "info": {"title": "migrate local OpenAI backend", "version": "1"},
        "paths": paths,
        "components": {"schemas": {**defs.get("$defs", {}), "Error": error}},
    }
