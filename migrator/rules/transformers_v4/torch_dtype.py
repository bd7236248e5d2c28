"""HF203: ``torch_dtype=`` on model loads (renamed ``dtype=`` in transformers v5)."""

from __future__ import annotations

from typing import ClassVar

from migrator.rules.base import Invalid, Rule
from migrator.rules.transformers_v4.catalog import LoaderKeywordRule


class TorchDtypeArgument(LoaderKeywordRule, Rule):
    """## What it does
    Finds `torch_dtype=` passed to `from_pretrained(...)` or `pipeline(...)`.

    ## Why is this bad?
    transformers v5 renamed it `dtype=`; the old name still works but logs
    "`torch_dtype` is deprecated! Use `dtype` instead!" on every load and will be removed.

    ## Example
    ```python
    AutoModelForCausalLM.from_pretrained(name, torch_dtype=torch.bfloat16)
    ```

    Use instead:
    ```python
    AutoModelForCausalLM.from_pretrained(name, dtype=torch.bfloat16)
    ```

    ## Fix safety
    Safe: same values, new name.
    """

    has_fixes = True
    renames: ClassVar[dict[str, str]] = {'torch_dtype': 'dtype'}
    keywords: ClassVar[dict[str, str]] = {"torch_dtype": "`torch_dtype=` is deprecated in transformers v5; use `dtype=`"}
    valid = (
        "from transformers import AutoModel\nAutoModel.from_pretrained('x', dtype='auto')",
        "import torch\ntorch.zeros(3, torch_dtype=None)",
    )
    invalid = (
        Invalid("import torch\nfrom transformers import AutoModel\nAutoModel.from_pretrained('x', torch_dtype=torch.float16)", fixed="import torch\nfrom transformers import AutoModel\nAutoModel.from_pretrained('x', dtype=torch.float16)"),
        Invalid("from transformers import pipeline\npipeline('text-generation', model='m', torch_dtype='auto')"),
        Invalid("from transformers import AutoModel\nAutoModel.from_pretrained(\n    'x',\n    torch_dtype  # half\n    = 'auto',\n)"),
    )
