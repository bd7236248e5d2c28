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
