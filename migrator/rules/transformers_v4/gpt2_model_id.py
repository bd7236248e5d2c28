"""HF201: GPT-2 family model ids loaded through transformers."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.transformers_v4.catalog import gpt2_id_of, loader_kind, model_argument


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
        self.report(arg.value, f"loads GPT-2 model {model_id!r}{via}; choose a current model with --target")
