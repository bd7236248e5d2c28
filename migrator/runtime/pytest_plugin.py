"""pytest plugin: run a test session against the local GPT-2 backend.

Inactive unless asked for with ``pytest --llm-backend=local`` or ``MIGRATE_BACKEND=local``. Then, before
tests are collected (so module-level ``client = OpenAI()`` picks it up), it starts the local server once on
a free loopback port (or uses ``MIGRATE_BACKEND_URL``), sets ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``,
``HF_HUB_OFFLINE=1`` and ``MIGRATE_BACKEND=local``, and offers the fixtures ``llm_base_url``,
``llm_client`` and ``llm_async_client``. Importing this module is cheap.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import pytest

_STATE: dict[str, Any] = {}


def pytest_addoption(parser) -> None:
    group = parser.getgroup("migrate")
    group.addoption("--llm-backend", choices=["local"], default=None,
                    help="Answer the openai SDK with the local model (migrate's runtime shim).")


def _active(config) -> bool:
    return config.getoption("--llm-backend") == "local" or os.environ.get("MIGRATE_BACKEND", "").lower() == "local"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server() -> str:
    import uvicorn

    from migrator.runtime.backend import shared_backend
    from migrator.runtime.server import create_app

    backend = shared_backend()
    backend.load()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(backend), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, name="migrate-llm-backend", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the local LLM backend did not start")
        time.sleep(0.02)
    _STATE["server"], _STATE["thread"] = server, thread
    return f"http://127.0.0.1:{port}/v1"


def pytest_configure(config) -> None:
    if not _active(config):
        return
    _STATE["saved_env"] = {k: os.environ.get(k) for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "HF_HUB_OFFLINE", "MIGRATE_BACKEND")}
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["MIGRATE_BACKEND"] = "local"
    base_url = os.environ.get("MIGRATE_BACKEND_URL") or _start_server()
    os.environ["OPENAI_BASE_URL"] = base_url
    os.environ.setdefault("OPENAI_API_KEY", "local-test-key")
    _STATE["base_url"] = base_url


def pytest_unconfigure(config) -> None:
    server = _STATE.pop("server", None)
    if server is not None:
        server.should_exit = True
        _STATE.pop("thread").join(timeout=10)
    for key, value in (_STATE.pop("saved_env", None) or {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _STATE.pop("base_url", None)


@pytest.fixture(scope="session")
def llm_base_url() -> str:
    """The OpenAI-compatible base URL of this session's backend."""
    if "base_url" not in _STATE:
        pytest.skip("the local LLM backend is off: run pytest --llm-backend=local or set MIGRATE_BACKEND=local")
    return str(_STATE["base_url"])


@pytest.fixture(scope="session")
def llm_client(llm_base_url):
    from openai import OpenAI

    return OpenAI(base_url=llm_base_url, api_key=os.environ.get("OPENAI_API_KEY", "local-test-key"))


@pytest.fixture(scope="session")
def llm_async_client(llm_base_url):
    from openai import AsyncOpenAI

    return AsyncOpenAI(base_url=llm_base_url, api_key=os.environ.get("OPENAI_API_KEY", "local-test-key"))
