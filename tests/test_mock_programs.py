"""Test suites that mock the v0 API keep intercepting once migrated.

fixtures/mocks holds code written for openai v0 and its tests, which patch the v0 API (method and class
level, `patch.object`, `mocker.patch`, dict return values built inline, by helpers and by fixtures, v0
exceptions as side effects). The suite passes as written under openai==0.28.1 in a virtualenv, and,
migrated, under the current openai installed here.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from migrator.engine.fixer import FixOptions, fix_text
from migrator.rules.registry import RULES

ALL = [e.code for e in RULES]
SUITE = FIXTURES / "mocks"

pytest.importorskip("openai")




def run_suite(python, directory: Path) -> str:
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(directory)],
        capture_output=True, text=True, env=env, cwd=directory, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc.stdout


def test_migrated_mock_suite_passes(tmp_path):
    tests = sorted(SUITE.glob("test_*.py"))
    count = sum(p.read_text().count("\ndef test_") for p in tests)
    for source in sorted(SUITE.glob("*.py")):
        migrated, _ = fix_text(str(source), source.read_text(), ALL, FixOptions())
        assert "TODO(migrate)" not in migrated, migrated
        assert "openai.error" not in migrated and "openai.ChatCompletion" not in migrated
        (tmp_path / source.name).write_text(migrated)
    assert f"{count} passed" in run_suite(sys.executable, tmp_path)


def test_legacy_mock_suite_passes(legacy_python):
    count = sum(p.read_text().count("\ndef test_") for p in sorted(SUITE.glob("test_*.py")))
    assert f"{count} passed" in run_suite(legacy_python, SUITE)
