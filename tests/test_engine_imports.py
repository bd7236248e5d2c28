"""The import planner in engine/fix_apply.py against libcst's AddImportsVisitor/RemoveImportsVisitor, which
the engine used before: same output on every fixture, plus the placement rules one by one."""

from __future__ import annotations

import libcst as cst
import pytest
from conftest import FIXTURES
from rewrite_cases import PAIRS, options_for

from migrator.engine import fix_apply
from migrator.engine.fixer import FixOptions, fix_text
from migrator.rules.base import Fix
from migrator.rules.registry import RULES

ALL = [e.code for e in RULES]


def libcst_apply(module: cst.Module, fixes: list[Fix]) -> cst.Module:
    """The reference: node edits, then libcst's import codemods (the engine's former implementation)."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

    edits: dict = {}
    for plan in fixes:
        for node, fn in plan.edits:
            queue = edits.setdefault(id(node), [])
            if fn not in queue:
                queue.append(fn)
    new = module.visit(fix_apply._ApplyEdits(edits)) if edits else module
    if edits:  # not import planning: the duplicates a rename created are dropped on both sides
        new = fix_apply._drop_created_duplicates(module, new)
    adds = {imp for plan in fixes for imp in plan.add_imports}
    removes = {imp for plan in fixes for imp in plan.remove_imports}
    facts = fix_apply._ImportFacts()
    new.visit(facts)
    adds = {a for a in adds if a not in facts.imported}
    removes = {r for r in removes if (r[2] or r[1] or r[0].split(".")[0]) not in facts.used}
    context = CodemodContext()
    for module_name, obj, asname in sorted(adds, key=str):
        AddImportsVisitor.add_needed_import(context, module_name, obj, asname)
    if adds:
        new = AddImportsVisitor(context).transform_module(new)
    for module_name, obj, asname in sorted(removes, key=str):
        RemoveImportsVisitor.remove_unused_import(context, module_name, obj, asname)
    if removes:
        new = RemoveImportsVisitor(context).transform_module(new)
    return new


SOURCES = PAIRS + sorted((FIXTURES / "examples").glob("*.py")) + sorted((FIXTURES / "e2e").glob("*.py"))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_planner_matches_libcst(source, monkeypatch):
    text = source.read_text()
    options = options_for(text)
    ours, _ = fix_text(str(source), text, ALL, options)
    monkeypatch.setattr(fix_apply, "apply_fixes", libcst_apply)
    theirs, _ = fix_text(str(source), text, ALL, options)
    assert ours == theirs


def plan(*adds, removes=()) -> Fix:
    fix = Fix()
    for add in adds:
        fix.add_import(*add)
    for remove in removes:
        fix.remove_import(*remove)
    return fix


@pytest.mark.parametrize(
    ("source", "fix", "expected"),
    [
        pytest.param('"""Doc."""\nx = 1\n', plan(("os",)), '"""Doc."""\nimport os\n\nx = 1\n', id="after-docstring"),
        pytest.param("from __future__ import annotations\nimport sys\nx = 1\n", plan(("openai", "OpenAI")),
                     "from __future__ import annotations\nimport sys\nfrom openai import OpenAI\n\nx = 1\n",
                     id="after-the-opening-imports"),
        pytest.param("from openai import AsyncOpenAI\nx = 1\n", plan(("openai", "OpenAI")),
                     "from openai import OpenAI, AsyncOpenAI\nx = 1\n", id="joins-an-existing-from-import"),
        pytest.param("import os\nx = 1\ndef f():\n    import openai\n", plan(("openai",)),
                     "import os\nx = 1\ndef f():\n    import openai\n", id="never-duplicates"),
        pytest.param("import os\r\nx = 1\r\n", plan(("openai", "OpenAI", "OAI")),
                     "import os\r\nfrom openai import OpenAI as OAI\r\n\r\nx = 1\r\n", id="crlf-and-alias"),
        pytest.param("# header\nimport openai  # legacy\nimport os\nx = os.sep\n", plan(removes=[("openai",)]),
                     "# header\nimport os\nx = os.sep\n", id="removes-an-unused-import"),
        pytest.param("import openai\n__all__ = ['openai']\n", plan(removes=[("openai",)]),
                     "import openai\n__all__ = ['openai']\n", id="keeps-an-exported-name"),
        pytest.param("from x import (\n    a,  # keep me\n    b,\n)\nb()\n", plan(removes=[("x", "a")]),
                     "from x import (\n    b,\n)\nb()\n", id="parenthesised-list"),
        pytest.param("import openai\ny: 'openai.X'\n", plan(removes=[("openai",)]),
                     "import openai\ny: 'openai.X'\n", id="keeps-a-string-annotation-use"),
    ],
)
def test_planner_cases(source, fix, expected):
    module = cst.parse_module(source)
    assert fix_apply.apply_fixes(module, [fix]).code == expected
    assert libcst_apply(module, [fix]).code == expected


def test_fix_options_force_rules_on_a_path():
    """A file the pre-filter rules out (no openai import: a helper that receives v0 responses) is fixed when
    the project phase forces rules on it."""
    # (`["data"]` is too common for the pre-filter to look for; `["choices"]` would make it a candidate)
    helper = "def first_vector(resp):\n    return resp['data'][0]['embedding']\n"
    assert fix_text("helper.py", helper, ALL, FixOptions()) == (helper, [])

    class View(type(FixOptions().project)):  # a project view that knows about the helper
        def forced_codes_for(self, path):
            return ("OAI501",) if path == "helper.py" else ()

    forced = FixOptions(force=(("helper.py", ("OAI101",)),), project=View())
    assert forced.forced_codes_for("helper.py") == ("OAI101", "OAI501")
    assert forced.forced_codes_for("other.py") == ()


def test_forced_rules_run_where_the_prefilter_would_skip():
    from migrator.engine.source import SourceError

    broken = "def helper(resp:\n    return resp['data']\n"  # parsed only if some rule must run
    assert fix_text("helper.py", broken, ALL, FixOptions()) == (broken, [])
    with pytest.raises(SourceError, match="syntax error"):
        fix_text("helper.py", broken, ALL, FixOptions(force=(("helper.py", ("OAI501",)),)))
    # a forced code that is not selected stays off
    assert fix_text("helper.py", broken, ["OAI101"], FixOptions(force=(("helper.py", ("OAI501",)),)))[0] == broken
