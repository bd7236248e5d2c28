"""OAI105: helpers imported from the removed ``openai.embeddings_utils``, rebuilt in the module."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule, RuleContext
from migrator.rules.names import dotted_name
from migrator.rules.openai_v0.catalog import is_legacy_api_call
from migrator.rules.openai_v0.clients import client_plan

# Helpers the template rebuilds (templates/helpers/embeddings_utils.py.j2), and whether they need a client.
HELPERS: dict[str, str | None] = {
    "get_embedding": "sync",
    "aget_embedding": "async",
    "get_embeddings": "sync",
    "aget_embeddings": "async",
    "cosine_similarity": None,
    "distances_from_embeddings": None,
    "indices_of_nearest_neighbors_from_distances": None,
}

# Helpers with no replacement: plotting and dimensionality reduction (sklearn, plotly, matplotlib).
NO_REPLACEMENT = "it drew charts or reduced dimensions with sklearn/plotly; call those libraries directly"


def _module_calls(ctx: RuleContext) -> tuple[bool, bool]:
    """(sync, async) v0 API calls anywhere in the module: their client is built before the helpers."""
    from migrator.rules.openai_v0.call_argument import legacy_is_async

    def scan() -> tuple[bool, bool]:
        found = [False, False]

        class Calls(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                if is_legacy_api_call(ctx, node):
                    found[1 if legacy_is_async(ctx, node) else 0] = True

        with ctx.in_scopes([ctx.index.root]):
            ctx.module.visit(Calls())
        return found[0], found[1]

    return ctx.cached(("embeddings_utils_calls",), scan)


def _insert_helpers(statement_code: str, helpers: Sequence[cst.BaseStatement], clients: set[str]) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """A module edit: the import statement goes; the helpers go after the last top-level import or client."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Module)
        body = [s for s in node.body if node.code_for_node(s).strip() != statement_code]
        anchor = -1
        for index, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine) and any(
                isinstance(small, (cst.Import, cst.ImportFrom))
                or (isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value in clients for t in small.targets))
                for small in stmt.body
            ):
                anchor = index
        following = body[anchor + 1:]
        if following:
            lines = list(following[0].leading_lines)
            while lines and lines[0].comment is None:
                lines.pop(0)
            following[0] = following[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *lines])
        return node.with_changes(body=[*body[:anchor + 1], *helpers, *following])
    return edit


def rebuildable(ctx: RuleContext, node: cst.ImportFrom) -> bool:
    """A top-level ``from openai.embeddings_utils import ...`` of helpers the template rebuilds, without
    aliases, alone on its line, in a module whose client can be built (else OAI104 reports it)."""
    if node.relative or node.module is None or dotted_name(node.module) != "openai.embeddings_utils":
        return False
    if isinstance(node.names, cst.ImportStar) or ctx.scope is not ctx.index.root:
        return False
    names = [dotted_name(a.name) for a in node.names]
    statement = ctx.statements[-1] if ctx.statements else None
    if (
        any(a.asname is not None for a in node.names) or any(n not in HELPERS for n in names)
        or not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1
        or any(n in ctx.index.root.locals for n in names)
    ):
        return False
    plan = client_plan(ctx)
    return plan.blocked is None and plan.style == "client"


class EmbeddingsUtilsHelper(Rule):
    """## What it does
    Finds `from openai.embeddings_utils import get_embedding, cosine_similarity, ...` and rebuilds
    the helpers the module uses in the module itself, on the module's client and numpy (from
    `templates/helpers/embeddings_utils.py.j2`): `get_embedding`, `get_embeddings` (and their
    `a*` twins), `cosine_similarity`, `distances_from_embeddings` (cosine, L1, L2, Linf, with numpy
    instead of scipy) and `indices_of_nearest_neighbors_from_distances`.

    ## Why is this bad?
    `openai.embeddings_utils` does not exist in openai>=1.0: the import fails with
    `ModuleNotFoundError`, and there is no drop-in module to import instead.

    ## Example
    ```python
    from openai.embeddings_utils import get_embedding, cosine_similarity
    score = cosine_similarity(get_embedding("a"), get_embedding("b"))
    ```

    Use instead:
    ```python
    import numpy as np
    from openai import OpenAI

    client = OpenAI()

    def get_embedding(text: str, engine: str = "text-embedding-3-small", **kwargs: Any) -> list[float]:
        text = text.replace("\\n", " ")
        return client.embeddings.create(input=[text], model=engine, **kwargs).data[0].embedding

    def cosine_similarity(a: Any, b: Any) -> Any:
        return np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    ```

    ## Fix safety
    Safe: the helpers return what v0's did (lists of floats, numpy's float); `engine=` keeps its name
    and is the model (its default, v0's retired `text-similarity-*`, becomes `text-embedding-3-small`).
    v0 retried `get_embedding*` six times with tenacity; the client now retries twice by itself. An import of the plotting and dimensionality-reduction helpers
    (`plot_multiclass_precision_recall`, `chart_from_components`, ...), which have no replacement, or of
    a name the module already defines, is report-only (OAI104 reports it).
    """

    valid = (
        "from mylib.embeddings_utils import get_embedding",
        "from openai.embeddings_utils import plot_multiclass_precision_recall",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "from openai.embeddings_utils import cosine_similarity\nprint(cosine_similarity([1, 0], [1, 0]))",
            fixed="import numpy as np\nfrom typing import Any\n\n\ndef cosine_similarity(a: Any, b: Any) -> Any:\n"
            "    # Rebuilt from openai.embeddings_utils (removed in openai 1.0).\n"
            "    return np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))\n\n\n"
            "print(cosine_similarity([1, 0], [1, 0]))",
        ),
        Invalid("import openai\nfrom openai.embeddings_utils import get_embedding, distances_from_embeddings\n"
                "v = get_embedding('x', engine='text-embedding-ada-002')"),
    )

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not rebuildable(self.ctx, node):
            return
        assert not isinstance(node.names, cst.ImportStar)
        names = [dotted_name(a.name) for a in node.names]
        statement = self.ctx.statements[-1]
        plan = client_plan(self.ctx)
        fix = Fix()
        sync_calls, async_calls = _module_calls(self.ctx)
        needs = {HELPERS[n] for n in names}
        # The client's own module edit must run first (it places statements by their original index).
        client = plan.client_expr(False, fix).value if "sync" in needs or sync_calls else plan.sync_name  # type: ignore[attr-defined]
        aclient = plan.client_expr(True, fix).value if "async" in needs or async_calls else plan.async_name  # type: ignore[attr-defined]
        from migrator.templating import render

        code = render("helpers/embeddings_utils.py.j2", names=set(names), client=client, aclient=aclient, np="np")
        helpers = list(cst.parse_module(code.strip() + "\n").body)
        helpers = [h.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]) for h in helpers]
        code_of = self.ctx.module.code_for_node(statement).strip()
        fix.edit(self.ctx.module, _insert_helpers(code_of, helpers, {plan.sync_name, plan.async_name}))
        if set(names) != {"distances_from_embeddings"}:
            fix.add_import("typing", "Any")
        if {"cosine_similarity", "distances_from_embeddings", "indices_of_nearest_neighbors_from_distances"} & set(names):
            fix.add_import("numpy", None, "np")
        self.report(node, "`openai.embeddings_utils` was removed in openai 1.0: its helpers are rebuilt here on "
                    f"the client and numpy ({', '.join(names)})", plan=fix)
