"""HF211: a chat conversation kept as one growing prompt string."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.names import string_value
from migrator.rules.transformers_v4.chat import hf_target_model, string_history
from migrator.rules.types import FixSafety

_SNIPPET = ('history = []; history.append({"role": "user", "content": text}); '
            'inputs = tokenizer.apply_chat_template(history, add_generation_prompt=True, return_tensors="pt", '
            'return_dict=True); history.append({"role": "assistant", "content": reply})')


class StringChatHistory(Rule):
    """## What it does
    With an `hf:` target, finds chat loops that keep the conversation as one growing string
    (`history += "User: " + text + "\\nBot:"`, then `history += reply`) and send the whole string to the
    model.

    ## Why is this bad?
    GPT-2 has no notion of turns, so chat bots built on it invented their own `User:`/`Bot:` format. An
    instruction model was trained on its chat template; a made-up transcript is continued as text (the model
    writes the next `User:` line itself) instead of answered.

    ## Example
    ```python
    history = ""
    for text in user_messages:
        history += "User: " + text + "\\nBot:"
        inputs = tokenizer(history, return_tensors="pt")
        output = model.generate(**inputs, max_new_tokens=40)
        reply = tokenizer.decode(output[0][inputs["input_ids"].shape[-1]:], skip_special_tokens=True)
        history += reply + "\\n"
    ```

    Use instead:
    ```python
    history = []
    for text in user_messages:
        history.append({"role": "user", "content": text})
        inputs = tokenizer.apply_chat_template(history, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        output = model.generate(**inputs, max_new_tokens=40)
        reply = tokenizer.decode(output[0][inputs["input_ids"].shape[-1]:], skip_special_tokens=True)
        history.append({"role": "assistant", "content": reply})
    ```

    A turn that appends text the model produced (a decode or a pipeline's `generated_text`) becomes an
    assistant message, any other turn a user message with its one variable part as content (the labels
    are dropped); a history that starts as a string constant starts with it as the system message.

    ## Fix safety
    Unsafe: the model sees a conversation instead of the transcript. A history that is used for anything
    but the model's input (printed, sliced, measured), or whose turns have more than one variable part, is
    reported with the snippet above.
    """

    valid = (
        "from transformers import AutoTokenizer\nhistory = []\nhistory.append({'role': 'user', 'content': t})",
        "log = ''\nlog += 'line'\nprint(log)",
    )
    has_fixes = True
    invalid = (
        Invalid(
            'from transformers import AutoTokenizer\n'
            "h = ''\n"
            "h += 'User: ' + t\n"
            "tok(h, return_tensors='pt')",
            1, options={"target": "hf:meta-llama/Llama-3.1-8B-Instruct"}),
        Invalid(
            'from transformers import AutoTokenizer\n'
            "h = ''\n"
            "h += 'User: ' + t\n"
            "tok(h, return_tensors='pt')",
            0),  # no finding without an hf: target
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        if hf_target_model(self.ctx) is None or len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        name = node.targets[0].target.value
        if string_value(node.value) is None and not isinstance(node.value, cst.Name):
            return
        history = string_history(self.ctx, name)
        if history is None or history.start is not node:
            return
        message = f"`{name}` keeps the conversation as one growing prompt string; an instruction model needs a list of messages"
        if not history.recognised:
            self.report(node, f"{message}: {_SNIPPET}", FixSafety.REPORT)
            return
        plan = Fix().replace(node, node.with_changes(value=cst.parse_expression(history.start_code)))
        for statement, role, content in history.turns:
            call = f'{name}.append({{"role": "{role}", "content": {content}}})'
            plan.replace(statement, cst.Expr(cst.parse_expression(call)))
        self.report(node, f"{message} (the fix appends each turn as a message)", plan=plan)
