"""A small, dependency-free implementation of git's ignore rules.

Supports nested ``.gitignore`` files, the parent repository's files when a walk starts in a subdirectory,
``.git/info/exclude``, negation (``!``), directory-only patterns (trailing ``/``), anchoring and ``**``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property

from migrator.engine.globs import translate


@dataclass(frozen=True)
class IgnoreRule:
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


@dataclass(frozen=True)
class IgnoreFile:
    """The rules of one ignore file; ``base`` is the directory its patterns are relative to."""

    base: str
    rules: tuple[IgnoreRule, ...]

    @cached_property
    def _any(self) -> re.Pattern[str] | None:
        """One regex that matches where some rule does: most paths need nothing more."""
        if not self.rules:
            return None
        return re.compile("|".join(f"(?:{rule.regex.pattern})" for rule in self.rules))

    def match(self, path: str, is_dir: bool) -> bool | None:
        """True (ignored), False (re-included by ``!``) or None (no rule speaks) for an absolute path."""
        prefix = self.base.rstrip(os.sep) + os.sep
        if not path.startswith(prefix):
            return None
        rel = path[len(prefix):].replace(os.sep, "/")
        if self._any is None or not self._any.match(rel):
            return None
        verdict = None
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(rel):
                verdict = not rule.negated
        return verdict


def parse_ignore_lines(lines: list[str], base: str) -> IgnoreFile:
    rules = []
    for raw in lines:
        line = raw.rstrip("\n").rstrip("\r")
        # Trailing spaces are ignored unless escaped with a backslash.
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(line) > len(stripped):
            stripped += " "
        line = stripped
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated or line.startswith(("\\!", "\\#")):
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        if "/" in line:
            regex = "^" + translate(line.lstrip("/")) + "$"
        else:
            regex = "^(?:.*/)?" + translate(line) + "$"
        rules.append(IgnoreRule(re.compile(regex), negated, dir_only))
    return IgnoreFile(base=base, rules=tuple(rules))


def load_ignore_file(path: str, base: str) -> IgnoreFile | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return parse_ignore_lines(fh.readlines(), base)
    except OSError:
        return None


def find_repo_root(start: str) -> str | None:
    """The nearest directory at or above ``start`` that holds a ``.git`` entry."""
    current = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def inherited_ignores(directory: str) -> list[IgnoreFile]:
    """Ignore files that apply to ``directory`` from above: the repo's exclude file and ancestors' .gitignore."""
    directory = os.path.abspath(directory)
    root = find_repo_root(directory)
    if root is None:
        return []
    found: list[IgnoreFile] = []
    exclude = load_ignore_file(os.path.join(root, ".git", "info", "exclude"), root)
    if exclude is not None:
        found.append(exclude)
    chain = []
    current = directory
    while True:
        parent = os.path.dirname(current)
        if current == root or parent == current:
            break
        current = parent
        chain.append(current)
        if current == root:
            break
    for ancestor in reversed(chain):
        loaded = load_ignore_file(os.path.join(ancestor, ".gitignore"), ancestor)
        if loaded is not None:
            found.append(loaded)
    return found


def is_ignored(path: str, is_dir: bool, ignore_files: list[IgnoreFile]) -> bool:
    """Apply ``ignore_files`` (outermost first); a deeper file's verdict overrides an outer one."""
    verdict = False
    for ignore_file in ignore_files:
        result = ignore_file.match(path, is_dir)
        if result is not None:
            verdict = result
    return verdict
