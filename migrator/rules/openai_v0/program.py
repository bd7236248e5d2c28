"""Per-module summaries of what matters to the whole program, as plain data.

:func:`summarise` reads one parsed module and says: which project modules it imports (relative imports
resolved), what its top-level names are (re-exports included), where it assigns ``openai.*``
configuration, whether it calls the v0 API (sync / async), which of its functions return v0 responses,
and what it passes to the project's functions. The engine (``migrator.engine.project``) combines the
summaries of all modules into a :class:`~migrator.rules.project.ProjectView`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from migrator.rules.base import RuleContext, callee_name
from migrator.rules.names import dotted_name, string_value
from migrator.rules.openai_v0.catalog import current_method, legacy_call, scalar_field
from migrator.rules.openai_v0.dual_sdk import legacy_branches
from migrator.rules.project import BRANCH, FUNCTION, METHOD, TOP, ConfigSite

CONFIG_NAMES = frozenset({"api_key", "api_base", "organization", "api_version", "api_type"})
# Calls that change the environment the SDK reads its defaults from.
ENV_CHANGERS = ("load_dotenv", "dotenv.load_dotenv", "os.environ.update", "os.environ.setdefault", "os.putenv")

# An argument's origin: ("v0",), ("fn", qualname) for the result of a project function, ("param", function,
# name) for a parameter passed on, or None (anything else).
Origin = tuple[str, ...] | None
TUPLE: Origin = ("tuple",)  # a `return a, b`: its positions are followed as "function#index"


@dataclass
class ModuleSummary:
    """What one module contributes to the project view."""

    module: str
    path: str
    imports: set[str] = field(default_factory=set)  # absolute names of modules imported (any depth)
    exports: dict[str, str] = field(default_factory=dict)  # top-level name -> qualified name
    stars: list[str] = field(default_factory=list)  # modules star-imported at top level
    config: list[ConfigSite] = field(default_factory=list)
    sync_calls: bool = False
    async_calls: bool = False
    params: dict[str, list[str]] = field(default_factory=dict)  # function qualname -> positional parameters
    returns: dict[str, list[Origin]] = field(default_factory=dict)  # function qualname -> origins of returns
    call_sites: list[tuple[str, tuple[tuple[int | str, Origin], ...]]] = field(default_factory=list)
    escapes: set[str] = field(default_factory=set)  # project functions used as values (callers unknown)
    dual_sdk: bool = False  # has a both-SDKs guard whose legacy branch is left alone
    local_openai: bool = False  # imports openai only inside functions
    kwargs_sources: set[str] = field(default_factory=set)  # project functions whose result is `**`-splatted into v0 calls


def absolute_module(module: str, is_package: bool, relative: int, name: str) -> str:
    """The absolute module of ``from <'.' * relative><name> import ...`` written in ``module``."""
    if not relative:
        return name
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if relative > 1:
        parts = parts[: len(parts) - (relative - 1)] if relative - 1 <= len(parts) else []
    return ".".join([*parts, name] if name else parts)


class _Summariser(cst.CSTVisitor):
    def __init__(self, ctx: RuleContext, summary: ModuleSummary, is_package: bool) -> None:
        super().__init__()
        self.ctx = ctx
        self.summary = summary
        self.is_package = is_package
        self.stack: list[cst.FunctionDef | cst.ClassDef] = []
        self.names: list[str] = []  # qualified-name parts of the enclosing defs
        self.depth = 0  # compound statements (not defs) around the current node
        self.env_changed: set[str] = set()  # scopes ('' = top level) where the environment changed so far
        self.callees: set[int] = set()
        self.saved_depth: list[int] = []
        self.skip: set[int] = set()
        self.unpacked: dict[tuple[int, str], list[Origin]] = {}  # (id(scope), name) -> `a, b = f()` origins
        self.instances: set[str] = set()  # names whose class is being looked up (guards recursion)
        # A function body runs after the module's top level: a load_dotenv() there counts wherever it is.
        self.dotenv_anywhere = any(changes_env(stmt) for stmt in ctx.module.body)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.skip:
            return False  # a legacy branch of a both-SDKs guard: never runs under the current SDK
        return super().on_visit(node)

    # -- names ----------------------------------------------------------------------------------
    def _qualify(self, qualname: str | None) -> str | None:
        """Turn ScopeIndex's relative ``..mod.name`` into an absolute name."""
        if qualname is None or not qualname.startswith("."):
            return qualname
        dots = len(qualname) - len(qualname.lstrip("."))
        rest = qualname[dots:]
        base = absolute_module(self.summary.module, self.is_package, dots, "")
        return f"{base}.{rest}" if base else rest

    def _target(self, expr: cst.BaseExpression) -> str | None:
        """Qualified name of a callee or value: imports, this module's functions and classes, self.m."""
        if isinstance(expr, cst.Name):
            resolved = self._qualify(self.ctx.resolve(expr))
            if resolved is not None:
                return resolved
            if expr.value in self.ctx.index.root.locals and self.ctx.index.lookup(expr.value, self.ctx.scope) is None:
                # Bound at top level and not shadowed by an enclosing function's local.
                for scope in self.ctx.scopes[1:]:
                    if not scope.is_class and expr.value in scope.locals:
                        return None
                return f"{self.summary.module}.{expr.value}"
            return None
        if isinstance(expr, cst.Attribute):
            if isinstance(expr.value, cst.Name) and expr.value.value == "self":
                classes = [n for n in self.stack if isinstance(n, cst.ClassDef)]
                if classes:
                    owner = self.names[: self.names.index(classes[-1].name.value) + 1]
                    return ".".join([self.summary.module, *owner, expr.attr.value])
                return None
            instance_of = self._instance_class(expr.value) if isinstance(expr.value, cst.Name) else None
            if instance_of is not None:
                return f"{instance_of}.{expr.attr.value}"  # `store = Store(); store.add(r)` -> `mod.Store.add`
            head = self._target(expr.value)
            return f"{head}.{expr.attr.value}" if head else None
        return None

    def _instance_class(self, name: cst.Name) -> str | None:
        """The class of ``name`` when this scope binds it once, to ``Class(...)`` (a name that reads as a
        class: a function's result is not followed); None otherwise. Only the project's classes match
        a function of the view; other classes' methods are never looked up."""
        scope = self.ctx.scope
        if name.value in self.instances or name.value not in scope.locals:
            return None
        values = scope.values.get(name.value)
        if not values or len(values) != 1 or not isinstance(values[0], cst.Call):
            return None
        node = self.stack[-1] if self.stack else None
        if isinstance(node, cst.FunctionDef) and name.value in {
            p.name.value for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
        }:
            return None  # also bound by the caller
        self.instances.add(name.value)  # `x = x.copy()`-like chains end here
        try:
            owner = self._target(values[0].func)
        finally:
            self.instances.discard(name.value)
        if owner is None or not owner.rpartition(".")[2][:1].isupper():
            return None
        return owner

    def _function(self) -> str | None:
        if self.stack and isinstance(self.stack[-1], cst.FunctionDef):
            return ".".join([self.summary.module, *self.names])
        return None

    def _scope_key(self) -> str:
        return ".".join(self.names)

    # -- imports --------------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            name = dotted_name(alias.name)
            self.summary.imports.add(name)
            if not self.stack:
                local = alias.asname.name.value if alias.asname is not None else name.split(".")[0]  # type: ignore[union-attr]
                self.summary.exports[local] = name if alias.asname is not None else name.split(".")[0]
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        base = absolute_module(
            self.summary.module, self.is_package, len(node.relative), dotted_name(node.module) if node.module else ""
        )
        if base:
            self.summary.imports.add(base)
        if isinstance(node.names, cst.ImportStar):
            if not self.stack and base:
                self.summary.stars.append(base)
            return False
        for alias in node.names:
            name = dotted_name(alias.name)
            qualified = f"{base}.{name}" if base else name
            self.summary.imports.add(qualified)  # may be a submodule; unknown names are dropped later
            if not self.stack:
                local = alias.asname.name.value if alias.asname is not None else name  # type: ignore[union-attr]
                self.summary.exports[local] = qualified
        return False

    # -- scopes ---------------------------------------------------------------------------------
    def _enter(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        if not self.stack:
            self.summary.exports[node.name.value] = f"{self.summary.module}.{node.name.value}"
        self.stack.append(node)
        self.names.append(node.name.value)
        self.ctx.scopes.append(self.ctx.index.scope_of(node) or self.ctx.scope)
        if isinstance(node, cst.FunctionDef):
            params = node.params
            self.summary.params[".".join([self.summary.module, *self.names])] = [
                p.name.value for p in (*params.posonly_params, *params.params)
            ]

    def _leave(self) -> None:
        self.stack.pop()
        self.names.pop()
        self.ctx.scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter(node)
        self.saved_depth.append(self.depth)
        self.depth = 0

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._leave()
        self.depth = self.saved_depth.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._leave()

    def _compound(self, node: cst.CSTNode) -> None:
        self.depth += 1

    def _compound_done(self, original_node: cst.CSTNode) -> None:
        self.depth -= 1

    visit_If = visit_Try = visit_With = visit_For = visit_While = visit_Match = visit_TryStar = _compound
    leave_If = leave_Try = leave_With = leave_For = leave_While = leave_Match = leave_TryStar = _compound_done

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.ctx.scopes.append(self.ctx.scope)  # ScopeIndex has no lambda scopes; keep the stack balanced

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.ctx.scopes.pop()

    # -- top-level assignments are exports --------------------------------------------------------
    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if not self.stack and isinstance(node.target, cst.Name):
            self.summary.exports[node.target.value] = f"{self.summary.module}.{node.target.value}"

    # -- configuration --------------------------------------------------------------------------
    def _config_assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            qualname = self.ctx.resolve(target.target) if isinstance(target.target, cst.Attribute) else None
            if not qualname or not qualname.startswith("openai.") or qualname.count(".") != 1:
                continue
            name = qualname.split(".")[1]
            if name not in CONFIG_NAMES:
                continue
            function = self._function()
            if function is None:
                where = TOP if self.depth == 0 and not self.stack else BRANCH
            else:
                where = METHOD if len(self.stack) >= 2 and isinstance(self.stack[-2], cst.ClassDef) else FUNCTION
            self.summary.config.append(ConfigSite(
                module=self.summary.module, name=name, where=where, scope=function or "",
                line=self.ctx.position(node).start.line, value=string_value(node.value),
                after_dotenv=self._scope_key() in self.env_changed or (function is not None and self.dotenv_anywhere),
            ))

    # -- calls ----------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        self.callees.add(id(node.func))
        callee = self._target(node.func)
        if callee in ENV_CHANGERS or (callee or "").endswith(".load_dotenv"):
            self.env_changed.add(self._scope_key())
        found = legacy_call(self.ctx, node)
        if found is not None:
            method = current_method(*found)
            for arg in node.args:
                if arg.star == "**" and isinstance(arg.value, cst.Call):
                    source = self._target(arg.value.func)
                    if source is not None:
                        self.summary.kwargs_sources.add(source)
            if method is not None:
                if method[1]:
                    self.summary.async_calls = True
                else:
                    self.summary.sync_calls = True
            return
        if callee is None:
            return
        args: list[tuple[int | str, Origin]] = []
        for index, arg in enumerate(node.args):
            if arg.star:
                args.append(("*", None))
                continue
            key: int | str = arg.keyword.value if arg.keyword is not None else index
            args.append((key, self.origin(arg.value)))
        self.summary.call_sites.append((callee, tuple(args)))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.callees and id(node) not in self.ctx.not_references:
            target = self._target(node)
            if target is not None:
                self.summary.escapes.add(target)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if id(node) not in self.callees:
            target = self._target(node)
            if target is not None:
                self.summary.escapes.add(target)

    # -- responses --------------------------------------------------------------------------------
    def origin(self, expr: cst.BaseExpression, depth: int = 0) -> Origin:
        """Where the value of ``expr`` comes from (see :data:`Origin`)."""
        if isinstance(expr, cst.Await):
            return self.origin(expr.expression, depth)
        if isinstance(expr, cst.Call):
            found = legacy_call(self.ctx, expr)
            if found is not None and current_method(*found) is not None:
                return ("v0",)
            callee = self._target(expr.func)
            return ("fn", callee) if callee else None
        if isinstance(expr, (cst.Subscript, cst.Attribute)) and depth < 4 and not scalar_field(expr):
            # A part of a response (`message["function_call"]`) is read like one (a string field is not).
            root: cst.BaseExpression = expr
            while isinstance(root, (cst.Subscript, cst.Attribute)):
                root = root.value
            return self.origin(root, depth) if isinstance(root, (cst.Name, cst.Call, cst.Await)) else None
        if isinstance(expr, cst.Name) and depth < 4:
            function = self._function()
            scope = self.ctx.scope
            if expr.value in scope.locals:
                values = scope.values.get(expr.value)
                if values:
                    origins = {self.origin(v, depth + 1) for v in values}
                    return origins.pop() if len(origins) == 1 else None
                unpacked = self.unpacked.get((id(scope), expr.value))
                if unpacked:
                    return unpacked[0] if len(unpacked) == 1 else None
                if function is None:
                    return None
                node = self.stack[-1]
                assert isinstance(node, cst.FunctionDef)
                params = node.params
                if expr.value in {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}:
                    return ("param", function, expr.value)
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        self._config_assign(node)
        value = node.value.expression if isinstance(node.value, cst.Await) else node.value
        for target in node.targets:
            if not isinstance(target.target, cst.Tuple) or not isinstance(value, cst.Call):
                continue
            callee = self._target(value.func)
            for index, element in enumerate(target.target.elements):
                if isinstance(element.value, cst.Name):
                    origin = ("fn", f"{callee}#{index}") if callee and not isinstance(element, cst.StarredElement) else None
                    self.unpacked.setdefault((id(self.ctx.scope), element.value.value), []).append(origin)

    def visit_Return(self, node: cst.Return) -> None:
        function = self._function()
        if function is None:
            return
        origins = self.summary.returns.setdefault(function, [])
        if node.value is None or (isinstance(node.value, cst.Name) and node.value.value == "None"):
            return
        if isinstance(node.value, cst.Tuple) and not any(isinstance(e, cst.StarredElement) for e in node.value.elements):
            # `return completion, hits`: each position is followed as `function#index`.
            origins.append(TUPLE)
            for index, element in enumerate(node.value.elements):
                self.summary.returns.setdefault(f"{function}#{index}", []).append(self.origin(element.value))
            return
        origins.append(self.origin(node.value))


def imports_openai_locally_only(ctx: RuleContext) -> bool:
    """Whether the module imports openai, but only inside functions (a lazy or optional dependency)."""
    def is_openai(qualname: str) -> bool:
        return qualname == "openai" or qualname.startswith("openai.")

    if any(is_openai(q) for q in ctx.index.root.imports.values()):
        return False
    return any(is_openai(q) for scope in ctx.index.scopes.values() for q in scope.imports.values())


def changes_env(stmt: cst.CSTNode) -> bool:
    """A top-level ``load_dotenv(...)``, ``os.environ[...] = ...`` or ``os.environ.update(...)`` line."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    for small in stmt.body:
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            name = callee_name(small.value)
            if name.endswith("load_dotenv") or name in ENV_CHANGERS:
                return True
        if isinstance(small, cst.Assign) and any(
            isinstance(t.target, cst.Subscript) and dotted_name(t.target.value) in ("os.environ", "environ")
            for t in small.targets
        ):
            return True
    return False


class _ProjectContext(RuleContext):
    """A rule context whose names resolve through the project's re-exports (``from .common import
    openai`` -> ``openai``)."""

    def __init__(self, path: str, module: cst.Module, module_name: str, is_package: bool,
                 through: Callable[[str], str | None]) -> None:
        super().__init__(path, module)
        self.module_name = module_name
        self.is_package = is_package
        self.through = through

    def resolve(self, node: cst.CSTNode) -> str | None:
        if isinstance(node, cst.Name) and id(node) not in self._resolved:
            result = self.index.lookup(node.value, self.scope)
            if result is not None and result.startswith("."):
                dots = len(result) - len(result.lstrip("."))
                base = absolute_module(self.module_name, self.is_package, dots, "")
                result = f"{base}.{result[dots:]}" if base else result[dots:]
            if result is not None:
                result = self.through(result) or result
            self._resolved[id(node)] = result
            return result
        return super().resolve(node)


def summarise(
    path: str, module_name: str, module: cst.Module, through: Callable[[str], str | None] | None = None
) -> ModuleSummary:
    """The summary of one parsed module (``module_name`` is its dotted name in the project).
    ``through(qualname)`` maps a name imported from a project module to what it really is (the
    project's re-exports); without it, names resolve as the module alone shows them."""
    summary = ModuleSummary(module=module_name, path=path)
    is_package = path.replace("\\", "/").endswith("/__init__.py") or path == "__init__.py"
    ctx: RuleContext = (
        _ProjectContext(path, module, module_name, is_package, through) if through is not None else RuleContext(path, module)
    )
    visitor = _Summariser(ctx, summary, is_package=is_package)
    branches = legacy_branches(module)
    visitor.skip = {id(b) for b in branches}
    summary.dual_sdk = bool(branches)
    summary.local_openai = imports_openai_locally_only(ctx)
    # The ScopeTracker's bookkeeping that `ctx.reference` needs: labels (attribute names, keywords, defs).
    module.visit(_Labels(ctx))
    module.visit(visitor)
    return summary


class _Labels(cst.CSTVisitor):
    """Marks names that are labels rather than references (as the engine's ScopeTracker does)."""

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__()
        self.ctx = ctx

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.ctx.not_references.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.ctx.not_references.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self.ctx.not_references.add(id(node.name))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.ctx.not_references.add(id(node.name))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.ctx.not_references.add(id(node.name))

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.ctx.not_references.add(id(node.target))
