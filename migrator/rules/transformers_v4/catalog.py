"""GPT-2 model ids and classes, the transformers entry points that load them, and v5 breakages."""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst

from migrator.rules.base import RuleContext

ROOTS = ("transformers", "pytorch_transformers", "pytorch_pretrained_bert")

GPT2_ID = re.compile(r"^(?:openai-community/)?gpt2(?:-medium|-large|-xl)?$|^(?:distilbert/)?distilgpt2$")

# GPT-2 class -> the Auto class that loads any architecture ('' when there is none)
GPT2_CLASSES: dict[str, str] = {
    "GPT2LMHeadModel": "AutoModelForCausalLM",
    "GPT2Model": "AutoModel",
    "GPT2Tokenizer": "AutoTokenizer",
    "GPT2TokenizerFast": "AutoTokenizer",
    "GPT2Config": "AutoConfig",
    "GPT2ForSequenceClassification": "AutoModelForSequenceClassification",
    "GPT2ForTokenClassification": "AutoModelForTokenClassification",
    "GPT2ForQuestionAnswering": "AutoModelForQuestionAnswering",
    "GPT2DoubleHeadsModel": "",
    "TFGPT2LMHeadModel": "",
    "TFGPT2Model": "",
    "TFGPT2DoubleHeadsModel": "",
    "TFGPT2ForSequenceClassification": "",
    "FlaxGPT2LMHeadModel": "",
    "FlaxGPT2Model": "",
}

# Modules that used to hold GPT-2 code (or the whole library, before it was called transformers).
LEGACY_MODULES: dict[str, str] = {
    "pytorch_transformers": "transformers",
    "pytorch_pretrained_bert": "transformers",
    "transformers.modeling_gpt2": "transformers",
    "transformers.modeling_tf_gpt2": "transformers",
    "transformers.tokenization_gpt2": "transformers",
    "transformers.tokenization_gpt2_fast": "transformers",
    "transformers.configuration_gpt2": "transformers",
}


def is_transformers_name(qualname: str | None) -> bool:
    return bool(qualname) and qualname.split(".")[0] in ROOTS  # type: ignore[union-attr]


def is_gpt2_id(value: str) -> bool:
    return bool(GPT2_ID.match(value))


def loader_kind(ctx: RuleContext, call: cst.Call) -> str | None:
    """'from_pretrained' for ``<transformers class>.from_pretrained(...)``, 'pipeline' for
    ``transformers.pipeline(...)``, else None."""
    def kind() -> str | None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "from_pretrained":
            if is_transformers_name(ctx.resolve(func.value)):
                return "from_pretrained"
        elif is_transformers_name(ctx.resolve(func)) and (ctx.resolve(func) or "").endswith(".pipeline"):
            return "pipeline"
        return None

    return ctx.cached(("loader_kind", id(call)), kind)


def model_argument(call: cst.Call, kind: str) -> cst.Arg | None:
    """The argument that names the model: first positional / ``pretrained_model_name_or_path`` for
    from_pretrained; ``model=`` or the second positional for pipeline."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("pretrained_model_name_or_path", "model"):
            return arg
    index = 0 if kind == "from_pretrained" else 1
    return positional[index] if len(positional) > index else None


def gpt2_literal(expr: cst.BaseExpression | None) -> str | None:
    """The id when ``expr`` is a string literal whose body, as written, is a GPT-2 family id.

    The body is read raw (no escape processing) so that the text pre-filter, which looks for the same
    literal, stays sound."""
    if isinstance(expr, cst.SimpleString) and "b" not in expr.prefix.lower() and is_gpt2_id(expr.raw_value):
        return expr.raw_value
    return None


def gpt2_id_of(ctx: RuleContext, expr: cst.BaseExpression) -> tuple[str, str | None] | None:
    """(id, constant name or None) when ``expr`` is a GPT-2 family id, literally or through a name bound
    to a string literal in the same function or module."""
    literal = gpt2_literal(expr)
    if literal is not None:
        return literal, None
    if isinstance(expr, cst.Name):
        for value in ctx.index.assigned_values(expr.value, ctx.scope) or ():
            literal = gpt2_literal(value)
            if literal is not None:
                return literal, expr.value
        default = parameter_default(ctx, expr.value)
        if isinstance(default, cst.Name) and default.value != expr.value:  # def load(name=MODEL_NAME)
            return gpt2_id_of(ctx, default)
    return None


def parameter_default(ctx: RuleContext, name: str) -> cst.BaseExpression | None:
    """The default of parameter ``name`` of the function being analysed (``def load(name=MODEL)``), when it
    is not reassigned in the body."""
    node = ctx.scope.node
    if not isinstance(node, cst.FunctionDef) or ctx.scope.values.get(name):
        return None
    params = node.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == name:
            return param.default
    return None


def imports_transformers(ctx: RuleContext) -> bool:
    return ctx.cached(("imports_transformers",), lambda: any(
        q.split(".")[0] in ROOTS or any(q.startswith(r + ".") for r in ROOTS)
        for scope in ctx.index.scopes.values()
        for q in (*scope.imports.values(), *scope.star_modules)
    ))


class LoaderKeywordRule:
    """Mixin for rules that flag a keyword argument of ``from_pretrained``/``pipeline`` calls.

    Subclasses set ``keywords`` (keyword -> advice), optionally ``renames`` (keyword -> new keyword, the
    fix), and derive from :class:`migrator.rules.base.Rule`.
    """

    keywords: ClassVar[dict[str, str]] = {}
    renames: ClassVar[dict[str, str]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        if loader_kind(self.ctx, node) is None:  # type: ignore[attr-defined]
            return
        present = {a.keyword.value for a in node.args if a.keyword is not None}
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in self.keywords:
                self.report(arg, self.keywords[arg.keyword.value], plan=self.plan(node, arg, present))  # type: ignore[attr-defined]

    def plan(self, call: cst.Call, arg: cst.Arg, present: set[str]):
        from migrator.rules.base import Fix

        new = self.renames.get(arg.keyword.value)  # type: ignore[union-attr]
        if new is None or new in present:
            return None
        return Fix().edit(arg, lambda a: a.with_changes(keyword=cst.Name(new)))
