"""Small node builders that rules share when they write code (one place, one formatting)."""

from __future__ import annotations

import libcst as cst

_TIGHT = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """``name=value``, formatted as PEP 8 wants a keyword argument."""
    return cst.Arg(value, keyword=cst.Name(name), equal=_TIGHT)


def append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """``call`` with ``arg`` added last (a comma and a space after what was the last argument)."""
    args = list(call.args)
    if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=[*args, arg])
