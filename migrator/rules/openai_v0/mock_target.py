"""OAI601: test mocks that patch the v0 API."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule, callee_name, is_mock_call
from migrator.rules.names import string_value
from migrator.rules.openai_v0.catalog import CONFIG_REMOVED, ERRORS, current_method, split_qualname
from migrator.rules.types import FixSafety


def resource_class(resource: str, method: str) -> tuple[str, str] | None:
    """(dotted class, method) that a current client calls for a v0 resource method:
    ChatCompletion.acreate -> ("openai.resources.chat.completions.AsyncCompletions", "create")."""
    target = current_method(resource, method)
    if target is None:
        return None
    path, is_async = target
    *module, holder, name = path.split(".")
    cls = ("Async" if is_async else "") + holder[:1].upper() + holder[1:]
    return ".".join(["openai", "resources", *module, holder, cls]), name


def current_target(path: str) -> str | None:
    """The patch target that replaces a v0 one, or None when there is no exact equivalent."""
    parts = path.split(".")
    if len(parts) == 3 and parts[1] == "error":
        current = ERRORS.get(parts[2], ("", ""))[0]
        return f"openai.{current}" if current else None
    split = split_qualname(path)
    if split is None or split[1] is None:
        return None
    found = resource_class(split[0], split[1])
    return f"{found[0]}.{found[1]}" if found else None

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


class _Uses(cst.CSTVisitor):
    """``name.X`` attributes read in a scope (nested scopes that rebind the name are not told apart)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.attributes: list[cst.Attribute] = []
        self.bare = 0  # uses of the name not followed by an attribute

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if isinstance(node.value, cst.Name) and node.value.value == self.name:
            self.attributes.append(node)
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.bare += 1


def _drop_attribute(node: cst.CSTNode) -> cst.CSTNode:
    """``mock.create`` -> ``mock``."""
    assert isinstance(node, cst.Attribute)
    return node.value


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

    A whole resource class patched (`patch("openai.Completion")`, `mocker.patch("openai.Embedding")`)
    whose mock is used for one method only (`mock_completion.create.return_value = ...`) becomes a
    patch of that method (`patch("openai.resources.completions.Completions.create")`), and
    `mock_completion.create` becomes `mock_completion`.

    ## Fix safety
    Safe for patch targets that have a current path; the return values the mock hands out must still
    become current response objects (OAI602). A class-level patch whose mock serves several methods,
    or whose mock cannot be followed, is report-only.
    """

    valid = (
        "from unittest.mock import patch\npatch('openai.resources.chat.completions.Completions.create')",
        "from unittest.mock import patch\npatch('myapp.openai_client.ChatCompletion.create')",
        "import openai\nfrom unittest import mock\nmock.patch.object(openai.OpenAI, 'chat')",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "from unittest.mock import patch\n@patch('openai.ChatCompletion.create')\ndef test(m): ...",
            fixed="from unittest.mock import patch\n@patch('openai.resources.chat.completions.Completions.create')\ndef test(m): ...",
        ),
        Invalid(
            "import openai\nfrom unittest import mock\nmock.patch.object(openai.ChatCompletion, 'acreate')",
            fixed="import openai\nfrom unittest import mock\nmock.patch.object(openai.resources.chat.completions.AsyncCompletions, 'create')",
        ),
        Invalid("import openai\ndef test(monkeypatch):\n    monkeypatch.setattr(openai.Embedding, 'create', fake)"),
        Invalid("def test(mocker):\n    mocker.patch('openai.error.RateLimitError')"),
        Invalid("def test(monkeypatch):\n    monkeypatch.setattr('openai.api_base', 'http://x')"),
        Invalid(
            "from unittest.mock import patch\n@patch('openai.Completion')\ndef test(completion):\n"
            "    completion.create.return_value = fake\n    completion.create.assert_not_called()",
            fixed="from unittest.mock import patch\n@patch('openai.resources.completions.Completions.create')\n"
            "def test(completion):\n    completion.return_value = fake\n    completion.assert_not_called()",
        ),
        Invalid(
            "def test(mocker):\n    fake = mocker.patch('openai.Embedding')\n    fake.create.return_value = r\n"
            "    fake.list.return_value = []",
        ),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.bound: dict[int, tuple[str, cst.CSTNode]] = {}  # id(patch call) -> (mock name, scope node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name) and isinstance(node.item, cst.Call):
            self.bound[id(node.item)] = (node.asname.name.value, self.ctx.scope.node)

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.bound[id(node.value)] = (node.targets[0].target.value, self.ctx.scope.node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = [p.name.value for p in node.params.params if p.name.value not in ("self", "cls")]
        patches = [d.decorator for d in reversed(node.decorators) if isinstance(d.decorator, cst.Call) and is_mock_call(d.decorator)]
        for param, decorator in zip(params, patches):
            self.bound[id(decorator)] = (param, node)

    def _class_patch(self, node: cst.Call, resource: str, first: cst.SimpleString) -> Fix | None:
        """``patch("openai.Completion")`` whose mock is used for one method: patch that method instead."""
        bound = self.bound.get(id(node))
        if bound is None:
            return None
        name, scope = bound
        uses = _Uses(name)
        scope.visit(uses)
        methods = {a.attr.value for a in uses.attributes}
        if len(methods) != 1:
            return None
        method = methods.pop()
        found = resource_class(resource, method)
        if found is None:
            return None
        plan = Fix().replace(first, cst.SimpleString(f"{first.prefix}{first.quote}{found[0]}.{found[1]}{first.quote}"))
        for attribute in uses.attributes:
            plan.edit(attribute, _drop_attribute)
        return plan

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args or not is_mock_call(node):
            return
        first = node.args[0].value
        text = string_value(first)
        if text is not None:
            if legacy_path(text):
                current = current_target(text)
                plan = None
                if current is not None and isinstance(first, cst.SimpleString):
                    plan = Fix().replace(first, cst.SimpleString(f"{first.prefix}{first.quote}{current}{first.quote}"))
                split = split_qualname(text)
                if plan is None and split is not None and split[1] is None and isinstance(first, cst.SimpleString):
                    plan = self._class_patch(node, split[0], first)
                self.report(first, f"mock target `{text}` is v0 API that current code no longer calls", plan=plan)
            return
        qualname = self.ctx.reference(first)
        if not qualname:
            return
        second = node.args[1].value if len(node.args) > 1 else None
        attr = string_value(second) if second is not None else None
        full = f"{qualname}.{attr}" if attr else qualname
        if not legacy_path(full):
            return
        plan, safety = None, None
        split = split_qualname(full)
        found = resource_class(split[0], split[1]) if split and split[1] else None
        if found is not None and isinstance(second, cst.SimpleString) and isinstance(first, cst.Attribute):
            cls, method = found
            base = first.value if self.ctx.resolve(first.value) == "openai" else cst.Name("openai")
            new_first = cst.parse_expression(cls.replace("openai.", "_base_.", 1))
            plan = Fix().replace(first, _rebase(new_first, base))
            plan.replace(second, cst.SimpleString(f"{second.prefix}{second.quote}{method}{second.quote}"))
            if not isinstance(base, cst.Attribute) and self.ctx.resolve(first.value) != "openai":
                plan.add_import("openai")
            if callee_name(node).endswith("setattr"):
                safety = FixSafety.UNSAFE  # a plain function set on the class now receives `self`
        self.report(first, f"mock target `{full}` is v0 API that current code no longer calls", safety, plan)


def _rebase(expr: cst.BaseExpression, base: cst.BaseExpression) -> cst.BaseExpression:
    """Replace the placeholder root ``_base_`` of an attribute chain with ``base``."""
    if isinstance(expr, cst.Name):
        return base
    assert isinstance(expr, cst.Attribute)
    return expr.with_changes(value=_rebase(expr.value, base))
