"""OAI701: retired model ids, and model ids that a chosen --target replaces."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.openai_v0.catalog import legacy_call
from migrator.rules.options import run_target
from migrator.rules.types import FixSafety

# Retired ids (the API answers 404 for them) and their documented successors.
RETIRED: dict[str, str] = {
    **{m: "gpt-3.5-turbo-instruct" for m in (
        "text-davinci-003", "text-davinci-002", "text-davinci-001", "text-curie-001", "text-babbage-001",
        "text-ada-001", "davinci", "curie", "babbage", "ada", "code-davinci-002", "code-davinci-001",
        "code-cushman-001", "code-cushman-002")},
    **{m: "gpt-4o-mini" for m in ("gpt-3.5-turbo-0301", "gpt-3.5-turbo-0613", "gpt-3.5-turbo-16k-0613")},
    **{m: "gpt-4o" for m in ("gpt-4-0314", "gpt-4-32k", "gpt-4-32k-0314", "gpt-4-32k-0613", "gpt-4-vision-preview")},
}
LEGACY_EMBEDDING = "text-embedding-ada-002"
_KINDS = {"ChatCompletion": "chat", "Completion": "completion", "Embedding": "embedding"}
_CURRENT = {("chat", "completions", "create"): "chat", ("completions", "create"): "completion",
            ("embeddings", "create"): "embedding"}


def _tail(func: cst.BaseExpression, length: int) -> tuple[str, ...]:
    parts: list[str] = []
    while isinstance(func, cst.Attribute) and len(parts) < length:
        parts.append(func.attr.value)
        func = func.value
    return tuple(reversed(parts))


class LegacyModelId(Rule):
    """## What it does
    Finds retired model ids (`text-davinci-003`, `code-davinci-002`, `gpt-3.5-turbo-0613`,
    `gpt-4-32k`, ...) in openai calls, v0 or current. With `--target PROVIDER:MODEL`, also every literal
    model id of a chat call (the target's model) and of an embeddings call (the provider's embedding
    model). An id held in a string constant is changed at the constant.

    ## Why is this bad?
    Retired models answer 404 (`NotFoundError`). A migration to another provider must also name a model
    that provider serves.

    ## Example
    ```python
    openai.Completion.create(model="text-davinci-003", prompt=p)
    ```

    Use instead:
    ```python
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt=p)
    ```

    ## Fix safety
    Safe for retired ids (they no longer work) and for ids a `--target` asks to replace. Replacing
    `text-embedding-ada-002` is unsafe: stored vectors from the old model no longer compare with new ones.
    """

    has_fixes = True
    valid = (
        "from openai import OpenAI\nOpenAI().chat.completions.create(model='gpt-4o', messages=[])",
        "import openai\nopenai.ChatCompletion.create(model='gpt-4', messages=[])",
        "import openai\nsettings = {'model': 'text-davinci-003'}",
    )
    invalid = (
        Invalid(
            "import openai\nr = openai.Completion.create(model='text-davinci-003', prompt='p')",
            fixed="from openai import OpenAI\n\nclient = OpenAI()\nr = client.completions.create(model='gpt-3.5-turbo-instruct', prompt='p')",
        ),
        Invalid(
            "import openai\nMODEL = 'gpt-3.5-turbo-0613'\nfrom openai import OpenAI\nOpenAI().chat.completions.create(model=MODEL, messages=[])",
            fixed="import openai\nMODEL = 'gpt-4o-mini'\nfrom openai import OpenAI\nOpenAI().chat.completions.create(model=MODEL, messages=[])",
        ),
    )

    def _kind(self, call: cst.Call) -> str | None:
        found = legacy_call(self.ctx, call)
        if found is not None:
            return _KINDS.get(found[0])
        for length in (3, 2):
            kind = _CURRENT.get(_tail(call.func, length))
            if kind:
                return kind
        return None

    def visit_Call(self, node: cst.Call) -> None:
        kind = self._kind(node)
        if kind is None:
            return
        arg = next((a for a in node.args if a.keyword is not None and a.keyword.value in ("model", "engine", "deployment_id")), None)
        if arg is None:
            return
        literal, holder = self._literal(arg.value)
        if literal is None:
            return
        old = literal.raw_value
        target = run_target(self.ctx)
        if self._azure_deployment(target, arg):
            return  # an Azure deployment name is the user's: only `--target azure:MODEL` replaces it
        new, safety = None, FixSafety.SAFE
        if target is not None and target.provider.kind == "api" and not (target.provider.name == "openai" and kind == "completion"):
            if kind == "chat" or (kind == "completion" and old in RETIRED):
                new = target.model if kind == "chat" else RETIRED[old]
            elif kind == "embedding":
                new = target.provider.embedding_model or None
                if new is None:
                    self.report(arg, f"{target.provider.name} serves no embeddings model; keep embeddings on another provider",
                                FixSafety.REPORT)
                    return
        elif old in RETIRED:
            new = RETIRED[old]
        elif old == LEGACY_EMBEDDING and target is not None and target.provider.embedding_model:
            new, safety = target.provider.embedding_model, FixSafety.UNSAFE
        if new is None or new == old:
            return
        why = "is retired" if old in RETIRED else f"is replaced for target {target}"
        via = f" (from `{holder}`)" if holder else ""
        plan = Fix().replace(literal, literal.with_changes(value=f"{literal.prefix}{literal.quote}{new}{literal.quote}"))
        self.report(arg, f"model {old!r}{via} {why}; use {new!r}", safety, plan)

    def _azure_deployment(self, target, arg: cst.Arg) -> bool:
        """The model argument names an Azure deployment of the user's (not a model id): the module
        configures Azure (v0 ``api_type``, or an ``AzureOpenAI`` client it already has)."""
        from migrator.rules.openai_v0.clients import client_plan

        if target is not None and (target.provider.template != "azure" or target.model_given):
            return False
        plan = client_plan(self.ctx)
        azure_client = any(q in ("openai.AzureOpenAI", "openai.AsyncAzureOpenAI") for q in self.ctx.index.root.imports.values())
        keyword = arg.keyword.value if arg.keyword is not None else ""
        return plan.azure or (plan.azure_possible and keyword in ("engine", "deployment_id")) or azure_client

    def _literal(self, expr: cst.BaseExpression) -> tuple[cst.SimpleString | None, str | None]:
        if isinstance(expr, cst.SimpleString) and "b" not in expr.prefix.lower():
            return expr, None
        if isinstance(expr, cst.Name):
            values = self.ctx.index.assigned_values(expr.value, self.ctx.scope) or []
            strings = [v for v in values if isinstance(v, cst.SimpleString)]
            if len(values) == 1 and strings:
                return strings[0], expr.value
        return None, None
