"""The local backend streams tokens as they are decoded, batches concurrent requests, cancels the
generation of a client that went away and answers 429 when its queue is full: through the real openai
SDK, in-process and over `migrate serve`."""

import json
import os
import threading
import time

import pytest

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")

from conftest import free_port, start_migrate_serve

from migrator.runtime.api import OpenAIApi
from migrator.runtime.backend import LocalBackend
from migrator.runtime.client import local_client
from migrator.runtime.scheduler import Sampling

USER = [{"role": "user", "content": "The robot answers the question"}]


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory):
    from tiny_models import build_slow_gpt2

    return build_slow_gpt2(tmp_path_factory.mktemp("models") / "slow-gpt2")


@pytest.fixture(scope="module")
def slow_backend(slow_model):
    return LocalBackend(str(slow_model))


@pytest.fixture(scope="module")
def slow_server(slow_model):
    """`migrate serve` on the slow model, with a queue of one waiting request."""
    saved = os.environ.get("MIGRATE_MAX_QUEUE")
    os.environ["MIGRATE_MAX_QUEUE"] = "1"
    try:
        proc, base = start_migrate_serve(slow_model, free_port())
    finally:
        if saved is None:
            os.environ.pop("MIGRATE_MAX_QUEUE")
        else:
            os.environ["MIGRATE_MAX_QUEUE"] = saved
    yield base
    proc.terminate()
    proc.wait(timeout=30)


def scheduler_stats(where):
    if isinstance(where, LocalBackend):
        return dict(where.scheduler.stats)
    return httpx2.get(f"{where}/health", timeout=10).json()["scheduler"]


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(params=["in-process", "http"])
def slow(request, slow_backend):
    """(client, where the scheduler's counters are read)."""
    if request.param == "in-process":
        return local_client(backend=slow_backend), slow_backend
    base = request.getfixturevalue("slow_server")
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0), base


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_first_chunk_arrives_long_before_the_end(slow, endpoint):
    client, _ = slow
    kwargs = {"model": "gpt-4o", "max_tokens": 160, "temperature": 0, "stream": True}
    if endpoint == "chat":
        client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=2)  # warm up
        start = time.perf_counter()
        stream = client.chat.completions.create(messages=USER, **kwargs)
        pieces = (c.choices[0].delta.content for c in stream if c.choices)
    else:
        start = time.perf_counter()
        stream = client.completions.create(prompt="The robot answers", **kwargs)
        pieces = (c.choices[0].text for c in stream if c.choices)
    first = None
    text = ""
    for piece in pieces:
        if piece and first is None:
            first = time.perf_counter() - start
        text += piece or ""
    total = time.perf_counter() - start
    assert first is not None and text
    # Real streaming: the first piece of text leaves after the prompt and one token, not after 160.
    assert first < 0.25 * total, (first, total)


def test_closing_a_stream_cancels_its_generation(slow):
    client, where = slow
    before = scheduler_stats(where)
    stream = client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=500, temperature=0, stream=True)
    received = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            received += 1
            if received == 3:
                break
    start = time.monotonic()
    stream.close()
    assert wait_for(lambda: scheduler_stats(where)["cancelled"] == before["cancelled"] + 1
                    and scheduler_stats(where)["running"] == 0)
    # 500 tokens take seconds on this model; a cancelled job stops within a step or two.
    assert time.monotonic() - start < 5
    reply = client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=4, temperature=0)
    assert reply.usage.completion_tokens <= 4


def test_full_queue_answers_429_with_retry_after(slow):
    client, where = slow
    if isinstance(where, LocalBackend):  # a backend of its own, with room for one waiting request
        backend = LocalBackend(str(where.model_id), max_queue=1)
        client, where = local_client(backend=backend), backend

        def send(body):
            result = OpenAIApi(backend).handle("POST", "/v1/chat/completions", body)
            return result.status, result.headers, json.loads(result.body)
    else:
        def send(body):
            response = httpx2.post(f"{where}/v1/chat/completions", content=body, timeout=60)
            return response.status_code, response.headers, response.json()
    long = client.chat.completions.create(model="m", messages=USER, max_tokens=500, temperature=0, stream=True)
    next(iter(long))
    assert wait_for(lambda: scheduler_stats(where)["running"] == 1 and scheduler_stats(where)["waiting"] == 0)
    waiting = threading.Thread(target=send, args=(json.dumps({"model": "m", "messages": USER, "max_tokens": 2}).encode(),))
    waiting.start()
    assert wait_for(lambda: scheduler_stats(where)["waiting"] == 1)
    status, headers, body = send(json.dumps({"model": "m", "messages": USER, "max_tokens": 2}).encode())
    long.close()
    waiting.join(timeout=60)
    assert status == 429 and headers["retry-after"] == "1"
    assert body["error"]["type"] == "requests" and body["error"]["code"] == "rate_limit_exceeded"
    assert not waiting.is_alive()


def test_sdk_raises_rate_limit_error(slow_model):
    backend = LocalBackend(str(slow_model), max_queue=1)
    client = local_client(backend=backend)
    long = client.chat.completions.create(model="m", messages=USER, max_tokens=500, temperature=0, stream=True)
    next(iter(long))
    assert wait_for(lambda: backend.scheduler.stats["running"] == 1 and backend.scheduler.stats["waiting"] == 0)
    answers = []
    blocked = threading.Thread(target=lambda: answers.append(
        client.chat.completions.create(model="m", messages=USER, max_tokens=2)))
    blocked.start()
    assert wait_for(lambda: backend.scheduler.stats["waiting"] == 1)
    with pytest.raises(openai.RateLimitError) as err:
        client.chat.completions.create(model="m", messages=USER, max_tokens=2)
    long.close()
    blocked.join(timeout=60)
    assert err.value.status_code == 429 and err.value.response.headers["retry-after"] == "1"
    assert answers[0].usage.completion_tokens <= 2  # the waiting request was served once the long one ended


def test_concurrent_requests_are_batched_and_match_unbatched(slow_model):
    """Mixed settings in one batch: each row keeps its own max_tokens, stop, temperature and seed."""
    backend = LocalBackend(str(slow_model), batch_window=0.5)
    prompts = [backend.encode(p) for p in ("The robot checks", "Our server answers the question and the stop word",
                                           "A careful user", "The tokenizer streams every token to each request")]
    plans = [
        (prompts[0], Sampling(max_tokens=12, temperature=0)),
        (prompts[1], Sampling(max_tokens=20, temperature=0)),
        (prompts[2], Sampling(max_tokens=16, temperature=0.9, seed=7, n=2)),
        (prompts[3], Sampling(max_tokens=9, temperature=1.3, top_p=0.8, seed=3, repetition_penalty=1.5)),
    ]
    alone = [backend.generate(ids, sampling) for ids, sampling in plans]
    text = alone[1][0].text
    assert len(text) > 6
    plans.append((prompts[1], Sampling(max_tokens=20, temperature=0, stop=(text[4:6],))))
    alone.append(backend.generate(*plans[-1]))
    assert alone[-1][0].text == text[: text.find(text[4:6])] and alone[-1][0].finish_reason == "stop"
    largest = backend.scheduler.stats["largest_batch"]
    assert largest == 1
    together: dict[int, list] = {}
    gate = threading.Barrier(len(plans))

    def run(i):
        gate.wait()
        together[i] = backend.generate(*plans[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(plans))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert backend.scheduler.stats["largest_batch"] > 1
    assert [together[i] for i in range(len(plans))] == alone
    assert [g.completion_tokens for g in alone[0]] == [12] or alone[0][0].finish_reason == "stop"
    assert len(alone[2]) == 2 and alone[2][0].text != alone[2][1].text
