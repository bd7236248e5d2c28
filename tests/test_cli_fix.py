"""`migrate diff` and `migrate apply` end to end on temporary projects."""

import json
import shutil

from conftest import FIXTURES

LEGACY = "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nprint(r['choices'][0]['message']['content'])\n"
MIGRATED = (
    "from openai import OpenAI\n\nclient = OpenAI()\nr = client.chat.completions.create(model='m', messages=[])\n"
    "print(r.choices[0].message.content)\n"
)


def test_diff_shows_changes_and_writes_nothing(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    proc = run_cli("diff", ".")
    assert proc.returncode == 1
    assert "--- a/a.py" in proc.stdout and "+++ b/a.py" in proc.stdout
    assert "+r = client.chat.completions.create(model='m', messages=[])" in proc.stdout
    assert "\x1b[" not in proc.stdout  # no colour when not on a terminal
    assert (tmp_path / "a.py").read_text() == LEGACY
    assert "1 file would be rewritten." in proc.stderr


def test_diff_exit_zero_when_nothing_to_do(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(MIGRATED)
    proc = run_cli("diff", ".")
    assert proc.returncode == 0 and proc.stdout == ""


def test_apply_writes_then_second_run_changes_nothing(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    proc = run_cli("apply", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Fixed 2 legacy sites in 1 file." in proc.stdout  # the call and the response access
    assert (tmp_path / "a.py").read_text() == MIGRATED
    again = run_cli("apply", ".")
    assert again.returncode == 0 and "Fixed 0 legacy sites in 0 files." in again.stdout
    assert run_cli("scan", ".").returncode == 0


def test_apply_lists_what_needs_a_human(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(
        "import openai\nopenai.proxy = {'https': 'http://p:3128'}\nr = openai.ChatCompletion.create(model='m', messages=[])\n"
        "if 'finish reason' in r:\n    pass\n"  # a key no attribute is named after: reported, not rewritten
    )
    proc = run_cli("apply", ".")
    assert proc.returncode == 1
    assert "5 need a human:" in proc.stdout  # the two findings and three old environment variables
    text = (tmp_path / "a.py").read_text()
    proxy_line = text.splitlines().index("openai.proxy = {'https': 'http://p:3128'}") + 1
    assert text.splitlines()[proxy_line - 2].startswith("# TODO(migrate): OAI202")
    assert f"a.py:{proxy_line}:1: OAI202" in proc.stdout
    assert "OAI501" in proc.stdout and "always False" in proc.stdout
    assert text.count("# TODO(migrate): OAI202") == 1 and text.count("# TODO(migrate): OAI501") == 1
    again = run_cli("apply", ".")
    assert (tmp_path / "a.py").read_text() == text and "2 need a human:" in again.stdout


def test_unsafe_fixes_are_opt_in(tmp_path, run_cli):
    test = "import openai\ndef test(monkeypatch):\n    monkeypatch.setattr(openai.ChatCompletion, 'create', fake)\n"
    (tmp_path / "t.py").write_text(test)
    proc = run_cli("apply", "t.py")
    assert proc.returncode == 1 and (tmp_path / "t.py").read_text() == test
    proc = run_cli("apply", "--unsafe-fixes", "t.py")
    assert proc.returncode == 0, proc.stdout
    assert "openai.resources.chat.completions.Completions, 'create'" in (tmp_path / "t.py").read_text()


def test_client_style_module(tmp_path, run_cli):
    (tmp_path / "a.py").write_text("import openai\nopenai.api_base = 'http://x/v1'\nr = openai.Completion.create(model='m', prompt='p')\n")
    assert run_cli("apply", "--client-style", "module", ".").returncode == 0
    assert (tmp_path / "a.py").read_text() == (
        "import openai\nopenai.base_url = 'http://x/v1/'\nr = openai.completions.create(model='m', prompt='p')\n"
    )


def test_select_limits_the_rewrites(tmp_path, run_cli):
    (tmp_path / "a.py").write_text("import openai\ntry:\n    openai.Model.list()\nexcept openai.error.RateLimitError:\n    pass\n")
    proc = run_cli("apply", "--select", "OAI3", ".")
    assert proc.returncode == 0  # like ruff, --select also limits what counts as remaining
    assert (tmp_path / "a.py").read_text() == "import openai\ntry:\n    openai.Model.list()\nexcept openai.RateLimitError:\n    pass\n"


def test_diff_redacts_keys(tmp_path, run_cli):
    key = "sk-proj-" + "Z9y8X7w6V5u4T3s2R1q0P9o8"
    (tmp_path / "a.py").write_text(f"import openai\nopenai.api_key = '{key}'\nopenai.Model.list()\n")
    proc = run_cli("diff", ".")
    assert proc.returncode == 1
    assert key not in proc.stdout + proc.stderr and "sk-proj-...P9o8" in proc.stdout


def test_broken_file_is_reported_and_left_alone(tmp_path, run_cli):
    (tmp_path / "bad.py").write_text("import openai\nopenai.ChatCompletion.create(\n")
    (tmp_path / "good.py").write_text(LEGACY)
    proc = run_cli("apply", ".")
    assert proc.returncode == 2
    assert "bad.py: syntax error at line 2" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "bad.py").read_text() == "import openai\nopenai.ChatCompletion.create(\n"
    assert (tmp_path / "good.py").read_text() == MIGRATED


def test_apply_on_bundled_examples_then_scan_only_human_work_is_left(tmp_path, run_cli):
    shutil.copytree(FIXTURES / "examples", tmp_path / "examples")
    proc = run_cli("apply", "examples")
    assert proc.returncode == 1  # GPT-2 ids need --target; removed APIs need a human
    data = json.loads(run_cli("scan", "examples", "--output-format", "json", "--select", "OAI").stdout)
    # Without --unsafe-fixes only report-only and unsafe findings are left; nothing with a safe fix.
    assert {f["fix"]["safety"] for f in data["findings"]} == {"report-only", "unsafe"}


def test_target_option_on_both_commands(tmp_path, run_cli):
    (tmp_path / "a.py").write_text("import openai\nr = openai.ChatCompletion.create(model='gpt-4', messages=[])\n")
    diff = run_cli("diff", "--target", "gemini", ".")
    assert diff.returncode == 1 and "generativelanguage.googleapis.com" in diff.stdout
    assert run_cli("apply", "--target", "gemini:gemini-2.5-pro", ".").returncode == 0
    text = (tmp_path / "a.py").read_text()
    assert 'os.environ["GEMINI_API_KEY"]' in text and "model='gemini-2.5-pro'" in text
    bad = run_cli("apply", "--target", "nowhere:x", ".")
    assert bad.returncode == 2 and "valid providers: openai, azure, anthropic" in bad.stderr


def _sections(stdout: str) -> tuple[str, str]:
    """``apply``'s output split into the client plan and what needs a human."""
    head, _, tail = stdout.partition(" a human:\n")
    return head, tail


def test_apply_names_old_environment_variables_with_what_needs_a_human(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    proc = run_cli("apply", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the code is migrated; the rest is the deployment's
    plan, human = _sections(proc.stdout)
    assert "3 need a human:" in proc.stdout and "environment:" not in plan
    lines = human.splitlines()
    assert len(lines) == 3 and all(line.startswith("environment: ") for line in lines)
    assert "OPENAI_API_BASE is no longer read" in lines[0] and "OPENAI_BASE_URL" in lines[0]
    assert "OPENAI_ORGANIZATION is no longer read" in lines[1] and "OPENAI_ORG_ID" in lines[1]
    assert "OPENAI_API_TYPE is no longer read by the client objects of a.py" in lines[2]
    assert (tmp_path / "a.py").read_text() == MIGRATED
    again = run_cli("apply", ".")  # nothing of v0 left to tell what the program relied on
    assert again.returncode == 0 and "need a human" not in again.stdout


def test_apply_names_only_the_settings_the_program_never_assigns(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(
        "import openai\nopenai.api_base = 'http://h/v1'\nopenai.organization = 'org'\n" + LEGACY.split("\n", 1)[1])
    proc = run_cli("apply", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _, human = _sections(proc.stdout)
    assert "OPENAI_API_BASE" not in proc.stdout and "OPENAI_ORGANIZATION" not in proc.stdout
    assert human.splitlines() == [line for line in human.splitlines() if "OPENAI_API_TYPE" in line] != []


def test_module_client_reads_openai_api_type_itself(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    proc = run_cli("apply", "--client-style", "module", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OPENAI_API_TYPE" not in proc.stdout and "2 need a human:" in proc.stdout


def test_a_target_provider_reads_its_own_variables(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    proc = run_cli("apply", "--target", "anthropic", ".")
    assert "ANTHROPIC_API_KEY" in (tmp_path / "a.py").read_text()
    assert "environment:" not in proc.stdout and "OPENAI_API_BASE" not in proc.stdout


def test_explain_plan_shows_the_environment_lines(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    proc = run_cli("apply", "--explain-plan", ".")
    assert proc.returncode == 0 and (tmp_path / "a.py").read_text() == LEGACY
    assert "  environment: OPENAI_API_BASE is no longer read" in proc.stdout


def test_diff_prints_the_client_plan_on_stderr_and_a_clean_patch_on_stdout(tmp_path, run_cli):
    import subprocess

    (tmp_path / "a.py").write_text(LEGACY)
    proc = run_cli("diff", ".")
    assert proc.returncode == 1
    assert "Client plan" in proc.stderr and "a.py: client object:" in proc.stderr
    assert "environment: OPENAI_API_BASE is no longer read" in proc.stderr
    assert "Client plan" not in proc.stdout and "environment" not in proc.stdout
    (tmp_path / "change.patch").write_text(proc.stdout)
    subprocess.run(["git", "init", "-q", "."], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "change.patch"], cwd=tmp_path, check=True)  # stdout is a patch as it is
    assert (tmp_path / "a.py").read_text() == MIGRATED
