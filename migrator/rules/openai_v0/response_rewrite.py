"""Expression rewrites from dict-style access of v0 responses to attribute access on current objects.

Pure functions of libcst nodes (no rule context): the flow analysis in ``response_access`` decides what
is a response; these build the replacement.

Dumps are ``to_dict()``: it is ``model_dump(by_alias=True, exclude_unset=True)``, so keys are the API's
own (moderation's ``self-harm``, not ``self_harm``) and only the fields the server sent appear, as in the
v0 dict.
"""

from __future__ import annotations

import keyword as _keyword
from collections.abc import Callable

import libcst as cst

from migrator.rules.names import string_value


def field_name(key: str) -> str | None:
    """The attribute for a v0 dict key (moderation categories: "self-harm/intent" -> self_harm_intent)."""
    name = key.replace("-", "_").replace("/", "_")
    return name if name.isidentifier() and not _keyword.iskeyword(name) else None


def string_key(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return string_value(node.slice[0].slice.value)


def chain_root(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, (cst.Subscript, cst.Attribute)):
        expr = expr.value
    return expr


def chain_depth(expr: cst.BaseExpression) -> int:
    """Links (subscripts and attributes) between ``expr`` and its chain root."""
    depth = 0
    while isinstance(expr, (cst.Subscript, cst.Attribute)):
        depth += 1
        expr = expr.value
    return depth


def to_attributes(expr: cst.BaseExpression, keep: int = 0) -> cst.BaseExpression:
    """Rewrite string-key subscripts along an access chain into attributes; the first ``keep`` links
    above the root stay as they are (``cache["q"]`` of a dict of responses)."""
    return _convert(expr, chain_depth(expr), keep)


def _convert(expr: cst.BaseExpression, level: int, keep: int) -> cst.BaseExpression:
    if isinstance(expr, cst.Subscript):
        inner = _convert(expr.value, level - 1, keep)
        key = string_key(expr) if level > keep else None
        name = field_name(key) if key is not None else None
        if name is not None:
            return cst.Attribute(value=inner, attr=cst.Name(name), lpar=expr.lpar, rpar=expr.rpar)
        return expr.with_changes(value=inner)
    if isinstance(expr, cst.Attribute):
        return expr.with_changes(value=_convert(expr.value, level - 1, keep))
    return expr


def convertible(expr: cst.BaseExpression, keep: int = 0) -> bool:
    """Every string key on the chain (above the kept links) maps to an attribute name."""
    level = chain_depth(expr)
    while isinstance(expr, (cst.Subscript, cst.Attribute)):
        if isinstance(expr, cst.Subscript) and level > keep:
            key = string_key(expr)
            if key is not None and field_name(key) is None:
                return False
        level -= 1
        expr = expr.value
    return True


def has_string_key(expr: cst.BaseExpression) -> bool:
    while isinstance(expr, (cst.Subscript, cst.Attribute)):
        if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
            index = expr.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, (cst.SimpleString, cst.ConcatenatedString)):
                return True
        expr = expr.value
    return False


def to_dict(expr: cst.BaseExpression, keep: int = 0) -> cst.BaseExpression:
    return cst.Call(func=cst.Attribute(value=to_attributes(expr, keep), attr=cst.Name("to_dict")))


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_empty_string(node: cst.BaseExpression) -> bool:
    return string_value(node) == ""


def _is_empty_dict(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Dict) and not node.elements


def get_steps(call: cst.Call) -> list[tuple[str, cst.BaseExpression | None]] | None:
    """``x.get("a", {}).get("b", 0)`` -> [("a", {}), ("b", 0)]; None unless every step is a ``.get`` with
    a string key that names a field, at most one default, and every inner default is ``{}``."""
    steps: list[tuple[str, cst.BaseExpression | None]] = []
    node: cst.BaseExpression = call
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
        args = node.args
        if not args or len(args) > 2 or any(a.keyword is not None or a.star for a in args):
            return None
        key = string_value(args[0].value)
        if key is None or field_name(key) is None:
            return None
        steps.append((key, args[1].value if len(args) == 2 else None))
        node = node.func.value
    steps.reverse()
    if any(default is None or not _is_empty_dict(default) for _, default in steps[:-1]):
        return None
    return steps


def get_base(call: cst.Call) -> cst.BaseExpression:
    """The receiver of the innermost ``.get`` of a chain."""
    node: cst.BaseExpression = call
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
        node = node.func.value
    return node


def pure(expr: cst.BaseExpression) -> bool:
    """A chain of names, attributes and constant subscripts: evaluating it twice is harmless."""
    while isinstance(expr, (cst.Subscript, cst.Attribute)):
        if isinstance(expr, cst.Subscript):
            if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
                return False
            if not isinstance(expr.slice[0].slice.value, (cst.Integer, cst.SimpleString, cst.Name, cst.UnaryOperation)):
                return False
        expr = expr.value
    return isinstance(expr, cst.Name)


def get_chain(call: cst.Call, keep: int = 0, optional_base: bool = False) -> cst.BaseExpression:
    """``.get`` chains as attributes, exactly: a missing key (``None`` now) gives the default.

    ``r.get("content")`` -> ``r.content``; ``r.get("content", "")`` -> ``(r.content or "")`` (a string
    field: the same thing); ``r.get("usage", {}).get("total_tokens", 0)`` ->
    ``(r.usage.total_tokens if r.usage is not None and r.usage.total_tokens is not None else 0)``.
    ``optional_base``: the receiver itself may be None (it stood for a ``.get(k, {})`` of v0).
    """
    steps = get_steps(call)
    assert steps is not None
    base = to_attributes(get_base(call), keep)
    checks: list[cst.BaseExpression] = [base] if optional_base else []
    current: cst.BaseExpression = base
    for key, _default in steps[:-1]:
        current = cst.Attribute(value=current, attr=cst.Name(field_name(key) or "_"))
        checks.append(current)
    last_key, default = steps[-1]
    value = cst.Attribute(value=current, attr=cst.Name(field_name(last_key) or "_"))
    if default is None or _is_none(default):
        if not checks:
            return value.with_changes(lpar=call.lpar, rpar=call.rpar)
        default = cst.Name("None")
    elif _is_empty_string(default) and not checks:
        return cst.BooleanOperation(
            left=value, operator=cst.Or(), right=default, lpar=[cst.LeftParen()], rpar=[cst.RightParen()]
        )
    else:
        checks.append(value)
    test: cst.BaseExpression | None = None
    for checked in checks:
        comparison = cst.Comparison(
            left=checked,
            comparisons=[cst.ComparisonTarget(operator=cst.IsNot(), comparator=cst.Name("None"))],
        )
        test = comparison if test is None else cst.BooleanOperation(left=test, operator=cst.And(), right=comparison)
    assert test is not None
    return cst.IfExp(
        test=test, body=value, orelse=default, lpar=[cst.LeftParen()], rpar=[cst.RightParen()],
    )


def membership(comparison: cst.Comparison, keep: int = 0) -> cst.BaseExpression | None:
    """``"content" in delta`` -> ``delta.content is not None`` (``not in`` -> ``is None``)."""
    if len(comparison.comparisons) != 1:
        return None
    target = comparison.comparisons[0]
    key = string_value(comparison.left)
    name = field_name(key) if key is not None else None
    if name is None:
        return None
    operator: cst.BaseCompOp = cst.IsNot() if isinstance(target.operator, cst.In) else cst.Is()
    attribute = cst.Attribute(value=to_attributes(target.comparator, keep), attr=cst.Name(name))
    return cst.Comparison(
        left=attribute,
        comparisons=[cst.ComparisonTarget(operator=operator, comparator=cst.Name("None"))],
        lpar=comparison.lpar,
        rpar=comparison.rpar,
    )


# -- edits (functions of the updated node, as Fix.edit takes them) ----------------------------------------
Edit = Callable[[cst.CSTNode], cst.CSTNode]


def edit_attributes(keep: int) -> Edit:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.BaseExpression)
        return to_attributes(node, keep)
    return edit


def edit_arg_to_dict(keep: int) -> Edit:
    """``f(resp)`` / ``f(**resp)``: the argument's value becomes ``resp.to_dict()``."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Arg)
        return node.with_changes(value=to_dict(node.value, keep))
    return edit


def edit_element_to_dict(keep: int) -> Edit:
    """``{"raw": resp}`` -> ``{"raw": resp.to_dict()}``."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.DictElement)
        return node.with_changes(value=to_dict(node.value, keep))
    return edit


def edit_call_to_dict(keep: int) -> Edit:
    """``dict(resp)`` -> ``resp.to_dict()``."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        return to_dict(node.args[0].value, keep)
    return edit


def edit_receiver_to_dict(keep: int) -> Edit:
    """``part.items()`` -> ``part.to_dict().items()``."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        return node.with_changes(func=node.func.with_changes(value=to_dict(node.func.value, keep)))
    return edit


def edit_method_name(name: str) -> Edit:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        return node.with_changes(func=node.func.with_changes(attr=cst.Name(name)))
    return edit


def edit_get_chain(keep: int, optional_base: bool = False) -> Edit:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        return get_chain(node, keep, optional_base)
    return edit


def edit_get_part(keep: int) -> Edit:
    """``r.get("usage", {})`` bound to a name -> ``r.usage`` (the name is then None-checked where used)."""
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        key = string_value(node.args[0].value) or ""
        return cst.Attribute(value=to_attributes(node.func.value, keep), attr=cst.Name(field_name(key) or "_"))
    return edit


def edit_membership(keep: int) -> Edit:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Comparison)
        return membership(node, keep) or node
    return edit


def edit_text_to_content(node: cst.CSTNode) -> cst.CSTNode:
    """``choice["text"]`` / ``choice.text`` -> ``choice.message.content`` (a completion became a chat call)."""
    assert isinstance(node, (cst.Subscript, cst.Attribute))
    inner = cst.Attribute(value=to_attributes(node.value), attr=cst.Name("message"))
    return cst.Attribute(value=inner, attr=cst.Name("content"))
