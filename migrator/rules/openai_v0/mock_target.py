"""OAI601: test mocks that patch the v0 API."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule, is_mock_call
from migrator.rules.names import string_value
from migrator.rules.openai_v0.catalog import CONFIG_REMOVED, ERRORS, split_qualname

def legacy_path(path: str) -> bool:
    """Whether a dotted ``openai....`` path names something of the v0 API."""
    if not path.startswith("openai."):
        return False
    parts = path.split(".")
    if parts[1] == "error" and (len(parts) == 2 or parts[2] in ERRORS):
        return True
    if len(parts) == 2 and (parts[1] in CONFIG_REMOVED or parts[1] == "api_base"):
        return True
    return split_qualname(".".join(parts[:3])) is not None


class LegacyMockTarget(Rule):
    """## What it does
    Finds mocks of the v0 API in tests: `patch("openai.ChatCompletion.create")`,
    `mocker.patch("openai.Embedding.create")`, `patch.object(openai.ChatCompletion, "create")`,
    `monkeypatch.setattr(openai.ChatCompletion, "create", fake)` and
    `monkeypatch.setattr("openai.api_base", ...)`.

    ## Why is this bad?
    Once the code under test calls `client.chat.completions.create`, the mock patches an attribute
    nobody calls: tests either hit the network or fail far from the cause.

    ## Example
    ```python
    @patch("openai.ChatCompletion.create")
    def test_reply(mock_create): ...
    ```

    Use instead:
    ```python
    @patch("openai.resources.chat.completions.Completions.create")
    def test_reply(mock_create): ...
    ```

    ## Fix safety
    Safe for patch targets that have a current path; the return values the mock hands out must still
    become current response objects (reported separately where they are dicts).
    """

    valid = (
        "from unittest.mock import patch\npatch('openai.resources.chat.completions.Completions.create')",
        "from unittest.mock import patch\npatch('myapp.openai_client.ChatCompletion.create')",
        "import openai\nfrom unittest import mock\nmock.patch.object(openai.OpenAI, 'chat')",
    )
    invalid = (
        Invalid("from unittest.mock import patch\n@patch('openai.ChatCompletion.create')\ndef test(m): ..."),
        Invalid("import openai\nfrom unittest import mock\nmock.patch.object(openai.ChatCompletion, 'create')"),
        Invalid("import openai\ndef test(monkeypatch):\n    monkeypatch.setattr(openai.Embedding, 'create', fake)"),
        Invalid("def test(mocker):\n    mocker.patch('openai.error.RateLimitError')"),
        Invalid("def test(monkeypatch):\n    monkeypatch.setattr('openai.api_base', 'http://x')"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args or not is_mock_call(node):
            return
        first = node.args[0].value
        text = string_value(first)
        if text is not None:
            if legacy_path(text):
                self.report(first, f"mock target `{text}` is v0 API that current code no longer calls")
            return
        qualname = self.ctx.reference(first)
        if not qualname:
            return
        attr = string_value(node.args[1].value) if len(node.args) > 1 else None
        full = f"{qualname}.{attr}" if attr else qualname
        if legacy_path(full):
            self.report(first, f"mock target `{full}` is v0 API that current code no longer calls")
