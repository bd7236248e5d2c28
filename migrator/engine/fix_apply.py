"""Applying the fixes that one analysis produced: node edits, then import changes.

Each edit is a function of the *updated* node keyed by the original node, so fixes nested in one another
compose in a single bottom-up transform.

Import changes are planned here rather than with libcst's ``AddImportsVisitor``/``RemoveImportsVisitor``
(whose matcher set-up and scope analysis cost more than the rest of a fix): one read-only walk gathers
which names the edited module uses and which imports it already has, additions are spliced into the
module's top-level statements, and removals touch only statement nodes. The output is the same as
libcst's (a test compares the two on every fixture):

* ``import x`` / ``from x import y [as z]`` go after the module docstring and after the block of imports
  that opens the module; ``from __future__`` lines go first. A name joins an existing top-level
  ``from x import ...`` of that block instead. An import that exists anywhere already is never added.
* An import is removed only when the name it binds is not used anywhere outside import statements, not
  listed in ``__all__`` and not named in a string annotation. Comments on a removed line go with it;
  comments after a removed name of a parenthesised list move to its neighbour.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import libcst as cst

from migrator.rules.base import EditFn, Fix
from migrator.rules.names import dotted_name

__all__ = ["apply_fixes"]

ImportKey = tuple[str, "str | None", "str | None"]  # module, object, alias


class _ApplyEdits(cst.CSTTransformer):
    def __init__(self, edits: dict[int, list[EditFn]]) -> None:
        super().__init__()
        self.edits = edits

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        for fn in self.edits.get(id(original_node), ()):
            if not isinstance(updated_node, cst.CSTNode):
                break  # removed by an earlier edit
            updated_node = fn(updated_node)
        return updated_node


def _alias_name(alias: cst.ImportAlias) -> str | None:
    return alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else None


_TYPING_FUNCS = frozenset({"cast", "TypeVar", "NewType", "Union", "Optional", "typing.cast", "typing.TypeVar"})
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _ImportFacts(cst.CSTVisitor):
    """One read-only walk: names used outside import statements, the imports present anywhere, and the
    names that ``__all__`` or string annotations mention (libcst's unused-import check honours both)."""

    def __init__(self) -> None:
        super().__init__()
        self.used: set[str] = set()
        self.imported: set[ImportKey] = set()
        self.mentioned: set[str] = set()  # in __all__ or a string annotation: an import of it is in use
        self.has_nested_imports = False
        self._depth = 0  # > 0 inside a function or class body
        self._annotation = 0  # > 0 inside an annotation or the type argument of cast()/TypeVar()

    def visit_Import(self, node: cst.Import) -> bool:
        self.has_nested_imports |= self._depth > 0
        for alias in node.names:
            self.imported.add((dotted_name(alias.name), None, _alias_name(alias)))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.has_nested_imports |= self._depth > 0
        if node.module is not None and not node.relative and not isinstance(node.names, cst.ImportStar):
            module = dotted_name(node.module)
            for alias in node.names:
                self.imported.add((module, dotted_name(alias.name), _alias_name(alias)))
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.used.add(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._depth -= 1

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._annotation += 1

    def leave_Annotation(self, original_node: cst.Annotation) -> None:
        self._annotation -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if dotted_name(node.func) in _TYPING_FUNCS:
            self._annotation += 1

    def leave_Call(self, original_node: cst.Call) -> None:
        if dotted_name(original_node.func) in _TYPING_FUNCS:
            self._annotation -= 1

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self._annotation:  # a superset of the names a string annotation refers to
            self.mentioned.update(_IDENT.findall(node.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        if any(isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in node.targets):
            self._add_exports(node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == "__all__":
            self._add_exports(node.value)

    def _add_exports(self, value: cst.BaseExpression) -> None:
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            for element in value.elements:
                if isinstance(element.value, cst.SimpleString):
                    self.mentioned.add(element.value.value[1:-1].strip("'\""))


# -- adding -----------------------------------------------------------------------------------------

def _is_docstring(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.SimpleString))


def _is_strict_flag(statement: cst.CSTNode) -> bool:
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return False
    small = statement.body[0]
    return (isinstance(small, cst.Assign) and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name) and small.targets[0].target.value == "__strict__")


def _is_import_line(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], (cst.Import, cst.ImportFrom)))


def _module_node(dotted: str) -> cst.Name | cst.Attribute:
    parts = dotted.split(".")
    node: cst.Name | cst.Attribute = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def _alias(name: str, asname: str | None) -> cst.ImportAlias:
    return cst.ImportAlias(name=_module_node(name),
                           asname=cst.AsName(name=cst.Name(asname)) if asname is not None else None)


def _import_from(module: str, names: list[tuple[str, str | None]]) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.ImportFrom(module=_module_node(module),
                                                   names=[_alias(obj, asname) for obj, asname in names])])


def _gathered(block: Sequence[cst.BaseStatement]) -> tuple[set[str], dict[str, str], dict[str, set[str]], dict[str, set[tuple[str, str]]]]:
    """What the opening import block binds: plain modules, aliased modules, objects, aliased objects."""
    modules: set[str] = set()
    module_aliases: dict[str, str] = {}
    objects: dict[str, set[str]] = {}
    object_aliases: dict[str, set[tuple[str, str]]] = {}
    for statement in block:
        small = statement.body[0]  # type: ignore[attr-defined]
        if isinstance(small, cst.Import):
            for alias in small.names:
                name, asname = dotted_name(alias.name), _alias_name(alias)
                if asname is None:
                    modules.add(name)
                else:
                    module_aliases[name] = asname
        elif small.module is not None and not small.relative:
            module = dotted_name(small.module)
            if isinstance(small.names, cst.ImportStar):
                objects.setdefault(module, set()).add("*")
                continue
            for alias in small.names:
                name, asname = dotted_name(alias.name), _alias_name(alias)
                if asname is None:
                    objects.setdefault(module, set()).add(name)
                else:
                    object_aliases.setdefault(module, set()).add((name, asname))
    return modules, module_aliases, objects, object_aliases


def _add_imports(module: cst.Module, adds: Iterable[ImportKey]) -> cst.Module:
    adds = sorted(adds, key=str)
    plain = {m for m, obj, asname in adds if obj is None and asname is None}
    module_aliases = {m: asname for m, obj, asname in adds if obj is None and asname is not None}
    objects: dict[str, set[str]] = {}
    object_aliases: dict[str, list[tuple[str, str]]] = {}
    for m, obj, asname in adds:
        if obj is not None and asname is None:
            objects.setdefault(m, set()).add(obj)
        elif obj is not None and asname is not None:
            object_aliases.setdefault(m, []).append((obj, asname))
    objects = {m: objects[m] for m in sorted(objects)}
    object_aliases = {m: object_aliases[m] for m in sorted(object_aliases)}

    body = list(module.body)
    head = 1 if body and (_is_docstring(body[0]) or _is_strict_flag(body[0])) else 0
    end = head
    while end < len(body) and _is_import_line(body[end]):
        end += 1
    have_modules, have_aliases, have_objects, have_object_aliases = _gathered(body[head:end])
    plain -= have_modules
    for m, asname in have_aliases.items():
        if module_aliases.get(m) == asname:
            del module_aliases[m]
    for m, present in have_object_aliases.items():
        if m in object_aliases:
            object_aliases[m] = [p for p in object_aliases[m] if p not in present]
            if not object_aliases[m]:
                del object_aliases[m]
    for m, names in have_objects.items():
        if m in objects:
            objects[m] = set() if "*" in names else objects[m] - names
            if not objects[m]:
                del objects[m]

    # Names for a module that the opening block already imports from join that statement (the first one).
    for index in range(head, end):
        line = body[index]
        assert isinstance(line, cst.SimpleStatementLine)
        small = line.body[0]
        if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
            continue
        if small.module is None or small.relative:
            continue
        name = dotted_name(small.module)
        if name not in objects and name not in object_aliases:
            continue
        new_names = [_alias(obj, None) for obj in sorted(objects.pop(name, ()))]
        new_names += [_alias(obj, asname) for obj, asname in sorted(object_aliases.pop(name, []))]
        body[index] = line.with_changes(body=[small.with_changes(names=[*new_names, *small.names])])

    if not (plain or module_aliases or objects or object_aliases):
        return module.with_changes(body=body)

    combined: dict[str, list[tuple[str, str | None]]] = {}
    for m, pairs in object_aliases.items():
        combined.setdefault(m, []).extend(pairs)
    for m, names in objects.items():
        combined.setdefault(m, []).extend((obj, None) for obj in names)
    combined = {m: sorted(pairs, key=lambda p: (p[0], p[1] or "")) for m, pairs in combined.items()}

    after = body[end:]
    if after:
        first = after[0]
        if not first.leading_lines:
            after[0] = first.with_changes(leading_lines=(cst.EmptyLine(),))
        elif first.leading_lines[0].comment is not None:
            after[0] = first.with_changes(leading_lines=(cst.EmptyLine(), *first.leading_lines))
    new_body: list[cst.BaseStatement] = [
        *body[:head],
        *(_import_from(m, pairs) for m, pairs in combined.items() if m == "__future__"),
        *body[head:end],
        *(cst.SimpleStatementLine([cst.Import(names=[_alias(m, None)])]) for m in sorted(plain)),
        *(cst.SimpleStatementLine([cst.Import(names=[_alias(m, a)])]) for m, a in module_aliases.items()),
        *(_import_from(m, pairs) for m, pairs in combined.items() if m != "__future__"),
        *after,
    ]
    return module.with_changes(body=new_body)


# -- removing ---------------------------------------------------------------------------------------

def _merge_whitespace_after(left: cst.BaseParenthesizableWhitespace,
                            right: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    if not isinstance(right, cst.ParenthesizedWhitespace):
        return left
    if not isinstance(left, cst.ParenthesizedWhitespace):
        return right
    return left.with_changes(empty_lines=tuple(line for line in right.empty_lines if line.comment is not None))


class _RemoveImports(cst.CSTTransformer):
    """Drops unused import aliases; walks statements only (an import is never inside an expression)."""

    def __init__(self, modules: dict[str, str | None], objects: dict[str, set[tuple[str, str | None]]],
                 unused: set[str]) -> None:
        super().__init__()
        self.modules = modules
        self.objects = objects
        self.unused = unused  # bound names that nothing uses

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.BaseExpression, cst.BaseSmallStatement)) and not isinstance(
                node, (cst.Import, cst.ImportFrom)):
            return False
        return super().on_visit(node)

    def _is_unused(self, alias: cst.ImportAlias) -> bool:
        bound = _alias_name(alias) or dotted_name(alias.name).split(".")[0]
        return bound in self.unused

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import | cst.RemovalSentinel:
        keep = [alias for alias in original_node.names
                if dotted_name(alias.name) not in self.modules
                or _alias_name(alias) != self.modules[dotted_name(alias.name)]
                or not self._is_unused(alias)]
        if keep == list(original_node.names):
            return updated_node
        if not keep:
            return cst.RemoveFromParent()
        if keep[-1] is not original_node.names[-1]:
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=keep)

    def leave_ImportFrom(self, original_node: cst.ImportFrom,
                         updated_node: cst.ImportFrom) -> cst.ImportFrom | cst.RemovalSentinel:
        names = original_node.names
        if isinstance(names, cst.ImportStar) or original_node.module is None or original_node.relative:
            return updated_node
        module = dotted_name(original_node.module)
        if module not in self.objects:
            return updated_node
        targets = self.objects[module]
        changes: dict[str, object] = {}
        keep: list[cst.ImportAlias] = []
        for alias in names:
            if (dotted_name(alias.name), _alias_name(alias)) not in targets or not self._is_unused(alias):
                keep.append(alias)
                continue
            comma = alias.comma
            if isinstance(comma, cst.Comma):  # keep the comments that followed the removed name
                if keep:
                    prev = keep[-1]
                    if isinstance(prev.comma, cst.Comma):
                        prev = prev.with_deep_changes(prev.comma, whitespace_after=_merge_whitespace_after(
                            prev.comma.whitespace_after, comma.whitespace_after))
                    else:
                        prev = prev.with_changes(comma=comma)
                    keep[-1] = prev
                elif isinstance(updated_node.lpar, cst.LeftParen):
                    changes["lpar"] = updated_node.lpar.with_changes(whitespace_after=_merge_whitespace_after(
                        updated_node.lpar.whitespace_after, comma.whitespace_after))
        if keep == list(names):
            return updated_node
        if not keep:
            return cst.RemoveFromParent()
        if keep[-1] is not names[-1]:
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=keep, **changes)


def _remove_imports(module: cst.Module, removes: Iterable[ImportKey], unused: set[str]) -> cst.Module:
    modules: dict[str, str | None] = {}
    objects: dict[str, set[tuple[str, str | None]]] = {}
    for name, obj, asname in sorted(removes, key=str):
        if obj is None:
            modules[name] = asname
        else:
            objects.setdefault(name, set()).add((obj, asname))
    return module.visit(_RemoveImports(modules, objects, unused))


def apply_fixes(module: cst.Module, fixes: list[Fix]) -> cst.Module:
    """Apply ``fixes`` (from :func:`analyse` on this very module) and return the new module."""
    edits: dict[int, list[EditFn]] = {}
    for plan in fixes:
        for node, fn in plan.edits:
            queue = edits.setdefault(id(node), [])
            if fn not in queue:  # an edit shared by several findings (equal bound methods) runs once
                queue.append(fn)
    new = module.visit(_ApplyEdits(edits)) if edits else module
    if edits:
        new = _drop_created_duplicates(module, new)
    adds = {imp for plan in fixes for imp in plan.add_imports}
    removes = {imp for plan in fixes for imp in plan.remove_imports}
    if not adds and not removes:
        return new
    facts = _ImportFacts()
    new.visit(facts)
    adds = {a for a in adds if a not in facts.imported}
    unused = {(r[2] or r[1] or r[0].split(".")[0]) for r in removes}
    unused -= facts.used | facts.mentioned
    removes = {r for r in removes if (r[2] or r[1] or r[0].split(".")[0]) in unused}
    if adds:
        new = _add_imports(new, adds)
    if removes:
        new = _remove_imports(new, removes, unused)
    return new



def _plain_imports(body: Sequence[cst.CSTNode]) -> Counter[str]:
    """How often each single plain ``import ...`` line occurs in ``body``."""
    return Counter(
        cst.Module([]).code_for_node(statement.body[0])
        for statement in body
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Import)
    )


def _dedupe_aliases(node: cst.Import) -> cst.Import:
    """``import openai, openai`` -> ``import openai``."""
    seen, names = set(), []
    for alias in node.names:
        key = (dotted_name(alias.name), alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None)
        if key not in seen:
            seen.add(key)
            names.append(alias)
    if len(names) == len(node.names):
        return node
    return node.with_changes(names=[*names[:-1], names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)])


def _dedupe_block(original: Sequence[cst.CSTNode], body: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
    before, seen = _plain_imports(original), Counter[str]()
    kept: list[cst.BaseStatement] = []
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and isinstance(
            statement.body[0], cst.Import
        ):
            deduped = _dedupe_aliases(statement.body[0])
            if deduped is not statement.body[0]:
                statement = statement.with_changes(body=[deduped])
            code = cst.Module([]).code_for_node(statement.body[0])
            seen[code] += 1
            if seen[code] > max(1, before[code]):
                continue
        kept.append(statement)
    return kept


def _drop_created_duplicates(original: cst.Module, new: cst.Module) -> cst.Module:
    """``new`` without the duplicate imports the rewrite created (``import openai.error`` renamed to
    ``import openai`` beside an ``import openai``), at module level and in top-level functions and classes;
    duplicates the author wrote stay."""
    originals = {cst.Module([]).code_for_node(s.name): s for s in original.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    body = []
    for statement in _dedupe_block(original.body, new.body):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and isinstance(statement.body, cst.IndentedBlock):
            before = originals.get(cst.Module([]).code_for_node(statement.name))
            old_body = before.body.body if before is not None and isinstance(before.body, cst.IndentedBlock) else ()
            inner = _dedupe_block(old_body, statement.body.body)
            if inner and len(inner) != len(statement.body.body):
                statement = statement.with_changes(body=statement.body.with_changes(body=inner))
        body.append(statement)
    return new.with_changes(body=body) if len(body) != len(new.body) or body != list(new.body) else new
