"""OAI303: attributes that only v0 exceptions had (``e.http_status``, ``e.user_message``, ``e.json_body``, ...)."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.openai_v0.catalog import ERROR_ATTRIBUTES, ERRORS
from migrator.rules.openai_v0.rewrite import STATUS


class LegacyExceptionAttribute(Rule):
    """## What it does
    Finds `e.http_status`, `e.user_message`, `e.json_body`, `e.http_body` and `e.headers` where `e`
    was bound by an `except` clause that catches an openai exception, or in the branch of an
    `if isinstance(e, openai.error.X):` (results of `asyncio.gather(..., return_exceptions=True)`).

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
    Safe where the replacement holds the same value. When every class the clause catches carries an
    HTTP response (the status errors): `http_status` -> `e.status_code`, `headers` ->
    `e.response.headers`, `http_body` -> `e.response.text`, `json_body` -> `e.response.json()` (the
    whole body, as in v0; `e.body` is only its `error` object). `user_message` (the server's message,
    without the status that `e.message` adds) -> `(e.body.get("message") if isinstance(e.body, dict)
    else e.message)` wherever the clause catches only API errors. When the clause also catches errors
    without a response (connection errors, timeouts): `http_status` -> `getattr(e, "status_code",
    None)`; the others are report-only. `e.code` keeps its meaning and is left alone.
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
            fixed="import openai\ntry:\n    pass\nexcept (openai.InternalServerError, openai.UnprocessableEntityError) as e:\n"
            "    print(e.status_code)",
        ),
        Invalid(
            "import openai\ntry:\n    pass\nexcept (openai.error.RateLimitError, openai.error.InvalidRequestError) as e:\n"
            "    print(e.http_status)",
            fixed="import openai\ntry:\n    pass\nexcept (openai.RateLimitError, openai.BadRequestError, openai.NotFoundError) as e:\n"
            "    print(e.status_code)",
        ),
        Invalid(
            "from openai.error import RateLimitError\ntry:\n    pass\nexcept RateLimitError as err:\n"
            "    print(err.user_message, err.json_body['error'], err.headers, err.http_body)",
            4,
            fixed="from openai import RateLimitError\ntry:\n    pass\nexcept RateLimitError as err:\n"
            "    print((err.body.get('message') if isinstance(err.body, dict) else err.message), "
            "err.response.json()['error'], err.response.headers, err.response.text)",
        ),
        Invalid(
            "import openai\ntry:\n    pass\nexcept (openai.error.Timeout, openai.error.RateLimitError) as e:\n"
            "    print(e.user_message, e.http_status)",
            2,
            fixed="import openai\ntry:\n    pass\nexcept (openai.APITimeoutError, openai.RateLimitError) as e:\n"
            "    print((e.body.get('message') if isinstance(e.body, dict) else e.message), getattr(e, 'status_code', None))",
        ),
        Invalid(
            "import openai\nfor r in results:\n    if isinstance(r, openai.error.RateLimitError):\n        print(r.http_status)\n"
            "    elif isinstance(r, openai.error.OpenAIError):\n        print(r.http_status)\n    print(r.http_status)",
            2,
            fixed="import openai\nfor r in results:\n    if isinstance(r, openai.RateLimitError):\n        print(r.status_code)\n"
            "    elif isinstance(r, openai.OpenAIError):\n        print(getattr(r, 'status_code', None))\n    print(r.http_status)",
        ),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.bound: list[str | None] = []
        self.status_only: list[bool] = []  # every caught class carries .status_code
        self.api_only: list[bool] = []  # every caught class is an openai.APIError (has .body and .message)
        self.narrowed: dict[int, tuple[str, bool, bool]] = {}  # id(attribute) -> (name, status_only, api_only)

    def _status_only(self, expr: cst.BaseExpression | None) -> bool:
        if isinstance(expr, cst.Tuple):
            return all(self._status_only(e.value) for e in expr.elements)
        qualname = (self.ctx.resolve(expr) or "") if expr is not None else ""
        name = qualname.rsplit(".", 1)[-1]
        current = ERRORS.get(name, (name, ""))[0] if ".error." in qualname else name
        return current in STATUS

    def _api_only(self, expr: cst.BaseExpression | None) -> bool:
        if isinstance(expr, cst.Tuple):
            return all(self._api_only(e.value) for e in expr.elements)
        qualname = (self.ctx.resolve(expr) or "") if expr is not None else ""
        name = qualname.rsplit(".", 1)[-1]
        current = ERRORS.get(name, (name, ""))[0] if ".error." in qualname else name
        return qualname.startswith("openai.") and (
            current in STATUS or current in ("APIError", "APIStatusError", "APIConnectionError", "APITimeoutError")
        )

    def _catches_openai(self, expr: cst.BaseExpression | None) -> bool:
        if isinstance(expr, cst.Tuple):
            return any(self._catches_openai(e.value) for e in expr.elements)
        qualname = self.ctx.resolve(expr) if expr is not None else None
        return bool(qualname and qualname.startswith("openai."))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        name = node.name.name.value if node.name is not None and isinstance(node.name.name, cst.Name) else None
        self.bound.append(name if name and self._catches_openai(node.type) else None)
        self.status_only.append(self._status_only(node.type))
        self.api_only.append(self._api_only(node.type))

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self.bound.pop()
        self.status_only.pop()
        self.api_only.pop()

    def visit_If(self, node: cst.If) -> None:
        """``if isinstance(result, openai.error.X):`` (results of ``gather(..., return_exceptions=True)``):
        in the branch, ``result`` is that exception, as if an ``except`` clause had bound it."""
        test = node.test
        if not (
            isinstance(test, cst.Call) and self.ctx.is_builtin(test.func, "isinstance") and len(test.args) == 2
            and isinstance(test.args[0].value, cst.Name) and self._catches_openai(test.args[1].value)
        ):
            return
        name, classes = test.args[0].value.value, test.args[1].value
        narrowed = (name, self._status_only(classes), self._api_only(classes))
        for attribute in _attributes_of(node.body, name):
            self.narrowed[id(attribute)] = narrowed

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value not in ERROR_ATTRIBUTES:
            return
        if id(node) in self.narrowed:
            name, status_only, api_only = self.narrowed[id(node)]
            self._fix(node, name, status_only, api_only)
            return
        if not self.bound:
            return
        if isinstance(node.value, cst.Name) and node.value.value in self.bound:
            name = node.value.value
            where = len(self.bound) - 1 - self.bound[::-1].index(name)
            self._fix(node, name, self.status_only[where], self.api_only[where])

    def _fix(self, node: cst.Attribute, name: str, status_only: bool, api_only: bool) -> None:
        replacement, advice = ERROR_ATTRIBUTES[node.attr.value]
        plan = None
        if node.attr.value == "user_message" and api_only:
            plan = Fix().replace(node, cst.parse_expression(
                f"({name}.body.get('message') if isinstance({name}.body, dict) else {name}.message)"))
        elif replacement and status_only:
            plan = Fix().replace(node, cst.parse_expression(f"{name}.{replacement}"))
        elif node.attr.value == "http_status":
            # openai.APIError also covers connection errors, which have no status code (v0: None).
            plan = Fix().replace(node, cst.parse_expression(f"getattr({name}, {replacement!r}, None)"))
        self.report(node, f"openai exceptions no longer have `.{node.attr.value}`; {advice}", plan=plan)


def _attributes_of(body: cst.CSTNode, name: str) -> list[cst.Attribute]:
    """``name.<attr>`` nodes in ``body``, outside nested functions, classes and lambdas."""
    found: list[cst.Attribute] = []

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_Attribute(self, node: cst.Attribute) -> None:
            if isinstance(node.value, cst.Name) and node.value.value == name:
                found.append(node)

    body.visit(Finder())
    return found
