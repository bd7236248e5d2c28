"""The pytest plugin, used for real: a separate pytest session with --llm-backend=local runs a migrated
program from the rewrite fixtures, unchanged, against the local GPT-2."""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import FIXTURES

pytest.importorskip("openai")

TEST_FILE = textwrap.dedent(
    """
    import os
    import runpy

    def test_migrated_program_runs_unchanged(capsys):
        runpy.run_path({program!r}, run_name="__main__")
        printed = capsys.readouterr().out
        # One print() of the reply: the tiny random model's text, then the newline.
        assert printed.endswith("\\n") and len(printed) > 1

    def test_environment_points_at_the_backend(llm_base_url):
        assert os.environ["OPENAI_BASE_URL"] == llm_base_url
        assert llm_base_url.startswith("http://127.0.0.1:")
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["MIGRATE_BACKEND"] == "local"

    def test_fixtures(llm_client):
        reply = llm_client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "hi"}}], max_tokens=3)
        assert reply.model == "gpt-4o" and reply.usage.completion_tokens <= 3
    """
)


def run_pytest(tmp_path, tiny_gpt2, *args, env_extra=None):
    program = FIXTURES / "rewrites" / "chat_basic.after.py"
    (tmp_path / "test_app.py").write_text(TEST_FILE.format(program=str(program)))
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "MIGRATE_BACKEND")}
    env.update({"MIGRATE_LOCAL_MODEL": str(tiny_gpt2), **(env_extra or {})})
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)


def test_plugin_serves_a_migrated_program(tmp_path, tiny_gpt2):
    proc = run_pytest(tmp_path, tiny_gpt2, "--llm-backend=local")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


def test_plugin_is_switched_on_by_environment_too(tmp_path, tiny_gpt2):
    proc = run_pytest(tmp_path, tiny_gpt2, env_extra={"MIGRATE_BACKEND": "local"})
    assert proc.returncode == 0 and "3 passed" in proc.stdout, proc.stdout + proc.stderr


def test_plugin_is_inactive_unless_asked(tmp_path, tiny_gpt2):
    proc = run_pytest(tmp_path, tiny_gpt2, "-k", "fixtures or environment")
    assert "2 skipped" in proc.stdout, proc.stdout + proc.stderr


def test_runtime_imports_nothing_heavy():
    code = (
        "import sys, migrator.runtime, migrator.runtime.pytest_plugin\n"
        "from migrator.runtime import resolve_model\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'transformers', 'openai'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
