"""HF205: ``load_in_8bit=`` / ``load_in_4bit=`` on model loads."""

from __future__ import annotations

from migrator.rules.base import Invalid, Rule
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

    keywords = {
        "load_in_8bit": "`load_in_8bit=` " + _ADVICE.format("load_in_8bit"),
        "load_in_4bit": "`load_in_4bit=` " + _ADVICE.format("load_in_4bit"),
    }
    valid = ("from transformers import AutoModel, BitsAndBytesConfig\nAutoModel.from_pretrained('x', quantization_config=q)",)
    invalid = (
        Invalid("from transformers import AutoModel\nAutoModel.from_pretrained('x', load_in_8bit=True, load_in_4bit=False)", 2),
    )
