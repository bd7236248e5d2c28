"""OAI201: module-level configuration of the v0 SDK that moves into a client."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.names import string_value
from migrator.rules.openai_v0.catalog import CONFIG_WITH_EQUIVALENT, split_qualname
from migrator.rules.openai_v0.clients import AZURE_TYPES, OPENAI_TYPES, client_plan
from migrator.rules.types import FixSafety


class LegacyConfigGlobal(Rule):
    """## What it does
    Finds `openai.api_key`, `openai.api_base`, `openai.organization`, `openai.api_version` and
    `openai.api_type`, assigned or read, in modules that use the v0 API. `openai.api_base` is flagged
    everywhere: it no longer exists.

    ## Why is this bad?
    A client built with `OpenAI()` does not read these globals, and `openai.api_base` is silently
    ignored now (assigning it raises nothing; the module client uses `openai.base_url`), so requests go
    to api.openai.com with whatever key the environment holds.

    ## Example
    ```python
    openai.api_key = os.environ["MY_KEY"]
    openai.api_base = "http://localhost:8000/v1"
    ```

    Use instead:
    ```python
    client = OpenAI(api_key=os.environ["MY_KEY"], base_url="http://localhost:8000/v1")
    ```

    ## Fix safety
    Safe: each value moves, as written, into the client constructor (`api_base` becomes `base_url`,
    `api_type = "azure"` selects `AzureOpenAI`). Reads that cannot be moved are report-only.
    """

    valid = (
        "import openai\nopenai.api_key = 'k'\nopenai.chat.completions.create(model='m', messages=[])",
        "from openai import OpenAI\nclient = OpenAI(api_key='k')",
        "import settings\nsettings.api_base = 'x'",
    )
    has_fixes = True
    invalid = (
        Invalid(
            "import openai\nopenai.api_key = key\nopenai.ChatCompletion.create(model='m', messages=[])",
            fixed="from openai import OpenAI\n\nclient = OpenAI(api_key=key)\nclient.chat.completions.create(model='m', messages=[])",
        ),
        Invalid("import openai\nopenai.api_base = 'http://localhost:8000/v1'", fixed="import openai\nopenai.base_url = 'http://localhost:8000/v1'"),
        Invalid(
            "import openai\nopenai.api_type = 'azure'\nopenai.api_version = '2023-05-15'\n"
            "openai.Completion.create(engine='d', prompt='p')",
            2,
        ),
        Invalid("import openai\nif openai.api_key is None:\n    raise SystemExit\nopenai.Embedding.create(input='x')"),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.sites: list[tuple[cst.Attribute, str, bool]] = []
        self.assigned: set[int] = set()
        self.legacy_seen = False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.assigned.add(id(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.assigned.add(id(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.assigned.add(id(node.target))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        qualname = self.ctx.reference(node)
        if not qualname or not qualname.startswith("openai."):
            return
        if split_qualname(qualname) is not None or qualname.startswith("openai.error"):
            self.legacy_seen = True
            return
        name = qualname[len("openai."):]
        if name in CONFIG_WITH_EQUIVALENT:
            self.sites.append((node, name, id(node) in self.assigned))

    def leave_Module(self, original_node: cst.Module) -> None:
        plan = client_plan(self.ctx)
        top_level = {id(c.statement.body[0].targets[0].target): n for n, c in plan.config.items()}  # type: ignore[attr-defined]
        for node, name, assigned in self.sites:
            if not (self.legacy_seen or name == "api_base"):
                continue
            target = CONFIG_WITH_EQUIVALENT[name]
            if not assigned:
                fix = None
                if name == "api_base" and plan.current_global(name) != name:
                    fix = Fix().edit(node, lambda n, new=plan.current_global(name): n.with_changes(attr=cst.Name(new)))
                self.report(
                    node,
                    f"`openai.{name}` is read here, but clients do not use the v0 module configuration;"
                    f" read it from the client or from where it is set",
                    FixSafety.SAFE if fix else FixSafety.REPORT,
                    fix,
                )
                continue
            fix = None
            if id(node) in top_level and plan.moves(name):
                fix = Fix().edit(self.ctx.module, plan.module_edit).remove_import("openai")
            elif name == "api_base":
                fix = Fix().edit(node, lambda n, new=plan.current_global(name): n.with_changes(attr=cst.Name(new)))
            elif name == "api_type" and id(node) in top_level:
                value = string_value(plan.config["api_type"].value)
                normal = "azure" if value in AZURE_TYPES else "openai" if value in OPENAI_TYPES else None
                if normal and normal != value:
                    statement = plan.config["api_type"].statement.body[0]
                    fix = Fix().edit(statement, lambda s, v=normal: s.with_changes(value=cst.SimpleString(repr(v))))
            where = target if " " in target else f"`{target}=` of the client"
            self.report(node, f"`openai.{name}` configured the v0 module; pass it as {where}", plan=fix)
