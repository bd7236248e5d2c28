"""The legacy openai v0 surface and what replaces each part of it in the current SDK.

Checked against openai 0.28.1 and 3.57.0 (see shared/SDK_FACTS.md); every current path named here exists.
"""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import RuleContext
from migrator.rules.names import string_value

# resource -> legacy method -> path on a client (``client.<path>``)
RESOURCES: dict[str, dict[str, str]] = {
    "ChatCompletion": {"create": "chat.completions.create"},
    "Completion": {"create": "completions.create"},
    "Embedding": {"create": "embeddings.create"},
    "Image": {
        "create": "images.generate",
        "create_variation": "images.create_variation",
        "create_edit": "images.edit",
    },
    "Audio": {
        "transcribe": "audio.transcriptions.create",
        "translate": "audio.translations.create",
        "transcribe_raw": "audio.transcriptions.create",
        "translate_raw": "audio.translations.create",
    },
    "Moderation": {"create": "moderations.create"},
    "File": {
        "create": "files.create",
        "list": "files.list",
        "retrieve": "files.retrieve",
        "delete": "files.delete",
        "download": "files.content",
        "wait_for_processing": "files.wait_for_processing",
    },
    "FineTuningJob": {
        "create": "fine_tuning.jobs.create",
        "list": "fine_tuning.jobs.list",
        "retrieve": "fine_tuning.jobs.retrieve",
        "cancel": "fine_tuning.jobs.cancel",
        "list_events": "fine_tuning.jobs.list_events",
    },
    "Model": {"list": "models.list", "retrieve": "models.retrieve", "delete": "models.delete"},
}

# Resources with no current equivalent, and what to do instead.
REMOVED_RESOURCES: dict[str, str] = {
    "Edit": "the Edits API was removed; send the instruction to `client.chat.completions.create` "
    "(or `client.responses.create`)",
    "FineTune": "the legacy fine-tunes API was removed; use `client.fine_tuning.jobs` "
    "(it takes `model=` and `training_file=`)",
    "Engine": "engines were removed; list and retrieve models with `client.models`",
    "Customer": "the Customer resource was removed and has no replacement",
    "Deployment": "Azure deployments are managed with the azure-mgmt-cognitiveservices package",
    "ErrorObject": "ErrorObject was removed; errors carry `.body`, `.code`, `.param` and `.type`",
}

# Methods of kept resources that have no current equivalent.
REMOVED_METHODS: dict[tuple[str, str], str] = {
    ("File", "find_matching_files"): "there is no replacement; filter `client.files.list()` yourself",
    ("FineTuningJob", "delete"): "fine-tuning jobs cannot be deleted; use `client.fine_tuning.jobs.cancel`",
}

# Module-level configuration with a client-constructor equivalent: global -> constructor argument.
CONFIG_WITH_EQUIVALENT: dict[str, str] = {
    "api_key": "api_key",
    "api_base": "base_url",
    "organization": "organization",
    "api_version": "api_version",
    "api_type": "the client class (`AzureOpenAI` for 'azure')",
}

# Module-level configuration that no longer exists, and what to do instead.
CONFIG_REMOVED: dict[str, str] = {
    "api_key_path": "read the key file yourself and pass `api_key=` to the client",
    "proxy": "pass `http_client=openai.DefaultHttpx2Client(proxy=...)` to the client",
    "requestssession": "pass a configured `http_client=` to the client",
    "aiosession": "pass a configured `http_client=` to `AsyncOpenAI` (or `DefaultAioHttpClient()`)",
    "debug": "set the environment variable OPENAI_LOG=debug",
    "log": "set the environment variable OPENAI_LOG (info or debug)",
    "verify_ssl_certs": "configure TLS on an `http_client=` (openai uses the OS trust store)",
    "app_info": "send identification with `default_headers=` on the client",
    "ca_bundle_path": "set SSL_CERT_FILE or configure an `http_client=`",
    "enable_telemetry": "remove it: telemetry is not configurable",
}

# openai.error.X -> (current class, note for a human or '')
ERRORS: dict[str, tuple[str, str]] = {
    "OpenAIError": ("OpenAIError", ""),
    "APIError": (
        "InternalServerError",
        ("v0 raised it for 5xx and unexpected statuses; `openai.APIError` is now the base of every error, "
         "so catching it would also catch 400/401/429"),
    ),
    "APIConnectionError": ("APIConnectionError", ""),
    "AuthenticationError": ("AuthenticationError", ""),
    "RateLimitError": ("RateLimitError", ""),
    "InvalidRequestError": (
        "BadRequestError",
        "v0 also raised it for 404 and 415: add openai.NotFoundError to keep catching those",
    ),
    "PermissionError": ("PermissionDeniedError", ""),
    "ServiceUnavailableError": ("InternalServerError", "it now covers every status >= 500, not only 503"),
    "Timeout": ("APITimeoutError", "never openai.Timeout: that is a timeout configuration class"),
    "TryAgain": ("ConflictError", "the client now retries 409 by itself"),
    "SignatureVerificationError": ("InvalidWebhookSignatureError", "the closest current class"),
    "InvalidAPIType": ("", "no equivalent: AzureOpenAI raises ValueError on bad configuration"),
}

# Where a v0 class is caught (except clauses, isinstance, retry decorators), the current classes that catch
# the statuses it covered; the first one is also what constructing or raising it builds.
ERROR_CATCH: dict[str, tuple[str, ...]] = {
    "APIError": ("InternalServerError", "UnprocessableEntityError"),
    "InvalidRequestError": ("BadRequestError", "NotFoundError"),
}

# The HTTP status a constructed v0 exception stands for, when the current class covers several.
ERROR_RAISE_STATUS: dict[str, int] = {"APIError": 500, "ServiceUnavailableError": 503}

# What each v0 class was raised for (openai 0.28.1, api_requestor.py `_interpret_response_line` and
# `handle_error_response`, `request_raw`/`arequest_raw`) and what catches the same now: the table of the
# README and of `migrate explain OAI301`.
ERROR_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("APIError", ("500, 502, 504 and every other status without a class of its own (402, 405, 422, ...); "
                  "bodies that are not JSON or have no `error`; errors inside a stream"),
     "(InternalServerError, UnprocessableEntityError)",
     "also 503 now; other 4xx without a class raise `APIStatusError`, stream errors the base `APIError`"),
    ("InvalidRequestError", "400, 404, 415", "(BadRequestError, NotFoundError)", "415 raises `APIStatusError`"),
    ("AuthenticationError", "401", "AuthenticationError", ""),
    ("PermissionError", "403", "PermissionDeniedError", ""),
    ("TryAgain", "409", "ConflictError", "409 is retried by the client first"),
    ("RateLimitError", "429", "RateLimitError", "retried by the client first"),
    ("ServiceUnavailableError", "503", "InternalServerError", "covers every status >= 500"),
    ("Timeout", "request timed out", "APITimeoutError",
     "a subclass of APIConnectionError now: an `except` for it is moved above one for APIConnectionError"),
    ("APIConnectionError", "connection failed", "APIConnectionError", "also catches APITimeoutError now"),
    ("OpenAIError", "base of all of them", "OpenAIError", ""),
    ("SignatureVerificationError", "webhook signature", "InvalidWebhookSignatureError", ""),
    ("InvalidAPIType", "bad `api_type`", "-", "report-only: AzureOpenAI raises ValueError"),
)

# Legacy top-level aliases that do not exist any more (openai.InvalidRequestError, ...).
REMOVED_TOP_LEVEL_ERRORS = frozenset({"InvalidRequestError", "ServiceUnavailableError", "TryAgain", "PermissionError"})

# v0-only exception attributes -> (replacement attribute or '', advice)
ERROR_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "http_status": ("status_code", "use `e.status_code` (on openai.APIStatusError subclasses)"),
    "user_message": ("body.message", "use the `message` of `e.body` (`e.message` adds the status code)"),
    "json_body": ("response.json()", ("use `e.response.json()` (on openai.APIStatusError subclasses; `e.body` is "
                                      "the inner error object)")),
    "headers": ("response.headers", "use `e.response.headers` (on openai.APIStatusError subclasses)"),
    "http_body": ("response.text", "use `e.response.text` (on openai.APIStatusError subclasses)"),
}

LEGACY_MODULES: dict[str, str] = {
    "embeddings_utils": "copy the helpers you need (cosine_similarity, get_embedding) "
    "from the OpenAI cookbook, built on `client.embeddings.create`",
    "openai_object": "responses are pydantic models now (`openai.BaseModel`); use attributes, "
    "`model_dump()` or `to_dict()`",
    "api_resources": "the resource classes became `openai.resources`, reached through a client",
    "datalib": "import numpy/pandas directly",
    "wandb_logger": "use the wandb package's own OpenAI integration",
}


def split_qualname(qualname: str | None) -> tuple[str, str | None] | None:
    """``openai.ChatCompletion.create`` -> ("ChatCompletion", "create"); None if not a legacy resource."""
    if not qualname or not qualname.startswith("openai."):
        return None
    parts = qualname.split(".")
    if len(parts) > 3 or (parts[1] not in RESOURCES and parts[1] not in REMOVED_RESOURCES):
        return None
    return parts[1], parts[2] if len(parts) == 3 else None


def current_method(resource: str, method: str) -> tuple[str, bool] | None:
    """(client path, is_async) for a legacy method, or None when it has no equivalent."""
    methods = RESOURCES.get(resource, {})
    if method in methods:
        return methods[method], False
    if method.startswith("a") and method[1:] in methods:
        return methods[method[1:]], True
    return None


def legacy_call(ctx: RuleContext, call: cst.Call) -> tuple[str, str] | None:
    """(resource, method) when ``call`` calls a method of a legacy resource class."""
    def find() -> tuple[str, str] | None:
        split = split_qualname(ctx.resolve(call.func))
        return (split[0], split[1]) if split is not None and split[1] is not None else None

    return ctx.cached(("legacy_call", id(call)), find)


def is_legacy_api_call(ctx: RuleContext, call: cst.Call) -> bool:
    """A call of a legacy resource method that has a current equivalent."""
    found = legacy_call(ctx, call)
    return found is not None and current_method(*found) is not None


def describe(resource: str, method: str | None) -> str:
    return f"openai.{resource}" + (f".{method}" if method else "")


# Fields of v0 responses whose values are plain data (strings, numbers, lists of numbers), in v0 as now: a
# value read through one of them is no response object, so nothing of it is rewritten (`"x" in content`).
SCALAR_FIELDS = frozenset({
    "content", "text", "role", "name", "arguments", "id", "object", "model", "created", "finish_reason",
    "index", "embedding", "prompt_tokens", "completion_tokens", "total_tokens", "flagged", "refusal",
    "system_fingerprint", "url", "b64_json", "revised_prompt", "type", "status", "filename", "purpose",
    "bytes", "created_at", "fine_tuned_model", "training_file", "owned_by",
})


# Fields of v0 responses that hold lists of objects: no `.to_dict()` of their own.
LIST_FIELDS = frozenset({"choices", "data", "results"})


def scalar_field(expr: cst.BaseExpression, fields: frozenset[str] = SCALAR_FIELDS) -> bool:
    """``expr`` reads one of ``fields`` (``x["content"]``, ``x.text``; :data:`SCALAR_FIELDS` by default)."""
    if isinstance(expr, cst.Attribute):
        return expr.attr.value in fields
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        return string_value(expr.slice[0].slice.value) in fields
    return False


COMPLETION_ONLY_MODELS = frozenset({
    "text-davinci-003", "text-davinci-002", "text-davinci-001", "text-curie-001", "text-babbage-001",
    "text-ada-001", "davinci", "curie", "babbage", "ada", "code-davinci-002", "code-cushman-001",
    "gpt-3.5-turbo-instruct", "davinci-002", "babbage-002",
})
CHAT_INCOMPATIBLE = ("echo", "suffix", "best_of", "logprobs")


def converts_to_chat(ctx: RuleContext, call: cst.Call) -> bool:
    """A v0 ``Completion.create`` on a completion-only model, in a run with a --target: it becomes a
    chat call (unsafe). Calls using parameters chat does not have are not converted."""
    def decide() -> bool:
        from migrator.rules.names import string_value
        from migrator.rules.options import run_target

        found = legacy_call(ctx, call)
        target = run_target(ctx)
        if found is None or found[0] != "Completion" or found[1] not in ("create", "acreate") or target is None:
            return False
        keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
        model = keywords.get("model") or keywords.get("engine")
        name = string_value(model.value) if model is not None else None
        return (
            target.provider.kind == "api"
            and name in COMPLETION_ONLY_MODELS
            and "prompt" in keywords
            and not any(k in keywords for k in CHAT_INCOMPATIBLE)
            and not any(a.star for a in call.args)
        )

    return ctx.cached(("converts_to_chat", id(call)), decide)


# Keyword parameters of the current methods that v0 callers pass request-body fields to (openai 3.57.0; a test
# checks them against the installed SDK). v0 sent every keyword it did not know into the request body, so a
# keyword outside these goes to ``extra_body`` to keep sending it.
CURRENT_PARAMS: dict[str, frozenset[str]] = {
    "chat.completions.create": frozenset({
        "audio", "extra_body", "extra_headers", "extra_query", "frequency_penalty", "function_call", "functions",
        "logit_bias", "logprobs", "max_completion_tokens", "max_tokens", "messages", "metadata", "modalities",
        "model", "moderation", "n", "parallel_tool_calls", "prediction", "presence_penalty", "prompt_cache_key",
        "prompt_cache_options", "prompt_cache_retention", "reasoning_effort", "response_format",
        "safety_identifier", "seed", "service_tier", "stop", "store", "stream", "stream_options", "temperature",
        "timeout", "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
    }),
    "completions.create": frozenset({
        "best_of", "echo", "extra_body", "extra_headers", "extra_query", "frequency_penalty", "logit_bias",
        "logprobs", "max_tokens", "model", "n", "presence_penalty", "prompt", "seed", "stop", "stream",
        "stream_options", "suffix", "temperature", "timeout", "top_p", "user",
    }),
    "embeddings.create": frozenset({
        "dimensions", "encoding_format", "extra_body", "extra_headers", "extra_query", "input", "model", "timeout",
        "user",
    }),
    "moderations.create": frozenset({
        "extra_body", "extra_headers", "extra_query", "input", "model", "timeout",
    }),
    "images.generate": frozenset({
        "background", "complexity", "extra_body", "extra_headers", "extra_query", "frame_count",
        "frame_duration_ms", "model", "moderation", "n", "output_compression", "output_format", "partial_images",
        "prompt", "quality", "response_format", "safety_identifier", "size", "stream", "style", "svg", "timeout",
        "user",
    }),
}

# Keywords that v0 methods consumed themselves and never sent, with what they meant.
V0_CLIENT_SIDE: dict[str, str] = {
    "timeout": "in v0 `timeout=` of `create` was how long to keep retrying while the model was loading (it was "
    "never sent); `timeout=` now limits each HTTP request: use `request_timeout`'s value here, or drop it",
}

# v0 methods that upload a file: (position among the positional arguments, keyword) of the file.
FILE_ARGUMENT: dict[tuple[str, str], tuple[int, str]] = {
    ("File", "create"): (0, "file"),
    ("Audio", "transcribe"): (1, "file"),
    ("Audio", "translate"): (1, "file"),
    ("Image", "create_variation"): (0, "image"),
    ("Image", "create_edit"): (0, "image"),
}
