"""HF208: GPT-2 style generation inputs that change meaning on an instruction-tuned target model."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.transformers_v4.chat import (
    TOKENIZER_KEYWORDS_DROPPED,
    TOKENIZER_KEYWORDS_KEPT,
    code,
    conversation,
    feeds_generate,
    generate_calls,
    hf_target_model,
    keyword,
    method_name,
)
from migrator.rules.types import FixSafety
from migrator.templating import render

_NOT_TOKENIZING = ("apply_chat_template", "batch_decode", "decode", "encode_plus", "generate", "from_pretrained")
# GPT-2's generate arguments that count the prompt -> the ones that count new tokens only.
_LENGTHS = {"max_length": "max_new_tokens", "min_length": "min_new_tokens"}


class InstructModelInput(Rule):
    """## What it does
    With an `hf:` target, finds GPT-2 style generation inputs: a raw prompt string tokenized with
    `tokenizer(prompt, return_tensors=...)` or `tokenizer.encode(prompt, return_tensors=...)` and fed to
    `model.generate(...)`, and `generate(..., max_length=N)`.

    ## Why is this bad?
    Instruction-tuned models (Llama, Mistral, Phi, Qwen) expect their chat template; a bare prompt is
    continued as text rather than answered. `max_length` counted the prompt, so a longer chat prompt
    leaves little or no room for the answer.

    ## Example
    ```python
    inputs = tokenizer(SYSTEM + question, return_tensors="pt")
    output = model.generate(**inputs, max_length=50)
    ```

    Use instead:
    ```python
    inputs = tokenizer.apply_chat_template([{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
                                           add_generation_prompt=True, return_tensors="pt", return_dict=True)
    output = model.generate(**inputs, max_new_tokens=50)
    ```

    A prompt built as `CONSTANT + text` (a system prompt or few-shot prefix held in a string constant)
    becomes a system message and a user message; any other prompt becomes one user message; a list of
    prompts becomes a batch of conversations. `max_length=N` becomes `max_new_tokens=N`: the prompt
    length is not known statically, so N is kept as the budget for the answer alone (at most N tokens more
    than before, never fewer).

    ## Fix safety
    Unsafe: the model now sees a chat conversation instead of raw text. Tokenizer calls that do not feed
    `generate` in the same function, or that take arguments `apply_chat_template` does not, are reported.
    """

    valid = (
        ("from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('x')\n"
         "tok.apply_chat_template(messages, return_tensors='pt')"),
        "import torch\ntorch.tensor([1], max_length=3)",
    )
    has_fixes = True
    invalid = (
        Invalid(
            'from transformers import AutoTokenizer, AutoModelForCausalLM\n'
            "tok = AutoTokenizer.from_pretrained('x')\n"
            "model = AutoModelForCausalLM.from_pretrained('x')\n"
            "ids = tok('hi', return_tensors='pt')\n"
            'out = model.generate(**ids, max_length=50)\n',
            2, options={"target": "hf:meta-llama/Llama-3.1-8B-Instruct"}),
        Invalid(
            'from transformers import AutoTokenizer\n'
            "tok = AutoTokenizer.from_pretrained('x')\n"
            "tok('hi', return_tensors='pt')",
            1, options={"target": "hf:meta-llama/Llama-3.1-8B-Instruct"}),
        Invalid(
            'from transformers import AutoTokenizer\n'
            "tok = AutoTokenizer.from_pretrained('x')\n"
            "tok('hi', return_tensors='pt')",
            0),  # no finding without an hf: target
    )

    def visit_Call(self, node: cst.Call) -> None:
        model = hf_target_model(self.ctx)
        if model is None:
            return
        name = method_name(node)
        if name == "generate" and isinstance(node.func, cst.Attribute):
            self._lengths(node)
        elif keyword(node, "return_tensors") is not None and name not in _NOT_TOKENIZING:
            self._tokenizer_call(node, name, model)

    def _lengths(self, node: cst.Call) -> None:
        present = {a.keyword.value for a in node.args if a.keyword is not None}
        for arg in node.args:
            if arg.keyword is None or arg.keyword.value not in _LENGTHS:
                continue
            new = _LENGTHS[arg.keyword.value]
            plan = None
            if new not in present:
                plan = Fix().edit(arg, _renamer(new))
            self.report(arg, f"`{arg.keyword.value}` counted the prompt, and a chat prompt is longer: use `{new}` "
                             "(the fix keeps the number as the budget for new tokens)", plan=plan)

    def _tokenizer_call(self, node: cst.Call, name: str, model: str) -> None:
        snippet = render("snippets/chat_template.py.j2").strip()
        message = f"a raw prompt fed to instruction model {model!r} is continued, not answered; use its chat template"
        prompt = self._prompt(node)
        statement = self.ctx.statements[-1] if self.ctx.statements else None
        assigned = _assigned_name(statement, node)
        direct = any(a.value is node for call in generate_calls(self.ctx) for a in call.args)
        if prompt is None or not (direct or (assigned is not None and feeds_generate(self.ctx, assigned))):
            self.report(node, f"{message}: {snippet}", FixSafety.REPORT)
            return
        kept = []
        for arg in node.args:
            if arg is prompt or arg.keyword is None:
                continue
            word = arg.keyword.value
            if word in TOKENIZER_KEYWORDS_KEPT:
                kept.append(f", {word}={code(arg.value)}")
            elif word not in TOKENIZER_KEYWORDS_DROPPED and word != "text":
                self.report(node, f"{message} (`{word}=` has no `apply_chat_template` equivalent): {snippet}", FixSafety.REPORT)
                return
        if any(a.star for a in node.args) or len([a for a in node.args if a.keyword is None]) > 1:
            self.report(node, f"{message}: {snippet}", FixSafety.REPORT)
            return
        receiver = code(node.func.value) if name == "encode" else code(node.func)  # type: ignore[attr-defined]
        tensors = code(keyword(node, "return_tensors").value)  # type: ignore[union-attr]
        new = (f"{receiver}.apply_chat_template({conversation(self.ctx, prompt.value, node)}, add_generation_prompt=True, "
               f"return_tensors={tensors}, return_dict=True{''.join(kept)})")
        if name == "encode":
            new += '["input_ids"]'
        self.report(node, f"{message}: `apply_chat_template`", plan=Fix().replace(node, cst.parse_expression(new)))

    @staticmethod
    def _prompt(node: cst.Call) -> cst.Arg | None:
        return keyword(node, "text") or next((a for a in node.args if a.keyword is None and not a.star), None)


def _renamer(keyword_name: str):
    def rename(arg: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(arg, cst.Arg)
        return arg.with_changes(keyword=cst.Name(keyword_name))
    return rename


def _assigned_name(statement: cst.CSTNode | None, value: cst.CSTNode) -> str | None:
    """``name`` when ``statement`` is ``name = value``."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    for small in statement.body:
        if isinstance(small, cst.Assign) and small.value is value and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, cst.Name):
                return target.value
    return None
