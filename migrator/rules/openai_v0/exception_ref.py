"""OAI301: references to ``openai.error.*`` classes and to top-level v0 exception aliases."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Invalid, Rule
from migrator.rules.openai_v0.catalog import ERRORS, REMOVED_TOP_LEVEL_ERRORS
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
        Invalid("import openai\ntry:\n    pass\nexcept openai.error.RateLimitError:\n    pass"),
        Invalid("import openai\ntry:\n    pass\nexcept (openai.error.APIError, openai.error.Timeout) as e:\n    pass", 2),
        Invalid("import openai, backoff\n@backoff.on_exception(backoff.expo, openai.error.RateLimitError)\ndef f(): ..."),
        Invalid("import openai\nraise openai.error.InvalidRequestError('bad', 'model')"),
        Invalid("import openai\nisinstance(e, openai.error.ServiceUnavailableError)"),
        Invalid("from openai.error import InvalidRequestError\ntry:\n    pass\nexcept InvalidRequestError:\n    pass"),
        Invalid("import openai\ntry:\n    pass\nexcept openai.InvalidRequestError:\n    pass"),
        Invalid("import openai\ntry:\n    pass\nexcept openai.Timeout:\n    pass"),
        Invalid("import openai.error as err\nm.side_effect = err.RateLimitError('slow down')"),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.exception_positions: set[int] = set()

    def _mark(self, expr: cst.BaseExpression | None) -> None:
        if isinstance(expr, cst.Tuple):
            for element in expr.elements:
                self._mark(element.value)
        elif isinstance(expr, cst.Call):
            self._mark(expr.func)
        elif expr is not None:
            self.exception_positions.add(id(expr))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._mark(node.type)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._mark(node.type)

    def visit_Raise(self, node: cst.Raise) -> None:
        self._mark(node.exc)

    def visit_Call(self, node: cst.Call) -> None:
        if (self.ctx.is_builtin(node.func, "isinstance") or self.ctx.is_builtin(node.func, "issubclass")) and len(
            node.args
        ) >= 2:
            self._mark(node.args[1].value)

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
            # A bare name imported from openai.error only needs an edit here if the class was renamed;
            # otherwise fixing the import (OAI302) is enough.
            if isinstance(node, cst.Name) and ERRORS.get(legacy, ("", ""))[0] == legacy:
                return
            message, fix = exception_message(legacy, f"openai.error.{legacy}")
            self.report(node, message, fix)
        elif len(parts) == 2 and parts[1] in REMOVED_TOP_LEVEL_ERRORS:
            message, fix = exception_message(parts[1], qualname)
            self.report(node, message.replace("was removed in openai 1.0", "does not exist in openai>=1.0"), fix)
        elif qualname == "openai.Timeout" and id(node) in self.exception_positions:
            self.report(
                node,
                "`openai.Timeout` is a timeout configuration class in openai>=1.0, not an exception; "
                "use `openai.APITimeoutError`",
            )

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._visit_reference(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._visit_reference(node)
