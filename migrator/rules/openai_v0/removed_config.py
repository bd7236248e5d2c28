"""OAI202: module-level v0 configuration that has no equivalent any more."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.openai_v0.catalog import CONFIG_REMOVED
from migrator.rules.openai_v0.clients import _async_calls, _keyword, client_plan, proxy_is_single
from migrator.rules.openai_v0.planning import MODULE
from migrator.rules.types import FixSafety


class RemovedConfigGlobal(Rule):
    """## What it does
    Finds `openai.proxy`, `openai.api_key_path`, `openai.requestssession`, `openai.aiosession`,
    `openai.debug`, `openai.log`, `openai.verify_ssl_certs`, `openai.app_info`,
    `openai.ca_bundle_path` and `openai.enable_telemetry`, assigned or read.

    ## Why is this bad?
    None of them exists in openai>=1.0. Assigning one raises nothing and does nothing (a proxy that is
    silently not used); reading one raises `AttributeError`.

    ## Example
    ```python
    openai.proxy = "http://proxy.internal:3128"
    ```

    Use instead:
    ```python
    client = OpenAI(http_client=DefaultHttpx2Client(proxy="http://proxy.internal:3128"))
    ```

    ## Fix safety
    Safe for `openai.proxy` set to one URL (a string, or a value read from the environment): it moves
    into the module's client as `http_client=DefaultHttpx2Client(proxy=...)` (`DefaultAsyncHttpx2Client`
    for the async client; the SDK's own defaults, with v0's single proxy for http and https), or, with
    the module-level client (`--client-style module`), becomes `openai.http_client =
    openai.DefaultHttpx2Client(proxy=...)`, which that client reads at every request. A dict of
    per-scheme proxies and every other global are report-only: a `# TODO(migrate)` comment says what
    to do instead.
    """

    has_fixes = True
    valid = (
        "import openai\nopenai.base_url = 'http://x'",
        "import logging\nlogging.log(1, 'x')",
        "from openai import OpenAI\nclient = OpenAI()\nclient.debug = True",
    )
    invalid = (
        Invalid("import openai\nopenai.proxy = 'http://p:3128'"),
        Invalid(
            "import openai\nopenai.proxy = 'http://p:3128'\nopenai.Model.list()",
            fixed="from openai import DefaultHttpx2Client, OpenAI\n\n"
            "client = OpenAI(http_client=DefaultHttpx2Client(proxy='http://p:3128'))\nclient.models.list()",
        ),
        Invalid(
            "import openai\nopenai.proxy = 'http://p:3128'\nopenai.Model.list()",
            fixed="import openai\nopenai.http_client = openai.DefaultHttpx2Client(proxy='http://p:3128')\n"
            "openai.models.list()",
            options={"client_style": "module"},
        ),
        Invalid("import openai\nopenai.proxy = {'https': 'http://p:3128'}\nopenai.Model.list()"),
        Invalid("import openai\nopenai.api_key_path = '/etc/key'\nopenai.log = 'debug'", 2),
        Invalid("import openai\nimport requests\nopenai.requestssession = requests.Session()"),
        Invalid("import openai\nif openai.verify_ssl_certs:\n    pass"),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.values: dict[int, cst.Assign] = {}  # id(assigned attribute) -> its assignment
        # single-URL proxies, decided once the module's client plan is known: (target, assignment, statements)
        self.proxies: list[tuple[cst.Attribute, cst.Assign, list[cst.CSTNode]]] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1:
            self.values[id(node.targets[0].target)] = node

    def visit_Attribute(self, node: cst.Attribute) -> None:
        qualname = self.ctx.reference(node)
        if not (qualname and qualname.startswith("openai.") and qualname.count(".") == 1):
            return
        name = qualname[len("openai."):]
        if name not in CONFIG_REMOVED:
            return
        assign = self.values.get(id(node)) if name == "proxy" else None
        if assign is not None and proxy_is_single(self.ctx, assign.value):
            self.proxies.append((node, assign, list(self.ctx.statements)))
        elif assign is not None and isinstance(assign.value, cst.Dict):
            self.report(node, "`openai.proxy` no longer exists (setting it does nothing), and a dict of per-scheme"
                        " proxies has no single `proxy=`: give the client `http_client=DefaultHttpx2Client(mounts={"
                        "\"http://\": httpx2.HTTPTransport(proxy=...), \"https://\": httpx2.HTTPTransport(proxy=...)})`"
                        " (those transports do not get the SDK's connection limits) or one `proxy=` URL for both")
        else:
            self.report(node, f"`openai.{name}` no longer exists (setting it does nothing): {CONFIG_REMOVED[name]}")

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self.proxies:
            return
        plan = client_plan(self.ctx)
        top_level = {id(c.statement.body[0]) for n, c in plan.config.items() if n == "proxy"}
        saved = self.ctx.statements
        try:
            for node, assign, statements in self.proxies:
                self.ctx.statements = statements  # where a report-only finding puts its TODO
                if id(assign) in top_level and plan.moves("proxy"):
                    fix = Fix().edit(self.ctx.module, plan.module_edit).remove_import("openai")
                    self.report(node, "`openai.proxy` configured the v0 module; pass it as the client's"
                                " `http_client=`", FixSafety.SAFE, fix)
                elif self._module_client_takes_proxy(plan):
                    fix = Fix().replace(assign, assign.with_changes(
                        targets=[assign.targets[0].with_changes(target=node.with_changes(attr=cst.Name("http_client")))],
                        value=_http_client(node, assign.value),
                    ))
                    self.report(node, "`openai.proxy` no longer exists; the module-level client reads"
                                " `openai.http_client`", FixSafety.SAFE, fix)
                else:
                    self.report(node, f"`openai.proxy` no longer exists (setting it does nothing): {CONFIG_REMOVED['proxy']}")
        finally:
            self.ctx.statements = saved

    def _module_client_takes_proxy(self, plan) -> bool:
        """The module-level client (sync only) honours ``openai.http_client``; its lazily built async or
        per-call-credential clients do not, so there the proxy stays a report."""
        return (plan.style == MODULE and plan.blocked is None and not plan.lazy_async and not plan.lazy_sync
                and not _async_calls(self.ctx))


def _http_client(node: cst.Attribute, value: cst.BaseExpression) -> cst.Call:
    """``openai.DefaultHttpx2Client(proxy=<value>)``, on the name the module binds openai to."""
    func = node.with_changes(attr=cst.Name("DefaultHttpx2Client"))
    return cst.Call(func, [_keyword("proxy", value)])
