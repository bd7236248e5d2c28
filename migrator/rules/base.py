"""What a rule is, and the per-file context it works in.

A rule is a libcst ``BatchableCSTVisitor`` so that all enabled rules share one traversal of each tree.
Its class docstring is its documentation (sections: What it does / Why is this bad? / Example / Fix
safety); ``valid`` and ``invalid`` hold examples that the test suite runs, so the docs cannot drift from
the behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from migrator.rules.names import Scope, ScopeIndex, dotted_name
from migrator.rules.project import ProjectView
from migrator.rules.registry import RuleEntry
from migrator.rules.types import Finding, FixSafety, RunOptions

T = TypeVar("T")
N = TypeVar("N", bound=cst.CSTNode)


@dataclass(frozen=True)
class Invalid:
    """A must-flag example: ``count`` findings of the rule; ``line`` of the first one if given;
    ``fixed``: the source after ``migrate apply`` (also the unsafe fixes) when the rule has a fix;
    ``options``: the run options it is analysed and fixed with."""

    code: str
    count: int = 1
    line: int | None = None
    fixed: str | None = None
    #: Run options of the example (``{"target": "hf:..."}``): keys and values of :class:`RunOptions`.
    options: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


EditResult = cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel
EditFn = Callable[[cst.CSTNode], EditResult]


@dataclass
class Fix:
    """What applying one finding's fix does: node edits plus import changes.

    Each edit is a function of the *updated* node (after edits inside it were applied), keyed by the
    original node, so fixes nested in one another compose. Imports are added with libcst's
    ``AddImportsVisitor`` and removed, when no longer used, with ``RemoveImportsVisitor``.
    """

    annotation: bool = False  # only adds a TODO comment: applied, but the finding is not fixed
    edits: list[tuple[cst.CSTNode, EditFn]] = field(default_factory=list)
    add_imports: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # module, obj, asname
    remove_imports: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def edit(self, node: N, fn: Callable[[N], EditResult]) -> Fix:
        """Edit ``node``: ``fn`` receives the node as updated by edits inside it, and returns its
        replacement (or a removal/flattening sentinel)."""
        self.edits.append((node, fn))  # type: ignore[arg-type]  # fn only ever sees nodes like ``node``
        return self

    def replace(self, node: cst.CSTNode, new: cst.CSTNode) -> Fix:
        return self.edit(node, lambda _updated: new)

    def add_import(self, module: str, obj: str | None = None, asname: str | None = None) -> Fix:
        self.add_imports.append((module, obj, asname))
        return self

    def remove_import(self, module: str, obj: str | None = None, asname: str | None = None) -> Fix:
        self.remove_imports.append((module, obj, asname))
        return self


def set_name(field: str, new: str) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """An edit that sets the node's ``field`` (``name``, ``attr``, ``module``) to the name ``new``."""
    return lambda node: node.with_changes(**{field: cst.Name(new)})


class RuleContext:
    """Everything a rule may ask about the file being analysed; shared by all rules of one run."""

    def __init__(self, path: str, module: cst.Module, options: RunOptions | None = None) -> None:
        self.path = path
        self.module = module
        self.options = options or RunOptions()
        self.index = ScopeIndex(module)
        self.scopes: list[Scope] = [self.index.root]
        self.findings: list[Finding] = []
        self.fixes: dict[int, Fix] = {}  # index into findings -> its fix
        self._cache: dict[Hashable, Any] = {}
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None
        self._resolved: dict[int, str | None] = {}
        # Maintained by ScopeTracker, which sees every node before the rules do:
        self.import_depth = 0  # > 0 inside an import statement
        self.mock_depth = 0  # > 0 inside the arguments of patch()/monkeypatch.setattr()/...
        self.not_references: set[int] = set()  # Names that are labels: attribute names, keywords, defs
        self.calls: dict[int, cst.Call] = {}  # id(func expression) -> the Call that calls it
        self.inner: set[int] = set()  # Name/Attribute nodes that are the value of an enclosing Attribute
        self.statements: list[cst.CSTNode] = []  # enclosing statements (and clauses) with leading_lines

    @property
    def project(self) -> ProjectView:
        """Facts about the rest of the program (empty in a single-file run)."""
        return self.options.project

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, once per file and ``key``: a cache all rules of the run share. Keys are tuples
        that start with the name of the function that owns them."""
        try:
            return self._cache[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._cache[key] = compute()
            return value

    @contextmanager
    def in_scopes(self, scopes: list[Scope]) -> Iterator[None]:
        """Resolve names as if in ``scopes`` (innermost last) for the duration of the block, e.g. to
        look at a module's top level or a helper's body from elsewhere in the traversal."""
        saved = self.scopes
        self.scopes = scopes
        try:
            yield
        finally:
            self.scopes = saved

    def resolve(self, node: cst.CSTNode) -> str | None:
        """Qualified name of a Name/Attribute chain by meaning (``oai.ChatCompletion`` with
        ``import openai as oai`` -> ``openai.ChatCompletion``), or None."""
        key = id(node)
        if key in self._resolved:
            return self._resolved[key]
        result: str | None = None
        if isinstance(node, cst.Name):
            result = self.index.lookup(node.value, self.scope)
            if result is not None and self.project.modules and not result.startswith("openai"):
                result = self._through_project(result) or result
        elif isinstance(node, cst.Attribute):
            head = self.resolve(node.value)
            result = f"{head}.{node.attr.value}" if head else None
        self._resolved[key] = result
        return result

    def _through_project(self, qualname: str) -> str | None:
        """``openai`` (or a part of it) when a project module re-exports it under ``qualname``: ``from
        helpers import *`` / ``from .common import openai`` where helpers/common did ``import openai``."""
        if qualname.startswith("."):
            module = self.project.module_of(self.path)
            if module is None:
                return None
            dots = len(qualname) - len(qualname.lstrip("."))
            parts = module.split(".")[: None if self.path.endswith("__init__.py") else -1]
            parts = parts[: len(parts) - (dots - 1)] if dots - 1 <= len(parts) else []
            qualname = ".".join([*parts, qualname[dots:]])
        head, _, name = qualname.rpartition(".")
        exported = self.project.resolve_export(head, name) if head else None
        return exported if exported is not None and exported.split(".")[0] == "openai" else None

    def reference(self, node: cst.CSTNode) -> str | None:
        """Like :meth:`resolve`, but only for expressions that *use* a name (not an attribute label,
        a keyword, a definition's name or part of an import statement)."""
        if self.import_depth or id(node) in self.not_references:
            return None
        return self.resolve(node)

    def called_by(self, node: cst.CSTNode) -> cst.Call | None:
        """The Call whose callee is ``node``, if any."""
        return self.calls.get(id(node))

    def is_builtin(self, node: cst.CSTNode, name: str) -> bool:
        return isinstance(node, cst.Name) and node.value == name and self.index.is_unbound(name, self.scope)

    def position(self, node: cst.CSTNode) -> CodeRange:
        if self._positions is None:  # computed only for files that have findings
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._positions[node]

    def add(self, code: str, node: cst.CSTNode, message: str, fix: FixSafety, plan: Fix | None = None) -> None:
        where = self.position(node)
        if code.startswith("OAI") and self._in_legacy_branch(where.start.line):
            return  # the legacy branch of a both-SDKs guard never runs under the current SDK: left as it is
        if plan is not None and (fix is not FixSafety.REPORT or plan.annotation):
            self.fixes[len(self.findings)] = plan
        self.findings.append(
            Finding(
                path=self.path,
                line=where.start.line,
                column=where.start.column + 1,
                code=code,
                message=message,
                end_line=where.end.line,
                end_column=where.end.column + 1,
                fix=fix,
                statement_line=self.position(self.statements[-1]).start.line if self.statements else where.start.line,
            )
        )


    def _in_legacy_branch(self, line: int) -> bool:
        def ranges() -> list[tuple[int, int]]:
            from migrator.rules.openai_v0.dual_sdk import legacy_branches

            return [(self.position(b).start.line, self.position(b).end.line) for b in legacy_branches(self.module)]

        return any(start <= line <= end for start, end in self.cached(("legacy_branches",), ranges))


_MOCK_CALLEES = ("patch", "patch.object", "patch.dict", "patch.multiple", "setattr", "delattr")


def callee_name(call: cst.Call) -> str:
    """The callee as written, ``mock.patch.object`` for ``mock.patch.object(...)`` ('' if not a name chain)."""
    return dotted_name(call.func)


def is_mock_call(call: cst.Call) -> bool:
    """``patch(...)``, ``mock.patch.object(...)``, ``mocker.patch(...)``, ``monkeypatch.setattr(...)``."""
    dotted = callee_name(call)
    return bool(dotted) and any(dotted == c or dotted.endswith("." + c) for c in _MOCK_CALLEES)


TODO_MARK = "# TODO(migrate):"
# Families whose report-only findings get a TODO comment (secrets do not: the comment would point at a key).
TODO_FAMILIES = ("OAI", "HF")


def todo_text(code: str, message: str) -> str:
    return f"{TODO_MARK} {code} {message}"


def _add_todo(text: str):
    def edit(statement: cst.CSTNode) -> cst.CSTNode:
        lines = list(getattr(statement, "leading_lines", ()))
        if any(line.comment is not None and line.comment.value == text for line in lines):
            return statement
        return statement.with_changes(leading_lines=[*lines, cst.EmptyLine(comment=cst.Comment(text))])
    return edit


class Rule(cst.BatchableCSTVisitor):
    """Base class of every rule. Subclasses set ``valid``/``invalid`` and implement ``visit_*``."""

    entry: ClassVar[RuleEntry]  # attached by RuleEntry.load()
    valid: ClassVar[tuple[str, ...]] = ()
    invalid: ClassVar[tuple[Invalid, ...]] = ()

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__()
        self.ctx = ctx

    def report(
        self, node: cst.CSTNode, message: str, fix: FixSafety | None = None, plan: Fix | None = None
    ) -> None:
        """Record a finding at ``node``. ``fix`` overrides the rule's safety for this site; ``plan`` is
        the rewrite. A finding whose rule has a fix but that comes without a plan is reported as
        report-only: the tool never claims a fix it cannot make."""
        safety = self.entry.fix if fix is None else fix
        waiting_for_target = self.entry.needs_target and not self.ctx.options.target
        if plan is None and self.has_fixes and not waiting_for_target:
            safety = FixSafety.REPORT
        if safety is FixSafety.REPORT and self.entry.code.startswith(TODO_FAMILIES) and self.ctx.statements:
            # A report-only finding is annotated in place, in the same pass as the rewrites around it
            # (afterwards its origin may no longer be recognisable as legacy).
            text = todo_text(self.entry.code, message)
            statement = self.ctx.statements[-1]
            module = self.ctx.module
            # Comments above a module's first statement belong to the module header in libcst.
            in_header = bool(module.body) and statement is module.body[0] and any(
                line.comment is not None and line.comment.value == text for line in module.header
            )
            plan = None if in_header else Fix(annotation=True).edit(statement, _add_todo(text))
        self.ctx.add(self.entry.code, node, message, safety, plan)

    #: Whether this rule produces rewrites yet; rules without them report their registry safety.
    has_fixes: ClassVar[bool] = False


