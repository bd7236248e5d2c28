"""HF206: ``tokenizer.encode_plus(...)``, removed in transformers v5."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.transformers_v4.catalog import imports_transformers


class EncodePlus(Rule):
    """## What it does
    Finds `.encode_plus(...)` calls in modules that use transformers.

    ## Why is this bad?
    transformers v5 tokenizers have no `encode_plus`
    (`AttributeError: GPT2Tokenizer has no attribute encode_plus`); calling the tokenizer does the same.

    ## Example
    ```python
    enc = tokenizer.encode_plus(text, return_tensors="pt", truncation=True)
    ```

    Use instead:
    ```python
    enc = tokenizer(text, return_tensors="pt", truncation=True)
    ```

    ## Fix safety
    Safe: `__call__` takes the same arguments for a single text.
    """

    valid = (
        "from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('x')\ntok('hi')",
        "class T:\n    def encode_plus(self): ...\nT().encode_plus()",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('x')\ntok.encode_plus('hi', return_tensors='pt')",
            fixed="from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('x')\ntok('hi', return_tensors='pt')",
        ),
        Invalid("import transformers\nclass M:\n    def f(self):\n        return self.tokenizer.encode_plus(text)"),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "encode_plus" and imports_transformers(self.ctx):
            plan = Fix().edit(node, _call_receiver)
            self.report(node, "`encode_plus` was removed in transformers v5; call the tokenizer: `tokenizer(...)`", plan=plan)


def _call_receiver(call: cst.Call) -> cst.Call:
    """``tok.encode_plus(...)`` -> ``tok(...)``."""
    assert isinstance(call.func, cst.Attribute)
    return call.with_changes(func=call.func.value)
