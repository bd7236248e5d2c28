"""OAI301: references to ``openai.error.*`` classes and to top-level v0 exception aliases."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule, callee_name
from migrator.rules.openai_v0.catalog import (
    ERROR_CATCH,
    ERROR_RAISE_STATUS,
    ERROR_TABLE,
    ERRORS,
    REMOVED_TOP_LEVEL_ERRORS,
)
from migrator.rules.openai_v0.rewrite import constructor_call, flatten_tuple, openai_attr
from migrator.rules.types import FixSafety


def exception_message(legacy: str, shown: str) -> tuple[str, FixSafety]:
    current, note = ERRORS.get(legacy, ("", "it has no equivalent"))
    if not current:
        return f"`{shown}` was removed in openai 1.0: {note}", FixSafety.REPORT
    text = f"`{shown}` was removed in openai 1.0; use `openai.{current}`"
    return (f"{text} ({note})" if note else text), FixSafety.SAFE


_CATCHING_CALLEES = ("on_exception", "retry_if_exception_type", "retry_if_not_exception_type", "on_predicate")


def _reorder(order: tuple[int, ...]) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """An edit that puts a ``try`` statement's handlers in ``order``."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Try)
        handlers = list(node.handlers)
        return node.with_changes(handlers=[handlers[i] for i in order])
    return edit


def _table() -> str:
    rows = ["| v0 class | v0 raised it for | caught now by | difference |", "|---|---|---|---|"]
    rows += [f"| `{old}` | {why} | `{new}` | {note} |" for old, why, new, note in ERROR_TABLE]
    return "\n    ".join(rows)


class LegacyException(Rule):
    """## What it does
    Finds `openai.error.X` in any expression (except clauses, tuples, `raise`, `isinstance`,
    `backoff`/`tenacity` decorator arguments, mocks' `side_effect`), names imported from
    `openai.error` whose current class has another name, the removed top-level aliases
    (`openai.InvalidRequestError`, `openai.ServiceUnavailableError`, `openai.TryAgain`,
    `openai.PermissionError`), and `openai.Timeout` where an exception is expected.

    ## Why is this bad?
    `openai.error` is gone: `except openai.error.RateLimitError:` raises `AttributeError` the first
    time an exception reaches it, hiding the real error. `openai.Timeout` now names a timeout
    configuration class, so `except openai.Timeout:` raises `TypeError`.

    ## Example
    ```python
    try:
        call()
    except openai.error.InvalidRequestError as e:
        ...
    ```

    Use instead:
    ```python
    try:
        call()
    except (openai.BadRequestError, openai.NotFoundError) as e:
        ...
    ```

    In v0 every class was a sibling under `OpenAIError`, each raised for its own statuses; now
    `openai.APIError` is the base of every API error, so a plain rename would widen `except` clauses
    and retry decorators (a retry on `APIError` would retry 400 and 401 forever). Each class is
    mapped by the statuses it covered (openai 0.28.1, `api_requestor.py`):

    {table}

    Where a class is caught (`except`, `isinstance`, `backoff.on_exception`,
    `retry_if_exception_type`) the tuple of the third column is written; where one is constructed
    or raised, its first class (for `APIError` with a 500 response, so that the clauses above still
    catch it). `except` clauses are kept in an order where none shadows a later one: a clause for
    `Timeout` after one for `APIConnectionError` moves above it.

    ## Fix safety
    Safe, by the table above. InvalidAPIType, a constructor whose v0 arguments cannot be carried
    over, and two clauses that both become `InternalServerError` are report-only.
    """

    valid = (
        "import openai\ntry:\n    pass\nexcept openai.RateLimitError:\n    pass",
        "import openai\nclient = openai.OpenAI(timeout=openai.Timeout(10.0))",
        "from openai import APITimeoutError\nraise APITimeoutError(request=None)",
        "import myapi.error\nexcept_ = myapi.error.RateLimitError",
        "from openai.error import RateLimitError\ntry:\n    pass\nexcept RateLimitError:\n    pass",  # OAI302
    )
    invalid = (
        Invalid(
            "import openai\ntry:\n    pass\nexcept openai.error.RateLimitError:\n    pass",
            fixed="import openai\ntry:\n    pass\nexcept openai.RateLimitError:\n    pass",
        ),
        Invalid(
            "import openai\ntry:\n    pass\nexcept (openai.error.APIError, openai.error.Timeout) as e:\n    pass",
            2,
            fixed="import openai\ntry:\n    pass\nexcept (openai.InternalServerError, openai.UnprocessableEntityError, "
            "openai.APITimeoutError) as e:\n    pass",
        ),
        Invalid(
            "import openai\ntry:\n    pass\nexcept openai.error.APIConnectionError:\n    a()\n"
            "except openai.error.Timeout:\n    b()",
            3,
            fixed="import openai\ntry:\n    pass\nexcept openai.APITimeoutError:\n    b()\n"
            "except openai.APIConnectionError:\n    a()",
        ),
        Invalid(
            "import backoff, openai\n@backoff.on_exception(backoff.expo, openai.error.APIError, max_tries=3)\ndef f(): ...",
            fixed="import backoff, openai\n@backoff.on_exception(backoff.expo, (openai.InternalServerError, "
            "openai.UnprocessableEntityError), max_tries=3)\ndef f(): ...",
        ),
        Invalid(
            "from openai.error import APIError\nraise APIError('upstream failed')",
            fixed="from openai import InternalServerError\nimport httpx2\n\nraise InternalServerError('upstream failed', "
            "response=httpx2.Response(500, request=httpx2.Request(\"POST\", \"https://api.openai.com/v1\")), body=None)",
        ),
        Invalid(
            "import openai\ntry:\n    pass\nexcept openai.error.ServiceUnavailableError:\n    pass\n"
            "except openai.error.APIError:\n    pass",
            3,
        ),
        Invalid(
            "import openai as oai\ntry:\n    pass\nexcept (oai.error.InvalidRequestError, KeyError):\n    pass",
            fixed="import openai as oai\ntry:\n    pass\nexcept (oai.BadRequestError, oai.NotFoundError, KeyError):\n    pass",
        ),
        Invalid("import openai, backoff\n@backoff.on_exception(backoff.expo, openai.error.RateLimitError)\ndef f(): ..."),
        Invalid(
            "import openai\nraise openai.error.InvalidRequestError('bad', 'model')",
            fixed="import openai\nimport httpx2\n\nraise openai.BadRequestError('bad', response=httpx2.Response(400, "
            "request=httpx2.Request(\"POST\", \"https://api.openai.com/v1\")), body={\"message\": 'bad', \"param\": 'model'})",
        ),
        Invalid("import openai\nisinstance(e, openai.error.ServiceUnavailableError)"),
        Invalid("from openai.error import InvalidRequestError\ntry:\n    pass\nexcept InvalidRequestError:\n    pass"),
        Invalid("import openai\ntry:\n    pass\nexcept openai.InvalidRequestError:\n    pass"),
        Invalid("import openai\ntry:\n    pass\nexcept openai.Timeout:\n    pass"),
        Invalid(
            "import openai.error as err\nm.side_effect = err.RateLimitError('slow down')",
            fixed="import httpx2\nimport openai\n\nm.side_effect = openai.RateLimitError('slow down', "
            "response=httpx2.Response(429, request=httpx2.Request(\"POST\", \"https://api.openai.com/v1\")), body=None)",
        ),
    )

    has_fixes = True

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.exception_positions: set[int] = set()
        self.except_positions: set[int] = set()  # the subset in `except` clauses
        self.tuples: dict[int, cst.Tuple] = {}  # element value id -> the except tuple holding it
        self.constructed: dict[int, cst.Call] = {}  # id(func) -> call constructing a legacy exception

    def _mark(self, expr: cst.BaseExpression | None) -> None:
        if isinstance(expr, cst.Tuple):
            for element in expr.elements:
                self._mark(element.value)
        elif isinstance(expr, cst.Call):
            self._mark(expr.func)
        elif expr is not None:
            self.exception_positions.add(id(expr))

    def _mark_except(self, expr: cst.BaseExpression | None) -> None:
        self._mark(expr)
        if isinstance(expr, cst.Tuple):
            for element in expr.elements:
                self.except_positions.add(id(element.value))
                self.tuples[id(element.value)] = expr
        elif expr is not None:
            self.except_positions.add(id(expr))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._mark_except(node.type)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._mark_except(node.type)

    def visit_Raise(self, node: cst.Raise) -> None:
        self._mark(node.exc)

    def visit_Call(self, node: cst.Call) -> None:
        self.constructed[id(node.func)] = node
        if (self.ctx.is_builtin(node.func, "isinstance") or self.ctx.is_builtin(node.func, "issubclass")) and len(
            node.args
        ) >= 2:
            self._mark_except(node.args[1].value)
        elif callee_name(node).rsplit(".", 1)[-1] in _CATCHING_CALLEES:
            # backoff.on_exception(wait, EXC, ...), tenacity's retry_if_exception_type(EXC): a class or a tuple
            for arg in node.args:
                if arg.keyword is None or arg.keyword.value in ("exception", "exception_types"):
                    value = arg.value
                    if isinstance(value, cst.Tuple) or self._is_error_reference(value):
                        self._mark_except(value)

    def _is_error_reference(self, expr: cst.BaseExpression) -> bool:
        qualname = self.ctx.resolve(expr) or ""
        return qualname.startswith("openai.error.") or qualname in ("openai.Timeout",)

    # -- except clauses that a rename would leave shadowed ---------------------------------------------
    def _handler_classes(self, handler: cst.ExceptHandler) -> list[str] | None:
        """The v0 classes a handler catches (``openai.error.X`` -> X), None if it catches anything else."""
        items = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
        names: list[str] = []
        for item in items:
            value = item.value if isinstance(item, cst.Element) else item
            qualname = self.ctx.resolve(value) if isinstance(value, cst.BaseExpression) else None
            if not qualname or not qualname.startswith("openai.error.") or qualname.count(".") != 2:
                return None
            names.append(qualname.split(".")[2])
        return names

    def visit_Try(self, node: cst.Try) -> None:
        classes = [self._handler_classes(h) for h in node.handlers]
        order = list(range(len(node.handlers)))
        for j, caught in enumerate(classes):
            if not caught or "Timeout" not in caught or "APIConnectionError" in caught:
                continue
            # APITimeoutError subclasses APIConnectionError now: an earlier clause for the latter takes it.
            shadow = next((i for i in range(j) if "APIConnectionError" in (classes[i] or ())), None)
            if shadow is None:
                continue
            between = classes[shadow:j]
            if all(c is not None and "OpenAIError" not in c and "Timeout" not in c for c in between):
                position = order.index(j)
                order.insert(order.index(shadow), order.pop(position))
                self.report(
                    node.handlers[j].type or node.handlers[j],
                    "`openai.APITimeoutError` is a subclass of `openai.APIConnectionError` now: this clause "
                    "moves above the one that catches APIConnectionError, so timeouts still reach it",
                    plan=Fix().edit(node, _reorder(tuple(order))),
                )
            else:
                self.report(node.handlers[j], "an earlier clause catches `openai.APIConnectionError`, which "
                            "now includes `openai.APITimeoutError`: this clause no longer sees timeouts",
                            FixSafety.REPORT)
        internal = [i for i, c in enumerate(classes) if c and {"APIError", "ServiceUnavailableError"} & set(c)]
        if len(internal) > 1:
            self.report(node.handlers[internal[1]], "`openai.error.APIError` and `ServiceUnavailableError` are both "
                        "`openai.InternalServerError` now: the first clause catches both; branch on `e.status_code == 503`",
                        FixSafety.REPORT)

    def _plan(self, node: cst.BaseExpression, legacy: str, current: str, base: cst.BaseExpression | None) -> Fix:
        """Rename ``node`` to ``current`` (``base.current`` or ``openai.current``); where it is caught, to
        the tuple of classes that catch what the v0 class covered; a constructor call gets today's arguments."""
        fix = Fix()
        if isinstance(node, cst.Name):
            new: cst.BaseExpression = cst.Name(current)
        else:
            new = openai_attr(current, fix, base)
        call = self.constructed.get(id(node))
        if call is not None:
            rebuilt = constructor_call(call, current, new, fix, ERROR_RAISE_STATUS.get(legacy))
            if rebuilt is None:
                return Fix()  # arguments that cannot be carried over: report only
            return fix.replace(call, rebuilt)
        if id(node) in self.except_positions and len(ERROR_CATCH.get(legacy, ())) > 1:
            return self._catch_tuple(node, new, ERROR_CATCH[legacy][1:], base, fix)
        return fix.replace(node, new)

    def _catch_tuple(
        self, node: cst.BaseExpression, first: cst.BaseExpression, others: tuple[str, ...],
        base: cst.BaseExpression | None, fix: Fix,
    ) -> Fix:
        elements = [cst.Element(first)]
        for name in others:
            if isinstance(node, cst.Name):
                fix.add_import("openai", name)
                elements.append(cst.Element(cst.Name(name)))
            else:
                elements.append(cst.Element(openai_attr(name, fix, base)))
        fix.replace(node, cst.Tuple(elements))
        holder = self.tuples.get(id(node))
        if holder is not None:
            fix.edit(holder, flatten_tuple)
        return fix

    def _report(self, node, legacy: str, shown: str, base: cst.BaseExpression | None) -> None:
        message, safety = exception_message(legacy, shown)
        current = ERRORS.get(legacy, ("", ""))[0]
        plan = self._plan(node, legacy, current, base) if current else None
        if plan is not None and not plan.edits:
            plan = None
        self.report(node, message, safety, plan)

    def _visit_reference(self, node: cst.BaseExpression) -> None:
        qualname = self.ctx.reference(node)
        if not qualname or not qualname.startswith("openai."):
            return
        parts = qualname.split(".")
        if parts[1] == "error":
            if len(parts) == 2:
                if id(node) not in self.ctx.inner:
                    self.report(node, "`openai.error` was removed in openai 1.0; the exceptions live on `openai`")
                return
            if len(parts) != 3:
                return
            legacy = parts[2]
            current = ERRORS.get(legacy, ("", ""))[0]
            if isinstance(node, cst.Name):
                # A name imported from openai.error: the import is rewritten by OAI302; the use needs an
                # edit only when the class was renamed and the import has no alias, or to add NotFoundError.
                unaliased = node.value == legacy
                widened = id(node) in self.except_positions and len(ERROR_CATCH.get(legacy, ())) > 1
                if current == legacy or (not unaliased and not widened):
                    return
                if not unaliased:
                    fix = self._catch_tuple(node, node, ERROR_CATCH[legacy][1:], None, Fix())
                    self.report(node, exception_message(legacy, f"openai.error.{legacy}")[0], plan=fix)
                    return
                self._report(node, legacy, f"openai.error.{legacy}", None)
                return
            assert isinstance(node, cst.Attribute)
            holder = node.value  # `<openai>.error` or a name bound to openai.error
            base = holder.value if isinstance(holder, cst.Attribute) else None
            self._report(node, legacy, f"openai.error.{legacy}", base)
        elif len(parts) == 2 and parts[1] in REMOVED_TOP_LEVEL_ERRORS:
            base = node.value if isinstance(node, cst.Attribute) else None
            message, safety = exception_message(parts[1], qualname)
            current = ERRORS[parts[1]][0]
            plan = self._plan(node, parts[1], current, base) if isinstance(node, cst.Attribute) else None
            self.report(node, message.replace("was removed in openai 1.0", "does not exist in openai>=1.0"), safety, plan or None)
        elif qualname == "openai.Timeout" and id(node) in self.exception_positions:
            base = node.value if isinstance(node, cst.Attribute) else None
            plan = self._plan(node, "Timeout", "APITimeoutError", base) if isinstance(node, cst.Attribute) else None
            self.report(
                node,
                "`openai.Timeout` is a timeout configuration class in openai>=1.0, not an exception; "
                "use `openai.APITimeoutError`",
                plan=plan,
            )

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._visit_reference(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._visit_reference(node)


LegacyException.__doc__ = (LegacyException.__doc__ or "").replace("{table}", _table())
