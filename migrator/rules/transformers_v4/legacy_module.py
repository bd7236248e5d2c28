"""HF207: imports from pre-transformers packages and old per-model module paths."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule, set_name
from migrator.rules.names import dotted_name
from migrator.rules.transformers_v4.catalog import LEGACY_MODULES


def _legacy(module: str) -> str | None:
    for old in LEGACY_MODULES:
        if module == old or module.startswith(old + "."):
            return old
    return None


class LegacyTransformersModule(Rule):
    """## What it does
    Finds imports from `pytorch_transformers`, `pytorch_pretrained_bert` and the flat per-model
    modules of transformers 2.x/3.x (`transformers.modeling_gpt2`, `transformers.tokenization_gpt2`).

    ## Why is this bad?
    Those packages are unmaintained and the flat modules moved to `transformers.models.gpt2` in
    transformers 4.0: the imports fail with `ModuleNotFoundError`.

    ## Example
    ```python
    from pytorch_transformers import GPT2Tokenizer
    ```

    Use instead:
    ```python
    from transformers import AutoTokenizer
    ```

    ## Fix safety
    Safe: the names are imported from the top-level `transformers` package, which exports them.
    """

    valid = ("from transformers import GPT2Tokenizer", "from transformers.models.gpt2 import GPT2Model")
    has_fixes = True
    invalid = (
        Invalid("from pytorch_transformers import GPT2Tokenizer", fixed="from transformers import GPT2Tokenizer"),
        Invalid("import pytorch_pretrained_bert"),
        Invalid("import pytorch_transformers as pt", fixed="import transformers as pt"),
        Invalid("from transformers.modeling_gpt2 import GPT2LMHeadModel", fixed="from transformers import GPT2LMHeadModel"),
    )

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            old = _legacy(dotted_name(alias.name))
            if old:
                # Only an aliased import can be renamed without touching every use of the module name.
                plan = None
                if alias.asname is not None and dotted_name(alias.name) == old:
                    plan = Fix().edit(alias, set_name("name", LEGACY_MODULES[old]))
                self.report(alias, f"`{old}` is gone; import from `{LEGACY_MODULES[old]}`", plan=plan)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        old = _legacy(dotted_name(node.module))
        if old:
            plan = None
            if dotted_name(node.module) == old:
                plan = Fix().edit(node, set_name("module", LEGACY_MODULES[old]))
            self.report(node, f"`{old}` is gone; import from `{LEGACY_MODULES[old]}`", plan=plan)
