"""HF201: GPT-2 family model ids loaded through transformers."""

from __future__ import annotations

import json

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.edits import append_arg, keyword_arg
from migrator.rules.names import string_value
from migrator.rules.options import run_target, shim
from migrator.rules.transformers_v4.catalog import (
    gpt2_id_of,
    gpt2_literal,
    loader_kind,
    model_argument,
)
from migrator.templating import render

_NOT_MODELS = ("Tokenizer", "Config", "Processor", "FeatureExtractor", "ImageProcessor")


def _add_dtype_auto(call: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(call, cst.Call)
    if any(a.keyword is not None and a.keyword.value in ("dtype", "torch_dtype") for a in call.args):
        return call
    return append_arg(call, keyword_arg("dtype", cst.SimpleString('"auto"')))


class Gpt2ModelId(Rule):
    """## What it does
    Finds `from_pretrained(...)` on transformers classes and `pipeline(...)` calls that load a GPT-2
    family model ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2", with or without the
    `openai-community/` or `distilbert/` namespace), written literally or held in a string constant
    of the same function or module.

    ## Why is this bad?
    GPT-2 (2019) is a 124M-1.5B parameter base model without instruction tuning or a chat template;
    it is fine as a local test model and a poor production model.

    ## Example
    ```python
    model_name = "gpt2"
    model = AutoModelForCausalLM.from_pretrained(model_name)
    ```

    Use instead (`migrate apply --target hf:meta-llama/Llama-3.1-8B-Instruct`):
    ```python
    from migrator.runtime import resolve_model
    model_name = resolve_model("meta-llama/Llama-3.1-8B-Instruct")
    model = AutoModelForCausalLM.from_pretrained(model_name)
    ```

    ## Fix safety
    Safe, but only with `--target`: the tool never guesses which model you want.
    """

    valid = (
        "from transformers import AutoModelForCausalLM\nAutoModelForCausalLM.from_pretrained('meta-llama/Llama-3.1-8B')",
        "from model import GPT\nGPT.from_pretrained('gpt2')",
        "from transformers import AutoTokenizer\nname = 'gpt2-finetuned-mine'\nAutoTokenizer.from_pretrained(name)",
        "from transformers import pipeline\npipeline('text-generation', model='Qwen/Qwen3-0.6B')",
    )
    has_fixes = True
    invalid = (
        Invalid("from transformers import AutoModelForCausalLM\nAutoModelForCausalLM.from_pretrained('gpt2')"),
        Invalid("from transformers import AutoTokenizer\nmodel_name = 'distilgpt2'\ntok = AutoTokenizer.from_pretrained(model_name)"),
        Invalid("import transformers\ntransformers.pipeline('text-generation', model='openai-community/gpt2-large')"),
        Invalid("from transformers import pipeline as pl\ngen = pl('text-generation', 'gpt2')"),
        Invalid("from transformers import AutoModel\nAutoModel.from_pretrained(r\"\"\"distilbert/distilgpt2\"\"\")"),
        Invalid(
            "from transformers import GPT2LMHeadModel as M\ndef load():\n    name = 'gpt2-xl'\n"
            "    return M.from_pretrained(pretrained_model_name_or_path=name)"
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        kind = loader_kind(self.ctx, node)
        if kind is None:
            return
        arg = model_argument(node, kind)
        if arg is None:
            return
        found = gpt2_id_of(self.ctx, arg.value)
        if found is None:
            return
        model_id, constant = found
        via = f" (from `{constant}`)" if constant else ""
        message = f"loads GPT-2 model {model_id!r}{via}; choose a current model with --target"
        target = run_target(self.ctx)
        if target is None:
            self.report(arg.value, message)
        elif target.is_hf:
            self.report(arg.value, message, plan=self._hf_plan(node, kind, arg, constant, target.model))
        elif kind == "pipeline" and self._task(node) == "text-generation":
            plan = (
                Fix()
                .replace(node, cst.parse_expression(f"text_generation_pipeline({json.dumps(str(target))})"))
                .add_import("migrator.runtime", "text_generation_pipeline")
                .remove_import("transformers", "pipeline")
            )
            self.report(arg.value, message, plan=plan)
        else:
            snippet = render("snippets/api_call.py.j2", model=target.model).strip()
            self.report(arg.value, f"GPT-2 runs locally here; with target {target} call the API instead: {snippet}")

    @staticmethod
    def _task(call: cst.Call) -> str | None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "task":
                return string_value(arg.value)
        positional = [a for a in call.args if a.keyword is None]
        return string_value(positional[0].value) if positional else None

    def _hf_plan(self, call: cst.Call, kind: str, arg: cst.Arg, constant: str | None, model: str) -> Fix:
        literal = arg.value
        if constant is not None:
            literal = next(v for v in self.ctx.index.assigned_values(constant, self.ctx.scope) or () if gpt2_literal(v))
        fix = Fix()
        if shim(self.ctx):
            fix.replace(literal, cst.parse_expression(f"resolve_model({json.dumps(model)})"))
            fix.add_import("migrator.runtime", "resolve_model")
        else:
            assert isinstance(literal, cst.SimpleString)
            fix.replace(literal, literal.with_changes(value=f"{literal.quote}{model}{literal.quote}"))
        receiver = self.ctx.resolve(call.func.value) if isinstance(call.func, cst.Attribute) else None
        if kind == "pipeline" or not any(part in (receiver or "") for part in _NOT_MODELS):
            fix.edit(call, _add_dtype_auto)
        return fix
