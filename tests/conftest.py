import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# Tests never reach the network for models.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


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
            timeout=300,
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
