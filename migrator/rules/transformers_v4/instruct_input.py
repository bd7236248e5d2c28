"""HF208: GPT-2 style inputs that change meaning on an instruction-tuned target model."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.options import run_target
from migrator.rules.transformers_v4.catalog import imports_transformers
from migrator.templating import render


class InstructModelInput(Rule):
    """## What it does
    With an `hf:` target, finds GPT-2 style generation inputs: a raw prompt string tokenized with
    `tokenizer(prompt, return_tensors=...)`, and `generate(..., max_length=...)`.

    ## Why is this bad?
    Instruction-tuned models (Llama, Mistral, Phi, Qwen) expect their chat template; a bare prompt is
    continued as text rather than answered. `max_length` counted the prompt, so a longer chat prompt
    leaves little or no room for the answer.

    ## Example
    ```python
    inputs = tokenizer(prompt, return_tensors="pt")
    output = model.generate(**inputs, max_length=50)
    ```

    Use instead:
    ```python
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    output = model.generate(**inputs, max_new_tokens=50)
    ```

    ## Fix safety
    Report-only: whether a prompt is a chat turn or text to continue is the author's decision.
    """

    valid = (
        "from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('x')\n"
        "tok.apply_chat_template(messages, return_tensors='pt')",
        "import torch\ntorch.tensor([1], max_length=3)",
    )
    _HF = {"target": "hf:meta-llama/Llama-3.1-8B-Instruct"}
    invalid = (
        Invalid("from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('x')\n"
                "tok('hi', return_tensors='pt')", 1, line=3, options=_HF),
        Invalid("from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained('x')\n"
                "m.generate(ids, max_length=50)", 1, line=3, options=_HF),
        # Without a target there is nothing to move to: no finding.
        Invalid("from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('x')\n"
                "tok('hi', return_tensors='pt')", 0),
        # An API target has no tokenizer: HF208 is about hf targets only.
        Invalid("from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('x')\n"
                "tok('hi', return_tensors='pt')", 0, options={"target": "openai:gpt-4o"}),
    )

    def visit_Call(self, node: cst.Call) -> None:
        target = run_target(self.ctx)
        if target is None or not target.is_hf or not imports_transformers(self.ctx):
            return
        keywords = {a.keyword.value for a in node.args if a.keyword is not None}
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if "return_tensors" in keywords and name not in ("apply_chat_template", "batch_decode", "decode"):
            snippet = render("snippets/chat_template.py.j2").strip()
            self.report(node, f"a raw prompt fed to instruction model {target.model!r}; use its chat template: {snippet}")
        elif name == "generate" and "max_length" in keywords:
            self.report(node, "`max_length` counted the prompt; with chat prompts use `max_new_tokens`")
