"""End to end: legacy v0 programs, migrated by `migrate`, print what they printed before.

Each program in fixtures/e2e runs twice against the same local fake server (tests/fake_openai.py):
as written, under openai==0.28.1 in a virtualenv this test builds, and migrated, under the current
openai installed here. Both outputs must equal the recorded one in fixtures/e2e/expected/.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES
from fake_openai import FakeOpenAI

from migrator.engine.fixer import FixOptions, fix_text
from migrator.rules.registry import RULES

PROGRAMS = sorted((FIXTURES / "e2e").glob("*.py"))
# Multi-module programs (issue 9): a directory with main.py, migrated with `migrate apply` on the directory.
DIRECTORIES = sorted(p for p in (FIXTURES / "e2e").iterdir() if p.is_dir() and (p / "main.py").is_file())
ALL = [e.code for e in RULES]

pytest.importorskip("openai")


@pytest.fixture(scope="session")
def fake_server():
    with FakeOpenAI() as server:
        yield server




def run(python, path, server, name):
    base = server.url if name.startswith("azure") else server.url + "/v1"
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-key", "OPENAI_API_BASE": base}
    proc = subprocess.run([str(python), str(path)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def migrate(path: Path) -> str:
    text, fixed = fix_text(str(path), path.read_text(), ALL, FixOptions())
    assert fixed, "nothing was migrated"
    return text


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_migrated_program_prints_what_the_legacy_one_did(program, tmp_path, fake_server):
    expected = (FIXTURES / "e2e" / "expected" / f"{program.stem}.txt").read_text()
    migrated = tmp_path / program.name
    migrated.write_text(migrate(program))
    # Nothing legacy is left, and a second run changes nothing.
    again, fixed = fix_text(str(migrated), migrated.read_text(), ALL, FixOptions())
    assert again == migrated.read_text() and fixed == []
    assert "import openai.error" not in again and ".ChatCompletion." not in again
    assert run(sys.executable, migrated, fake_server, program.name) == expected


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_legacy_program_prints_the_recorded_output(program, fake_server, legacy_python):
    expected = (FIXTURES / "e2e" / "expected" / f"{program.stem}.txt").read_text()
    assert run(legacy_python, program, fake_server, program.name) == expected


def program_env(server, name: str, main: Path) -> dict[str, str]:
    """The environment a directory program runs in: no OPENAI_*/AZURE_* variable of the machine, the test
    key and base URL, then what main.py's ``# e2e-env:`` header says (``-NAME`` unsets, ``NAME=value`` sets):
    each program runs without the variables the original did not need."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_"))}
    env["OPENAI_API_KEY"] = "sk-test-key"
    env["OPENAI_API_BASE"] = server.url if name.startswith("azure") else server.url + "/v1"
    header = re.search(r"^# e2e-env:(.*)$", main.read_text(), re.MULTILINE)
    for item in header.group(1).split() if header else []:
        if item.startswith("-"):
            env.pop(item[1:], None)
        else:
            key, _, value = item.partition("=")
            env[key] = value
    return env


def run_directory(python, directory: Path, server, name: str) -> str:
    proc = subprocess.run([str(python), "main.py"], cwd=directory, capture_output=True, text=True,
                          env=program_env(server, name, directory / "main.py"), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def apply_directory(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrator", "apply", str(directory)], capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.parametrize("program", DIRECTORIES, ids=lambda p: p.name)
def test_migrated_directory_program_prints_what_the_legacy_one_did(program, tmp_path, fake_server):
    expected = (FIXTURES / "e2e" / "expected" / f"{program.name}.txt").read_text()
    migrated = tmp_path / "migrated" / program.name
    shutil.copytree(program, migrated)
    before = {p.relative_to(migrated): p.read_text() for p in migrated.rglob("*.py")}
    proc = apply_directory(migrated)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # nothing legacy left that needs a human
    assert "Traceback" not in proc.stderr
    # apply says, per module that called the v0 API, which client plan it chose and why.
    assert "Client plan" in proc.stdout
    after = {p.relative_to(migrated): p.read_text() for p in migrated.rglob("*.py")}
    if "both_sdks" in program.name:
        assert after == before  # the legacy branch of the guard is left whole, the rest is current already
    else:
        assert after != before
    again = apply_directory(migrated)
    assert again.returncode == 0 and "Fixed 0 legacy sites" in again.stdout, again.stdout
    assert {p.relative_to(migrated): p.read_text() for p in migrated.rglob("*.py")} == after
    assert run_directory(sys.executable, migrated, fake_server, program.name) == expected


@pytest.mark.parametrize("program", DIRECTORIES, ids=lambda p: p.name)
def test_legacy_directory_program_prints_the_recorded_output(program, tmp_path, fake_server, legacy_python):
    expected = (FIXTURES / "e2e" / "expected" / f"{program.name}.txt").read_text()
    legacy = tmp_path / program.name
    shutil.copytree(program, legacy)
    assert run_directory(legacy_python, legacy, fake_server, program.name) == expected


def test_migrated_directory_programs_type_check(tmp_path):
    """mypy accepts every migrated directory program (the rules of tests/test_rewrites.py)."""
    pytest.importorskip("mypy")
    import libcst
    from libcst.metadata import MetadataWrapper, PositionProvider
    from test_rewrites import _unexplained_mypy_errors

    from migrator.rules.openai_v0.dual_sdk import legacy_branches

    for program in DIRECTORIES:
        migrated = tmp_path / program.name
        shutil.copytree(program, migrated)
        assert apply_directory(migrated).returncode == 0
        files = {str(p.relative_to(migrated)): p.read_text() for p in migrated.rglob("*.py")}
        proc = subprocess.run(
            [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--follow-imports=silent", "--no-error-summary",
             "--no-pretty", "--explicit-package-bases", "--cache-dir", str(tmp_path / ".mypy_cache"), *files],
            capture_output=True, text=True, cwd=migrated, check=False,
        )
        # The legacy branch of a both-SDKs guard is left as written: it never runs under the current SDK.
        dead = set()
        for name, text in files.items():
            module = libcst.parse_module(text)
            positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
            for branch in legacy_branches(module):
                dead.update(f"{name}:{line}" for line in range(positions[branch].start.line, positions[branch].end.line + 1))
        blamed = [line for line in _unexplained_mypy_errors(files, proc.stdout) if line.split(": error:")[0] not in dead]
        assert blamed == [], (program.name, proc.stdout)
