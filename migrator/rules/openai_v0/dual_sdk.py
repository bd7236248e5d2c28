"""Code that supports both SDK generations: the legacy branch of a version guard.

``if hasattr(openai, "OpenAI"): <current> else: <legacy>``, ``if openai.__version__.startswith("0"):``,
``try: from openai import OpenAI ... except ImportError: <legacy>``: under the current SDK the legacy
branch never runs, so it is left exactly as it is (rewriting half of it would leave unbound names or a
client built at import for users who still run v0). Findings inside it are not reported.
"""

from __future__ import annotations

import re

import libcst as cst

_GUARD = re.compile(r"__version__|\bVERSION\b|hasattr\(\s*openai\b|version\(\s*['\"]openai")
_LEGACY = re.compile(
    r"\b(?:ChatCompletion|Completion|Embedding|Moderation|Image|Audio|FineTuningJob|Edit)\.a?\w+\(|openai\.error\b|\bapi_base\b"
)
_CURRENT = re.compile(r"\bOpenAI\b|\bAsyncOpenAI\b|\.chat\.completions\.|\bbase_url\b|\.embeddings\.create\b")
_code = cst.Module([]).code_for_node


def _clauses(node: cst.If) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = [node.body]
    rest = node.orelse
    while rest is not None:
        if isinstance(rest, cst.If):
            out.append(rest.body)
            rest = rest.orelse
        else:
            out.append(rest)
            rest = None
    return out


def _kind(clause: cst.CSTNode) -> str:
    text = _code(clause)
    if _CURRENT.search(text):
        return "current"
    return "legacy" if _LEGACY.search(text) else ""


def _handles_import_error(handler: cst.ExceptHandler) -> bool:
    return handler.type is None or bool(re.search(r"ImportError|AttributeError|ModuleNotFoundError", _code(handler.type)))


def legacy_branches(module: cst.Module) -> list[cst.CSTNode]:
    """The blocks of ``module`` that only run under the legacy SDK (see the module docstring)."""
    found: list[cst.CSTNode] = []

    def walk(statements) -> None:
        for stmt in statements:
            if isinstance(stmt, cst.If) and _GUARD.search(_code(stmt.test)) and "openai" in _code(stmt.test):
                clauses = _clauses(stmt)
                kinds = [_kind(c) for c in clauses]
                if "current" in kinds and "legacy" in kinds:
                    found.extend(c for c, k in zip(clauses, kinds) if k == "legacy")
                    continue
            if isinstance(stmt, cst.Try) and re.search(r"from openai import [^\n]*\bOpenAI\b", _code(stmt.body)):
                legacy = [h for h in stmt.handlers if _handles_import_error(h) and _kind(h.body) == "legacy"]
                if legacy:
                    found.extend(h.body for h in legacy)
                    continue
            for attr in ("body", "orelse", "finalbody"):
                part = getattr(stmt, attr, None)
                if isinstance(part, cst.IndentedBlock):
                    walk(part.body)
                elif isinstance(part, (cst.Else, cst.Finally)) and isinstance(part.body, cst.IndentedBlock):
                    walk(part.body.body)
                elif isinstance(part, cst.If):
                    walk([part])
            for handler in getattr(stmt, "handlers", ()):
                if isinstance(handler.body, cst.IndentedBlock):
                    walk(handler.body.body)

    walk(module.body)
    return found
