"""HF210: prompt strings sent to a text-generation pipeline of an instruction model."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.names import string_value
from migrator.rules.transformers_v4.chat import (
    LoopTracking,
    append_keyword,
    conversation,
    hf_target_model,
    is_length_strip,
    is_replace_strip,
    is_text_generation_pipeline,
    keyword,
    single_value,
)
from migrator.rules.types import FixSafety


def _is_chat(expr: cst.BaseExpression) -> bool:
    """A list of message dicts, or a comprehension building a batch of them."""
    if isinstance(expr, cst.ListComp):
        expr = expr.elt
    return isinstance(expr, cst.List) and bool(expr.elements) and all(
        isinstance(e.value, (cst.Dict, cst.List, cst.ListComp)) for e in expr.elements)


def _edit_arguments(call: cst.CSTNode) -> cst.CSTNode:
    """max_length -> max_new_tokens, return_full_text -> False (added when absent)."""
    assert isinstance(call, cst.Call)
    present = {a.keyword.value for a in call.args if a.keyword is not None}
    args = []
    for arg in call.args:
        word = arg.keyword.value if arg.keyword is not None else None
        if word == "max_length" and "max_new_tokens" not in present:
            arg = arg.with_changes(keyword=cst.Name("max_new_tokens"))
        elif word == "return_full_text":
            arg = arg.with_changes(value=cst.Name("False"))
        args.append(arg)
    call = call.with_changes(args=args)
    return call if "return_full_text" in present else append_keyword(call, "return_full_text", "False")


class ChatPipelineInput(LoopTracking, Rule):
    """## What it does
    With an `hf:` target, finds prompt strings passed to a `pipeline("text-generation", ...)` that loads
    GPT-2 or the target, and the code that cuts the echoed prompt off its `generated_text`.

    ## Why is this bad?
    Given a string, the pipeline continues it as raw text: an instruction model then rambles on instead of
    answering. Given chat messages it applies the model's chat template; with `return_full_text=False`
    its `generated_text` is the assistant's answer alone (with chat input and the default, it is the whole
    conversation: a list of messages, which code reading a string would break on).

    ## Example
    ```python
    generator = pipeline("text-generation", model="gpt2")
    text = generator(prompt, max_length=50)[0]["generated_text"][len(prompt):]
    ```

    Use instead:
    ```python
    generator = pipeline("text-generation", model="meta-llama/Llama-3.1-8B-Instruct")
    text = generator([{"role": "user", "content": prompt}], max_new_tokens=50, return_full_text=False)[0]["generated_text"]
    ```

    `max_length=N` becomes `max_new_tokens=N` (the prompt length is not known statically; N is kept as the
    answer's budget). A list of prompts becomes a list of conversations; `num_return_sequences` and the
    shape of the result are unchanged, so reads of `generated_text` keep working.

    ## Fix safety
    Unsafe: the model sees a chat conversation instead of raw text, and the text no longer starts with the
    prompt.
    """

    valid = (
        ("from transformers import pipeline\ngen = pipeline('text-generation', model='gpt2')\n"
         "gen([{'role': 'user', 'content': 'hi'}], return_full_text=False)"),
        "from transformers import pipeline\nclf = pipeline('sentiment-analysis')\nclf('great')",
    )
    has_fixes = True

    invalid = (
        Invalid(
            'from transformers import pipeline\n'
            "gen = pipeline('text-generation', model='gpt2')\n"
            "gen('hi')",
            1, options={"target": "hf:meta-llama/Llama-3.1-8B-Instruct"}),
        Invalid(
            'from transformers import pipeline\n'
            "gen = pipeline('text-generation', model='gpt2')\n"
            "gen('hi')",
            0),  # no finding without an hf: target
    )

    def _is_generator(self, expr: cst.BaseExpression) -> bool:
        """``expr`` is a text-generation pipeline (GPT-2's, or already the target's)."""
        return is_text_generation_pipeline(self.ctx, expr)

    def _result_text(self, expr: cst.BaseExpression) -> bool:
        """``expr`` is a ``generated_text`` read of a result of such a pipeline (or a name assigned one)."""
        value = single_value(self.ctx, expr)
        if value is not None:
            expr = value
        if not (isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index)
                and string_value(expr.slice[0].slice.value) == "generated_text"):
            return False
        base: cst.BaseExpression = expr.value
        while isinstance(base, cst.Subscript):
            base = base.value
        base = self.loops.iterable_of(base) or base
        if isinstance(base, cst.Name):
            base = single_value(self.ctx, base) or base
        return isinstance(base, cst.Call) and self._is_generator(base.func)

    def visit_Call(self, node: cst.Call) -> None:
        if hf_target_model(self.ctx) is None:
            return
        if is_replace_strip(node) and self._result_text(node.func.value):  # type: ignore[attr-defined]
            self.report(node, "`.replace(prompt, \"\")` cut the echoed prompt; the answer no longer holds it",
                        plan=Fix().edit(node, lambda n: n.func.value))  # type: ignore[attr-defined]
            return
        if not self._is_generator(node.func):
            return
        prompt = keyword(node, "text_inputs") or next((a for a in node.args if a.keyword is None), None)
        if prompt is None or _is_chat(prompt.value):
            return
        message = "a prompt string sent to an instruction model's text-generation pipeline is continued, not answered"
        if prompt.star:
            self.report(node, f"{message}; pass chat messages and `return_full_text=False`", FixSafety.REPORT)
            return
        messages = cst.parse_expression(conversation(self.ctx, prompt.value, node))
        plan = Fix().replace(prompt.value, messages).edit(node, _edit_arguments)
        self.report(node, f"{message}: pass chat messages and `return_full_text=False`", plan=plan)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if hf_target_model(self.ctx) is None or not is_length_strip(node) or not self._result_text(node.value):
            return
        self.report(node, "`[len(prompt):]` cut the echoed prompt off; the answer no longer holds it",
                    plan=Fix().edit(node, lambda n: n.value))  # type: ignore[attr-defined]
