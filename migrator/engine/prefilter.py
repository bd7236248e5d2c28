"""Cheap, sound text pre-filtering: a file that cannot contain a finding is never parsed.

Each rule declares, in the registry, what the text of any file it flags must contain:

* ``requires``: module roots (``openai``, ``transformers``) one of which must be imported, because rules
  resolve names through imports, together with ``tokens``, a regex every finding's source matches (the
  legacy member names; ``token_needle``: literals one of which every ``tokens`` match contains, searched
  first); or
* ``pattern``: a regex that alone makes a file a candidate (a ``"openai.ChatCompletion.create"`` patch
  target, an ``sk-...`` key literal).

A rule marked ``target_only`` (its findings are about the target model) is no candidate in a run without
``--target``; a rule with ``untargeted_tokens`` (it reports less without a target) is filtered by those
there instead of by ``tokens``.

A file that passes these text checks for a ``requires`` rule is then checked once more, exactly, with
Python's own parser (:mod:`migrator.engine.code_view`): the code must import a root (not a docstring
example), an ``legacy_openai`` rule needs an import that binds the v0 API, and the tokens must match
outside bare string statements.

The import check looks only at the logical lines around occurrences of the root word, so a tree where that
word is everywhere (the transformers package itself) is still filtered at memory speed. Non-ASCII text is
also checked after NFKC normalisation, since Python normalises identifiers that way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

from migrator.engine.code_view import CodeView, code_view
from migrator.rules.registry import LEGACY_OPENAI_MODULES, LEGACY_OPENAI_NAMES, RuleEntry


@cache
def _import_regex(root: str) -> re.Pattern[str]:
    # A statement starts a line or follows ';' or ':' (``if x: import openai``); the module may follow
    # ``from`` across a backslash continuation, or come anywhere in an ``import a, b`` list.
    name = re.escape(root)
    return re.compile(
        r"(?:^|[;:])[ \t\f]*(?:from[ \t\f\\\r\n]+" + name + r"\b|import[ \t\f]+(?:[^\n;#\\]|\\\r?\n)*?\b" + name + r"\b)",
        re.MULTILINE,
    )


def imports_root(text: str, root: str) -> bool:
    """Whether ``text`` may contain an absolute import of ``root`` (sound: false positives allowed)."""
    regex = _import_regex(root)
    start = text.find(root)
    while start != -1:
        # The logical line around the hit, extended over backslash continuations.
        line_start = text.rfind("\n", 0, start) + 1
        while line_start >= 2 and text[line_start - 2] == "\\":
            line_start = text.rfind("\n", 0, line_start - 2) + 1
        line_end = text.find("\n", start)
        if line_end == -1:
            line_end = len(text)
        if regex.search(text, line_start, line_end):
            return True
        start = text.find(root, line_end)
    return False


class Prefilter:
    """Decides from a file's text, confirmed by Python's parser where the text says yes, which rules could
    fire on it."""

    def __init__(self, entries: Iterable[RuleEntry], target: bool = True, exact: bool = True) -> None:
        """``target``: the run has a ``--target`` (the wider token filters of the rules that need one);
        ``exact``: confirm the text checks with Python's parser (off: the text stage alone, for tests)."""
        self.entries = tuple(entries)
        self.exact = exact
        # Token filters may over-match (that keeps them sound), so word boundaries are dropped: a regex
        # that starts with a literal is searched far faster.
        tokens = {e.code: (e.tokens if target or not e.untargeted_tokens else e.untargeted_tokens) for e in self.entries}
        self._tokens = {code: re.compile(t.replace(r"\b", "")) for code, t in tokens.items() if t}
        self._token_needles = {e.code: tuple(e.token_needle.split("|")) for e in self.entries if e.token_needle}
        self._patterns = {e.code: re.compile(e.pattern) for e in self.entries if e.pattern}
        self._parameter_keys = {
            e.code: (frozenset(e.parameter_keys.split("|")),
                     re.compile(r"""(?:\[\s*|\.get\(\s*)['"](?:""" + e.parameter_keys + r""")['"]"""))
            for e in self.entries if e.parameter_keys
        }
        self._roots = tuple(sorted({root for e in self.entries for root in e.requires}))
        self._needles = {e.code: tuple(e.needle.split("|")) for e in self.entries if e.pattern and e.needle}
        self._root_needles = {n: r for ns in self._needles.values() for n in ns for r in self._roots if r in n}
        # Every literal a candidate must contain; None when some rule has no such literal.
        needles = set(self._roots) | {n for e in self.entries if e.pattern for n in e.needle.split("|")}
        needles |= {n for e in self.entries for n in e.parameter_keys.split("|") if e.parameter_keys}
        # A needle that contains another one ("openai." and "openai") is found whenever it is: one fewer scan.
        needles = {n for n in needles if not any(m != n and m in n for m in needles)}
        self._needles_all: tuple[str, ...] | None = (
            None if any(e.pattern and not e.needle for e in self.entries) or "" in needles else tuple(sorted(needles)))
        self._byte_needles = None if self._needles_all is None else tuple(n.encode("ascii") for n in self._needles_all)

    def rules_out_bytes(self, data: bytes) -> bool:
        """True when no rule can fire on the ASCII text ``data``: none of the literals every candidate
        contains is there. Searching the raw bytes spares decoding the files that stop here."""
        if self._byte_needles is None:
            return False
        return not any(needle in data for needle in self._byte_needles)

    def rules_out_text(self, text: str) -> bool:
        """:meth:`rules_out_bytes` for decoded text: also sound for non-ASCII text that NFKC leaves as it
        is (normalising could otherwise spell a needle, as Python does with identifiers)."""
        if self._needles_all is None:
            return False
        return not any(n in text for n in self._needles_all) and (
            text.isascii() or unicodedata.is_normalized("NFKC", text))

    def candidate_rules(self, text: str) -> list[str]:
        """Codes of the enabled rules that could find something in ``text``."""
        codes = self._candidates(text)
        if not codes and not text.isascii() and not unicodedata.is_normalized("NFKC", text):
            codes = self._candidates(unicodedata.normalize("NFKC", text))
        return codes

    def _candidates(self, text: str) -> list[str]:
        view = _LazyView(text, self.exact)
        code_hits: dict[re.Pattern[str], bool] = {}
        present = {root: root in text for root in self._roots}  # each root searched once
        imported: dict[str, bool] = {}  # root -> an import statement of it may exist
        token_hits: dict[re.Pattern[str], bool] = {}  # several rules share one token regex
        # Several rules share one needle ("openai."); a needle containing an absent root is absent too.
        needle_hits = {n: False for n in self._root_needles if not present[self._root_needles[n]]}
        codes = []
        for entry in self.entries:
            pattern = self._patterns.get(entry.code)
            if pattern is not None and self._has_needle(entry.code, text, needle_hits) and pattern.search(text):
                codes.append(entry.code)
                continue
            keys = self._parameter_keys.get(entry.code)
            if keys is not None and self._reads_parameter_keys(keys, text, view, needle_hits):
                codes.append(entry.code)
                continue
            # Cheapest checks first: substring, then the line-local import check, then token regexes.
            roots = [r for r in entry.requires if present[r]]
            if not roots:
                continue
            for root in roots:
                if root not in imported:
                    imported[root] = imports_root(text, root)
            if not any(imported[r] for r in roots):
                continue
            tokens = self._tokens.get(entry.code)
            if tokens is not None:
                if not self._has_needle(entry.code, text, needle_hits, self._token_needles):
                    continue
                if tokens not in token_hits:
                    token_hits[tokens] = tokens.search(text) is not None
                if not token_hits[tokens]:
                    continue
            exact = view.get()
            if exact is not None and not self._in_code(entry, exact, roots, tokens, code_hits):
                continue
            codes.append(entry.code)
        return codes

    def _reads_parameter_keys(self, keys: tuple[frozenset[str], re.Pattern[str]], text: str, view: _LazyView,
                              hits: dict[str, bool]) -> bool:
        names, shape = keys
        if not any(self._has_needle_literal(n, text, hits) for n in names) or not shape.search(text):
            return False
        exact = view.get()
        return exact is None or exact.reads_parameter_keys(names)

    @staticmethod
    def _in_code(entry: RuleEntry, view: CodeView, roots: list[str], tokens: re.Pattern[str] | None,
                 hits: dict[re.Pattern[str], bool]) -> bool:
        """The exact check: the code imports a root the rule needs (for a legacy openai rule, one that
        binds the v0 API) and the rule's tokens occur outside docstrings."""
        if not any(r in view.roots and (r != "openai" or view.legacy_openai or not entry.legacy_openai) for r in roots):
            return False
        if entry.caught_attributes and view.caught_attributes.isdisjoint(entry.caught_attributes.split("|")):
            return False
        if entry.string_arguments and view.given_strings.isdisjoint(entry.string_arguments.split("|")):
            return False
        if tokens is None or not view.blanked:
            return True  # the tokens matched the text, which is all code
        if tokens not in hits:
            hits[tokens] = tokens.search(view.code) is not None
        return hits[tokens]

    def _has_needle(self, code: str, text: str, hits: dict[str, bool],
                    table: dict[str, tuple[str, ...]] | None = None) -> bool:
        needles = (self._needles if table is None else table).get(code)
        if needles is None:
            return True
        return any(self._has_needle_literal(needle, text, hits) for needle in needles)

    @staticmethod
    def _has_needle_literal(needle: str, text: str, hits: dict[str, bool]) -> bool:
        if needle not in hits:
            hits[needle] = needle in text
        return hits[needle]


class _LazyView:
    """The exact view of one text, made on first use (most texts never need it)."""

    def __init__(self, text: str, enabled: bool) -> None:
        self.text = text
        self.done = not enabled
        self.view: CodeView | None = None

    def get(self) -> CodeView | None:
        if not self.done:
            self.view, self.done = code_view(self.text, LEGACY_OPENAI_NAMES, LEGACY_OPENAI_MODULES), True
        return self.view


def finds_only_with_target(entry: RuleEntry) -> bool:
    """A rule whose findings are about the target model (HF208) has nothing to find without one: such a
    rule is never a candidate in a run without ``--target`` (``migrate scan`` has none)."""
    return entry.target_only


@lru_cache(maxsize=16)
def prefilter_for(codes: tuple[str, ...], target: bool = False) -> Prefilter:
    """The pre-filter of the rules ``codes`` (built once per selection); ``target``: the run has one."""
    from migrator.rules.registry import BY_CODE

    return Prefilter((BY_CODE[c] for c in codes if target or not finds_only_with_target(BY_CODE[c])), target)
