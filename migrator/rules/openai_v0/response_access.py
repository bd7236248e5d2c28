"""OAI501: dict-style use of v0 responses, which are pydantic models now."""

from __future__ import annotations

import keyword as _keyword

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.names import Scope, string_value
from migrator.rules.openai_v0.catalog import (
    converts_to_chat,
    current_method,
    is_legacy_api_call,
    split_qualname,
)
from migrator.rules.types import FixSafety


def _field(key: str) -> str | None:
    """The attribute for a v0 dict key (moderation categories: "self-harm/intent" -> self_harm_intent)."""
    name = key.replace("-", "_").replace("/", "_")
    return name if name.isidentifier() and not _keyword.iskeyword(name) else None


def _string_key(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return string_value(node.slice[0].slice.value)


def to_attributes(expr: cst.BaseExpression) -> cst.BaseExpression:
    """Rewrite string-key subscripts along an access chain into attributes, innermost first."""
    if isinstance(expr, cst.Subscript):
        inner = to_attributes(expr.value)
        key = _string_key(expr)
        name = _field(key) if key is not None else None
        if name is not None:
            return cst.Attribute(value=inner, attr=cst.Name(name), lpar=expr.lpar, rpar=expr.rpar)
        return expr.with_changes(value=inner)
    if isinstance(expr, cst.Attribute):
        return expr.with_changes(value=to_attributes(expr.value))
    return expr


def _convertible(expr: cst.BaseExpression) -> bool:
    """Every string key on the chain maps to an attribute name."""
    while isinstance(expr, (cst.Subscript, cst.Attribute)):
        if isinstance(expr, cst.Subscript):
            key = _string_key(expr)
            if key is not None and _field(key) is None:
                return False
        expr = expr.value
    return True


def _get_to_attribute(call: cst.CSTNode) -> cst.CSTNode:
    """``x.get("k")`` -> ``x.k``; ``x.get("k", d)`` -> ``(x.k or d)``."""
    assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
    receiver = to_attributes(call.func.value)
    name = _field(string_value(call.args[0].value) or "")
    attribute = cst.Attribute(value=receiver, attr=cst.Name(name or "_"))
    if len(call.args) == 1 or (isinstance(call.args[1].value, cst.Name) and call.args[1].value.value == "None"):
        return attribute.with_changes(lpar=call.lpar, rpar=call.rpar)
    return cst.BooleanOperation(
        left=attribute, operator=cst.Or(), right=call.args[1].value, lpar=[cst.LeftParen()], rpar=[cst.RightParen()]
    )


def _to_dict(expr: cst.BaseExpression) -> cst.BaseExpression:
    return cst.Call(func=cst.Attribute(value=to_attributes(expr), attr=cst.Name("to_dict")))


def _chain_root(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, (cst.Subscript, cst.Attribute)):
        expr = expr.value
    return expr


def _has_string_key(expr: cst.BaseExpression) -> bool:
    while isinstance(expr, (cst.Subscript, cst.Attribute)):
        if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
            index = expr.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, (cst.SimpleString, cst.ConcatenatedString)):
                return True
        expr = expr.value
    return False


class LegacyResponseAccess(Rule):
    """## What it does
    Finds dict-style use of values that come from a v0 call: `resp["choices"][0]["message"]`,
    `resp.get("usage")`, `"usage" in resp`, `json.dumps(resp)`, `dict(resp)`, and streamed chunks
    (`chunk["choices"][0]["delta"]`). A value is followed through assignments, `for` loops over
    streams and lists, and helper functions of the same module that return a v0 call's result.

    ## Why is this bad?
    v0 responses were dicts; current ones are pydantic models: `resp["choices"]` raises `TypeError`,
    `resp.get(...)` raises `AttributeError`, and `"usage" in resp` is silently `False`.

    ## Example
    ```python
    resp = openai.ChatCompletion.create(model="gpt-4o", messages=m)
    text = resp["choices"][0]["message"]["content"]
    ```

    Use instead:
    ```python
    resp = client.chat.completions.create(model="gpt-4o", messages=m)
    text = resp.choices[0].message.content
    ```

    ## Fix safety
    Safe for subscripts and `.get` (to attributes), `json.dumps(resp)` (to `resp.model_dump_json()`)
    and `dict(resp)` (to `resp.model_dump()`). Membership tests (`"x" in resp`) are report-only:
    the right replacement depends on what the test meant.
    """

    valid = (
        "from openai import OpenAI\nr = OpenAI().chat.completions.create(model='m', messages=[])\nprint(r.choices[0].message.content)",
        "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nprint(r.choices[0].message.content)",
        "import openai\nr = {'choices': []}\nprint(r['choices'])",
        "import openai\ndef f():\n    r = openai.ChatCompletion.create(model='m', messages=[])\n    return 1\nx = f()\nx['a']",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nprint(r['choices'][0]['message']['content'])",
            fixed="from openai import OpenAI\n\nclient = OpenAI()\nr = client.chat.completions.create(model='m', messages=[])\n"
            "print(r.choices[0].message.content)",
        ),
        Invalid(
            "import openai, json\nfor c in openai.ChatCompletion.create(model='m', messages=[], stream=True):\n"
            "    print(c['choices'][0]['delta'].get('content', ''), json.dumps(c))",
            2,
            fixed="import json\nfrom openai import OpenAI\n\nclient = OpenAI()\n"
            "for c in client.chat.completions.create(model='m', messages=[], stream=True):\n"
            "    print((c.choices[0].delta.content or ''), json.dumps(c.to_dict()))",
        ),
        Invalid("import openai\nr = openai.Embedding.create(input='x', model='m')\nv = r['data'][0]['embedding']"),
        Invalid(
            "import openai\nfor chunk in openai.ChatCompletion.create(model='m', messages=[], stream=True):\n"
            "    print(chunk['choices'][0]['delta'].get('content', ''))"
        ),
        Invalid("import openai, json\nr = openai.Completion.create(model='m', prompt='p')\njson.dumps(r)\nr.get('usage')", 2),
        Invalid("import openai\ndef ask(q):\n    return openai.ChatCompletion.create(model='m', messages=[q])\nans = ask('x')\nans['choices']"),
        Invalid("import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nif 'usage' in r:\n    pass"),
        Invalid(
            "import openai\nasync def f():\n    r = await openai.ChatCompletion.acreate(model='m', messages=[])\n"
            "    return r['choices'][0]['message']['content']"
        ),
        Invalid("import openai\nr = openai.ChatCompletion.create(model='m', messages=[])\nfor c in r.choices:\n    c['text']"),
        Invalid("import openai, functools\nask = functools.partial(openai.ChatCompletion.create, model='m')\nask(messages=[])['choices']"),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.names: dict[int, set[str]] = {}  # id(scope) -> names bound to v0 values
        self.chat_names: dict[int, set[str]] = {}  # the subset whose call becomes a chat call (--target)
        self.producers: dict[int, set[str]] = {}  # id(scope) -> names bound to wrappers of v0 methods
        self.done: set[int] = set()
        self.accessed: set[int] = set()  # expressions whose value is used further (x in x.a, x[0], x.f())
        self._helpers: set[str] | None = None

    # -- what holds a v0 value -------------------------------------------------------------------
    def _scope_names(self, scope: Scope) -> set[str]:
        return self.names.setdefault(id(scope), set())

    def _helpers_returning_legacy(self) -> set[str]:
        if self._helpers is None:
            self._helpers = set()
            for name, func in self.ctx.index.functions.items():
                scope = self.ctx.index.scope_of(func)
                if scope is None:
                    continue
                with self.ctx.in_scopes([*self.ctx.scopes, scope]):
                    for value in scope.returns:
                        if self._is_legacy_call(value) or (
                            isinstance(value, cst.Name)
                            and any(self._is_legacy_call(v) for v in scope.values.get(value.value, ()))
                        ):
                            self._helpers.add(name)
        return self._helpers

    def _is_legacy_call(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Await):
            expr = expr.expression
        return isinstance(expr, cst.Call) and is_legacy_api_call(self.ctx, expr)

    def is_legacy(self, expr: cst.BaseExpression) -> bool:
        root = _chain_root(expr)
        if isinstance(root, cst.Await):
            root = root.expression
        if self._is_legacy_call(root):
            return True
        if isinstance(root, cst.Name):
            scope = self.ctx.scope
            if root.value in self._scope_names(scope):
                return True
        if isinstance(root, cst.Call) and isinstance(root.func, cst.Name):
            name = root.func.value
            if name in self.producers.get(id(self.ctx.scope), ()) or name in self.producers.get(id(self.ctx.index.root), ()):
                return True
            return name in self._helpers_returning_legacy() and self.ctx.index.lookup(name, self.ctx.scope) is None
        return False

    def _wraps_legacy_method(self, expr: cst.CSTNode) -> bool:
        """``functools.partial(openai.ChatCompletion.create, ...)``, ``retry(...)(openai.Completion.create)``."""
        if isinstance(expr, (cst.Attribute, cst.Name)):
            split = split_qualname(self.ctx.resolve(expr))
            if split is not None and split[1] is not None and current_method(*split) is not None:
                return True
        if isinstance(expr, (cst.Lambda, cst.FunctionDef)):
            return False
        return any(self._wraps_legacy_method(child) for child in expr.children)

    def _bind(self, target: cst.BaseExpression, legacy: bool, value: cst.BaseExpression | None = None) -> None:
        if isinstance(target, cst.Name):
            names = self._scope_names(self.ctx.scope)
            (names.add if legacy else names.discard)(target.value)
            chat = self.chat_names.setdefault(id(self.ctx.scope), set())
            (chat.add if legacy and value is not None and self._from_chat_conversion(value) else chat.discard)(target.value)

    def _from_chat_conversion(self, expr: cst.BaseExpression) -> bool:
        root = _chain_root(expr)
        if isinstance(root, cst.Await):
            root = root.expression
        if isinstance(root, cst.Call):
            return converts_to_chat(self.ctx, root)
        return isinstance(root, cst.Name) and root.value in self.chat_names.get(id(self.ctx.scope), ())

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.accessed.add(id(node.value))
        # `.text` of a completion choice is `.message.content` once the call became a chat call.
        if node.attr.value == "text" and id(node) not in self.done and self._from_chat_conversion(node.value):
            self._claim(node)
            plan = Fix().edit(node, lambda n: to_attributes(n.with_changes(
                value=cst.Attribute(value=n.value, attr=cst.Name("message")), attr=cst.Name("content"))))
            self.report(node, "completion choices have `.text`; the chat call returns `.message.content`",
                        FixSafety.UNSAFE, plan)

    def visit_Assign(self, node: cst.Assign) -> None:
        legacy = self.is_legacy(node.value)
        producer = not legacy and self._wraps_legacy_method(node.value)
        for target in node.targets:
            self._bind(target.target, legacy, node.value)
            if isinstance(target.target, cst.Name):
                names = self.producers.setdefault(id(self.ctx.scope), set())
                (names.add if producer else names.discard)(target.target.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, self.is_legacy(node.value))

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, self.is_legacy(node.iter))

    def _bind_comprehension(self, node) -> None:
        # The element of a comprehension is visited before its `for` clauses: bind their targets first.
        clause = node.for_in
        while clause is not None:
            self._bind(clause.target, self.is_legacy(clause.iter))
            clause = clause.inner_for_in

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._bind_comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._bind_comprehension(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._bind_comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._bind_comprehension(node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, self.is_legacy(node.item))

    # -- dict-style uses ---------------------------------------------------------------------------
    def _claim(self, expr: cst.BaseExpression) -> None:
        while isinstance(expr, (cst.Subscript, cst.Attribute, cst.Call)):
            self.done.add(id(expr))
            expr = expr.func if isinstance(expr, cst.Call) else expr.value

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self.accessed.add(id(node.value))
        if id(node) in self.done or not _has_string_key(node) or not self.is_legacy(node):
            return
        self._claim(node)
        if _string_key(node) == "text" and self._from_chat_conversion(node.value):
            plan = Fix().edit(node, lambda n: cst.Attribute(
                value=cst.Attribute(value=to_attributes(n.value), attr=cst.Name("message")), attr=cst.Name("content")))
            self.report(node, "completion choices have `text`; the chat call returns `.message.content`", FixSafety.UNSAFE, plan)
            return
        plan = Fix().edit(node, to_attributes) if _convertible(node) else None
        self.report(node, "v0 responses were dicts; current responses are objects: use attribute access", plan=plan)

    def visit_Call(self, node: cst.Call) -> None:
        if id(node) in self.done:
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("get", "to_dict_recursive"):
            if self.is_legacy(func.value):
                self._claim(node)
                if func.attr.value == "get":
                    key = string_value(node.args[0].value) if node.args and not node.args[0].keyword else None
                    fixable = (
                        key is not None and _field(key) is not None and len(node.args) <= 2
                        and id(node) not in self.accessed and _convertible(func.value)
                    )
                    plan = Fix().edit(node, _get_to_attribute) if fixable else None
                    self.report(node, "`.get()` does not exist on current response objects; use attribute access", plan=plan)
                else:
                    plan = Fix().edit(node, lambda c: c.with_changes(func=c.func.with_changes(attr=cst.Name("to_dict"))))
                    self.report(node, "`.to_dict_recursive()` is gone; use `.to_dict()`", plan=plan)
            return
        if not node.args or not self.is_legacy(node.args[0].value):
            return
        first = node.args[0]
        plan = Fix().edit(first, lambda a: a.with_changes(value=_to_dict(a.value))) if _convertible(first.value) else None
        if self.ctx.resolve(func) == "json.dumps":
            self.report(node, "current responses are not JSON-serialisable dicts; dump `resp.to_dict()`", plan=plan)
        elif self.ctx.is_builtin(func, "dict"):
            plan = Fix().edit(node, lambda c: _to_dict(c.args[0].value)) if plan else None
            self.report(node, "`dict(resp)` is shallow on current responses; use `resp.to_dict()`", plan=plan)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)) and self.is_legacy(target.comparator):
                self.report(
                    node,
                    "`in` on a current response object is always False (it iterates over field tuples); "
                    "test the attribute instead",
                    FixSafety.REPORT,
                )
