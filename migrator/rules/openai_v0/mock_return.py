"""OAI602: mocks of the openai API that return plain dicts."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule, is_mock_call
from migrator.rules.names import string_value
from migrator.rules.openai_v0.mock_target import current_target, legacy_path

# The patched method (current path, sync or async class) -> (module, class) of what it returns.
RESPONSE_TYPES: dict[str, tuple[str, str]] = {
    "chat.completions.Completions.create": ("openai.types.chat", "ChatCompletion"),
    "completions.Completions.create": ("openai.types", "Completion"),
    "embeddings.Embeddings.create": ("openai.types", "CreateEmbeddingResponse"),
    "moderations.Moderations.create": ("openai.types", "ModerationCreateResponse"),
    "images.Images.generate": ("openai.types", "ImagesResponse"),
    "images.Images.edit": ("openai.types", "ImagesResponse"),
    "images.Images.create_variation": ("openai.types", "ImagesResponse"),
}


def _target_text(ctx, call: cst.Call) -> str | None:
    if not call.args or not is_mock_call(call):
        return None
    first = call.args[0].value
    text = string_value(first)
    if text is None:
        qualname = ctx.reference(first) or ""
        attr = string_value(call.args[1].value) if len(call.args) > 1 else None
        text = f"{qualname}.{attr}" if attr else qualname
    return text


def _mocks_openai(ctx, call: cst.Call) -> bool:
    """``patch("openai....")`` / ``patch.object(openai.X, "create")`` of the v0 API or the current one."""
    text = _target_text(ctx, call)
    return text is not None and (legacy_path(text) or text.startswith("openai.resources."))


def response_type(target: str) -> tuple[str, str] | None:
    """(module, class) of the response a patched openai method returns, for a v0 or a current target."""
    current = current_target(target) if legacy_path(target) else target
    if not current or not current.startswith("openai.resources."):
        return None
    key = current.removeprefix("openai.resources.")
    parts = key.split(".")
    if len(parts) >= 2 and parts[-2].startswith("Async"):
        parts[-2] = parts[-2].removeprefix("Async")
    return RESPONSE_TYPES.get(".".join(parts))


def _mock_target(ctx, expr: cst.BaseExpression) -> str | None:
    """The patch target when ``expr`` creates a mock of the openai API, else None."""
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "start":
        expr = expr.func.value  # patcher.start()
    if isinstance(expr, cst.Call) and _mocks_openai(ctx, expr):
        return _target_text(ctx, expr)
    return None


def _construct(cls: str) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """An edit: ``{...}`` -> ``Cls.model_construct(**{...})``; ``dict(a=1)`` -> ``Cls.model_construct(a=1)``."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        func = cst.Attribute(value=cst.Name(cls), attr=cst.Name("model_construct"))
        if isinstance(node, cst.Call):
            return node.with_changes(func=func)
        assert isinstance(node, cst.BaseExpression)
        return cst.Call(func=func, args=[cst.Arg(node, star="**")])
    return edit


def _dict_value(ctx, node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Dict) or (
        isinstance(node, cst.Call) and ctx.is_builtin(node.func, "dict") and all(a.keyword is not None for a in node.args)
    )


class LegacyMockReturnValue(Rule):
    """## What it does
    Finds mocks of the openai API whose `return_value` (or an element of a `side_effect` list) is a dict
    literal or a dict built by a helper of the test module (`return_value = fake_chat("hi")`):
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
    Safe where the patched method's response type is known (chat, completions, embeddings,
    moderations, images): the dict becomes `ChatCompletion.model_construct(**{...})`, which builds
    the nested objects (`choices[0].message`) without validation, so fields the fake leaves out read
    as `None` instead of failing. A dict built by a helper of the test module, or by a pytest fixture
    of it, is rewritten where the helper returns it. Other dicts are reported.
    """

    valid = (
        "from unittest import mock\nwith mock.patch('myapp.fetch') as m:\n    m.return_value = {'a': 1}",
        "from unittest import mock\nwith mock.patch('openai.ChatCompletion.create') as m:\n    m.return_value = make_response()",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "from unittest import mock\nwith mock.patch('openai.ChatCompletion.create') as m:\n    m.return_value = {'choices': []}",
            fixed="from unittest import mock\nfrom openai.types.chat import ChatCompletion\n\n"
            "with mock.patch('openai.resources.chat.completions.Completions.create') as m:\n"
            "    m.return_value = ChatCompletion.model_construct(**{'choices': []})",
        ),
        Invalid(
            "from unittest import mock\ndef fake():\n    return {'data': [{'embedding': [0.5]}]}\n"
            "@mock.patch('openai.Embedding.create')\ndef test(m):\n    m.return_value = fake()",
            fixed="from unittest import mock\nfrom openai.types import CreateEmbeddingResponse\n\n"
            "def fake():\n    return CreateEmbeddingResponse.model_construct(**{'data': [{'embedding': [0.5]}]})\n"
            "@mock.patch('openai.resources.embeddings.Embeddings.create')\ndef test(m):\n    m.return_value = fake()",
        ),
        Invalid("def test(mocker):\n    fake = mocker.patch('openai.resources.chat.completions.Completions.create')\n"
                "    fake.return_value = {'choices': []}"),
        Invalid("from unittest.mock import patch\n@patch('openai.Embedding.create')\n@patch('openai.ChatCompletion.create')\n"
                "def test(chat, embed):\n    embed.return_value = {'data': []}\n    chat.return_value = dict(choices=[])", 2),
        Invalid(
            "from unittest.mock import patch\ndef fake(c):\n    return {'choices': [{'message': {'content': c}}]}\n"
            "@patch('openai.ChatCompletion.create')\ndef test(m):\n    m.side_effect = [ValueError('x'), fake('ok')]",
            fixed="from unittest.mock import patch\nfrom openai.types.chat import ChatCompletion\n\n"
            "def fake(c):\n    return ChatCompletion.model_construct(**{'choices': [{'message': {'content': c}}]})\n"
            "@patch('openai.resources.chat.completions.Completions.create')\n"
            "def test(m):\n    m.side_effect = [ValueError('x'), fake('ok')]",
        ),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.mocks: dict[int, dict[str, str]] = {}  # id(scope) -> mock name -> patch target
        self.fixed_helpers: set[str] = set()

    def _add(self, name: str, target: str) -> None:
        self.mocks.setdefault(id(self.ctx.scope), {})[name] = target

    def visit_WithItem(self, node: cst.WithItem) -> None:
        target = _mock_target(self.ctx, node.item)
        if node.asname is not None and isinstance(node.asname.name, cst.Name) and target is not None:
            self._add(node.asname.name.value, target)

    def visit_Assign(self, node: cst.Assign) -> None:
        target = _mock_target(self.ctx, node.value)
        if target is not None:
            for assigned in node.targets:
                if isinstance(assigned.target, cst.Name):
                    self._add(assigned.target.value, target)
        self._check(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # @patch decorators pass their mocks as the first positional parameters, the bottom one first.
        params = [p.name.value for p in node.params.params if p.name.value not in ("self", "cls")]
        patches = [d.decorator for d in reversed(node.decorators) if isinstance(d.decorator, cst.Call) and is_mock_call(d.decorator)]
        for param, decorator in zip(params, patches):
            target = _target_text(self.ctx, decorator)
            if target is not None and _mocks_openai(self.ctx, decorator):
                self.mocks.setdefault(id(self.ctx.index.scope_of(node)), {})[param] = target

    def _check(self, node: cst.Assign) -> None:
        for assigned in node.targets:
            attr = assigned.target
            if not (
                isinstance(attr, cst.Attribute) and attr.attr.value in ("return_value", "side_effect")
                and isinstance(attr.value, cst.Name)
            ):
                continue
            target = self.mocks.get(id(self.ctx.scope), {}).get(attr.value.value)
            if target is None:
                continue
            kind = response_type(target)
            values = [node.value]
            if attr.attr.value == "side_effect":
                # A list of side effects: each call returns (or raises) the next one.
                elements = node.value.elements if isinstance(node.value, (cst.List, cst.Tuple)) else []
                values = [e.value for e in elements if isinstance(e, cst.Element)]
            for value in values:
                if _dict_value(self.ctx, value):
                    self._rewrite(value, kind)
                elif kind is not None:
                    self._helper(value, kind)

    def _rewrite(self, value: cst.BaseExpression, kind: tuple[str, str] | None) -> None:
        plan = None
        if kind is not None:
            plan = Fix().edit(value, _construct(kind[1])).add_import(kind[0], kind[1])
        self.report(value, "this mock of the openai API returns a dict, but current code reads attributes; "
                           "return a response object (`ChatCompletion.model_construct(**{...})`)", plan=plan)

    def _helper(self, value: cst.BaseExpression, kind: tuple[str, str]) -> None:
        """``return_value = make_response()`` or a pytest fixture parameter: the helper's returned dicts."""
        name = None
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
            name = value.func.value  # its arguments fill the dict it returns
        elif isinstance(value, cst.Name) and self.ctx.index.lookup(value.value, self.ctx.scope) is None:
            name = value.value  # a fixture requested by parameter name
        function = self.ctx.index.functions.get(name or "")
        if name is None or function is None or name in self.fixed_helpers:
            return
        scope = self.ctx.index.scope_of(function)
        returns = scope.returns if scope is not None else []
        dicts = [r for r in returns if _dict_value(self.ctx, r)]
        if not dicts or len(dicts) != len(returns):
            return
        self.fixed_helpers.add(name)
        for returned in dicts:
            self._rewrite(returned, kind)
