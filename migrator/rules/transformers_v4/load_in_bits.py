"""HF205: ``load_in_8bit=`` / ``load_in_4bit=`` on model loads."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.transformers_v4.catalog import LoaderKeywordRule

_ADVICE = "was removed in transformers v5; pass `quantization_config=BitsAndBytesConfig({}=True)`"


class LoadInBitsArgument(LoaderKeywordRule, Rule):
    """## What it does
    Finds `load_in_8bit=` and `load_in_4bit=` passed to `from_pretrained(...)` or `pipeline(...)`.

    ## Why is this bad?
    transformers v5 raises `TypeError: ... unexpected keyword argument 'load_in_8bit'`.

    ## Example
    ```python
    AutoModelForCausalLM.from_pretrained(name, load_in_8bit=True)
    ```

    Use instead:
    ```python
    AutoModelForCausalLM.from_pretrained(name, quantization_config=BitsAndBytesConfig(load_in_8bit=True))
    ```

    ## Fix safety
    Unsafe: the rewrite imports `BitsAndBytesConfig`, which needs the bitsandbytes package at run time.
    """

    keywords: ClassVar[dict[str, str]] = {
        "load_in_8bit": "`load_in_8bit=` " + _ADVICE.format("load_in_8bit"),
        "load_in_4bit": "`load_in_4bit=` " + _ADVICE.format("load_in_4bit"),
    }
    valid = ("from transformers import AutoModel, BitsAndBytesConfig\nAutoModel.from_pretrained('x', quantization_config=q)",)
    has_fixes = True
    invalid = (
        Invalid(
            "from transformers import AutoModel\nAutoModel.from_pretrained('x', load_in_8bit=True, load_in_4bit=False)",
            2,
            fixed="from transformers import BitsAndBytesConfig, AutoModel\n"
            "AutoModel.from_pretrained('x', quantization_config=BitsAndBytesConfig(load_in_8bit=True, load_in_4bit=False))",
        ),
    )

    def plan(self, call: cst.Call, arg: cst.Arg, present: set[str]):
        if "quantization_config" in present:
            return None
        return Fix().edit(call, _to_quantization_config).add_import("transformers", "BitsAndBytesConfig")


def _to_quantization_config(call: cst.CSTNode) -> cst.CSTNode:
    """Gather load_in_8bit/load_in_4bit into one ``quantization_config=BitsAndBytesConfig(...)``."""
    assert isinstance(call, cst.Call)
    bits = [a for a in call.args if a.keyword is not None and a.keyword.value in ("load_in_8bit", "load_in_4bit")]
    if not bits:
        return call
    inner = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT if i == len(bits) - 1 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
             for i, a in enumerate(bits)]
    config = cst.Call(func=cst.Name("BitsAndBytesConfig"), args=inner)
    args = []
    for a in call.args:
        if a is bits[0]:
            args.append(a.with_changes(keyword=cst.Name("quantization_config"), value=config, comma=bits[-1].comma))
        elif a not in bits:
            args.append(a)
    return call.with_changes(args=args)
