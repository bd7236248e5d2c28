"""One traversal of a parsed module that runs every enabled rule.

The engine owns the walk: :class:`ScopeTracker` keeps the rule context's scope and statement stacks in step
with the traversal and runs before every rule; :class:`Dispatcher` fans each node out to the rules that
handle its type; :func:`analyse` ties them together for one file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import libcst as cst

from migrator.rules.base import Rule, RuleContext, is_mock_call
from migrator.rules.types import Finding, RunOptions

__all__ = ["Dispatcher", "ScopeTracker", "analyse", "run_rules"]


class ScopeTracker(cst.BatchableCSTVisitor):
    """Keeps ``RuleContext`` in step with the traversal: scopes, enclosing statements, and which names are
    labels rather than references. Runs before every rule."""

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__()
        self.ctx = ctx

    # -- scopes (functions and classes are statements too) ------------------------------------------
    def _enter_scope(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        scope = self.ctx.index.scope_of(node)
        self.ctx.scopes.append(scope if scope is not None else self.ctx.scope)
        self.ctx.not_references.add(id(node.name))
        self.ctx.statements.append(node)

    def _leave_scope(self) -> None:
        self.ctx.scopes.pop()
        self.ctx.statements.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter_scope(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._leave_scope()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter_scope(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._leave_scope()

    # -- enclosing statements (a TODO comment or a suppression attaches to the innermost) ------------
    def _enter_statement(self, node: cst.CSTNode) -> None:
        self.ctx.statements.append(node)

    def _leave_statement(self, original_node: cst.CSTNode) -> None:
        self.ctx.statements.pop()

    visit_SimpleStatementLine = visit_If = visit_For = visit_While = visit_With = _enter_statement
    visit_Try = visit_TryStar = visit_Match = visit_ExceptHandler = visit_ExceptStarHandler = _enter_statement
    visit_Else = visit_Finally = _enter_statement
    leave_SimpleStatementLine = leave_If = leave_For = leave_While = leave_With = _leave_statement
    leave_Try = leave_TryStar = leave_Match = leave_ExceptHandler = leave_ExceptStarHandler = _leave_statement
    leave_Else = leave_Finally = _leave_statement

    # -- names that are labels, imports, calls and mock arguments -----------------------------------
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


Hook = Callable[[cst.CSTNode], object]


class Dispatcher(cst.CSTVisitor):
    """Runs many visitors in one traversal.

    libcst's ``visit_batched`` rebuilds its method tables with ``inspect.getmembers`` on every call,
    which measured at more than half the time of analysing a small file; the tables here are built once
    per visitor class.
    """

    _tables: ClassVar[dict[type, tuple[dict[str, str], dict[str, str]]]] = {}

    def __init__(self, visitors: list[cst.BatchableCSTVisitor]) -> None:
        super().__init__()
        self.on_visit_table: dict[str, list[Hook]] = {}
        self.on_leave_table: dict[str, list[Hook]] = {}
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
                # Only hooks a visitor defines itself cost a call; CSTVisitor's defaults are no-ops.
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


def analyse(path: str, module: cst.Module, rules: list[type[Rule]], options: RunOptions | None = None) -> RuleContext:
    """Run ``rules`` over ``module`` in one traversal; the context holds findings and their fixes."""
    ctx = RuleContext(path, module, options or RunOptions())
    visitors: list[cst.BatchableCSTVisitor] = [ScopeTracker(ctx)]
    visitors.extend(rule(ctx) for rule in rules)
    module.visit(Dispatcher(visitors))
    return ctx


def run_rules(path: str, module: cst.Module, rules: list[type[Rule]], options: RunOptions | None = None) -> list[Finding]:
    """Run ``rules`` over ``module`` in one traversal and return their findings in source order."""
    return sorted(analyse(path, module, rules, options).findings)
