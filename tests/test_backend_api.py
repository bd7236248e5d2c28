"""Tools, structured output, the Responses API, OpenAPI, errors, devices and the record/replay cache of
the local backend, through the current openai SDK, in-process and over `migrate serve`."""

import json
import subprocess
import sys

import pytest

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")
jsonschema = pytest.importorskip("jsonschema")

from conftest import free_port
from pydantic import BaseModel

from migrator.runtime.api import OpenAIApi
from migrator.runtime.backend import LocalBackend
from migrator.runtime.cache import GenerationCache
from migrator.runtime.client import local_async_client, local_client

WEATHER = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "minLength": 2, "maxLength": 40},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "hourly": {"type": "boolean"},
    },
    "required": ["location", "unit", "days", "hourly"],
    "additionalProperties": False,
}
TIME = {"type": "object", "properties": {"zone": {"type": "string", "pattern": "^[A-Za-z]+$"}}, "required": ["zone"],
        "additionalProperties": False}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER}},
    {"type": "function", "function": {"name": "get_time", "parameters": TIME}},
]
SCHEMAS = {"get_weather": WEATHER, "get_time": TIME}
REPORT = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 30},
        "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "tags": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 2, "uniqueItems": True},
        "status": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/status"}]},
        "owner": {"$ref": "#/$defs/person"},
        "created": {"type": "string", "format": "date-time"},
    },
    "required": ["title", "score", "tags", "status", "owner", "created"],
    "additionalProperties": False,
    "$defs": {
        "status": {"type": "string", "enum": ["open", "closed"]},
        "person": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "multipleOf": 5, "minimum": 12}},
                   "required": ["name", "age"], "additionalProperties": False},
    },
}
USER = [{"role": "user", "content": "What is the weather in Paris? Use get_weather."}]




def check_call(call):
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, SCHEMAS[call.function.name])
    return arguments


# -- tools ------------------------------------------------------------------------------------------
def test_tool_loop_completes(client):
    messages = list(USER)
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather"] and calls[0].id.startswith("call_")
    check_call(calls[0])
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": calls[0].id, "content": json.dumps({"temp": 21})})
    second = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS, max_tokens=8)
    assert second.choices[0].message.tool_calls is None
    assert isinstance(second.choices[0].message.content, str)
    assert second.choices[0].finish_reason in ("stop", "length")


def test_tool_choice_is_honoured(client):
    forced = client.chat.completions.create(model="m", messages=USER, tools=TOOLS,
                                            tool_choice={"type": "function", "function": {"name": "get_time"}})
    [call] = forced.choices[0].message.tool_calls
    assert call.function.name == "get_time" and check_call(call)["zone"].isalpha()
    none = client.chat.completions.create(model="m", messages=USER, tools=TOOLS, tool_choice="none", max_tokens=4)
    assert none.choices[0].message.tool_calls is None and none.choices[0].finish_reason != "tool_calls"
    after_result = [*USER, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
    required = client.chat.completions.create(model="m", messages=after_result, tools=TOOLS, tool_choice="required")
    assert required.choices[0].finish_reason == "tool_calls"
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="m", messages=USER, tools=TOOLS,
                                       tool_choice={"type": "function", "function": {"name": "nope"}})
    assert err.value.body["param"] == "tool_choice"


def test_parallel_tool_calls(client):
    both = [{"role": "user", "content": "Call get_weather and get_time for Paris."}]
    reply = client.chat.completions.create(model="m", messages=both, tools=TOOLS)
    assert sorted(c.function.name for c in reply.choices[0].message.tool_calls) == ["get_time", "get_weather"]
    for call in reply.choices[0].message.tool_calls:
        check_call(call)
    single = client.chat.completions.create(model="m", messages=both, tools=TOOLS, parallel_tool_calls=False)
    assert len(single.choices[0].message.tool_calls) == 1


def test_streamed_tool_calls_through_the_sdk_helper(client):
    with client.chat.completions.stream(model="m", messages=USER, tools=TOOLS) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.delta" in kinds
    [call] = final.choices[0].message.tool_calls
    assert final.choices[0].finish_reason == "tool_calls" and check_call(call)


def test_legacy_functions_get_a_function_call(client):
    functions = [{"name": "get_weather", "parameters": WEATHER}]
    reply = client.chat.completions.create(model="m", messages=USER, functions=functions)
    call = reply.choices[0].message.function_call
    assert reply.choices[0].finish_reason == "function_call" and call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments), WEATHER)


# -- structured output --------------------------------------------------------------------------------
class Person(BaseModel):
    name: str
    age: int


class Team(BaseModel):
    name: str
    members: list[Person]
    lead: Person | None


def test_json_schema_response_format_validates(client):
    fmt = {"type": "json_schema", "json_schema": {"name": "report", "schema": REPORT, "strict": True}}
    reply = client.chat.completions.create(model="m", messages=USER, response_format=fmt, temperature=1.0, seed=4)
    jsonschema.validate(json.loads(reply.choices[0].message.content), REPORT)
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="m", messages=USER, response_format=fmt, temperature=1.0, seed=4, stream=True) if c.choices)
    assert streamed == reply.choices[0].message.content
    parsed = client.chat.completions.parse(model="m", messages=USER, response_format=Team).choices[0].message.parsed
    assert isinstance(parsed, Team) and parsed.members and isinstance(parsed.members[0], Person)


def test_json_object_response_format(client):
    reply = client.chat.completions.create(model="m", messages=USER, response_format={"type": "json_object"})
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


# -- Responses API ------------------------------------------------------------------------------------
def test_responses_create(client):
    from openai.types.responses import Response

    reply = client.responses.create(model="gpt-5", input="Say hello", instructions="Be brief.", temperature=0)
    assert reply.status == "completed" and isinstance(reply.output_text, str) and reply.output_text
    assert reply.instructions == "Be brief." and reply.model == "gpt-5"
    assert reply.usage.total_tokens == reply.usage.input_tokens + reply.usage.output_tokens
    Response.model_validate(reply.to_dict())
    listed = client.responses.create(model="gpt-5", temperature=0, input=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "input_text", "text": "Say hello"}]}])
    assert listed.output_text == reply.output_text  # same conversation, same greedy answer
    follow = client.responses.create(model="gpt-5", input="And again", previous_response_id=reply.id, temperature=0)
    assert follow.previous_response_id == reply.id and follow.output_text
    cut = client.responses.create(model="gpt-5", input="Say hello", max_output_tokens=16, temperature=0)
    assert cut.status in ("completed", "incomplete")
    if cut.status == "incomplete":
        assert cut.incomplete_details.reason == "max_output_tokens" and cut.usage.output_tokens == 16


def test_responses_stream_helper_and_raw_events(client):
    with client.responses.stream(model="gpt-5", input="Say hello", temperature=0) as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len(deltas) > 1 and "".join(deltas) == final.output_text
    whole = client.responses.create(model="gpt-5", input="Say hello", temperature=0)
    assert final.output_text == whole.output_text
    kinds = [event.type for event in client.responses.create(model="gpt-5", input="Say hello", stream=True)]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]


def test_responses_tool_loop_and_structured_output(client):
    tools = [{"type": "function", "name": t["function"]["name"], "parameters": t["function"]["parameters"]}
             for t in TOOLS]
    first = client.responses.create(model="gpt-5", input=USER, tools=tools)
    [call] = [item for item in first.output if item.type == "function_call"]
    jsonschema.validate(json.loads(call.arguments), WEATHER)
    second = client.responses.create(model="gpt-5", tools=tools, max_output_tokens=16, input=[
        *USER, {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}])
    assert second.output[0].type == "message" and second.output_text
    with client.responses.stream(model="gpt-5", input=USER, tools=tools) as stream:
        final = stream.get_final_response()
    assert final.output[0].type == "function_call"
    parsed = client.responses.parse(model="gpt-5", input="A team", text_format=Team).output_parsed
    assert isinstance(parsed, Team)


def test_async_client_streams_responses(backend):
    import asyncio

    async def run():
        client = local_async_client(backend=backend)
        text = ""
        async with client.responses.stream(model="m", input="Say hello", temperature=0) as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    text += event.delta
            final = await stream.get_final_response()
        return text, final.output_text

    text, final = asyncio.run(run())
    assert text == final and text


# -- shapes, OpenAPI, errors ------------------------------------------------------------------------
def test_bodies_validate_against_the_sdk_types(backend):
    from openai.types import Completion
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    api = OpenAIApi(backend)
    body = json.dumps({"model": "m", "messages": USER, "tools": TOOLS, "max_tokens": 4}).encode()
    ChatCompletion.model_validate(json.loads(api.handle("POST", "/v1/chat/completions", body).body))
    stream = api.handle("POST", "/v1/chat/completions",
                        json.dumps({"model": "m", "messages": USER, "max_tokens": 4, "stream": True}).encode()).stream
    chunks = [json.loads(line[6:]) for line in b"".join(stream).decode().split("\n\n") if line.startswith("data: {")]
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)
    Completion.model_validate(json.loads(api.handle("POST", "/v1/completions",
                                                    b'{"model": "m", "prompt": "A", "max_tokens": 3}').body))


def test_openapi_document(http_server):
    doc = httpx2.get(f"{http_server}/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"} <= set(doc["paths"])
    schema = doc["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    resolver = {"$ref": schema["$ref"], "components": doc["components"]}
    jsonschema.validate({"model": "m", "messages": USER, "tools": TOOLS}, resolver)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"model": "m", "messages": []}, resolver)


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"messages": USER}, "model", "missing_required_parameter"),
        ({"model": "m", "messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "invalid_value"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content", "invalid_type"),
        ({"model": "m", "messages": USER, "temperature": 2.5}, "temperature", "decimal_above_max_value"),
        ({"model": "m", "messages": USER, "n": 0}, "n", "integer_below_min_value"),
        ({"model": "m", "messages": USER, "max_tokens": True}, "max_tokens", "invalid_type"),
        ({"model": "m", "messages": USER, "stop": ["a", "b", "c", "d", "e"]}, "stop", "array_above_max_length"),
        ({"model": "m", "messages": USER, "tools": [{"type": "function"}]}, "tools[0].function",
         "missing_required_parameter"),
        ({"model": "m", "messages": USER, "response_format": {"type": "xml"}}, "response_format.type", "invalid_value"),
    ],
)
def test_error_bodies_name_the_param_and_code(backend, body, param, code):
    result = OpenAIApi(backend).handle("POST", "/v1/chat/completions", json.dumps(body).encode())
    error = json.loads(result.body)["error"]
    assert result.status == 400 and error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code), error


def test_sdk_sees_bad_request_errors(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.responses.create(model="m", input="hi", max_output_tokens=3)
    assert err.value.body["code"] == "integer_below_min_value" and err.value.body["param"] == "max_output_tokens"


# -- devices, health, cache -------------------------------------------------------------------------
def test_health_reports_model_device_and_dtype(http_server, tiny_gpt2):
    health = httpx2.get(f"{http_server}/health").json()
    assert health["model"] == str(tiny_gpt2) and health["device"] == "cpu" and health["dtype"] == "float32"


def test_device_choice(tiny_gpt2, monkeypatch):
    import torch

    from migrator.runtime.devices import pick_device

    monkeypatch.delenv("MIGRATE_DEVICE", raising=False)
    assert pick_device("cpu") == "cpu"
    assert pick_device() == ("cuda" if torch.cuda.is_available() else pick_device("auto"))
    monkeypatch.setenv("MIGRATE_DEVICE", "cpu")
    assert pick_device() == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        proc = subprocess.run([sys.executable, "-m", "migrator", "serve", "--model", str(tiny_gpt2), "--device", "cuda",
                               "--port", str(free_port())], capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 1 and "no CUDA device" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs a CUDA device")
def test_runs_on_the_gpu(tiny_gpt2):
    backend = LocalBackend(str(tiny_gpt2), device="auto")
    reply = local_client(backend=backend).chat.completions.create(model="m", messages=USER, max_tokens=4)
    assert backend.device == "cuda" and backend.dtype in ("float16", "bfloat16")
    assert reply.usage.completion_tokens <= 4


def test_record_and_replay_cache(tiny_gpt2, tmp_path):
    first = LocalBackend(str(tiny_gpt2), cache=GenerationCache(tmp_path))
    kwargs = {"model": "m", "messages": USER, "max_tokens": 8, "temperature": 1.0}  # unseeded: replay makes it repeat
    recorded = local_client(backend=first).chat.completions.create(**kwargs).choices[0].message.content
    assert len(list(tmp_path.glob("*.json"))) == 1
    second = LocalBackend(str(tiny_gpt2), cache=GenerationCache(tmp_path))
    client = local_client(backend=second)
    assert client.chat.completions.create(**kwargs).choices[0].message.content == recorded
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(stream=True, **kwargs)
                       if c.choices)
    assert streamed == recorded and second.cache.hits == 2
    assert second.scheduler.stats["batches"] == 0  # nothing was generated
