"""Import hygiene of every rewrite (issue 9): never a duplicate import added, local imports stay local.

Checked on every before/after pair of fixtures/rewrites: an import that appears twice in one scope of
an ``.after.py`` appeared twice in that scope of the ``.before.py`` already, and a module that imported
openai only inside functions gets no module-level openai import.
"""

from __future__ import annotations

import ast
from collections import Counter

import pytest
from rewrite_cases import PAIRS, after_of


def _imports(tree: ast.Module) -> Counter[tuple[str, tuple[str, str, str | None]]]:
    """``(scope, (module, name, alias))`` of every import, counted; ``scope`` is the dotted path of the
    functions and classes it sits in ('' at the top)."""
    found: Counter[tuple[str, tuple[str, str, str | None]]] = Counter()

    def walk(body: list[ast.stmt], scope: str) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.update((scope, (alias.name, "", alias.asname)) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                found.update((scope, (node.module or "", alias.name, alias.asname)) for alias in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                walk(node.body, f"{scope}.{node.name}".lstrip("."))
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):  # if/try/with/for: the same scope
                children = getattr(node, field, None)
                if isinstance(children, list):
                    walk([c for c in children if isinstance(c, ast.stmt)], scope)
                    for handler in children:
                        if isinstance(handler, ast.ExceptHandler):
                            walk(handler.body, scope)

    walk(tree.body, "")
    return found


def _duplicates(counts: Counter) -> set:
    return {key for key, n in counts.items() if n > 1}


def _openai_at_top(counts: Counter) -> bool:
    return any(scope == "" and (module == "openai" or module.startswith("openai."))
               for (scope, (module, _, _)), _n in counts.items())


@pytest.mark.parametrize("before", PAIRS, ids=lambda p: p.name.replace(".before.py", ""))
def test_no_duplicate_import_is_added(before):
    old = _imports(ast.parse(before.read_text()))
    new = _imports(ast.parse(after_of(before).read_text()))
    assert _duplicates(new) <= _duplicates(old)


@pytest.mark.parametrize("before", PAIRS, ids=lambda p: p.name.replace(".before.py", ""))
def test_local_openai_imports_stay_local(before):
    text = before.read_text()
    old = _imports(ast.parse(text))
    local = any(scope and module.split(".")[0] == "openai" for (scope, (module, _, _)) in old)
    if not local or _openai_at_top(old) or "--target" in text or "async def" in text:
        return  # async calls need a client object, which needs a module-level import (see the README)
    assert not _openai_at_top(_imports(ast.parse(after_of(before).read_text())))


def test_the_checks_see_duplicates_and_hoisting():
    """The helpers above can fail: a duplicate and a hoisted import are seen."""
    dup = _imports(ast.parse("def f():\n    import openai\n    import openai\n"))
    assert _duplicates(dup) == {("f", ("openai", "", None))}
    assert _openai_at_top(_imports(ast.parse("from openai import OpenAI\n")))
    assert not _openai_at_top(_imports(ast.parse("def f():\n    import openai\n")))
