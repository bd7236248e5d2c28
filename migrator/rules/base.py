"""What a rule is, and the per-file context it works in.

A rule is a libcst ``BatchableCSTVisitor`` so that all enabled rules share one traversal of each tree.
Its class docstring is its documentation (sections: What it does / Why is this bad? / Example / Fix
safety); ``valid`` and ``invalid`` hold examples that the test suite runs, so the docs cannot drift from
the behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Union

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from migrator.rules.names import Scope, ScopeIndex
from migrator.rules.registry import RuleEntry
from migrator.rules.types import Finding, FixSafety


@dataclass(frozen=True)
class Invalid:
    """A must-flag example: ``count`` findings of the rule; ``line`` of the first one if given;
    ``fixed``: the source after ``migrate apply`` (also the unsafe fixes) when the rule has a fix."""

    code: str
    count: int = 1
    line: int | None = None
    fixed: str | None = None


EditResult = Union[cst.CSTNode, cst.RemovalSentinel, cst.FlattenSentinel]
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

    def edit(self, node: cst.CSTNode, fn: EditFn) -> Fix:
        self.edits.append((node, fn))
        return self

    def replace(self, node: cst.CSTNode, new: cst.CSTNode) -> Fix:
        return self.edit(node, lambda _updated: new)

    def add_import(self, module: str, obj: str | None = None, asname: str | None = None) -> Fix:
        self.add_imports.append((module, obj, asname))
        return self

    def remove_import(self, module: str, obj: str | None = None, asname: str | None = None) -> Fix:
        self.remove_imports.append((module, obj, asname))
        return self


class RuleContext:
    """Everything a rule may ask about the file being analysed; shared by all rules of one run."""

    def __init__(self, path: str, module: cst.Module) -> None:
        self.path = path
        self.module = module
        self.index = ScopeIndex(module)
        self.scopes: list[Scope] = [self.index.root]
        self.findings: list[Finding] = []
        self.fixes: dict[int, Fix] = {}  # index into findings -> its fix
        self.options: dict[str, object] = {}  # run options rules may read (client_style, target)
        self.memo: dict[object, object] = {}  # per-file cache that rules share (keyed by rule-owned keys)
        self._positions = None
        self._resolved: dict[int, str | None] = {}
        # Maintained by ScopeTracker, which sees every node before the rules do:
        self.import_depth = 0  # > 0 inside an import statement
        self.mock_depth = 0  # > 0 inside the arguments of patch()/monkeypatch.setattr()/...
        self.not_references: set[int] = set()  # Names that are labels: attribute names, keywords, defs
        self.calls: dict[int, cst.Call] = {}  # id(func expression) -> the Call that calls it
        self.inner: set[int] = set()  # Name/Attribute nodes that are the value of an enclosing Attribute
        self.statements: list[cst.CSTNode] = []  # enclosing statements (and clauses) with leading_lines

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    def resolve(self, node: cst.CSTNode) -> str | None:
        """Qualified name of a Name/Attribute chain by meaning (``oai.ChatCompletion`` with
        ``import openai as oai`` -> ``openai.ChatCompletion``), or None."""
        key = id(node)
        if key in self._resolved:
            return self._resolved[key]
        result: str | None = None
        if isinstance(node, cst.Name):
            result = self.index.lookup(node.value, self.scope)
        elif isinstance(node, cst.Attribute):
            head = self.resolve(node.value)
            result = f"{head}.{node.attr.value}" if head else None
        self._resolved[key] = result
        return result

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


class ScopeTracker(cst.BatchableCSTVisitor):
    """Keeps ``RuleContext.scopes`` in step with the traversal; runs before every rule."""

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__()
        self.ctx = ctx

    def _push(self, node: cst.CSTNode) -> None:
        scope = self.ctx.index.scope_of(node)
        self.ctx.scopes.append(scope if scope is not None else self.ctx.scope)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._push(node)
        self.ctx.not_references.add(id(node.name))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.ctx.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._push(node)
        self.ctx.not_references.add(id(node.name))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.ctx.scopes.pop()


    def visit_Import(self, node: cst.Import) -> None:
        self.ctx.import_depth += 1

    def leave_Import(self, original_node: cst.Import) -> None:
        self.ctx.import_depth -= 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.ctx.import_depth += 1

    def leave_ImportFrom(self, original_node: cst.ImportFrom) -> None:
        self.ctx.import_depth -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.ctx.not_references.add(id(node.attr))
        self.ctx.inner.add(id(node.value))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.ctx.not_references.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self.ctx.not_references.add(id(node.name))

    def visit_Call(self, node: cst.Call) -> None:
        self.ctx.calls[id(node.func)] = node
        if is_mock_call(node):
            self.ctx.mock_depth += 1

    def leave_Call(self, original_node: cst.Call) -> None:
        if is_mock_call(original_node):
            self.ctx.mock_depth -= 1


_MOCK_CALLEES = ("patch", "patch.object", "patch.dict", "patch.multiple", "setattr", "delattr")


def callee_name(call: cst.Call) -> str:
    """The callee as written, ``mock.patch.object`` for ``mock.patch.object(...)`` ('' if not a name chain)."""
    func = call.func
    parts = []
    while isinstance(func, cst.Attribute):
        parts.append(func.attr.value)
        func = func.value
    if not isinstance(func, cst.Name):
        return ""
    parts.append(func.value)
    return ".".join(reversed(parts))


def is_mock_call(call: cst.Call) -> bool:
    """``patch(...)``, ``mock.patch.object(...)``, ``mocker.patch(...)``, ``monkeypatch.setattr(...)``."""
    dotted = callee_name(call)
    return bool(dotted) and any(dotted == c or dotted.endswith("." + c) for c in _MOCK_CALLEES)


_STATEMENTS = (
    "SimpleStatementLine", "If", "For", "While", "With", "Try", "TryStar", "FunctionDef", "ClassDef", "Match",
    "ExceptHandler", "ExceptStarHandler", "Else", "Finally",
)


def _push_statement(self, node):
    self.ctx.statements.append(node)


def _pop_statement(self, original_node):
    self.ctx.statements.pop()


for _name in _STATEMENTS:
    setattr(ScopeTracker, f"visit_{_name}", _push_statement)
    setattr(ScopeTracker, f"leave_{_name}", _pop_statement)
# FunctionDef/ClassDef also push scopes: chain both hooks.
def _visit_function(self, node):
    self._push(node)
    self.ctx.not_references.add(id(node.name))
    self.ctx.statements.append(node)


def _leave_scoped(self, original_node):
    self.ctx.scopes.pop()
    self.ctx.statements.pop()


ScopeTracker.visit_FunctionDef = _visit_function  # type: ignore[method-assign]
ScopeTracker.visit_ClassDef = _visit_function  # type: ignore[method-assign]
ScopeTracker.leave_FunctionDef = _leave_scoped  # type: ignore[method-assign]
ScopeTracker.leave_ClassDef = _leave_scoped  # type: ignore[method-assign]

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
        waiting_for_target = self.entry.needs_target and not self.ctx.options.get("target")
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


class _Dispatcher(cst.CSTVisitor):
    """Runs many visitors in one traversal.

    libcst's ``visit_batched`` rebuilds its method tables with ``inspect.getmembers`` on every call,
    which measured at more than half the time of analysing a small file; the tables here are built once
    per visitor class.
    """

    _tables: dict[type, tuple[dict[str, str], dict[str, str]]] = {}

    def __init__(self, visitors: list[cst.BatchableCSTVisitor]) -> None:
        super().__init__()
        self.on_visit_table: dict[str, list] = {}
        self.on_leave_table: dict[str, list] = {}
        for visitor in visitors:
            visits, leaves = self._table(type(visitor))
            for node_type, name in visits.items():
                self.on_visit_table.setdefault(node_type, []).append(getattr(visitor, name))
            for node_type, name in leaves.items():
                self.on_leave_table.setdefault(node_type, []).append(getattr(visitor, name))

    @classmethod
    def _table(cls, visitor_type: type) -> tuple[dict[str, str], dict[str, str]]:
        if visitor_type not in cls._tables:
            visits, leaves = {}, {}
            for name in dir(visitor_type):
                # Only hooks a rule defines itself cost a call; CSTVisitor's defaults are no-ops.
                if getattr(visitor_type, name) is getattr(cst.BatchableCSTVisitor, name, None):
                    continue
                if name.startswith("visit_"):
                    visits[name[len("visit_"):]] = name
                elif name.startswith("leave_"):
                    leaves[name[len("leave_"):]] = name
            cls._tables[visitor_type] = (visits, leaves)
        return cls._tables[visitor_type]

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass  # no rule uses per-attribute hooks; skipping libcst's lookup saves a call per field

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_visit(self, node: cst.CSTNode) -> bool:
        for method in self.on_visit_table.get(type(node).__name__, ()):
            method(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        for method in self.on_leave_table.get(type(original_node).__name__, ()):
            method(original_node)


def analyse(path: str, module: cst.Module, rules: list[type[Rule]], options: dict | None = None) -> RuleContext:
    """Run ``rules`` over ``module`` in one traversal; the context holds findings and their fixes."""
    ctx = RuleContext(path, module)
    ctx.options.update(options or {})
    visitors: list[cst.BatchableCSTVisitor] = [ScopeTracker(ctx)]
    visitors.extend(rule(ctx) for rule in rules)
    module.visit(_Dispatcher(visitors))
    return ctx


def run_rules(path: str, module: cst.Module, rules: list[type[Rule]]) -> list[Finding]:
    """Run ``rules`` over ``module`` in one traversal and return their findings in source order."""
    return sorted(analyse(path, module, rules).findings)


class _ApplyEdits(cst.CSTTransformer):
    def __init__(self, edits: dict[int, list[EditFn]]) -> None:
        super().__init__()
        self.edits = edits

    def on_leave(self, original_node, updated_node):
        for fn in self.edits.get(id(original_node), ()):
            if not isinstance(updated_node, cst.CSTNode):
                break  # removed by an earlier edit
            updated_node = fn(updated_node)
        return updated_node


class _NameUses(cst.CSTVisitor):
    """Names used outside import statements, and what the module's top-level imports bind already."""

    def __init__(self) -> None:
        super().__init__()
        self.used: set[str] = set()
        self.imported: set[tuple[str, str | None, str | None]] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            name = cst.Module([]).code_for_node(alias.name)
            self.imported.add((name, None, alias.asname.name.value if alias.asname else None))  # type: ignore[union-attr]
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.module is not None and not node.relative and not isinstance(node.names, cst.ImportStar):
            module = cst.Module([]).code_for_node(node.module)
            for alias in node.names:
                name = cst.Module([]).code_for_node(alias.name)
                self.imported.add((module, name, alias.asname.name.value if alias.asname else None))  # type: ignore[union-attr]
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.used.add(node.value)


def apply_fixes(module: cst.Module, fixes: list[Fix]) -> cst.Module:
    """Apply ``fixes`` (from :func:`analyse` on this very module) and return the new module."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

    edits: dict[int, list[EditFn]] = {}
    for plan in fixes:
        for node, fn in plan.edits:
            queue = edits.setdefault(id(node), [])
            if fn not in queue:  # an edit shared by several findings (equal bound methods) runs once
                queue.append(fn)
    new = module.visit(_ApplyEdits(edits)) if edits else module
    context = CodemodContext()
    adds = {imp for plan in fixes for imp in plan.add_imports}
    removes = {imp for plan in fixes for imp in plan.remove_imports}
    if adds or removes:
        # libcst's import visitors cost tens of milliseconds each; only call them when they have work:
        # an import that is already there needs no adding, a name still in use is never removed.
        uses = _NameUses()
        new.visit(uses)
        adds = {a for a in adds if a not in uses.imported}
        removes = {r for r in removes if (r[2] or r[1] or r[0].split(".")[0]) not in uses.used}
    for module_name, obj, asname in sorted(adds, key=str):
        AddImportsVisitor.add_needed_import(context, module_name, obj, asname)
    if adds:
        new = AddImportsVisitor(context).transform_module(new)
    for module_name, obj, asname in sorted(removes, key=str):
        RemoveImportsVisitor.remove_unused_import(context, module_name, obj, asname)
    if removes:
        new = RemoveImportsVisitor(context).transform_module(new)
    return new
