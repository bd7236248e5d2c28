"""OAI103: v0 resource classes or their methods used as values (not called)."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.openai_v0.catalog import RESOURCES, current_method, describe, split_qualname
from migrator.rules.openai_v0.clients import client_plan
from migrator.rules.openai_v0.resource_call import forget_imports
from migrator.rules.openai_v0.rewrite import attribute_chain


class LegacyResourceValue(Rule):
    """## What it does
    Finds a v0 resource method or class passed around as a value instead of being called:
    `retry(openai.ChatCompletion.create)`, `fn = openai.Embedding.create`, `functools.partial(...)`.

    ## Why is this bad?
    The value is an `APIRemovedInV1Proxy` under openai>=1.0; the error only surfaces when something
    finally calls it, far from this line.

    ## Example
    ```python
    completion_with_backoff = backoff.on_exception(backoff.expo, Exception)(openai.ChatCompletion.create)
    ```

    Use instead:
    ```python
    completion_with_backoff = backoff.on_exception(backoff.expo, Exception)(client.chat.completions.create)
    ```

    ## Fix safety
    Safe: the bound method of the module's client takes the same keyword arguments.
    """

    valid = (
        "import openai\nopenai.ChatCompletion.create(model='m', messages=[])",
        "from openai import OpenAI\nfn = OpenAI().chat.completions.create",
        "from unittest import mock\nimport openai\nmock.patch.object(openai.ChatCompletion, 'create')",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "import openai\nfrom tenacity import retry\nretry(openai.ChatCompletion.create)",
            fixed="from tenacity import retry\nfrom openai import OpenAI\n\nclient = OpenAI()\n"
            "retry(client.chat.completions.create)",
        ),
        Invalid("import openai\nembed = openai.Embedding.create"),
        Invalid("from openai import ChatCompletion\nresource = ChatCompletion"),
    )

    def _visit_reference(self, node: cst.BaseExpression) -> None:
        if self.ctx.mock_depth or self.ctx.called_by(node) is not None:
            return
        split = split_qualname(self.ctx.reference(node))
        if split is None or split[0] not in RESOURCES:
            return
        resource, method = split
        if method is None:
            if id(node) in self.ctx.inner:
                return
            self.report(node, f"`{describe(resource, None)}` was removed in openai 1.0; use a client")
            return
        target = current_method(resource, method)
        if target is not None:
            path, is_async = target
            holder = "aclient" if is_async else "client"
            plan = client_plan(self.ctx)
            fix = None
            if not plan.blocked and plan.style == "client":
                fix = Fix()
                fix.replace(node, attribute_chain(plan.client_expr(is_async, fix), path))
                forget_imports(self.ctx, node, fix)
            self.report(node, f"`{describe(resource, method)}` was removed in openai 1.0; pass `{holder}.{path}`", plan=fix)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._visit_reference(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._visit_reference(node)
