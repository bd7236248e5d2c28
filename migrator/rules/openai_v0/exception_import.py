"""OAI302: imports of the removed ``openai.error`` module."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.names import dotted_name
from migrator.rules.openai_v0.catalog import ERRORS


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
        Invalid("import openai.error"),
        Invalid("from openai.error import RateLimitError, InvalidRequestError"),
        Invalid("from openai import error"),
        Invalid("def f():\n    from openai.error import Timeout\n    return Timeout"),
    )

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if dotted_name(alias.name) == "openai.error":
                self.report(alias, "`openai.error` was removed in openai 1.0; the exceptions live on `openai`")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        module = dotted_name(node.module)
        if module == "openai.error":
            if isinstance(node.names, cst.ImportStar):
                names = "*"
            else:
                names = ", ".join(
                    f"{dotted_name(a.name)} -> {ERRORS.get(dotted_name(a.name), ('?',))[0] or 'no equivalent'}"
                    for a in node.names
                )
            self.report(node, f"`openai.error` was removed in openai 1.0; import from `openai` ({names})")
        elif module == "openai" and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if dotted_name(alias.name) == "error":
                    self.report(alias, "`openai.error` was removed in openai 1.0; the exceptions live on `openai`")
