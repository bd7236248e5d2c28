"""Applying the fixes that one analysis produced: node edits, then import changes.

Each edit is a function of the *updated* node keyed by the original node, so fixes nested in one another
compose in a single bottom-up transform.
"""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import EditFn, Fix

__all__ = ["apply_fixes"]


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
