"""The second, exact stage of the pre-filter: what a file's code (not its docstrings) imports and says.

The text checks of :mod:`migrator.engine.prefilter` over-match on purpose: an ``import transformers``
or a ``from_pretrained("gpt2")`` in a docstring example, or ``from openai.types import Completion``,
looks like legacy code to them. For the few files that pass them, Python's own parser (C, some 50x
faster than libcst) settles it before libcst is asked to: which modules the code imports, whether an
import of openai binds anything of the v0 API, and the text with every bare string statement (docstrings)
blanked out, for the token regexes to search again.

A file Python's parser rejects (a newer grammar, Python 2), or one too large to be parsed at all, gets no
view, and every check stays as the text stage decided: the stage only ever removes candidates it can prove have nothing to find.
"""

from __future__ import annotations

import ast
import re
import warnings
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from migrator.engine.limits import MAX_PARSE_BYTES

_LINES = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")  # after each line end the parser counts (not \f or \v)
_NOT_LINE_END = re.compile(r"[^\r\n]")
_LINE_END = re.compile(r"\r\n|\r|\n")
# Statement fields that hold statement lists (bodies of compound statements).
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


@dataclass
class CodeView:
    """Facts about a module's code that the text stage cannot see."""

    tree: ast.Module
    roots: frozenset[str]  # top-level packages imported anywhere in the code (absolute imports)
    legacy_openai: bool  # code reaches the v0 API through an import of openai (``openai.ChatCompletion``)
    code: str  # the source with bare string statements blanked out (same length, same lines)
    blanked: bool  # there were some
    _caught: frozenset[str] | None = None
    _given: frozenset[str] | None = None
    _keys: dict[frozenset[str], bool] = field(default_factory=dict)

    def reads_parameter_keys(self, keys: frozenset[str]) -> bool:
        """Whether a function reads one of its own parameters with one of ``keys`` (``def f(resp):
        resp["choices"]``), in its body and the lambdas, classes and comprehensions in it (a nested
        function has its own parameters). Only the parts of the tree whose lines hold a key are walked."""
        found = self._keys.get(keys)
        if found is None:
            found = self._keys[keys] = self._read_with(keys)
        return found

    def _read_with(self, keys: frozenset[str]) -> bool:
        starts = [0, *(m.end() for m in _LINE_END.finditer(self.code))]
        lines = sorted({bisect_right(starts, m.start()) for key in keys for m in re.finditer(re.escape(key), self.code)})
        if not lines:
            return False

        def holds_a_key(node: ast.AST) -> bool:
            first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
            if first is None or last is None:
                return True
            index = bisect_left(lines, first)
            return index < len(lines) and lines[index] <= last

        stack: list[tuple[ast.AST, frozenset[str]]] = [(self.tree, frozenset())]
        while stack:  # each node with the parameters of its innermost function
            node, params = stack.pop()
            if not holds_a_key(node):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                params = frozenset(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
            elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in params
                  and _is_string(node.slice) and node.slice.value in keys):  # type: ignore[attr-defined]
                return True
            stack.extend((child, params) for child in ast.iter_child_nodes(node))
        return False

    @property
    def given_strings(self) -> frozenset[str]:
        """Names given a non-empty string literal: ``name="..."`` keyword arguments and ``x.name = "..."``
        or ``name = "..."`` assignments (implicit concatenation included, f-strings not)."""
        if self._given is None:
            given: set[str] = set()
            for node in ast.walk(self.tree):
                if isinstance(node, ast.keyword):
                    if node.arg and _is_string(node.value):
                        given.add(node.arg)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)) and _is_string(node.value):
                    for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                        if isinstance(target, ast.Attribute):
                            given.add(target.attr)
                        elif isinstance(target, ast.Name):
                            given.add(target.id)
            self._given = frozenset(given)
        return self._given

    @property
    def caught_attributes(self) -> frozenset[str]:
        """Attribute names read on a name that an ``except ... as NAME`` clause binds or that
        ``isinstance(NAME, ...)`` tests, anywhere (scopes are not told apart: it over-approximates)."""
        if self._caught is None:
            names: set[str] = set()
            for node in ast.walk(self.tree):
                if isinstance(node, ast.ExceptHandler) and node.name:
                    names.add(node.name)
                elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
                      and node.args and isinstance(node.args[0], ast.Name)):
                    names.add(node.args[0].id)
            self._caught = frozenset(
                node.attr for node in ast.walk(self.tree)
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names
            ) if names else frozenset()
        return self._caught


def code_view(text: str, legacy_names: frozenset[str], legacy_modules: frozenset[str]) -> CodeView | None:
    """The view of ``text``, or None when Python's parser cannot read it.

    ``legacy_names``: members of the v0 openai module that legacy rules look for; ``legacy_modules``: its
    submodules that only v0 had (``openai.error``).
    """
    if len(text) > MAX_PARSE_BYTES:
        return None  # never parsed anyway: the run reports its size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like: the scan reports nothing here
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None
    roots: set[str] = set()
    legacy = False
    bound: set[str] = set()  # names bound to the openai module itself
    star = False  # `from openai import *`: any free name may be one of the module's
    blanks: list[ast.stmt] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for name in _BODIES:
            children = getattr(node, name, None)
            if isinstance(children, list):
                stack.extend(children)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            blanks.append(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                root, _, rest = alias.name.partition(".")
                roots.add(root)
                if root != "openai":
                    continue
                if rest.split(".")[0] in legacy_modules:
                    legacy = True
                elif alias.asname is None or not rest:
                    bound.add(alias.asname or "openai")  # `import openai.x` binds `openai` too
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            root, _, rest = node.module.partition(".")
            roots.add(root)
            if root != "openai":
                continue
            if rest:
                legacy = legacy or rest.split(".")[0] in legacy_modules
            else:
                star = star or any(alias.name == "*" for alias in node.names)
                legacy = legacy or any(alias.name in legacy_names for alias in node.names)
    if not legacy and (bound or star):
        legacy = _uses_legacy_member(tree, bound, star, legacy_names)
    return CodeView(tree, frozenset(roots), legacy, _blank(text, blanks) if blanks else text, bool(blanks))


def _is_string(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value != ""


def _uses_legacy_member(tree: ast.AST, bound: set[str], star: bool, names: frozenset[str]) -> bool:
    """Whether code reaches a v0 member through the module: ``openai.ChatCompletion``, a name a star
    import gave, or the member's name as a string (``patch.object(openai, "ChatCompletion")``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr in names and isinstance(node.value, ast.Name) and node.value.id in bound:
                return True
        elif isinstance(node, ast.Constant):
            if bound and isinstance(node.value, str) and node.value in names:
                return True
        elif isinstance(node, ast.Name) and star and node.id in names:
            return True
    return False


def _blank(text: str, statements: list[ast.stmt]) -> str:
    """``text`` with the spans of ``statements`` replaced by spaces (newlines kept)."""
    lines = _LINES.split(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:
        line = lines[lineno - 1] if lineno - 1 < len(lines) else ""
        if not line.isascii():  # the parser counts UTF-8 bytes
            col = len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))
        return starts[lineno - 1] + col

    parts: list[str] = []
    done = 0
    for stmt in sorted(statements, key=lambda s: (s.lineno, s.col_offset)):
        if stmt.end_lineno is None or stmt.end_col_offset is None:
            continue
        start, end = offset(stmt.lineno, stmt.col_offset), offset(stmt.end_lineno, stmt.end_col_offset)
        if start < done:
            continue
        parts.append(text[done:start])
        parts.append(_NOT_LINE_END.sub(" ", text[start:end]))
        done = end
    parts.append(text[done:])
    return "".join(parts)
