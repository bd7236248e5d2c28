"""Request models of the local OpenAI API (pydantic, which the openai SDK already installs).

Each endpoint's body is validated once, in JSON strict mode (``true`` is not a number, ``1.0`` is not an
integer), and validation errors become OpenAI's error body: the same ``param`` path
(``messages[0].content``) and the same ``code`` the real API uses for the mistake
(``missing_required_parameter``, ``invalid_type``, ``empty_array``, ``decimal_above_max_value``, ...).
Unknown parameters are accepted and ignored, like options a local model has no use for (``user``,
``store``, ``logit_bias``, ...).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from migrator.runtime.errors import ApiError

Number = Annotated[float, Field(allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class FunctionDefinition(_Closed):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ChatTool(_Closed):
    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(_Closed):
    name: str


class NamedToolChoice(_Closed):
    type: Literal["function"]
    function: NamedFunction


class StreamOptions(_Closed):
    include_usage: bool | None = None


class JsonSchemaFormat(_Closed):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Closed):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class ChatMessage(_Model):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    function_call: dict[str, Any] | None = None


class _Sampling(_Model):
    model: str
    temperature: Annotated[Number, Field(ge=0, le=2)] | None = None
    top_p: Annotated[Number, Field(ge=0, le=1)] | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    seed: int | None = None
    presence_penalty: Annotated[Number, Field(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[Number, Field(ge=-2, le=2)] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None


class ChatCompletionRequest(_Sampling):
    """``POST /v1/chat/completions``."""

    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    tools: list[ChatTool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    functions: Annotated[list[FunctionDefinition], Field(min_length=1)] | None = None
    function_call: Literal["none", "auto"] | NamedFunction | None = None
    response_format: ResponseFormat | None = None


class CompletionRequest(_Sampling):
    """``POST /v1/completions``."""

    prompt: str | Annotated[list[str], Field(min_length=1)]
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    echo: bool | None = None


class EmbeddingRequest(_Model):
    """``POST /v1/embeddings``."""

    model: str
    input: str | Annotated[list[str], Field(min_length=1)]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: Annotated[int, Field(ge=1)] | None = None


class ResponsesTool(_Closed):
    type: Literal["function"]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ResponsesToolChoice(_Closed):
    type: Literal["function"]
    name: str


class TextFormat(_Closed):
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class TextConfig(_Closed):
    format: TextFormat | None = None


class ResponsesRequest(_Model):
    """``POST /v1/responses``: ``input`` is a string or a list of messages and items."""

    model: str
    input: str | list[dict[str, Any]] | None = None
    instructions: str | None = None
    max_output_tokens: Annotated[int, Field(ge=16)] | None = None
    temperature: Annotated[Number, Field(ge=0, le=2)] | None = None
    top_p: Annotated[Number, Field(ge=0, le=1)] | None = None
    stream: bool | None = None
    tools: list[ResponsesTool] | None = None
    tool_choice: Literal["none", "auto", "required"] | ResponsesToolChoice | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    metadata: dict[str, str] | None = None
    previous_response_id: str | None = None
    seed: int | None = None


REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "/v1/chat/completions": ChatCompletionRequest,
    "/v1/completions": CompletionRequest,
    "/v1/embeddings": EmbeddingRequest,
    "/v1/responses": ResponsesRequest,
}

_TYPE_NAMES = {
    "string_type": "a string", "int_type": "an integer", "float_type": "a number", "bool_type": "a boolean",
    "list_type": "an array", "dict_type": "an object", "model_type": "an object", "literal_error": "a value",
    "model_attributes_type": "an object", "none_required": "null", "int_from_float": "an integer",
}


def parse(model: type[BaseModel], body: bytes) -> Any:
    """Validate ``body`` as ``model`` or raise the :class:`ApiError` the real API would answer."""
    try:
        return model.model_validate_json(body or b"null")
    except ValidationError as exc:
        raise to_api_error(exc) from None


def _param(loc: tuple[Any, ...]) -> str:
    """``("messages", 0, "str", "content")`` -> ``messages[0].content`` (union member tags dropped)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier() and part[:1].islower() and part not in {"str", "int", "float", "bool", "list", "dict"}:
            out += f".{part}" if out else part
    return out


def _got(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a decimal", str: "a string", list: "an array",
            dict: "an object", type(None): "null"}.get(type(value), "a value")


def to_api_error(exc: ValidationError) -> ApiError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    # A union reports one error per member: the member whose type matched says what is really wrong.
    same = [e for e in errors if _param(tuple(e["loc"])) == _param(tuple(first["loc"]))]
    first = next((e for e in same if not e["type"].endswith("_type")), first)
    kind, loc, ctx = first["type"], tuple(first["loc"]), first.get("ctx") or {}
    value = first.get("input")
    if kind in ("json_invalid", "json_type"):
        return ApiError(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                             "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                             "sent was not valid JSON.)")
    param = _param(loc)
    if not param:
        return ApiError(400, "The request body must be a JSON object.", code="invalid_type")
    if kind == "missing":
        return ApiError(400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    if kind == "too_short" and isinstance(value, list) and not value:
        return ApiError(400, f"Invalid '{param}': empty array. Expected an array with minimum length "
                             f"{ctx.get('min_length', 1)}, but got an empty array instead.", param=param, code="empty_array")
    if kind == "too_short":
        return ApiError(400, f"Invalid '{param}': string too short. Expected a string with minimum length "
                             f"{ctx.get('min_length')}, but got a shorter one instead.", param=param,
                        code="string_below_min_length")
    if kind == "too_long":
        what = "array" if isinstance(value, list) else "string"
        return ApiError(400, f"Invalid '{param}': {what} too long. Expected {what_article(what)} with maximum length "
                             f"{ctx.get('max_length')}, but got {what_article(what)} with length {len(value)} instead.",
                        param=param, code=f"{what}_above_max_length")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        number = "integer" if isinstance(value, int) else "decimal"
        below = kind.startswith("greater")
        bound = ctx.get("ge", ctx.get("gt")) if below else ctx.get("le", ctx.get("lt"))
        sign = (">=" if kind == "greater_than_equal" else ">") if below else ("<=" if kind == "less_than_equal" else "<")
        return ApiError(400, f"Invalid '{param}': {number} {'below minimum' if below else 'above maximum'} value. "
                             f"Expected a value {sign} {_plain(bound)}, but got {_plain(value)} instead.",
                        param=param, code=f"{number}_{'below_min' if below else 'above_max'}_value")
    if kind == "literal_error":
        return ApiError(400, f"Invalid value: {_plain(value)!r}. Supported values are: {ctx.get('expected')}.",
                        param=param, code="invalid_value")
    expected = sorted({_TYPE_NAMES.get(e["type"], "a valid value") for e in errors if _param(tuple(e["loc"])) == param})
    wanted = expected[0] if len(expected) == 1 else "one of " + " or ".join(expected)
    if kind == "finite_number":
        wanted = "a finite number"
    return ApiError(400, f"Invalid type for '{param}': expected {wanted}, but got {_got(value)} instead.",
                    param=param, code="invalid_type")


def what_article(what: str) -> str:
    return "an array" if what == "array" else "a string"


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
