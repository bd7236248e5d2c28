"""OAI303: attributes that only v0 exceptions had (``e.http_status``, ``e.user_message``, ``e.json_body``)."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.openai_v0.catalog import ERROR_ATTRIBUTES, ERRORS
from migrator.rules.openai_v0.rewrite import STATUS


class LegacyExceptionAttribute(Rule):
    """## What it does
    Finds `e.http_status`, `e.user_message`, `e.json_body` and `e.headers` where `e` was bound by an
    `except` clause that catches an openai exception.

    ## Why is this bad?
    Current exceptions do not have these attributes: the handler itself raises `AttributeError` while
    handling the original error.

    ## Example
    ```python
    except openai.error.APIError as e:
        log(e.http_status, e.user_message)
    ```

    Use instead:
    ```python
    except openai.APIStatusError as e:
        log(e.status_code, e.message)
    ```

    ## Fix safety
    `http_status` -> `status_code` is safe (`getattr(e, "status_code", None)` when the clause also
    catches errors without a status). `user_message`, `json_body` and `headers` are report-only: their
    closest replacements (`e.message`, `e.body`, `e.response.headers`) hold differently shaped values.
    """

    valid = (
        "import openai\ntry:\n    pass\nexcept openai.APIStatusError as e:\n    print(e.status_code)",
        "import requests\ntry:\n    pass\nexcept requests.HTTPError as e:\n    print(e.http_status)",
        "import openai\ntry:\n    pass\nexcept openai.error.APIError as e:\n    pass\nprint(x.http_status)",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "import openai\ntry:\n    pass\nexcept openai.error.APIError as e:\n    print(e.http_status)",
            fixed="import openai\ntry:\n    pass\nexcept openai.APIError as e:\n    print(getattr(e, 'status_code', None))",
        ),
        Invalid(
            "import openai\ntry:\n    pass\nexcept (openai.error.RateLimitError, openai.error.InvalidRequestError) as e:\n"
            "    print(e.http_status)",
            fixed="import openai\ntry:\n    pass\nexcept (openai.RateLimitError, openai.BadRequestError, openai.NotFoundError) as e:\n"
            "    print(e.status_code)",
        ),
        Invalid(
            "from openai.error import RateLimitError\ntry:\n    pass\nexcept RateLimitError as err:\n"
            "    print(err.user_message, err.json_body, err.headers)",
            3,
        ),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.bound: list[str | None] = []
        self.status_only: list[bool] = []  # every caught class carries .status_code

    def _status_only(self, expr: cst.BaseExpression | None) -> bool:
        if isinstance(expr, cst.Tuple):
            return all(self._status_only(e.value) for e in expr.elements)
        qualname = (self.ctx.resolve(expr) or "") if expr is not None else ""
        name = qualname.rsplit(".", 1)[-1]
        current = ERRORS.get(name, (name, ""))[0] if ".error." in qualname else name
        return current in STATUS

    def _catches_openai(self, expr: cst.BaseExpression | None) -> bool:
        if isinstance(expr, cst.Tuple):
            return any(self._catches_openai(e.value) for e in expr.elements)
        qualname = self.ctx.resolve(expr) if expr is not None else None
        return bool(qualname and qualname.startswith("openai."))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        name = node.name.name.value if node.name is not None and isinstance(node.name.name, cst.Name) else None
        self.bound.append(name if name and self._catches_openai(node.type) else None)
        self.status_only.append(self._status_only(node.type))

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self.bound.pop()
        self.status_only.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not self.bound or node.attr.value not in ERROR_ATTRIBUTES:
            return
        if isinstance(node.value, cst.Name) and node.value.value in self.bound:
            replacement, advice = ERROR_ATTRIBUTES[node.attr.value]
            plan = None
            if replacement and self.status_only[self.bound.index(node.value.value)]:
                plan = Fix().edit(node, lambda n: n.with_changes(attr=cst.Name(replacement)))
            elif replacement:
                # openai.APIError also covers connection errors, which have no status code (v0: None).
                plan = Fix().replace(node, cst.parse_expression(f"getattr({node.value.value}, {replacement!r}, None)"))
            self.report(node, f"openai exceptions no longer have `.{node.attr.value}`; {advice}", plan=plan)
