"""OAI301: references to ``openai.error.*`` classes and to top-level v0 exception aliases."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.openai_v0.catalog import ERRORS, REMOVED_TOP_LEVEL_ERRORS
from migrator.rules.openai_v0.rewrite import constructor_call, flatten_tuple, openai_attr
from migrator.rules.types import FixSafety


def exception_message(legacy: str, shown: str) -> tuple[str, FixSafety]:
    current, note = ERRORS.get(legacy, ("", "it has no equivalent"))
    if not current:
        return f"`{shown}` was removed in openai 1.0: {note}", FixSafety.REPORT
    text = f"`{shown}` was removed in openai 1.0; use `openai.{current}`"
    return (f"{text} ({note})" if note else text), FixSafety.SAFE


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

    ## Fix safety
    Safe, by the table: InvalidRequestError -> BadRequestError (with NotFoundError for 404s),
    PermissionError -> PermissionDeniedError, ServiceUnavailableError -> InternalServerError,
    Timeout -> APITimeoutError, TryAgain -> ConflictError, SignatureVerificationError ->
    InvalidWebhookSignatureError; the others keep their names. InvalidAPIType is report-only.
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
            fixed="import openai\ntry:\n    pass\nexcept (openai.APIError, openai.APITimeoutError) as e:\n    pass",
        ),
        Invalid(
            "import openai as oai\ntry:\n    pass\nexcept (oai.error.InvalidRequestError, KeyError):\n    pass",
            fixed="import openai as oai\ntry:\n    pass\nexcept (oai.BadRequestError, oai.NotFoundError, KeyError):\n    pass",
        ),
        Invalid("import openai, backoff\n@backoff.on_exception(backoff.expo, openai.error.RateLimitError)\ndef f(): ..."),
        Invalid("import openai\nraise openai.error.InvalidRequestError('bad', 'model')"),
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
            self._mark(node.args[1].value)

    def _plan(self, node: cst.BaseExpression, current: str, base: cst.BaseExpression | None) -> Fix:
        """Rename ``node`` to ``current`` (``base.current`` or ``openai.current``); in an except clause,
        InvalidRequestError also catches NotFoundError; a constructor call gets today's arguments."""
        fix = Fix()
        if isinstance(node, cst.Name):
            new: cst.BaseExpression = cst.Name(current)
            also = cst.Name("NotFoundError")
            if current == "BadRequestError":
                fix.add_import("openai", "NotFoundError")
        else:
            new = openai_attr(current, fix, base)
            also = openai_attr("NotFoundError", fix, base)
        call = self.constructed.get(id(node))
        if call is not None:
            rebuilt = constructor_call(call, current, new, fix)
            if rebuilt is None:
                return Fix()  # arguments that cannot be carried over: report only
            return fix.replace(call, rebuilt)
        if current == "BadRequestError" and id(node) in self.except_positions:
            pair = cst.Tuple([cst.Element(new), cst.Element(also)])
            fix.replace(node, pair)
            holder = self.tuples.get(id(node))
            if holder is not None:
                fix.edit(holder, flatten_tuple)
            return fix
        return fix.replace(node, new)

    def _report(self, node, legacy: str, shown: str, base: cst.BaseExpression | None) -> None:
        message, safety = exception_message(legacy, shown)
        current = ERRORS.get(legacy, ("", ""))[0]
        plan = self._plan(node, current, base) if current else None
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
                if current == legacy or (not unaliased and not (current == "BadRequestError" and id(node) in self.except_positions)):
                    return
                if not unaliased:
                    fix = Fix().add_import("openai", "NotFoundError")
                    pair = cst.Tuple([cst.Element(node), cst.Element(cst.Name("NotFoundError"))])
                    fix.replace(node, pair)
                    holder = self.tuples.get(id(node))
                    if holder is not None:
                        fix.edit(holder, flatten_tuple)
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
            plan = self._plan(node, current, base) if isinstance(node, cst.Attribute) else None
            self.report(node, message.replace("was removed in openai 1.0", "does not exist in openai>=1.0"), safety, plan or None)
        elif qualname == "openai.Timeout" and id(node) in self.exception_positions:
            base = node.value if isinstance(node, cst.Attribute) else None
            plan = self._plan(node, "APITimeoutError", base) if isinstance(node, cst.Attribute) else None
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
