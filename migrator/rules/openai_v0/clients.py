"""The client a module gets when its v0 calls are rewritten, built from its v0 module configuration.

One :class:`ClientPlan` per file (cached on the rule context). Rules ask it for the expression that
replaces ``openai.ChatCompletion`` and register its single module-level edit, which inserts
``client = OpenAI(...)`` (or the async / Azure variants) and removes the configuration assignments
whose values moved into the constructor. The edit is one object, so however many findings share it,
it is applied once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from migrator.rules.base import Fix, RuleContext
from migrator.rules.names import string_value
from migrator.rules.openai_v0.dual_sdk import legacy_branches
from migrator.rules.openai_v0.planning import MODULE, decide
from migrator.rules.openai_v0.program import changes_env, imports_openai_locally_only
from migrator.rules.options import run_target
from migrator.rules.project import ConfigSite
from migrator.targets.registry import Provider
from migrator.targets.render import client_class, client_code
from migrator.templating import render

# v0 global -> constructor argument (plain client, Azure client)
CONSTRUCTOR_ARGS = {
    "api_key": ("api_key", "api_key"),
    "api_base": ("base_url", "azure_endpoint"),
    "organization": ("organization", "organization"),
    "api_version": (None, "api_version"),
}
AZURE_TYPES = {"azure", "azure_ad", "azuread"}
# v0's `openai.proxy` moves into the client as `http_client=<class>(proxy=...)` (openai 3.x: httpx2 clients)
PROXY_CLIENT = {False: "DefaultHttpx2Client", True: "DefaultAsyncHttpx2Client"}
_ENV_READS = {"os.getenv", "os.environ.get", "os.environ"}
OPENAI_TYPES = {"open_ai", "openai"}


@dataclass
class ConfigAssignment:
    statement: cst.SimpleStatementLine
    name: str  # api_key, api_base, ...
    value: cst.BaseExpression


@dataclass
class ClientPlan:
    """How the module's client is built; see the module docstring."""

    ctx: RuleContext
    style: str = "client"
    sync_name: str = "client"
    async_name: str = "aclient"
    azure: bool = False
    azure_ad: bool = False
    blocked: str | None = None  # why no client can be built automatically
    config: dict[str, ConfigAssignment] = field(default_factory=dict)
    needs_sync: bool = False
    needs_async: bool = False
    provider: Provider | None = None  # another provider's client, rendered from templates/clients
    reason: str = ""  # why this plan (printed by `migrate apply` and --explain-plan)
    lazy_async: bool = False  # module style with async calls: a lazily built AsyncOpenAI (see planning.py)
    lazy_sync: bool = False  # module style with per-call credentials: a lazily built OpenAI to call with_options on
    azure_possible: bool = False  # some configuration in reach assigns openai.api_type
    _reads: set[str] | None = None

    # -- queries used by rules -------------------------------------------------------------------
    def client_expr(self, is_async: bool, fix: Fix) -> cst.BaseExpression:
        """The expression that stands for the client in rewritten calls; registers the module edit."""
        if is_async:
            self.needs_async = True
        else:
            self.needs_sync = True
        fix.edit(self.ctx.module, self.module_edit)
        self._import_class(self.sdk_class(is_async), fix)
        if self.provider is not None:
            fix.add_import("os")
        if self.moves("proxy"):
            self._import_class(PROXY_CLIENT[is_async], fix)
        return cst.Name(self.async_name if is_async else self.sync_name)

    def lazy_async_expr(self, fix: Fix) -> cst.BaseExpression:
        """``aclient()``: the async client for the configuration as it is at the call (module style)."""
        self.lazy_async = True
        fix.edit(self.ctx.module, self.module_edit)
        self._import_openai(fix)
        self._import_class("AsyncOpenAI", fix)
        if self.azure_possible:
            self._import_class("AsyncAzureOpenAI", fix)
        return cst.Call(cst.Name(self.async_name))

    def options_client(self, is_async: bool, fix: Fix) -> tuple[str, cst.BaseExpression] | None:
        """(root name of the rewritten call, the client expression to call ``with_options`` on) for a
        call with per-call credentials; None when the module's plan cannot carry them. In module style
        the module-level client has no ``with_options``: a lazily built client for the module's
        configuration as it is at the call (``client()``) takes its place."""
        if self.blocked is not None:
            return None
        if self.style != MODULE:
            name = self.async_name if is_async else self.sync_name
            return name, cst.Name(name)
        if is_async:
            return self.async_name, self.lazy_async_expr(fix)
        self.lazy_sync = True
        fix.edit(self.ctx.module, self.module_edit)
        self._import_openai(fix)
        self._import_class("OpenAI", fix)
        if self.azure_possible:
            self._import_class("AzureOpenAI", fix)
        return "openai", cst.Call(cst.Name(self.sync_name))

    def _import_openai(self, fix: Fix) -> None:
        """``import openai`` for the helpers, unless the module already binds the name (``from .common
        import openai``, a project re-export)."""
        if "openai" not in self.ctx.index.root.imports:
            fix.add_import("openai")

    def _import_class(self, name: str, fix: Fix) -> None:
        local = self.local_class(name)
        fix.add_import("openai", name, local if local != name else None)

    def sdk_class(self, is_async: bool) -> str:
        if self.provider is not None:
            return client_class(self.provider, is_async)
        base = "AzureOpenAI" if self.azure else "OpenAI"
        return f"Async{base}" if is_async else base

    def class_name(self, is_async: bool) -> str:
        """The class as this module names it (aliased when the module binds the name to something else)."""
        return self.local_class(self.sdk_class(is_async))

    def local_class(self, name: str) -> str:
        """``OpenAI``, or ``OpenAIClient`` when ``OpenAI`` is already another thing (LangChain's, ...)."""
        root = self.ctx.index.root
        bound = root.imports.get(name)
        if (bound is not None and bound != f"openai.{name}") or (bound is None and name in root.locals):
            return f"{name}Client"
        return name

    def moves(self, name: str) -> bool:
        """Whether the assignment of ``openai.<name>`` moves into the constructor (and is removed)."""
        if name not in self.config or self.blocked is not None or self.style != "client":
            return False
        if not (self.needs_sync or self.needs_async):
            return False
        if self.provider is not None:
            return name != "proxy"  # the target provider's constructor replaces the v0 configuration
        return name not in self.config_reads()

    def current_global(self, name: str) -> str:
        """The module attribute of the current SDK that holds what ``openai.<name>`` held."""
        if name == "api_base":
            return "azure_endpoint" if self.azure else "base_url"
        return name

    def config_reads(self) -> set[str]:
        """Configuration globals used anywhere but in their top-level assignment (found once, lazily)."""
        if self._reads is None:
            self._reads = _ConfigReads(self).collect()
        return self._reads

    # -- the edit ---------------------------------------------------------------------------------
    def _kwargs(self, is_async: bool) -> list[cst.Arg]:
        args = []
        for name in ("api_key", "api_base", "organization", "api_version"):
            if name not in self.config:
                continue
            keyword = CONSTRUCTOR_ARGS[name][1 if self.azure else 0]
            if name == "api_key" and self.azure_ad:
                keyword = "azure_ad_token"  # v0 sent the key as an Azure AD token for api_type azure_ad
            if keyword is None:
                continue
            if name in self.config_reads():
                # The assignment stays where it is (other code reads it); the client reads it back.
                value: cst.BaseExpression = cst.parse_expression(f"openai.{self.current_global(name)}")
            else:
                value = self.config[name].value
            args.append(_keyword(keyword, value))
        if self.moves("proxy"):
            proxy = _keyword("proxy", self.config["proxy"].value)
            args.append(_keyword("http_client", cst.Call(cst.Name(self.local_class(PROXY_CLIENT[is_async])), [proxy])))
        return args

    def _statements(self) -> list[cst.SimpleStatementLine]:
        out = []
        render = cst.Module([]).code_for_node
        for is_async, needed, name in ((False, self.needs_sync, self.sync_name), (True, self.needs_async, self.async_name)):
            if not needed:
                continue
            if self.provider is not None:
                rendered = cst.parse_expression(client_code(self.provider, is_async))
                assert isinstance(rendered, cst.Call)
                kwargs = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in rendered.args]
            else:
                kwargs = self._kwargs(is_async)
            args = [f"{render(a.keyword)}={render(a.value)}" for a in kwargs]  # type: ignore[arg-type]
            line = f"{name} = {self.class_name(is_async)}({', '.join(args)})"
            if len(line) > self.ctx.project.line_length:  # wrap the way black would
                line = f"{name} = {self.class_name(is_async)}(\n" + "".join(f"    {a},\n" for a in args) + ")"
            out.append(cst.parse_statement(line + "\n"))
        return out  # type: ignore[return-value]

    def module_edit(self, module: cst.CSTNode) -> cst.CSTNode:
        """Insert the clients after the last top-level configuration assignment (replacing it when its
        value moved into the constructor) or, with no configuration, after the imports."""
        assert isinstance(module, cst.Module)
        if self.lazy_async or self.lazy_sync:
            return self._insert_helper(module)
        clients = self._statements()
        if not clients:
            return module
        original = list(self.ctx.module.body)
        body = list(module.body)
        moved_ids = {id(c.statement) for n, c in self.config.items() if self.moves(n)}
        config_positions = [original.index(c.statement) for c in self.config.values()]
        comments: list[cst.EmptyLine] = []
        for index, stmt in enumerate(original):
            if id(stmt) in moved_ids:  # keep what humans wrote about the removed assignment
                current = body[index]
                assert isinstance(current, cst.SimpleStatementLine)
                comments.extend(current.leading_lines)
                if current.trailing_whitespace.comment is not None:
                    comments.append(cst.EmptyLine(comment=current.trailing_whitespace.comment))
        if config_positions:
            anchor = max(config_positions)
            if id(original[anchor]) in moved_ids:
                clients[0] = clients[0].with_changes(leading_lines=comments)
            else:
                clients[0] = clients[0].with_changes(leading_lines=[*comments, cst.EmptyLine()])
            insert_at = anchor + 1
        else:
            clients[0] = clients[0].with_changes(leading_lines=[cst.EmptyLine()])
            insert_at = _after_imports(self.ctx.module)
        # After everything the clients' arguments may depend on: load_dotenv(), os.environ changes.
        env = [i for i, stmt in enumerate(original) if changes_env(stmt)]
        if env and env[-1] >= insert_at:
            insert_at = env[-1] + 1
            if not config_positions or id(original[max(config_positions)]) not in moved_ids:
                clients[0] = clients[0].with_changes(leading_lines=[cst.EmptyLine()])
        new_body: list[cst.BaseStatement] = []
        for index, stmt in enumerate(body):
            if index == insert_at:
                new_body.extend(clients)
            if id(original[index]) not in moved_ids:
                new_body.append(stmt)
        if insert_at >= len(body):
            new_body.extend(clients)
        return module.with_changes(body=_separate_definitions(new_body, clients[-1]))


    def _insert_helper(self, module: cst.Module) -> cst.Module:
        """Insert the lazy client functions after the imports (they read openai.* when called)."""
        helper: list[cst.BaseStatement] = []
        for needed, name, prefix in ((self.lazy_sync, self.sync_name, ""), (self.lazy_async, self.async_name, "Async")):
            if not needed:
                continue
            code = render("clients/lazy_async.py.j2", function=name, store=f"_{name}_by_config",
                          cls=self.local_class(f"{prefix}OpenAI"), azure_cls=self.local_class(f"{prefix}AzureOpenAI"),
                          azure=self.azure_possible, kind="async" if prefix else "sync")
            part = list(cst.parse_module(code).body)
            part[0] = part[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()] if helper else [cst.EmptyLine()])
            part[1] = part[1].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
            helper.extend(part)
        insert_at = _after_imports(self.ctx.module)
        body = list(module.body)
        new_body: list[cst.BaseStatement] = [*body[:insert_at], *helper, *body[insert_at:]]
        return module.with_changes(body=_separate_definitions(new_body, helper[-1]))


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value, keyword=cst.Name(name), equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def proxy_is_single(ctx: RuleContext, value: cst.BaseExpression) -> bool:
    """Whether a v0 ``openai.proxy`` value is one proxy URL (v0 used it for http and https alike, as
    httpx2's ``proxy=`` does): a string, or a string (or None) read from the environment. A dict of
    per-scheme proxies, or a value of unknown type, is not."""
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return True
    if isinstance(value, cst.Call):
        return ctx.resolve(value.func) in _ENV_READS
    if isinstance(value, cst.Subscript):
        return ctx.resolve(value.value) == "os.environ"
    return False


def _separate_definitions(body: list[cst.BaseStatement], last_client: cst.BaseStatement) -> list[cst.BaseStatement]:
    """Two blank lines between the inserted clients and a following def or class, as black wants."""
    index = next(i for i, s in enumerate(body) if s is last_client)
    if index + 1 < len(body) and (
        isinstance(body[index + 1], (cst.FunctionDef, cst.ClassDef)) or isinstance(last_client, cst.FunctionDef)
    ):
        following = body[index + 1]
        lines: list[cst.EmptyLine] = list(getattr(following, "leading_lines", ()))
        blank = sum(1 for line in lines if line.comment is None)
        if blank < 2:
            body[index + 1] = following.with_changes(leading_lines=[*(cst.EmptyLine() for _ in range(2 - blank)), *lines])
    return body


class _ConfigReads(cst.CSTVisitor):
    def __init__(self, plan: ClientPlan) -> None:
        super().__init__()
        self.plan = plan
        self.ctx = plan.ctx
        self.found: set[str] = set()
        self.assigned = {id(c.statement.body[0].targets[0].target) for c in plan.config.values()}  # type: ignore[attr-defined]

    def collect(self) -> set[str]:
        with self.ctx.in_scopes([self.ctx.index.root]):
            self.ctx.module.visit(self)
        return self.found

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.ctx.scopes.append(self.ctx.index.scope_of(node) or self.ctx.scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.ctx.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.ctx.scopes.append(self.ctx.index.scope_of(node) or self.ctx.scope)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.ctx.scopes.pop()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if id(node) in self.assigned:
            return
        qualname = self.ctx.resolve(node)
        if qualname and qualname.startswith("openai.") and qualname.count(".") == 1:
            name = qualname.split(".")[1]
            if name in CONSTRUCTOR_ARGS or name in ("api_type", "proxy"):
                self.found.add(name)


def _contains_import(stmt: cst.CSTNode) -> bool:
    if isinstance(stmt, cst.SimpleStatementLine):
        return any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)
    if isinstance(stmt, (cst.Try, cst.If)):
        block = stmt.body
        return isinstance(block, cst.IndentedBlock) and any(_contains_import(s) for s in block.body)
    return False


def _after_imports(module: cst.Module) -> int:
    last = -1
    for index, stmt in enumerate(module.body):
        if _contains_import(stmt):
            last = index
    return last + 1


def _unique(ctx: RuleContext, preferred: str, fallback: str) -> str:
    root = ctx.index.root
    taken = set(root.imports) | root.locals
    return preferred if preferred not in taken else fallback


def client_plan(ctx: RuleContext) -> ClientPlan:
    """The module's plan, computed once per file from its top-level configuration assignments."""
    return ctx.cached(("client_plan",), lambda: _make_plan(ctx))


def _own_sites(ctx: RuleContext) -> tuple[ConfigSite, ...]:
    """This file's configuration sites, from the project view or (file unknown to it) from the file."""
    module = ctx.project.module_of(ctx.path)
    if module is not None:
        return ctx.project.config_sites(module)
    return tuple(_file_summary(ctx).config)


def _file_summary(ctx: RuleContext):
    """The file's own summary, when the project view does not know it (a single-file run)."""
    from migrator.rules.openai_v0.program import summarise

    return ctx.cached(("file_summary",), lambda: summarise(ctx.path, "__main__", ctx.module))


def _async_calls(ctx: RuleContext) -> bool:
    module = ctx.project.module_of(ctx.path)
    if module is not None:
        return ctx.project.calls_v0(module)[1]
    return _file_summary(ctx).async_calls


def _configures_azure(plan: ClientPlan) -> bool:
    api_type = plan.config.get("api_type")
    value = string_value(api_type.value) if api_type is not None else None
    return value is not None and value.lower() in AZURE_TYPES


def _make_plan(ctx: RuleContext) -> ClientPlan:
    plan = ClientPlan(ctx=ctx, style=ctx.options.client_style)
    plan.sync_name = _unique(ctx, "client", "openai_client")
    plan.async_name = _unique(ctx, "aclient", "async_openai_client")
    with ctx.in_scopes([ctx.index.root]):
        for stmt in ctx.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                continue
            small = stmt.body[0]
            if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                continue
            qualname = ctx.resolve(small.targets[0].target)
            if qualname and qualname.startswith("openai.") and qualname.count(".") == 1:
                name = qualname.split(".")[1]
                # a single proxy URL moves into the constructor as http_client= (a dict stays a report)
                single_proxy = name == "proxy" and proxy_is_single(ctx, small.value)
                if name in CONSTRUCTOR_ARGS or name == "api_type" or single_proxy:
                    plan.config[name] = ConfigAssignment(stmt, name, small.value)
    target = run_target(ctx)
    other = target is not None and target.provider.kind == "api" and target.provider.name != "openai"
    if other and target is not None and target.provider.template == "azure" and _configures_azure(plan):
        other = False  # the user's endpoint, key, api_version and deployments stay (issue 9)
    view = ctx.project
    module = view.module_of(ctx.path)
    own = _own_sites(ctx)
    dual = ctx.cached(("legacy_branches_exist",), lambda: bool(legacy_branches(ctx.module)))
    local = ctx.cached(("local_openai",), lambda: imports_openai_locally_only(ctx) and not _async_calls(ctx))
    decision = decide(view, module, own, plan.style, target.provider.name if other and target else None, dual, local)
    plan.style, plan.reason = decision.style, decision.reason
    foreign = view.foreign_config(module) if module is not None else ()
    plan.azure_possible = any(s.name == "api_type" for s in (*own, *foreign))
    if other and target is not None:
        plan.provider = target.provider
        return plan
    api_type = plan.config.get("api_type")
    if api_type is not None:
        value = string_value(api_type.value)
        if value is None and plan.style == MODULE:
            pass  # the module-level client reads openai.api_type when it is first used, as v0 did
        elif value is None:
            plan.blocked = "`openai.api_type` is computed at run time; choose OpenAI or AzureOpenAI by hand"
        elif value.lower() in AZURE_TYPES:
            plan.azure = True
            plan.azure_ad = value.lower() != "azure"
        elif value.lower() not in OPENAI_TYPES:
            plan.blocked = f"unknown `openai.api_type` {value!r}"
    return plan
