import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# Tests never reach the network for models.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Subprocesses (`python -m migrator`, `migrate serve`, nested pytest) import this working tree, whatever
# copy of the package happens to be installed.
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])


@pytest.fixture
def run_cli(tmp_path):
    """Run the real `migrate` entry point in a subprocess; returns CompletedProcess."""
    import subprocess

    def run(*args, cwd=None, check=None):
        proc = subprocess.run(
            [sys.executable, "-m", "migrator", *map(str, args)],
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300, check=False,
        )
        if check is not None:
            assert proc.returncode == check, proc.stdout + proc.stderr
        return proc

    return run


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory):
    """A tiny random GPT-2 saved with save_pretrained (no chat template, like the real one)."""
    pytest.importorskip("torch")
    from tiny_models import build_tiny_gpt2

    return build_tiny_gpt2(tmp_path_factory.mktemp("models") / "tiny-gpt2")


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory):
    pytest.importorskip("torch")
    from tiny_models import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("models") / "tiny-llama")


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_migrate_serve(model, port):
    """`migrate serve` in a subprocess, polled on /health until ready. Returns (process, base URL)."""
    import subprocess
    import time

    import httpx2

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "migrator", "serve", "--model", str(model), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx2.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx2.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"migrate serve did not start: {proc.communicate()[1]}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def http_server(tiny_gpt2):
    """`migrate serve` on the tiny GPT-2, on a free loopback port, stopped after the session."""
    pytest.importorskip("httpx2")
    proc, base = start_migrate_serve(tiny_gpt2, free_port())
    yield base
    proc.terminate()
    proc.wait(timeout=30)


LEGACY_PACKAGES = ("openai==0.28.1", "numpy", "pytest")


@pytest.fixture(scope="session")
def legacy_python(tmp_path_factory):
    """Python of a virtualenv with the legacy SDK (openai==0.28.1, numpy, pytest), built once per test run and
    shared by the xdist workers (a file lock guards the build). ``MIGRATE_LEGACY_PYTHON`` names an existing
    one; with ``MIGRATE_NO_LEGACY_VENV`` set, tests that need it skip, saying so."""
    import fcntl
    import subprocess

    if os.environ.get("MIGRATE_NO_LEGACY_VENV"):
        pytest.skip("MIGRATE_NO_LEGACY_VENV is set: the openai==0.28.1 half is not run")
    if os.environ.get("MIGRATE_LEGACY_PYTHON"):
        return Path(os.environ["MIGRATE_LEGACY_PYTHON"])
    root = tmp_path_factory.getbasetemp().parent  # shared by the xdist workers of this run
    venv, done = root / "legacy-venv", root / "legacy-venv.ok"
    with open(root / "legacy-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            proc = subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                 *LEGACY_PACKAGES], capture_output=True, text=True, check=False,
            )
            assert proc.returncode == 0, f"could not build the openai==0.28.1 virtualenv:\n{proc.stderr[-2000:]}"
            done.touch()
    return venv / "bin" / "python"


@pytest.fixture(scope="session")
def backend(tiny_gpt2):
    """The local backend on the tiny GPT-2, shared by the runtime tests."""
    from migrator.runtime.backend import LocalBackend

    return LocalBackend(str(tiny_gpt2))


@pytest.fixture(params=["in-process", "http"])
def client(request, backend):
    """A real `openai.OpenAI` against the local backend: in-process, and over HTTP through `migrate serve`."""
    import openai

    from migrator.runtime.client import local_client

    if request.param == "in-process":
        return local_client(backend=backend)
    base = request.getfixturevalue("http_server")
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
