"""OAI201: module-level configuration of the v0 SDK that moves into a client."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix, Invalid, Rule
from migrator.rules.names import string_value
from migrator.rules.openai_v0.catalog import CONFIG_WITH_EQUIVALENT, split_qualname
from migrator.rules.openai_v0.clients import AZURE_TYPES, OPENAI_TYPES, client_plan
from migrator.rules.types import FixSafety


def _rename(new: str):
    """An edit that renames the attribute of ``openai.<name>`` to ``new``."""

    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Attribute)
        return node.with_changes(attr=cst.Name(new))

    return edit


def _with_trailing_slash(value: cst.CSTNode) -> cst.CSTNode:
    """The module-level client joins request paths to ``openai.base_url`` as written (checked in openai
    3.57: ``http://h/v1`` + ``chat/completions`` -> ``http://h/v1chat/completions``), while v0 added the
    slash itself: the value must end with one."""
    if isinstance(value, cst.SimpleString):
        text = string_value(value)
        if text is None or text.endswith("/") or "\\" in value.value:
            return value
        return value.with_changes(value=value.value[: len(value.prefix) + len(value.quote)] + text + "/" + value.quote)
    if isinstance(value, cst.BinaryOperation) and isinstance(value.right, cst.SimpleString):
        right = _with_trailing_slash(value.right)
        if right is not value.right:
            return value.with_changes(right=right)
    inner = value if isinstance(value, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)) else cst.parse_expression(
        f"({cst.Module([]).code_for_node(value)})")
    return cst.parse_expression(f'{cst.Module([]).code_for_node(inner)}.rstrip("/") + "/"')


def _strings(value: cst.BaseExpression) -> list[cst.SimpleString]:
    """The string literals in ``value`` (defaults of ``os.getenv(...)``, branches of ``x if c else y``)."""
    found: list[cst.SimpleString] = []

    class Finder(cst.CSTVisitor):
        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            found.append(node)

    value.visit(Finder())
    return found


def _tests_azure(test: cst.BaseExpression) -> bool:
    """Whether an ``if`` test asks about Azure: a name, attribute or string in it says "azure"
    (``is_azure()``, ``settings.USE_AZURE``, ``openai.api_type in ("azure", "azure_ad")``), and it is
    not negated."""
    if isinstance(test, cst.UnaryOperation):
        return False
    found = False

    class Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            nonlocal found
            found = found or "azure" in node.value.lower()

        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            nonlocal found
            found = found or "azure" in (string_value(node) or "").lower()

        def visit_Comparison(self, node: cst.Comparison) -> bool:
            # `api_type != "azure"` / `not in` asks the opposite
            return not any(isinstance(c.operator, (cst.NotEqual, cst.NotIn, cst.IsNot)) for c in node.comparisons)

    test.visit(Finder())
    return found


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
        Invalid("import openai\nopenai.api_base = 'http://localhost:8000/v1'", fixed="import openai\nopenai.base_url = 'http://localhost:8000/v1/'"),
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
        self.block_of: dict[int, int] = {}  # id(assigned attribute) -> id(the clause it stands in)
        self.azure_blocks: set[int] = set()  # clauses that assign openai.api_type = "azure"/"azure_ad"
        self.values: dict[int, cst.BaseExpression] = {}  # id(assigned attribute) -> value
        self.statement_of: dict[int, cst.CSTNode] = {}

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self.values[id(target.target)] = node.value

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
            if id(node) in self.assigned:
                clause = self.ctx.statements[-2] if len(self.ctx.statements) >= 2 else self.ctx.module
                self.block_of[id(node)] = id(clause)
                if self.ctx.statements:
                    self.statement_of[id(node)] = self.ctx.statements[-1]
                value = string_value(self.values[id(node)]) if id(node) in self.values else None
                if name == "api_type" and value is not None and value.lower() in AZURE_TYPES:
                    self.azure_blocks.add(id(clause))
                if isinstance(clause, cst.If) and _tests_azure(clause.test):
                    self.azure_blocks.add(id(clause))  # `if is_azure():`, `if openai.api_type == "azure":`

    def _current(self, plan, node: cst.Attribute, name: str) -> str:
        """Today's module attribute for ``openai.<name>`` here: ``azure_endpoint`` for an api_base set
        next to ``api_type = "azure"`` (a branch that chooses Azure at run time)."""
        if name == "api_base" and self.block_of.get(id(node)) in self.azure_blocks:
            return "azure_endpoint"
        return plan.current_global(name)

    def leave_Module(self, original_node: cst.Module) -> None:
        plan = client_plan(self.ctx)
        top_level = {id(c.statement.body[0].targets[0].target): n for n, c in plan.config.items()}  # type: ignore[attr-defined]
        for node, name, assigned in self.sites:
            # A module without v0 calls that sets api_type for the others: only v0's values are renamed.
            only_normalise = not self.legacy_seen and name == "api_type" and bool(self.ctx.project.calling_modules())
            if not (self.legacy_seen or name == "api_base" or (only_normalise and assigned)):
                continue
            target = CONFIG_WITH_EQUIVALENT[name]
            if plan.style == "module" and name in ("api_key", "organization", "api_version") and not plan.blocked:
                continue  # the module-level client reads these very globals: nothing to change
            if not assigned:
                fix = None
                if name == "api_base" and plan.current_global(name) != name:
                    fix = Fix().edit(node, _rename(plan.current_global(name)))
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
                current = self._current(plan, node, name)
                fix = Fix().edit(node, _rename(current))
                assigned_value = self.values.get(id(node))
                if current == "base_url" and assigned_value is not None:
                    fix.edit(assigned_value, _with_trailing_slash)
            elif name == "api_type" and (id(node) in top_level or plan.style == "module") and id(node) in self.values:
                # The literal, or the literals in a computed value (`os.getenv("OPENAI_API_TYPE", "open_ai")`).
                assigned_value = self.values[id(node)]
                literals = [assigned_value] if isinstance(assigned_value, cst.SimpleString) else _strings(assigned_value)
                for literal in literals:
                    value = string_value(literal)
                    normal = "azure" if value in AZURE_TYPES else "openai" if value in OPENAI_TYPES else None
                    if normal and normal != value:
                        quote = literal.quote
                        fix = fix or Fix()
                        fix.replace(literal, cst.SimpleString(f"{quote}{normal}{quote}"))
            if only_normalise and fix is None:
                continue
            where = target if " " in target else f"`{target}=` of the client"
            self.report(node, f"`openai.{name}` configured the v0 module; pass it as {where}", plan=fix)
