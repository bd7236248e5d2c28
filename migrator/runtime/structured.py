"""Tools and structured output as a test double: JSON built from a JSON Schema, filled with model text.

A 124M-parameter GPT-2 cannot follow a schema, so the backend does not ask it to. It generates text as
usual, then :func:`instance` builds a value that validates against the schema (objects get every
property, arrays their minimum length or one item, strings the model's words within
``minLength``/``maxLength``, numbers a value inside their bounds, ``enum``/``const`` their first value,
``$ref``/``$defs``/``anyOf``/``oneOf``/``allOf`` followed). Validity is the contract, not meaning. A string
``pattern`` is met when one of a few plain candidates matches it; otherwise the value may not match.
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any


def _slug(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower()) or "x"


# Each format's value varies with a word, so ``uniqueItems`` arrays of formatted strings can be unique.
_FORMATS: dict[str, Callable[[str], str]] = {
    "date-time": lambda w: f"2024-01-{len(w) % 28 + 1:02d}T00:00:00Z",
    "date": lambda w: f"2024-01-{len(w) % 28 + 1:02d}",
    "time": lambda w: f"00:00:{len(w) % 60:02d}Z",
    "email": lambda w: f"{_slug(w)}@example.com",
    "uri": lambda w: f"https://example.com/{_slug(w)}",
    "url": lambda w: f"https://example.com/{_slug(w)}",
    "hostname": lambda w: f"{_slug(w)}.example.com",
    "uuid": lambda w: str(uuid.uuid5(uuid.NAMESPACE_URL, w)),
    "ipv4": lambda w: f"127.0.0.{len(w) % 250 + 1}",
    "ipv6": lambda w: f"::{len(w) % 250 + 1:x}",
    "duration": lambda w: f"P{len(w) % 28 + 1}D",
}
_MAX_DEPTH = 6


def words_of(text: str) -> Iterator[str]:
    """An endless supply of printable words from ``text`` (a fixed word when it has none)."""
    found = re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", text) or ["text"]
    return itertools.cycle(found)


class SchemaError(ValueError):
    """A schema no value can be built from (malformed, or nested without end)."""


def check_schema(schema: Any, what: str, param: str) -> None:
    """Build one value from ``schema`` now, so a bad schema is a 400 before any answer is sent."""
    from migrator.runtime.errors import ApiError

    try:
        instance(schema or {"type": "object", "properties": {}}, words_of(""))
    except (SchemaError, TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError,
            RecursionError) as exc:
        raise ApiError(400, f"Invalid schema for {what}: {exc or type(exc).__name__}.", param=param,
                       code="invalid_value") from None


def instance(schema: Any, words: Iterator[str], root: Any = None, depth: int = 0) -> Any:
    """A JSON value that validates against ``schema`` (draft 2020-12 / OpenAI's strict subset)."""
    root = schema if root is None else root
    if depth > 40:
        raise SchemaError("it nests more than 40 levels deep (a $ref cycle with no way out?)")
    if not isinstance(schema, dict):
        return _string({}, words)  # ``true`` or an odd schema: anything goes
    if "$ref" in schema:
        return instance(_resolve(root, schema["$ref"]), words, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "allOf" in schema:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(root, part["$ref"]) if isinstance(part, dict) and "$ref" in part else part
            if isinstance(part, dict):
                for key, value in part.items():
                    if key == "properties":
                        merged["properties"] = {**merged.get("properties", {}), **value}
                    elif key == "required":
                        merged["required"] = [*merged.get("required", []), *value]
                    else:
                        merged.setdefault(key, value)
        return instance(merged, words, root, depth)
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = schema[key]
            deep = depth >= _MAX_DEPTH
            usable = [o for o in options if isinstance(o, dict) and (o.get("type") == "null") == deep] or options
            return instance(usable[0], words, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] if depth < _MAX_DEPTH or "null" not in kind else ["null"]
        kind = kinds[0] if kinds else "null"
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        return _object(schema, words, root, depth)
    if kind == "array":
        return _array(schema, words, root, depth)
    if kind in ("number", "integer"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, words)


def _resolve(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return {}
    node = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _object(schema: dict[str, Any], words: Iterator[str], root: Any, depth: int) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    out: dict[str, Any] = {}
    for name, sub in properties.items():
        if depth >= _MAX_DEPTH and name not in required:
            continue
        out[name] = instance(sub, words, root, depth + 1)
    minimum = int(schema.get("minProperties") or 0)
    extra = schema.get("additionalProperties", True)
    index = 0
    while len(out) < minimum and extra is not False:
        index += 1
        out[f"{next(words)}_{index}"] = instance(extra if isinstance(extra, dict) else {}, words, root, depth + 1)
    return out


def _array(schema: dict[str, Any], words: Iterator[str], root: Any, depth: int) -> list[Any]:
    prefix = schema.get("prefixItems") or []
    low = int(schema.get("minItems") or 0)
    high = schema.get("maxItems")
    count = max(low, len(prefix), 0 if depth >= _MAX_DEPTH else 1)
    if high is not None:
        count = min(count, int(high))
    items = schema.get("items", {})
    out: list[Any] = []
    for i in range(count):
        sub = prefix[i] if i < len(prefix) else items
        value = instance(sub, words, root, depth + 1)
        for _ in range(8):  # uniqueItems: the next words give another value
            if not schema.get("uniqueItems") or value not in out:
                break
            value = instance(sub, words, root, depth + 1)
        if schema.get("uniqueItems") and value in out and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = max(out) + (sub.get("multipleOf", 1) if isinstance(sub, dict) else 1)
        out.append(value)
    return out


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum")
    high = schema.get("maximum")
    if schema.get("exclusiveMinimum") is not None:
        low = schema["exclusiveMinimum"] + (1 if integer else 1e-6)
    if schema.get("exclusiveMaximum") is not None:
        high = schema["exclusiveMaximum"] - (1 if integer else 1e-6)
    value: float = 0.0
    if low is not None and high is not None:
        value = (low + high) / 2
    elif low is not None:
        value = low
    elif high is not None:
        value = min(0.0, high)
    step = schema.get("multipleOf")
    if step:
        value = math.ceil(value / step) * step if low is not None else math.floor(value / step) * step
    if integer:
        value = math.ceil(value) if low is not None else math.floor(value)
        return int(value)
    return float(value)


def _string(schema: dict[str, Any], words: Iterator[str]) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        text = _FORMATS[fmt](next(words))
    else:
        text = " ".join(next(words) for _ in range(3))
    low, high = int(schema.get("minLength") or 0), schema.get("maxLength")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if high is not None:
        text = text[: int(high)]
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            compiled = re.compile(pattern)
        except re.error:
            return text
        for candidate in (text, next(words), "a", "A", "0", "a1", "x" * max(low, 1), ""):
            if compiled.search(candidate) and low <= len(candidate) <= (high if high is not None else len(candidate)):
                return candidate
    return text


def json_object(words: Iterator[str]) -> dict[str, Any]:
    """What ``response_format: json_object`` gets: an object holding the model's text."""
    return {"response": " ".join(next(words) for _ in range(6))}


def pick_tools(names: list[str], choice: str | None, forced: str | None, last_user_text: str, last_role: str,
               parallel: bool) -> list[str]:
    """Which tools to call: ``forced`` (a named choice), none for ``"none"`` or when the last message is a
    tool result under ``"auto"`` (so a tool loop ends with a text answer), else the tools the last user
    message names (all of them when ``parallel``), else the first tool."""
    if forced is not None:
        return [forced]
    if choice == "none" or not names:
        return []
    if choice != "required" and last_role in ("tool", "function"):
        return []
    mentioned = [name for name in names if name.lower() in last_user_text.lower()]
    chosen = mentioned or names[:1]
    return chosen if parallel else chosen[:1]
