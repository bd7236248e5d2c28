"""Building blocks for openai rewrites: expressions for current names and exception constructors."""

from __future__ import annotations

import libcst as cst

from migrator.rules.base import Fix

# Status code each current exception class stands for, to build a faithful httpx2 response in tests.
STATUS: dict[str, int] = {
    "BadRequestError": 400,
    "AuthenticationError": 401,
    "PermissionDeniedError": 403,
    "NotFoundError": 404,
    "ConflictError": 409,
    "UnprocessableEntityError": 422,
    "RateLimitError": 429,
    "InternalServerError": 503,
}
_REQUEST = 'httpx2.Request("POST", "https://api.openai.com/v1")'


def openai_attr(name: str, fix: Fix, base: cst.BaseExpression | None = None) -> cst.BaseExpression:
    """``<base>.name`` when the module already reaches openai through ``base``, else ``openai.name``."""
    if base is not None:
        return cst.Attribute(value=base, attr=cst.Name(name))
    fix.add_import("openai")
    return cst.parse_expression(f"openai.{name}")


def constructor_call(
    call: cst.Call, cls: str, new_func: cst.BaseExpression, fix: Fix, status: int | None = None
) -> cst.Call | None:
    """Rewrite ``openai.error.X(message)`` as the current class built with the arguments it now needs
    (``status``: the HTTP status of the response it carries, when not the class's usual one); None when
    the old arguments cannot be carried over (then the call is only reported)."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if len(positional) != len(call.args) or len(positional) > 2 or (len(positional) == 2 and cls != "BadRequestError"):
        return None
    message = positional[0].value if positional else cst.SimpleString('"error"')
    if len(positional) == 2:  # v0 InvalidRequestError(message, param): the param travels in the error body
        fix.add_import("httpx2")
        body = cst.Dict([
            cst.DictElement(cst.SimpleString('"message"'), message, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.DictElement(cst.SimpleString('"param"'), positional[1].value),
        ])
        extra = cst.parse_expression(f"f(response=httpx2.Response({status or STATUS[cls]}, request={_REQUEST}))")
        return call.with_changes(func=new_func, args=[
            cst.Arg(message), *extra.args, cst.Arg(body, keyword=cst.Name("body"), equal=cst.AssignEqual(  # type: ignore[attr-defined]
                whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))])
    if cls in STATUS:
        fix.add_import("httpx2")
        extra = cst.parse_expression(f"f(response=httpx2.Response({status or STATUS[cls]}, request={_REQUEST}), body=None)")
        return call.with_changes(func=new_func, args=[cst.Arg(message), *extra.args])  # type: ignore[attr-defined]
    if cls == "APIError":
        fix.add_import("httpx2")
        extra = cst.parse_expression(f"f(request={_REQUEST}, body=None)")
        return call.with_changes(func=new_func, args=[cst.Arg(message), *extra.args])  # type: ignore[attr-defined]
    if cls == "APIConnectionError":
        fix.add_import("httpx2")
        extra = cst.parse_expression(f"f(request={_REQUEST})")
        return call.with_changes(
            func=new_func, args=[cst.Arg(message, keyword=cst.Name("message")), *extra.args]  # type: ignore[attr-defined]
        )
    if cls == "APITimeoutError":
        fix.add_import("httpx2")
        return call.with_changes(func=new_func, args=cst.parse_expression(f"f(request={_REQUEST})").args)  # type: ignore[attr-defined]
    if cls == "OpenAIError":
        return call.with_changes(func=new_func)
    return None


def flatten_tuple(node: cst.CSTNode) -> cst.CSTNode:
    """Inline parenthesised tuples nested in a tuple (``(A, (B, C))`` -> ``(A, B, C)``)."""
    if not isinstance(node, cst.Tuple):
        return node
    elements: list[cst.BaseElement] = []
    for element in node.elements:
        if isinstance(element.value, cst.Tuple) and not isinstance(element, cst.StarredElement):
            inner = list(element.value.elements)
            for i, item in enumerate(inner):
                if i == len(inner) - 1:
                    comma = element.comma  # the outer element's own separator, or none
                elif item.comma is cst.MaybeSentinel.DEFAULT:
                    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                else:
                    comma = item.comma
                elements.append(item.with_changes(comma=comma))
        else:
            elements.append(element)
    return node.with_changes(elements=elements)


def dotted(text: str) -> cst.BaseExpression:
    return cst.parse_expression(text)


def attribute_chain(root: cst.BaseExpression, path: str) -> cst.BaseExpression:
    """``root.a.b.c`` for path ``a.b.c``."""
    node = root
    for part in path.split("."):
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def rename_keyword(arg: cst.CSTNode, new: str) -> cst.CSTNode:
    assert isinstance(arg, cst.Arg)
    return arg.with_changes(keyword=cst.Name(new))


def replace_root(expr: cst.BaseExpression, root_name: str, wrap) -> cst.BaseExpression | None:
    """Apply ``wrap`` to the root Name of an attribute chain when it is ``root_name``; None otherwise."""
    if isinstance(expr, cst.Name):
        return wrap(expr) if expr.value == root_name else None
    if isinstance(expr, cst.Attribute):
        inner = replace_root(expr.value, root_name, wrap)
        return expr.with_changes(value=inner) if inner is not None else None
    return None


def without_args(call: cst.Call, drop: list[cst.Arg]) -> list[cst.Arg]:
    """``call.args`` minus ``drop``; the new last argument takes over the old last one's comma and the
    whitespace before the closing parenthesis."""
    kept = [a for a in call.args if a not in drop]
    if kept and call.args and call.args[-1] in drop:
        last = call.args[-1]
        kept[-1] = kept[-1].with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
    return kept
