"""HF209: decoding a generate() output whole, which relied on GPT-2 echoing the prompt."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.transformers_v4.chat import (
    LoopTracking,
    append_keyword,
    code,
    generate_of,
    hf_target_model,
    is_length_strip,
    is_replace_strip,
    keyword,
    method_name,
    prompt_length,
    single_value,
)
from migrator.rules.types import FixSafety

_DECODERS = ("decode", "batch_decode")


def _add_skip_special(call: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(call, cst.Call)
    if keyword(call, "skip_special_tokens") is not None:
        return call
    return append_keyword(call, "skip_special_tokens", "True")


class DecodedPromptEcho(LoopTracking, Rule):
    """## What it does
    With an `hf:` target, finds `tokenizer.decode(output[0])` and `tokenizer.batch_decode(output)` of a
    `model.generate(...)` output, and the code that then cuts the prompt off the text
    (`text[len(prompt):]`, `text.replace(prompt, "")`).

    ## Why is this bad?
    `generate` returns the prompt tokens followed by the new ones. GPT-2 code decoded everything and
    cut the prompt off as text; with a chat template the prompt is the rendered conversation (system
    message, role headers, special tokens), which no longer matches the prompt string, so the answer comes
    back with the template around it.

    ## Example
    ```python
    output = model.generate(**inputs, max_new_tokens=50)
    text = tokenizer.decode(output[0], skip_special_tokens=True)
    answer = text[len(prompt):]
    ```

    Use instead:
    ```python
    output = model.generate(**inputs, max_new_tokens=50)
    text = tokenizer.decode(output[0][inputs["input_ids"].shape[-1]:], skip_special_tokens=True)
    answer = text
    ```

    ## Fix safety
    Unsafe: the decoded text no longer contains the prompt, which code further on may have expected.
    `skip_special_tokens=True` is added so the end-of-turn token is not part of the answer. A decode whose
    prompt length cannot be read from the `generate` call is reported.
    """

    valid = (
        ("from transformers import AutoTokenizer\nout = model.generate(**inputs)\n"
         "tok.decode(out[0][inputs['input_ids'].shape[-1]:])"),
        "import json\njson.decode(x)",
    )
    has_fixes = True

    invalid = (
        Invalid(
            'from transformers import AutoTokenizer\n'
            'out = model.generate(**inputs)\n'
            'tok.decode(out[0])',
            1, options={"target": "hf:meta-llama/Llama-3.1-8B-Instruct"}),
        Invalid(
            'from transformers import AutoTokenizer\n'
            'out = model.generate(**inputs)\n'
            'tok.decode(out[0])',
            0),  # no finding without an hf: target
    )

    def _echo(self, call: cst.BaseExpression) -> tuple[cst.Call, str | None] | None:
        """(the generate call, prompt length code or None) when ``call`` decodes a whole generate output."""
        if not isinstance(call, cst.Call) or method_name(call) not in _DECODERS or not isinstance(call.func, cst.Attribute):
            return None
        first = next((a for a in call.args if a.keyword is None and not a.star), None)
        if first is None:
            return None
        value = first.value
        if method_name(call) == "decode":
            looped = self.loops.iterable_of(value)
            if looped is not None:  # for sequence in output: decode(sequence)
                value = looped
            elif isinstance(value, cst.Subscript) and len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index):
                value = value.value
            else:
                return None
        generate = generate_of(self.ctx, value)
        if generate is None:
            return None
        return generate, prompt_length(generate)

    def _decoded(self, expr: cst.BaseExpression) -> bool:
        """``expr`` is a decode this rule rewrites, or a name assigned one."""
        echo = self._echo(expr) or self._echo(single_value(self.ctx, expr) or cst.Name("_"))
        return echo is not None and echo[1] is not None

    def visit_Call(self, node: cst.Call) -> None:
        if hf_target_model(self.ctx) is None:
            return
        if is_replace_strip(node) and self._decoded(node.func.value):  # type: ignore[attr-defined]
            self.report(node, "`.replace(prompt, \"\")` cut the echoed prompt; the decoded answer no longer holds it",
                        plan=Fix().edit(node, lambda n: n.func.value))  # type: ignore[attr-defined]
            return
        echo = self._echo(node)
        if echo is None:
            return
        _, length = echo
        first = next(a for a in node.args if a.keyword is None and not a.star)
        message = "decodes the prompt with the answer (GPT-2 echoed it); an instruction model's prompt is its chat template"
        if length is None:
            self.report(node, f"{message}: slice off the prompt tokens, `output[0][input_ids.shape[-1]:]`", FixSafety.REPORT)
            return
        sliced = f"{code(first.value)}[{length}:]" if method_name(node) == "decode" else f"{code(first.value)}[:, {length}:]"
        plan = Fix().replace(first.value, cst.parse_expression(sliced)).edit(node, _add_skip_special)
        self.report(node, f"{message}: decode only the new tokens, `{sliced}`", plan=plan)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if hf_target_model(self.ctx) is None or not is_length_strip(node) or not self._decoded(node.value):
            return
        self.report(node, "`[len(prompt):]` cut the echoed prompt off; the decoded answer no longer holds it",
                    plan=Fix().edit(node, lambda n: n.value))  # type: ignore[attr-defined]
