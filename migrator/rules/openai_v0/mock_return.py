"""OAI602: mocks of the openai API that return plain dicts."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule, is_mock_call
from migrator.rules.names import string_value
from migrator.rules.openai_v0.mock_target import legacy_path


def _mocks_openai(ctx, call: cst.Call) -> bool:
    """``patch("openai....")`` / ``patch.object(openai.X, "create")`` of the v0 API or the current one."""
    if not call.args or not is_mock_call(call):
        return False
    first = call.args[0].value
    text = string_value(first)
    if text is None:
        qualname = ctx.reference(first) or ""
        attr = string_value(call.args[1].value) if len(call.args) > 1 else None
        text = f"{qualname}.{attr}" if attr else qualname
    return legacy_path(text) or text.startswith("openai.resources.")


def _mock_call(ctx, expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "start":
        expr = expr.func.value  # patcher.start()
    return isinstance(expr, cst.Call) and _mocks_openai(ctx, expr)


class LegacyMockReturnValue(Rule):
    """## What it does
    Finds mocks of the openai API whose `return_value` is a dict literal:
    `mock_create.return_value = {"choices": [...]}` where `mock_create` comes from
    `patch("openai.ChatCompletion.create")`, `mocker.patch(...)`, `with patch.object(...) as m:` or a
    `@patch(...)` decorator.

    ## Why is this bad?
    v0 responses were dicts, so tests faked them with dicts. Migrated code reads attributes
    (`resp.choices[0].message.content`), so the test now fails with `AttributeError: 'dict' object has
    no attribute 'choices'`, far from the mock.

    ## Example
    ```python
    mock_create.return_value = {"choices": [{"message": {"content": "hi"}}]}
    ```

    Use instead:
    ```python
    from openai.types.chat import ChatCompletion
    mock_create.return_value = ChatCompletion.model_validate({
        "id": "x", "object": "chat.completion", "created": 0, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
    })
    ```

    ## Fix safety
    Report-only: the fake must gain the fields the response model requires, which only its author knows.
    """

    valid = (
        "from unittest import mock\nwith mock.patch('myapp.fetch') as m:\n    m.return_value = {'a': 1}",
        "from unittest import mock\nwith mock.patch('openai.ChatCompletion.create') as m:\n    m.return_value = make_response()",
    )
    invalid = (
        Invalid("from unittest import mock\nwith mock.patch('openai.ChatCompletion.create') as m:\n    m.return_value = {'choices': []}"),
        Invalid("def test(mocker):\n    fake = mocker.patch('openai.resources.chat.completions.Completions.create')\n"
                "    fake.return_value = {'choices': []}"),
        Invalid("from unittest.mock import patch\n@patch('openai.Embedding.create')\n@patch('openai.ChatCompletion.create')\n"
                "def test(chat, embed):\n    embed.return_value = {'data': []}\n    chat.return_value = dict(choices=[])", 1),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.mocks: dict[int, set[str]] = {}

    def _add(self, name: str) -> None:
        self.mocks.setdefault(id(self.ctx.scope), set()).add(name)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name) and _mock_call(self.ctx, node.item):
            self._add(node.asname.name.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if _mock_call(self.ctx, node.value):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._add(target.target.value)
        self._check(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # @patch decorators pass their mocks as the first positional parameters, the bottom one first.
        params = [p.name.value for p in node.params.params if p.name.value not in ("self", "cls")]
        patches = [d.decorator for d in reversed(node.decorators) if isinstance(d.decorator, cst.Call) and is_mock_call(d.decorator)]
        for param, decorator in zip(params, patches):
            if _mocks_openai(self.ctx, decorator):
                self.mocks.setdefault(id(self.ctx.index.scope_of(node)), set()).add(param)

    def _check(self, node: cst.Assign) -> None:
        if not isinstance(node.value, cst.Dict):
            return
        for target in node.targets:
            attr = target.target
            if (
                isinstance(attr, cst.Attribute) and attr.attr.value == "return_value"
                and isinstance(attr.value, cst.Name) and attr.value.value in self.mocks.get(id(self.ctx.scope), ())
            ):
                self.report(node.value, "this mock of the openai API returns a dict, but current code reads attributes; "
                                        "return a response object (e.g. `ChatCompletion.model_validate({...})`)")
