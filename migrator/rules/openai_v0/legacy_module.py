"""OAI104: v0-only modules such as ``openai.embeddings_utils``."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.names import dotted_name
from migrator.rules.openai_v0.catalog import LEGACY_MODULES
from migrator.rules.openai_v0.embeddings_utils import rebuildable
from migrator.rules.openai_v0.openai_object import is_object_import


def _legacy_module(dotted: str) -> str | None:
    parts = dotted.split(".")
    if len(parts) >= 2 and parts[0] == "openai" and parts[1] in LEGACY_MODULES:
        return parts[1]
    return None


class LegacyModule(Rule):
    """## What it does
    Finds imports and uses of modules that only the v0 SDK shipped: `openai.embeddings_utils`,
    `openai.openai_object`, `openai.api_resources`, `openai.datalib` and `openai.wandb_logger`.

    ## Why is this bad?
    They do not exist in openai>=1.0: the import fails with `ModuleNotFoundError`.

    ## Example
    ```python
    from openai.embeddings_utils import get_embedding, cosine_similarity
    ```

    Use instead:
    ```python
    import numpy as np
    def get_embedding(text, model="text-embedding-3-small"):
        return client.embeddings.create(input=[text], model=model).data[0].embedding
    ```

    ## Fix safety
    Report-only: the helpers must be re-created (the OpenAI cookbook has them).
    """

    valid = (
        "from openai import OpenAI\nfrom openai.types import Embedding",
        "from mylib.embeddings_utils import get_embedding",
    )
    invalid = (
        Invalid("from openai.embeddings_utils import get_embedding, plot_multiclass_precision_recall"),
        Invalid("import openai.embeddings_utils"),
        Invalid("from openai.openai_object import OpenAIObject, make_session"),
        Invalid("import openai\nv = openai.embeddings_utils.cosine_similarity(a, b)"),
        Invalid("from openai import embeddings_utils"),
    )

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = _legacy_module(dotted_name(alias.name))
            if module == "openai_object" and alias.asname is None and dotted_name(alias.name) == "openai.openai_object":
                continue  # OAI106
            if module:
                self.report(alias, f"`openai.{module}` was removed in openai 1.0: {LEGACY_MODULES[module]}")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        base = dotted_name(node.module)
        module = _legacy_module(base)
        if (module == "embeddings_utils" and rebuildable(self.ctx, node)) or is_object_import(node):
            return  # OAI105 rebuilds the helpers; OAI106 imports openai.BaseModel
        if module:
            self.report(node, f"`openai.{module}` was removed in openai 1.0: {LEGACY_MODULES[module]}")
        elif base == "openai" and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                name = dotted_name(alias.name)
                if name in LEGACY_MODULES:
                    self.report(alias, f"`openai.{name}` was removed in openai 1.0: {LEGACY_MODULES[name]}")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        qualname = self.ctx.reference(node)
        if qualname == "openai.openai_object" and id(node) in self.ctx.inner:
            return  # `openai.openai_object.OpenAIObject`: OAI106
        if qualname and qualname.count(".") == 1 and _legacy_module(qualname):
            module = qualname.split(".")[1]
            self.report(node, f"`openai.{module}` was removed in openai 1.0: {LEGACY_MODULES[module]}")
