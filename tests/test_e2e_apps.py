"""End to end on whole programs: multi-module apps written against openai v0 keep working once migrated.

Each directory in fixtures/e2e/apps is a small project of the kind found on GitHub in 2023 (a chat bot, a
RAG script, an eval harness, a web app, an Azure deployment, an async batch job, a function-calling agent,
a project with mocked tests, a CLI), with `main.py` as its entry point, `expected.txt` (what it prints) and
`env.json` (the environment variables the original needs, `{server}` / `{server_v1}` standing for the fake
server's URL without / with `/v1`; every other OPENAI_* / AZURE_* variable is removed).

Two halves per app, against the same fake server (tests/fake_openai.py):
- legacy: the app as written runs under openai==0.28.1, in the virtualenv tests/conftest.py builds (or the Python
  named by MIGRATE_LEGACY_PYTHON); skipped, visibly, when MIGRATE_NO_LEGACY_VENV is set;
- migrated: a copy is rewritten with the real CLI (`python -m migrator apply DIR`), which must exit 0 or 1
  (1: findings left for a human) and change nothing when run again; the result runs under the openai SDK
  installed here and must print the same.

`tested_project` runs its own unittest suite (pytest runs the same file) from main.py, in a child process
without OPENAI_API_KEY as a CI job would, and prints the counts: the suite must import without a key and
its mocks of the v0 API must still intercept after migration. This test does not run pytest itself.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES
from fake_openai import FakeOpenAI

APPS_DIR = FIXTURES / "e2e" / "apps"
APPS = sorted(p.name for p in APPS_DIR.iterdir() if (p / "main.py").is_file())

pytest.importorskip("openai")


@pytest.fixture(scope="module")
def fake_server():
    with FakeOpenAI() as server:
        yield server




def app_env(app_dir: Path, server: FakeOpenAI) -> dict[str, str]:
    """The process environment minus every OpenAI/Azure setting, plus what env.json asks for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_")) and k != "PYTHONPATH"}
    for key, value in json.loads((app_dir / "env.json").read_text()).items():
        env[key] = value.replace("{server_v1}", server.url + "/v1").replace("{server}", server.url)
    return env


def run_app(python, app_dir: Path, server: FakeOpenAI) -> str:
    proc = subprocess.run([str(python), "main.py"], cwd=app_dir, env=app_env(app_dir, server),
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, f"{app_dir.name} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def migrate_apply(app_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrator", "apply", "-j", "1", str(app_dir)], cwd=app_dir.parent,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)


def snapshot(app_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(app_dir)): p.read_text() for p in sorted(app_dir.rglob("*.py"))}


def expected_output(name: str) -> str:
    return (APPS_DIR / name / "expected.txt").read_text()


def test_every_app_is_complete():
    assert len(APPS) >= 8, APPS
    for name in APPS:
        app_dir = APPS_DIR / name
        assert (app_dir / "expected.txt").read_text().strip(), name
        assert isinstance(json.loads((app_dir / "env.json").read_text()), dict), name
        assert len(list(app_dir.rglob("*.py"))) >= 3, f"{name} is not a multi-module program"


@pytest.mark.parametrize("name", APPS)
def test_legacy_app_prints_expected(name, tmp_path, fake_server, legacy_python):
    app_dir = tmp_path / name
    shutil.copytree(APPS_DIR / name, app_dir)
    assert run_app(legacy_python, app_dir, fake_server) == expected_output(name)


@pytest.mark.parametrize("name", APPS)
def test_migrated_app_prints_expected(name, tmp_path, fake_server):
    app_dir = tmp_path / name
    shutil.copytree(APPS_DIR / name, app_dir)
    before = snapshot(app_dir)
    first = migrate_apply(app_dir)
    assert first.returncode in (0, 1), f"apply exited {first.returncode}\n{first.stdout}\n{first.stderr}"
    migrated = snapshot(app_dir)
    assert migrated != before, f"nothing was migrated\n{first.stdout}"
    second = migrate_apply(app_dir)
    assert second.returncode in (0, 1), f"second apply exited {second.returncode}\n{second.stdout}\n{second.stderr}"
    assert snapshot(app_dir) == migrated, "a second apply changed the migrated files"
    assert run_app(sys.executable, app_dir, fake_server) == expected_output(name)
