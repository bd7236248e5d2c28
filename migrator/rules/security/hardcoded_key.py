"""SEC001: API keys written into source code."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.names import string_value
from migrator.rules.security.redact import KEY_PATTERN, redact


def _looks_like_secret(value: str) -> bool:
    return len(value) >= 8 and not any(c.isspace() for c in value)


class HardcodedApiKey(Rule):
    """## What it does
    Finds API keys in source: any string literal shaped like an OpenAI key (`sk-...`,
    `sk-proj-...`), and any literal assigned to `openai.api_key` or passed as `api_key=` to an
    openai client or call.

    ## Why is this bad?
    Keys in code end up in version control, logs and screenshots. The finding shows the key redacted
    (`sk-...abcd`), in every output format.

    ## Example
    ```python
    openai.api_key = "sk-proj-..."
    ```

    Use instead:
    ```python
    client = OpenAI()  # reads OPENAI_API_KEY from the environment
    ```

    ## Fix safety
    Report-only: rotate the key, then read it from the environment.
    """

    valid = (
        "import os\nfrom openai import OpenAI\nclient = OpenAI(api_key=os.environ['OPENAI_API_KEY'])",
        "from openai import OpenAI\nclient = OpenAI(api_key='test')",
        "prefix = 'sk-'",
        "import requests\nrequests.get(url, params={'api_key': 'abcdefghijklmnop'})",
    )
    invalid = (
        Invalid("import openai\nopenai.api_key = 'sk-abcdefghijklmnopqrstuvwxyz123456'"),
        Invalid("from openai import OpenAI\nclient = OpenAI(api_key='sk-proj-abcdefghijklmnopqrstuvwx')"),
        Invalid("import openai\nopenai.api_key = 'f3a9c2d4e5b6a7c8'"),
        Invalid("KEY = 'sk-abcdefghijklmnopqrstuvwxyz123456'"),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.seen: set[int] = set()

    def _report_literal(self, node: cst.BaseExpression, value: str) -> None:
        if id(node) in self.seen:
            return
        self.seen.add(id(node))
        self.report(node, f"hard-coded API key {redact(value)}; read it from the environment instead")

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        match = KEY_PATTERN.search(node.value)
        if match:
            self._report_literal(node, match.group(0))

    def visit_Assign(self, node: cst.Assign) -> None:
        value = string_value(node.value)
        if value is None or not _looks_like_secret(value):
            return
        if any(self.ctx.reference(t.target) == "openai.api_key" for t in node.targets):
            self._report_literal(node.value, value)

    def visit_Call(self, node: cst.Call) -> None:
        qualname = self.ctx.resolve(node.func)
        if not qualname or not qualname.startswith("openai."):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "api_key":
                value = string_value(arg.value)
                if value is not None and _looks_like_secret(value):
                    self._report_literal(arg.value, value)
