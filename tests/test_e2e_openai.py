"""End to end: legacy v0 programs, migrated by `migrate`, print what they printed before.

Each program in fixtures/e2e runs twice against the same local fake server (tests/fake_openai.py):
as written, under openai==0.28.1 in a virtualenv this test builds, and migrated, under the current
openai installed here. Both outputs must equal the recorded one in fixtures/e2e/expected/.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES
from fake_openai import FakeOpenAI
from migrator.engine.fixer import FixOptions, fix_text
from migrator.rules.registry import RULES

PROGRAMS = sorted((FIXTURES / "e2e").glob("*.py"))
ALL = [e.code for e in RULES]

pytest.importorskip("openai")


@pytest.fixture(scope="session")
def fake_server():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="session")
def legacy_python(tmp_path_factory):
    """A virtualenv with the legacy SDK. Set MIGRATE_NO_LEGACY_VENV=1 to skip the legacy half offline."""
    if os.environ.get("MIGRATE_NO_LEGACY_VENV"):
        return None
    venv = tmp_path_factory.mktemp("legacy") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "openai==0.28.1", "numpy"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, f"could not build the openai==0.28.1 virtualenv:\n{proc.stderr[-2000:]}"
    return python


def run(python, path, server, name):
    base = server.url if name.startswith("azure") else server.url + "/v1"
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-key", "OPENAI_API_BASE": base}
    proc = subprocess.run([str(python), str(path)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def migrate(path: Path) -> str:
    text, fixed = fix_text(str(path), path.read_text(), ALL, FixOptions())
    assert fixed, "nothing was migrated"
    return text


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_migrated_program_prints_what_the_legacy_one_did(program, tmp_path, fake_server, legacy_python):
    expected = (FIXTURES / "e2e" / "expected" / f"{program.stem}.txt").read_text()
    migrated = tmp_path / program.name
    migrated.write_text(migrate(program))
    # Nothing legacy is left, and a second run changes nothing.
    again, fixed = fix_text(str(migrated), migrated.read_text(), ALL, FixOptions())
    assert again == migrated.read_text() and fixed == []
    assert "import openai.error" not in again and ".ChatCompletion." not in again
    assert run(sys.executable, migrated, fake_server, program.name) == expected
    if legacy_python is not None:
        assert run(legacy_python, program, fake_server, program.name) == expected
