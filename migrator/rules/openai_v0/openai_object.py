"""OAI106: ``openai.openai_object.OpenAIObject`` in type hints and ``isinstance`` checks."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.names import dotted_name
from migrator.rules.openai_v0.catalog import legacy_call


def is_object_import(node: cst.ImportFrom) -> bool:
    """``from openai.openai_object import OpenAIObject`` (only that name, alias or not)."""
    return (
        not node.relative and node.module is not None and dotted_name(node.module) == "openai.openai_object"
        and not isinstance(node.names, cst.ImportStar)
        and all(dotted_name(a.name) == "OpenAIObject" for a in node.names)
    )


def _from_openai(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar)
    names = [
        a.with_changes(name=cst.Name("BaseModel"),
                       asname=a.asname or cst.AsName(name=cst.Name("OpenAIObject")))
        for a in node.names
    ]
    return node.with_changes(module=cst.Name("openai"), names=names)


class LegacyOpenAIObject(Rule):
    """## What it does
    Finds `OpenAIObject` (from `openai.openai_object`), the class of every v0 response, in type
    hints, `isinstance` checks and other references.

    ## Why is this bad?
    The module is gone in openai>=1.0 (`ModuleNotFoundError`). Every current response is a pydantic
    model deriving from `openai.BaseModel`.

    ## Example
    ```python
    from openai.openai_object import OpenAIObject
    def text(resp: OpenAIObject) -> str: ...
    ```

    Use instead:
    ```python
    from openai import BaseModel as OpenAIObject
    def text(resp: OpenAIObject) -> str: ...
    ```

    ## Fix safety
    Safe: `isinstance(x, OpenAIObject)` stays true for every response, and hints keep their name
    (imported as an alias of `openai.BaseModel`, so no other `BaseModel` of the module is shadowed);
    `openai.openai_object.OpenAIObject` written out becomes `openai.BaseModel`. The return hint of a
    function that returns a v0 call's result becomes that call's current type (`ChatCompletion`,
    `CreateEmbeddingResponse`, ...), so that type checkers know its attributes.
    """

    valid = (
        "from openai import BaseModel\ndef f(r: BaseModel): ...",
        "from mylib.openai_object import OpenAIObject",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "from openai.openai_object import OpenAIObject\ndef f(r: OpenAIObject) -> bool:\n"
            "    return isinstance(r, OpenAIObject)",
            fixed="from openai import BaseModel as OpenAIObject\ndef f(r: OpenAIObject) -> bool:\n"
            "    return isinstance(r, OpenAIObject)",
        ),
        Invalid(
            "import openai.openai_object\nok = isinstance(x, openai.openai_object.OpenAIObject)",
            2,
            fixed="import openai\nok = isinstance(x, openai.BaseModel)",
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        returns = node.returns.annotation if node.returns is not None else None
        if returns is None or self.ctx.resolve(returns) != "openai.openai_object.OpenAIObject":
            return
        scope = self.ctx.index.scope_of(node)
        kinds = set()
        for value in scope.returns if scope is not None else []:
            call = value.expression if isinstance(value, cst.Await) else value
            found = legacy_call(self.ctx, call) if isinstance(call, cst.Call) else None
            if found is None or not isinstance(call, cst.Call) or any(
                a.keyword is not None and a.keyword.value == "stream" for a in call.args
            ):
                return
            kinds.add(found)
        from migrator.rules.openai_v0.mock_return import response_type

        typed = response_type("openai.{}.{}".format(*kinds.pop())) if len(kinds) == 1 else None
        if typed is None:
            return
        module, cls = typed
        plan = Fix().replace(returns, cst.Name(cls)).add_import(module, cls)
        self.report(returns, f"`OpenAIObject` is gone; this function returns a `{cls}` now", plan=plan)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if is_object_import(node):
            self.report(node, "`openai.openai_object` was removed in openai 1.0: responses derive from "
                        "`openai.BaseModel`", plan=Fix().edit(node, _from_openai))

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if dotted_name(alias.name) == "openai.openai_object" and alias.asname is None:
                self.report(alias, "`openai.openai_object` was removed in openai 1.0: responses derive from "
                            "`openai.BaseModel`", plan=Fix().replace(alias, alias.with_changes(name=cst.Name("openai"))))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.ctx.reference(node) != "openai.openai_object.OpenAIObject":
            return
        holder = node.value
        if isinstance(holder, cst.Attribute) and self.ctx.resolve(holder.value) == "openai":
            plan = Fix().replace(node, cst.Attribute(value=holder.value, attr=cst.Name("BaseModel")))
            self.report(node, "`OpenAIObject` is gone; current responses are `openai.BaseModel`s", plan=plan)
