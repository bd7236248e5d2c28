"""Hypothesis fuzz of the local backend's request models: any JSON body, plausible or not, gets an
answer that is not a 5xx (a JSON body, or a stream that ends), in-process and over `migrate serve`."""

import json
import os

import pytest

pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.runtime.api import OpenAIApi
from migrator.runtime.backend import LocalBackend

scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12)
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                        max_leaves=8)


def maybe(valid):
    """Mostly values of the right kind, sometimes anything at all."""
    return st.integers(0, 12).flatmap(lambda pick: anything if pick == 12 else valid)


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)  # lone surrogates: see `anything`
roles = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"])
parts = st.lists(st.fixed_dictionaries({"type": st.sampled_from(["text", "input_text", "image_url"]), "text": maybe(text)}),
                 max_size=2)
messages = st.lists(st.fixed_dictionaries({"role": maybe(roles), "content": maybe(st.none() | text | parts)},
                                          optional={"tool_calls": anything, "tool_call_id": maybe(text),
                                                    "name": maybe(text)}), min_size=1, max_size=3)
leaf_schema = st.fixed_dictionaries({"type": maybe(st.sampled_from(["string", "integer", "number", "boolean", "null", "array"]))},
                                    optional={"minLength": maybe(st.integers(0, 5)), "maxLength": maybe(st.integers(0, 9)),
                                              "minimum": maybe(st.integers(-5, 5)), "maximum": maybe(st.integers(-5, 50)),
                                              "enum": maybe(st.lists(scalars, min_size=1, max_size=3)),
                                              "pattern": maybe(st.sampled_from(["^[a-z]+$", "[0-9]", "(", "x{2}"])),
                                              "format": maybe(st.sampled_from(["email", "date", "uuid", "nope"])),
                                              "minItems": maybe(st.integers(0, 3)), "uniqueItems": st.booleans(),
                                              "items": maybe(st.just({"type": "integer"})), "$ref": st.sampled_from(["#", "#/$defs/x", "#/nope"])})
schema = st.one_of(leaf_schema, st.fixed_dictionaries({
    "type": st.just("object"), "properties": maybe(st.dictionaries(st.text(max_size=5), leaf_schema, max_size=3)),
    "required": maybe(st.lists(st.text(max_size=5), max_size=2)), "additionalProperties": maybe(st.booleans()),
}), anything)
chat_tools = st.lists(st.fixed_dictionaries({"type": maybe(st.just("function")), "function": maybe(st.fixed_dictionaries(
    {"name": maybe(st.sampled_from(["lookup", "get_time", ""])), "parameters": schema}))}), max_size=2)
sampling = {
    "max_tokens": maybe(st.integers(1, 12)), "n": maybe(st.integers(1, 3)), "temperature": maybe(st.floats(0, 2)),
    "top_p": maybe(st.floats(0, 1)), "stop": maybe(st.none() | text | st.lists(text, max_size=4)),
    "seed": maybe(st.integers(-(2**70), 2**70)), "presence_penalty": maybe(st.floats(-2, 2)),
    "stream": maybe(st.booleans()), "stream_options": maybe(st.fixed_dictionaries({"include_usage": maybe(st.booleans())})),
}
BODIES = {
    "/v1/chat/completions": st.fixed_dictionaries({"model": maybe(text), "messages": maybe(messages)}, optional={
        **sampling, "tools": maybe(chat_tools),
        "tool_choice": maybe(st.sampled_from(["none", "auto", "required", "sometimes"])
                             | st.just({"type": "function", "function": {"name": "lookup"}})),
        "functions": maybe(st.lists(st.fixed_dictionaries({"name": maybe(text), "parameters": schema}), max_size=2)),
        "response_format": maybe(st.fixed_dictionaries({"type": maybe(st.sampled_from(["text", "json_object", "json_schema"]))},
                                                       optional={"json_schema": maybe(st.fixed_dictionaries({"name": maybe(text), "schema": schema}))})),
        "parallel_tool_calls": maybe(st.booleans()), "max_completion_tokens": maybe(st.integers(1, 12)),
    }),
    "/v1/completions": st.fixed_dictionaries({"model": maybe(text), "prompt": maybe(text | st.lists(text, max_size=3))},
                                             optional={**sampling, "echo": maybe(st.booleans())}),
    "/v1/embeddings": st.fixed_dictionaries({"model": maybe(text), "input": maybe(text | st.lists(text, max_size=3))},
                                            optional={"encoding_format": maybe(st.sampled_from(["float", "base64", "hex"]))}),
    "/v1/responses": st.fixed_dictionaries({"model": maybe(text)}, optional={
        "input": maybe(text | messages | st.lists(st.fixed_dictionaries({"type": maybe(st.sampled_from(
            ["message", "function_call", "function_call_output", "reasoning"])), "output": anything, "role": maybe(roles),
            "content": anything}), max_size=2)),
        "instructions": maybe(text), "max_output_tokens": maybe(st.integers(16, 24)), "temperature": maybe(st.floats(0, 2)),
        "stream": maybe(st.booleans()), "previous_response_id": maybe(text),
        "tools": maybe(st.lists(st.fixed_dictionaries({"type": st.just("function"), "name": maybe(st.just("lookup")),
                                                        "parameters": schema}), max_size=2)),
        "tool_choice": maybe(st.sampled_from(["none", "auto", "required"]) | st.just({"type": "function", "name": "lookup"})),
        "text": maybe(st.fixed_dictionaries({"format": maybe(st.fixed_dictionaries(
            {"type": maybe(st.sampled_from(["text", "json_object", "json_schema"])), "schema": schema, "name": maybe(text)}))})),
    }),
}
requests = st.sampled_from(sorted(BODIES)).flatmap(
    lambda path: st.tuples(st.just(path), st.integers(0, 8).flatmap(lambda pick: anything if pick == 8 else BODIES[path])))


def check(status, content_type, body):
    assert status < 500, body[:500]
    if content_type.startswith("text/event-stream"):
        assert status == 200 and body.endswith(b"\n\n")
    else:
        payload = json.loads(body)
        assert set(payload["error"]) == {"message", "type", "param", "code"} if status >= 400 else payload.get("error") is None


@pytest.fixture(scope="module")
def api(tiny_gpt2):
    return OpenAIApi(LocalBackend(str(tiny_gpt2)))


def test_fuzz_in_process(api):
    @settings(max_examples=int(os.environ.get("MIGRATE_FUZZ_EXAMPLES", "250")), deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(requests)
    def run(request):
        path, body = request
        result = api.handle("POST", path, json.dumps(body).encode())
        check(result.status, result.content_type, result.body if result.stream is None else b"".join(result.stream))

    run()


def test_fuzz_over_http(http_server):
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(requests)
    def run(request):
        path, body = request
        response = httpx2.post(f"{http_server}{path}", content=json.dumps(body), timeout=60)  # a hang fails here
        check(response.status_code, response.headers["content-type"], response.content)

    run()
