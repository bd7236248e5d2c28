"""HF202: GPT-2 specific transformers classes."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule, set_name
from migrator.rules.options import run_target
from migrator.rules.transformers_v4.catalog import GPT2_CLASSES, is_transformers_name
from migrator.rules.types import FixSafety


class Gpt2Class(Rule):
    """## What it does
    Finds uses of GPT-2 specific classes from transformers (`GPT2LMHeadModel`, `GPT2Model`,
    `GPT2Tokenizer`, `GPT2TokenizerFast`, `GPT2DoubleHeadsModel`, `GPT2Config`, the TF and Flax
    variants), also through the old `pytorch_transformers` and `transformers.modeling_gpt2` paths.

    ## Why is this bad?
    They only load GPT-2 checkpoints, so the code cannot move to another model without an edit, and
    the TF/Flax classes were removed in transformers v5 (`ImportError`).

    ## Example
    ```python
    model = GPT2LMHeadModel.from_pretrained("gpt2")
    ```

    Use instead:
    ```python
    model = AutoModelForCausalLM.from_pretrained("gpt2")
    ```

    ## Fix safety
    Safe with `--target` for classes with an Auto equivalent; report-only for `GPT2DoubleHeadsModel`
    and the TF/Flax classes.
    """

    valid = (
        "from transformers import AutoModelForCausalLM\nAutoModelForCausalLM.from_pretrained('gpt2')",
        "from mymodels import GPT2LMHeadModel\nGPT2LMHeadModel()",
        "import transformers\nx = transformers.LlamaForCausalLM",
    )
    has_fixes = True
    invalid = (
        Invalid("from transformers import GPT2LMHeadModel\nm = GPT2LMHeadModel.from_pretrained('x')"),
        Invalid("import transformers as tf\ntok = tf.GPT2TokenizerFast.from_pretrained('x')"),
        Invalid("from pytorch_transformers import GPT2Tokenizer\nGPT2Tokenizer.from_pretrained('x')"),
        Invalid("from transformers.modeling_gpt2 import GPT2Model\nGPT2Model(cfg)"),
        Invalid("from transformers import TFGPT2LMHeadModel\nTFGPT2LMHeadModel.from_pretrained('x')"),
    )

    def _visit_reference(self, node: cst.BaseExpression) -> None:
        qualname = self.ctx.reference(node)
        if not is_transformers_name(qualname):
            return
        name = qualname.rsplit(".", 1)[-1]  # type: ignore[union-attr]
        if name not in GPT2_CLASSES:
            return
        auto = GPT2_CLASSES[name]
        if auto:
            target = run_target(self.ctx)
            plan = None
            if target is not None and target.is_hf:
                plan = Fix()
                if isinstance(node, cst.Name):
                    plan.replace(node, cst.Name(auto)).add_import("transformers", auto)
                    module = qualname.rsplit(".", 1)[0]  # type: ignore[union-attr]
                    for origin in {module, "transformers"}:
                        plan.remove_import(origin, name)
                else:
                    plan.edit(node, set_name("attr", auto))
            self.report(node, f"`{name}` only loads GPT-2; use `{auto}` to load the target model", plan=plan)
        elif name.startswith(("TF", "Flax")):
            self.report(node, f"`{name}` was removed in transformers v5 (TF and JAX support was dropped)", FixSafety.REPORT)
        else:
            self.report(node, f"`{name}` only loads GPT-2 and has no Auto class equivalent", FixSafety.REPORT)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._visit_reference(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._visit_reference(node)
