"""HF204: ``use_auth_token=`` (removed for models in transformers v5; use ``token=``)."""

from __future__ import annotations

from typing import ClassVar

from migrator.rules.base import Invalid, Rule
from migrator.rules.transformers_v4.catalog import LoaderKeywordRule


class UseAuthTokenArgument(LoaderKeywordRule, Rule):
    """## What it does
    Finds `use_auth_token=` passed to `from_pretrained(...)` or `pipeline(...)`.

    ## Why is this bad?
    Model classes in transformers v5 raise
    `TypeError: GPT2LMHeadModel.__init__() got an unexpected keyword argument 'use_auth_token'`.

    ## Example
    ```python
    AutoModelForCausalLM.from_pretrained(name, use_auth_token=hf_token)
    ```

    Use instead:
    ```python
    AutoModelForCausalLM.from_pretrained(name, token=hf_token)
    ```

    ## Fix safety
    Safe: `token=` takes the same values (a string, or True to use the stored login).
    """

    has_fixes = True
    renames: ClassVar[dict[str, str]] = {'use_auth_token': 'token'}
    keywords: ClassVar[dict[str, str]] = {"use_auth_token": "`use_auth_token=` was removed in transformers v5; use `token=`"}
    valid = ("from transformers import AutoModel\nAutoModel.from_pretrained('x', token=t)",)
    invalid = (
        Invalid("from transformers import AutoModelForCausalLM\nAutoModelForCausalLM.from_pretrained('x', use_auth_token=True)", fixed="from transformers import AutoModelForCausalLM\nAutoModelForCausalLM.from_pretrained('x', token=True)"),
    )
