"""The runtime shim: the local backend answers the real openai SDK, in-process and over real HTTP."""

import asyncio
import base64
import json
import os
import struct
import subprocess
import sys
import threading
import time

import pytest

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")

from conftest import free_port

from migrator.runtime.api import OpenAIApi
from migrator.runtime.backend import LocalBackend
from migrator.runtime.client import local_async_client, local_client

USER = [{"role": "user", "content": "The robot answers the question"}]




@pytest.fixture(params=["in-process", "http"])
def raw(request, backend):
    """Send raw bytes: returns (status, json)."""
    if request.param == "in-process":
        api = OpenAIApi(backend)

        def send(method, path, body=b""):
            result = api.handle(method, path, body)
            return result.status, json.loads(result.body)
        return send
    base = request.getfixturevalue("http_server")

    def send(method, path, body=b""):
        response = httpx2.request(method, f"{base}{path}", content=body, headers={"content-type": "application/json"})
        return response.status_code, response.json()
    return send


def test_chat_answers_any_model_name_with_usage(client, backend):
    reply = client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=8, temperature=0)
    assert reply.model == "gpt-4o" and reply.object == "chat.completion"
    assert reply.choices[0].message.role == "assistant" and isinstance(reply.choices[0].message.content, str)
    prompt = backend.tokenizer.apply_chat_template(USER, tokenize=False, add_generation_prompt=True)
    assert reply.usage.prompt_tokens == len(backend.tokenizer(prompt)["input_ids"])
    assert reply.choices[0].finish_reason in ("length", "stop")
    if reply.choices[0].finish_reason == "length":
        assert reply.usage.completion_tokens == 8
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_greedy_is_deterministic_and_max_completion_tokens_counts(client):
    a = client.chat.completions.create(model="claude-sonnet", messages=USER, max_completion_tokens=6, temperature=0)
    b = client.chat.completions.create(model="claude-sonnet", messages=USER, max_completion_tokens=6, temperature=0)
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.usage.completion_tokens <= 6


def test_seed_repeats_sampling(client):
    kwargs = {"model": "gpt-4o", "messages": USER, "max_tokens": 12, "temperature": 1.0}
    first = client.chat.completions.create(seed=11, **kwargs).choices[0].message.content
    again = client.chat.completions.create(seed=11, **kwargs).choices[0].message.content
    other = [client.chat.completions.create(seed=s, **kwargs).choices[0].message.content for s in (12, 13, 14)]
    assert first == again
    assert any(text != first for text in other)


def test_stream_reassembles_to_the_non_stream_text(client):
    kwargs = {"model": "gpt-4o", "messages": USER, "max_tokens": 10, "temperature": 0.9, "seed": 5}
    whole = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finals == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == whole.usage.total_tokens


def test_n_choices(client):
    reply = client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=5, n=2, temperature=1.0, seed=3)
    assert [c.index for c in reply.choices] == [0, 1]
    greedy = client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=5, n=2, temperature=0)
    assert greedy.choices[0].message.content == greedy.choices[1].message.content


def test_stop_sequences_are_cut(client):
    base = client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=16, temperature=0)
    text = base.choices[0].message.content
    assert len(text) > 4, text
    marker = text[3:5]
    stopped = client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=16, temperature=0, stop=[marker, "zzz-never"])
    assert stopped.choices[0].message.content == text[: text.find(marker)]
    assert stopped.choices[0].finish_reason == "stop"
    single = client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=16, temperature=0, stop=marker)
    assert single.choices[0].message.content == stopped.choices[0].message.content


def test_completions_and_completion_stream(client):
    done = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="A small model", max_tokens=6, temperature=0)
    assert done.object == "text_completion" and done.usage.completion_tokens <= 6
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="A small model", max_tokens=6, temperature=0, stream=True) if c.choices)
    assert streamed == done.choices[0].text


def test_embeddings_shape_norm_and_base64(client, backend):
    floats = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta gamma"], encoding_format="float")
    assert [d.index for d in floats.data] == [0, 1]
    width = backend.model.config.n_embd
    for item in floats.data:
        assert len(item.embedding) == width
        assert abs(sum(v * v for v in item.embedding) - 1.0) < 1e-4
    assert floats.data[0].embedding != floats.data[1].embedding
    raw = client.embeddings.with_raw_response.create(model="m", input=["alpha", "beta gamma"], encoding_format="base64")
    encoded = json.loads(raw.http_response.text)["data"][0]["embedding"]
    decoded = struct.unpack(f"<{width}f", base64.b64decode(encoded))
    assert max(abs(a - b) for a, b in zip(decoded, floats.data[0].embedding)) < 1e-6


def test_models_and_health(raw, tiny_gpt2):
    status, body = raw("GET", "/v1/models")
    assert status == 200 and body["data"][0]["id"] == str(tiny_gpt2)
    status, body = raw("GET", "/health")
    assert status == 200 and body["status"] == "ok"


@pytest.mark.parametrize(
    ("body", "status", "param", "fragment"),
    [
        (b"{not json", 400, None, "could not parse the JSON body"),
        (b'{"model": "m"}', 400, "messages", "Missing required parameter: 'messages'"),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', 400, "model", "Missing required parameter: 'model'"),
        (b'{"model": "m", "messages": []}', 400, "messages", "empty array"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000}', 400, "max_tokens", "too large"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 7}', 400, "temperature", "temperature"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": 0}', 400, "n", "'n'"),
    ],
)
def test_bad_requests_get_openai_error_bodies(raw, body, status, param, fragment):
    code, payload = raw("POST", "/v1/chat/completions", body)
    assert code == status
    assert set(payload["error"]) == {"message", "type", "param", "code"}
    assert fragment in payload["error"]["message"] and payload["error"]["param"] == param


def test_context_overflow_is_a_400_like_openai(raw):
    long = " ".join(["robot"] * 400)
    code, payload = raw("POST", "/v1/chat/completions",
                        json.dumps({"model": "m", "messages": [{"role": "user", "content": long}], "max_tokens": 16}).encode())
    assert code == 400 and payload["error"]["code"] == "context_length_exceeded"
    assert "maximum context length is 256 tokens" in payload["error"]["message"]


def test_body_size_and_routes(raw):
    code, payload = raw("POST", "/v1/chat/completions", b"{" + b" " * 1_100_000 + b"}")
    assert code == 413 and "too large" in payload["error"]["message"]
    code, payload = raw("POST", "/v1/nowhere", b"{}")
    assert code == 404
    code, payload = raw("GET", "/v1/chat/completions")
    assert code == 405


def test_concurrent_requests_are_neither_dropped_nor_mixed(client, backend):
    prompts = [f"{subject} checks the stop word" for subject in ("The robot", "Our server", "A careful user", "The tokenizer")]
    expected = {}
    for p in prompts:
        r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": p}], max_tokens=6, temperature=0)
        expected[p] = (r.choices[0].message.content, r.usage.prompt_tokens)
    results, errors = {}, []

    def ask(p):
        try:
            r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": p}], max_tokens=6, temperature=0)
            results[p] = (r.choices[0].message.content, r.usage.prompt_tokens)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(p,)) for p in prompts * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and results == expected


def test_async_client_chat_stream_and_concurrency(backend, request):
    async def run(client):
        replies = await asyncio.gather(*[
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": f"request {i}"}],
                                           max_tokens=4, temperature=0)
            for i in range(4)
        ])
        assert len({r.id for r in replies}) == 4
        text = ""
        async for chunk in await client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=5,
                                                                temperature=0, stream=True):
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
        whole = await client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=5, temperature=0)
        assert text == whole.choices[0].message.content

    asyncio.run(run(local_async_client(backend=backend)))
    base = request.getfixturevalue("http_server")
    asyncio.run(run(openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)))


def test_missing_model_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    api = OpenAIApi(LocalBackend(str(tmp_path / "no-such-model")))
    result = api.handle("POST", "/v1/chat/completions", json.dumps({"model": "m", "messages": USER}).encode())
    error = json.loads(result.body)["error"]
    assert result.status == 503 and "no-such-model" in error["message"] and "MIGRATE_LOCAL_MODEL" in error["message"]
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "migrator", "serve", "--model", str(tmp_path / "no-such-model"),
                           "--port", str(free_port())], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 1 and "no-such-model" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - start < 60


def test_gpt2_without_chat_template_gets_one(tiny_gpt2, backend):
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(str(tiny_gpt2)).chat_template is None
    assert backend.tokenizer.chat_template is not None


def test_resolve_model(monkeypatch):
    from migrator.runtime import resolve_model

    monkeypatch.delenv("MIGRATE_BACKEND", raising=False)
    assert resolve_model("meta-llama/Llama-3.1-8B-Instruct") == "meta-llama/Llama-3.1-8B-Instruct"
    monkeypatch.setenv("MIGRATE_BACKEND", "local")
    monkeypatch.delenv("MIGRATE_LOCAL_MODEL", raising=False)
    assert resolve_model("meta-llama/Llama-3.1-8B-Instruct") == "gpt2"
    monkeypatch.setenv("MIGRATE_LOCAL_MODEL", "/models/tiny")
    assert resolve_model("meta-llama/Llama-3.1-8B-Instruct") == "/models/tiny"


def test_backend_url_points_clients_elsewhere(monkeypatch, http_server):
    monkeypatch.setenv("MIGRATE_BACKEND_URL", f"{http_server}/v1")
    client = local_client()
    assert str(client.base_url).startswith(http_server)
    assert client.models.list().data[0].object == "model"
