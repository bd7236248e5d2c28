"""The diff/apply pipeline: a project phase runs before fixing, and its view reaches every worker."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from migrator.engine.apply import fix_run
from migrator.engine.settings import Settings
from migrator.rules.project import ProjectView

BROKEN_HELPER = "def first_text(resp:\n    return resp['choices'][0]['text']\n"
LEGACY = "import openai\nr = openai.Completion.create(model='m', prompt='p')\n"


@dataclass(frozen=True)
class HelperView(ProjectView):
    """A view that says the helper module receives v0 responses, so OAI501 must run there."""

    helper: str = ""

    def forced_codes_for(self, path: str) -> tuple[str, ...]:
        return ("OAI501",) if path.endswith(self.helper) and self.helper else ()


@pytest.mark.parametrize("jobs", [1, 2])
def test_project_phase_runs_first_and_reaches_the_workers(tmp_path, monkeypatch, jobs):
    (tmp_path / "helper.py").write_text(BROKEN_HELPER)
    for index in range(4):
        (tmp_path / f"m{index}.py").write_text(LEGACY)
    calls = []

    def plan_run(files, codes, options):
        calls.append((sorted(files), list(codes)))
        return replace(options, project=HelperView(complete=True, helper="helper.py")), []

    monkeypatch.setattr("migrator.engine.project.plan_run", plan_run)
    monkeypatch.chdir(tmp_path)
    settings = Settings.load(["."])
    found, results = fix_run(settings, jobs)
    by_path = {r.path: r for r in results}
    assert len(calls) == 1 and calls[0][0] == sorted(found.files)
    # the pre-filter alone would skip the helper (no openai import); the forced rule made it parsed
    assert "syntax error" in (by_path["helper.py"].error or "")
    assert all(by_path[f"m{i}.py"].changed for i in range(4))


def test_a_completely_migrated_file_is_analysed_once_and_a_rest_is_reported(monkeypatch):
    """After a rewrite the next pass runs (and libcst parses the result) only when the pre-filter says a
    rule can still fire: a file whose every finding was fixed costs one analysis; one that keeps a
    report-only finding gets a second, whose findings are the report of what remains."""
    from conftest import FIXTURES

    from migrator.engine import analysis, fixer
    from migrator.rules.registry import select_rules

    codes = [e.code for e in select_rules()]
    calls: list[str] = []
    original = analysis.analyse
    monkeypatch.setattr(analysis, "analyse", lambda path, *a, **k: calls.append(path) or original(path, *a, **k))

    done = FIXTURES / "examples" / "chat_basic.py"
    new_text, fixed, remaining = fixer._fix_loop(str(done), done.read_text(), codes, fixer.FixOptions())
    assert new_text != done.read_text() and fixed and remaining.findings == []
    assert calls == [str(done)]

    calls.clear()
    source = "import openai\nopenai.Edit.create(model='m', input='x', instruction='y')\n"
    new_text, fixed, remaining = fixer._fix_loop("rest.py", source, codes, fixer.FixOptions())
    assert "TODO(migrate): OAI102" in new_text and [f.code for f in remaining.findings] == ["OAI102"]
    assert calls == ["rest.py", "rest.py"]
