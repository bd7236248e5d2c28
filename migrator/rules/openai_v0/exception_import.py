"""OAI302: imports of the removed ``openai.error`` module."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.names import dotted_name
from migrator.rules.openai_v0.catalog import ERRORS


def _from_openai(node: cst.ImportFrom) -> cst.ImportFrom | None:
    """``from openai.error import A, B as C`` -> ``from openai import A2, B2 as C`` (None if a name has
    no current class)."""
    names = []
    for alias in node.names:  # type: ignore[union-attr]
        current = ERRORS.get(dotted_name(alias.name), ("", ""))[0]
        if not current:
            return None
        names.append(alias.with_changes(name=cst.Name(current)))
    return node.with_changes(module=cst.Name("openai"), names=names)


class LegacyExceptionImport(Rule):
    """## What it does
    Finds `import openai.error`, `from openai.error import X` and `from openai import error`.

    ## Why is this bad?
    The module does not exist in openai>=1.0: the import fails with
    `ModuleNotFoundError: No module named 'openai.error'`.

    ## Example
    ```python
    from openai.error import RateLimitError, InvalidRequestError
    ```

    Use instead:
    ```python
    from openai import RateLimitError, BadRequestError
    ```

    ## Fix safety
    Safe: names are imported from `openai` under their current names (uses of renamed classes are
    rewritten by OAI301).
    """

    valid = (
        "from openai import RateLimitError",
        "import openai",
        "from myapp.openai.error import Foo",
        "from .error import RateLimitError",
    )
    invalid = (
        Invalid("import openai.error\nopenai.error.RateLimitError", fixed="import openai\nopenai.RateLimitError"),
        Invalid(
            "from openai.error import RateLimitError, InvalidRequestError as IRE",
            fixed="from openai import RateLimitError, BadRequestError as IRE",
        ),
        Invalid("from openai import error\nerror.TryAgain", fixed="import openai\n\nopenai.ConflictError"),
        Invalid(
            "def f():\n    from openai.error import Timeout\n    return Timeout",
            fixed="def f():\n    from openai import APITimeoutError\n    return APITimeoutError",
        ),
    )

    has_fixes = True

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if dotted_name(alias.name) == "openai.error":
                fix = Fix()
                if alias.asname is None:
                    # libcst's RemoveImportsVisitor keeps `import openai.error` while `openai` is used, so
                    # this one form is renamed in place.
                    fix.edit(alias, lambda a: a.with_changes(name=cst.Name("openai")))
                else:
                    fix.add_import("openai").remove_import("openai.error", None, alias.asname.name.value)  # type: ignore[union-attr]
                self.report(alias, "`openai.error` was removed in openai 1.0; the exceptions live on `openai`", plan=fix)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        module = dotted_name(node.module)
        if module == "openai.error":
            if isinstance(node.names, cst.ImportStar):
                self.report(node, "`openai.error` was removed in openai 1.0; import the classes you use from `openai`")
                return
            names = ", ".join(
                f"{dotted_name(a.name)} -> {ERRORS.get(dotted_name(a.name), ('?',))[0] or 'no equivalent'}"
                for a in node.names
            )
            rewritten = _from_openai(node)
            plan = Fix().replace(node, rewritten) if rewritten is not None else None
            self.report(node, f"`openai.error` was removed in openai 1.0; import from `openai` ({names})", plan=plan)
        elif module == "openai" and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if dotted_name(alias.name) == "error":
                    asname = alias.asname.name.value if alias.asname is not None else None  # type: ignore[union-attr]
                    plan = Fix().add_import("openai").remove_import("openai", "error", asname)
                    self.report(alias, "`openai.error` was removed in openai 1.0; the exceptions live on `openai`", plan=plan)
