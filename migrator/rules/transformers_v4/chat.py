"""What the instruction-model rules (HF208-HF212) share: turning a GPT-2 prompt expression into chat
messages, finding the ``generate`` calls a tokenizer output feeds, and the code that strips an echoed prompt.

Analysis stays inside one scope (a function body or the module): values are followed through names
assigned in that scope, as the other rules do.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from migrator.rules.base import RuleContext
from migrator.rules.edits import append_arg, keyword_arg
from migrator.rules.names import string_value
from migrator.rules.options import run_target
from migrator.rules.transformers_v4.catalog import imports_transformers, loader_kind

_EMPTY = cst.Module([])
TOKENIZER_KEYWORDS_KEPT = ("padding", "truncation", "max_length")
TOKENIZER_KEYWORDS_DROPPED = ("return_tensors", "add_special_tokens", "return_attention_mask")


def code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def hf_target_model(ctx: RuleContext) -> str | None:
    """The ``hf:`` target's model id when this run has one and the module uses transformers."""
    target = run_target(ctx)
    if target is None or not target.is_hf or not imports_transformers(ctx):
        return None
    return target.model


def append_keyword(call: cst.Call, name: str, value: str) -> cst.Call:
    """``call`` with ``name=value`` added as its last argument."""
    return append_arg(call, keyword_arg(name, cst.parse_expression(value)))


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def method_name(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def single_value(ctx: RuleContext, expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The one expression a local name is assigned (None when it is assigned more than once, or is not
    a name assigned in reach)."""
    if not isinstance(expr, cst.Name):
        return None
    values = ctx.index.assigned_values(expr.value, ctx.scope) or []
    return values[0] if len(values) == 1 else None


def _is_constant_text(ctx: RuleContext, expr: cst.BaseExpression) -> bool:
    """A string literal, or a name bound once, to a string literal (a system prompt or few-shot prefix)."""
    if string_value(expr) is not None:
        return True
    value = single_value(ctx, expr)
    return value is not None and string_value(value) is not None


def add_operands(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The operands of a chain of ``+`` (``a + b + c`` -> [a, b, c]); [expr] for anything else."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add) and not expr.lpar:
        return [*add_operands(expr.left), *add_operands(expr.right)]
    return [expr]


def messages_for(ctx: RuleContext, prompt: cst.BaseExpression) -> str:
    """Chat messages (code) for a prompt expression: ``SYSTEM + question`` (or ``FEW_SHOT + "Q: " + q``)
    with a string constant first becomes a system and a user message; anything else is one user message."""
    expr = prompt
    if isinstance(expr, cst.Name):  # prompt = SYSTEM + question, then tokenizer(prompt)
        value = single_value(ctx, expr)
        if isinstance(value, cst.BinaryOperation):
            expr = value
    operands = add_operands(expr)
    if len(operands) > 1 and isinstance(operands[0], cst.Name) and _is_constant_text(ctx, operands[0]):
        rest = operands[1:]
        if not all(_is_constant_text(ctx, o) for o in rest):
            user = " + ".join(code(o) for o in rest)
            return (f'[{{"role": "system", "content": {code(operands[0])}}}, '
                    f'{{"role": "user", "content": {user}}}]')
    return f'[{{"role": "user", "content": {code(prompt)}}}]'


def is_batch(ctx: RuleContext, expr: cst.BaseExpression, call: cst.Call) -> bool:
    """Whether a tokenizer/pipeline input is a list of prompts rather than one prompt."""
    if isinstance(expr, (cst.List, cst.ListComp)):
        return True
    value = single_value(ctx, expr)
    if isinstance(value, (cst.List, cst.ListComp)):
        return True
    if value is not None and (string_value(value) is not None or isinstance(value, (cst.FormattedString, cst.BinaryOperation))):
        return False
    if value is None and isinstance(expr, cst.Name) and expr.value.endswith("s") and not expr.value.endswith("ss"):
        return True  # a parameter named like a collection: prompts, texts, questions
    return keyword(call, "padding") is not None


def conversation(ctx: RuleContext, prompt: cst.BaseExpression, call: cst.Call) -> str:
    """The conversation argument of ``apply_chat_template``/a chat pipeline for a GPT-2 prompt input."""
    history = history_conversation(ctx, prompt)
    if history is not None:
        return history
    if is_batch(ctx, prompt, call):
        return f'[[{{"role": "user", "content": p}}] for p in {code(prompt)}]'
    return messages_for(ctx, prompt)


def scope_calls(ctx: RuleContext) -> list[cst.Call]:
    """Every call in the current scope (not in nested functions or classes)."""
    def find() -> list[cst.Call]:
        finder = _CallFinder()
        for statement in _scope_statements(ctx.scope.node):
            statement.visit(finder)
        return finder.calls

    return ctx.cached(("scope_calls", id(ctx.scope.node)), find)


def generate_calls(ctx: RuleContext) -> list[cst.Call]:
    """``<x>.generate(...)`` calls in the current scope (not in nested functions or classes)."""
    return [c for c in scope_calls(ctx) if method_name(c) == "generate" and isinstance(c.func, cst.Attribute)]


def is_text_generation_pipeline(ctx: RuleContext, expr: cst.BaseExpression) -> bool:
    """``expr`` is ``pipeline("text-generation", ...)`` or a name assigned one."""
    candidates: list[cst.BaseExpression] = [expr] if isinstance(expr, cst.Call) else []
    if isinstance(expr, cst.Name):
        candidates = list(ctx.index.assigned_values(expr.value, ctx.scope) or ())
    for value in candidates:
        if isinstance(value, cst.Call) and loader_kind(ctx, value) == "pipeline":
            task = keyword(value, "task") or next((a for a in value.args if a.keyword is None), None)
            if task is not None and string_value(task.value) == "text-generation":
                return True
    return False


def prompt_input(call: cst.Call) -> cst.Arg | None:
    """The text argument of a tokenizer or pipeline call."""
    return (keyword(call, "text") or keyword(call, "text_inputs")
            or next((a for a in call.args if a.keyword is None and not a.star), None))


def is_model_input_call(ctx: RuleContext, call: cst.Call) -> bool:
    """A tokenizer call that makes tensors for the model, or a call of a text-generation pipeline."""
    return ((keyword(call, "return_tensors") is not None and method_name(call) not in ("decode", "batch_decode"))
            or is_text_generation_pipeline(ctx, call.func))


class _CallFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[cst.Call] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


def feeds_generate(ctx: RuleContext, name: str) -> bool:
    """Whether the local ``name`` is passed to a ``generate`` call of this scope."""
    for call in generate_calls(ctx):
        for arg in call.args:
            value = arg.value
            while isinstance(value, (cst.Subscript, cst.Attribute)):  # inputs["input_ids"], inputs.input_ids
                value = value.value
            if isinstance(value, cst.Name) and value.value == name:
                return True
    return False


def prompt_length(call: cst.Call) -> str | None:
    """Code for the number of prompt tokens of a ``generate`` call (``inputs["input_ids"].shape[-1]``),
    when its input is a name, an attribute or a subscript of one."""
    chosen: cst.BaseExpression | None = None
    unpacked = False
    for arg in call.args:
        if arg.star == "**":
            chosen, unpacked = arg.value, True
            break
        if arg.keyword is not None and arg.keyword.value in ("input_ids", "inputs"):
            chosen = arg.value
            break
        if arg.keyword is None and not arg.star and chosen is None:
            chosen = arg.value
    if chosen is None:
        return None
    base = chosen
    while isinstance(base, (cst.Subscript, cst.Attribute)):
        base = base.value
    if not isinstance(base, cst.Name):
        return None
    return f'{code(chosen)}["input_ids"].shape[-1]' if unpacked else f"{code(chosen)}.shape[-1]"


def generate_of(ctx: RuleContext, expr: cst.BaseExpression) -> cst.Call | None:
    """The ``generate`` call whose output the name ``expr`` holds (assigned once in this scope)."""
    value = single_value(ctx, expr)
    if isinstance(value, cst.Call) and method_name(value) == "generate" and isinstance(value.func, cst.Attribute):
        return value
    return None


def is_length_strip(node: cst.Subscript, prompt: str | None = None) -> bool:
    """``text[len(prompt):]``: a slice that starts at the length of something and has no end."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Slice):
        return False
    part = node.slice[0].slice
    lower = part.lower
    return (part.upper is None and part.step is None and isinstance(lower, cst.Call)
            and isinstance(lower.func, cst.Name) and lower.func.value == "len" and len(lower.args) == 1
            and (prompt is None or code(lower.args[0].value) == prompt))


def is_replace_strip(node: cst.Call) -> bool:
    """``text.replace(prompt, "")``."""
    if method_name(node) != "replace" or len(node.args) != 2 or not isinstance(node.func, cst.Attribute):
        return False
    return string_value(node.args[1].value) == ""


class _NameUses(cst.CSTVisitor):
    """Within one scope: the statements that assign or extend ``name`` and every other use of it."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.assigns: list[cst.Assign] = []
        self.extends: list[cst.AugAssign] = []
        self.uses: list[cst.Name] = []
        self._targets: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name) and target.target.value == self.name:
                self.assigns.append(node)
                self._targets.add(id(target.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self.extends.append(node)
            self._targets.add(id(node.target))

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False  # an attribute label is not a use

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False  # nor is a keyword

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and id(node) not in self._targets:
            self.uses.append(node)


@dataclass
class StringHistory:
    """A conversation kept as a growing string: ``history = ""`` and ``history += ...`` turns."""

    name: str
    start: cst.Assign
    start_code: str  # the list it starts as
    turns: list[tuple[cst.AugAssign, str, str]]  # (statement, role, content code)
    prompt_uses: list[cst.Name]  # where the whole history is sent to the model
    recognised: bool  # every turn becomes a message, and the string is used for nothing else


def _scope_statements(node: cst.CSTNode) -> list[cst.CSTNode]:
    body = node.body if isinstance(node, cst.Module) else getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    return list(body) if isinstance(body, (list, tuple)) else []


def _looks_generated(ctx: RuleContext, expr: cst.BaseExpression) -> bool:
    """``expr`` is (a name assigned) text the model produced: a decode or a pipeline's generated_text."""
    values = [expr]
    if isinstance(expr, cst.Name):
        values = list(ctx.index.assigned_values(expr.value, ctx.scope) or ())
    text = " ".join(code(v) for v in values)
    return any(marker in text for marker in ("decode(", "generated_text", ".generate("))


def _turn(ctx: RuleContext, expr: cst.BaseExpression) -> tuple[str, str] | None:
    """(role, content code) for what one ``history += expr`` appends."""
    if isinstance(expr, cst.FormattedString):
        parts = [p.expression for p in expr.parts if isinstance(p, cst.FormattedStringExpression)]
    else:
        parts = [o for o in add_operands(expr) if not _is_constant_text(ctx, o)]
    if len(parts) != 1:
        return None
    content = parts[0]
    return ("assistant" if _looks_generated(ctx, content) else "user"), code(content)


def string_history(ctx: RuleContext, name: str) -> StringHistory | None:
    """The growing-string conversation held in ``name`` in the current scope: ``name = ""`` (or a string
    constant), ``name += ...`` turns, and the whole string sent to the model. ``recognised`` when every
    turn can become a message and the string is used for nothing else."""
    return ctx.cached(("string_history", id(ctx.scope.node), name), lambda: _string_history(ctx, name))


def _string_history(ctx: RuleContext, name: str) -> StringHistory | None:
    result = None
    uses = _NameUses(name)
    for statement in _scope_statements(ctx.scope.node):
        statement.visit(uses)
    sent = [a.value for c in scope_calls(ctx) if is_model_input_call(ctx, c) and (a := prompt_input(c)) is not None]
    prompt_uses = [u for u in uses.uses if any(u is s for s in sent)]
    if uses.assigns and uses.extends and prompt_uses:
        start = uses.assigns[0]
        initial = string_value(start.value)
        if initial is None and _is_constant_text(ctx, start.value):
            initial = "constant"
        if initial is not None:
            turns = [(e, *t) for e in uses.extends if isinstance(e.operator, cst.AddAssign) and (t := _turn(ctx, e.value))]
            recognised = (len(uses.assigns) == 1 and len(turns) == len(uses.extends) and any(t[1] == "user" for t in turns)
                          and len(prompt_uses) == len(uses.uses))
            start_code = "[]" if initial == "" else f'[{{"role": "system", "content": {code(start.value)}}}]'
            result = StringHistory(name, start, start_code, turns, prompt_uses, recognised)  # type: ignore[arg-type]
    return result


def history_conversation(ctx: RuleContext, prompt: cst.BaseExpression) -> str | None:
    """``history`` itself when ``prompt`` is a growing-string conversation that HF211 turns into messages."""
    if isinstance(prompt, cst.Name):
        history = string_history(ctx, prompt.value)
        if history is not None and history.recognised:
            return prompt.value
    return None


class LoopItems:
    """Names bound by ``for`` loops and comprehensions to the items of a value, while inside them.

    A rule calls :meth:`enter` from ``visit_For``/``visit_CompFor`` and :meth:`leave` from the matching
    leave hooks, with a predicate that says which iterables it follows."""

    def __init__(self) -> None:
        self.items: dict[str, list[cst.BaseExpression]] = {}

    def enter(self, target: cst.BaseExpression, iterable: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.items.setdefault(target.value, []).append(iterable)

    def leave(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name) and self.items.get(target.value):
            self.items[target.value].pop()

    def iterable_of(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """What the loop variable ``expr`` iterates over (innermost loop), or None."""
        if isinstance(expr, cst.Name) and self.items.get(expr.value):
            return self.items[expr.value][-1]
        return None


def _comp_fors(node: cst.CSTNode) -> list[cst.CompFor]:
    fors = []
    current = getattr(node, "for_in", None)
    while isinstance(current, cst.CompFor):
        fors.append(current)
        current = current.inner_for_in
    return fors


class LoopTracking:
    """Mixin for rules: keeps ``self.loops`` (:class:`LoopItems`) in step with ``for`` statements and
    comprehensions (whose element is visited before their ``for`` clauses, hence entered up front)."""

    loops: LoopItems

    def visit_Module(self, node: cst.Module) -> None:
        self.loops = LoopItems()

    def visit_For(self, node: cst.For) -> None:
        self.loops.enter(node.target, node.iter)

    def leave_For(self, original_node: cst.For) -> None:
        self.loops.leave(original_node.target)

    def _enter_comprehension(self, node: cst.CSTNode) -> None:
        for clause in _comp_fors(node):
            self.loops.enter(clause.target, clause.iter)

    def _leave_comprehension(self, node: cst.CSTNode) -> None:
        for clause in reversed(_comp_fors(node)):
            self.loops.leave(clause.target)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._enter_comprehension(node)

    def leave_ListComp(self, original_node: cst.ListComp) -> None:
        self._leave_comprehension(original_node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._enter_comprehension(node)

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp) -> None:
        self._leave_comprehension(original_node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._enter_comprehension(node)

    def leave_SetComp(self, original_node: cst.SetComp) -> None:
        self._leave_comprehension(original_node)
