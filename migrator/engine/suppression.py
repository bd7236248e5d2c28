"""Inline suppressions: ``# migrate: ignore[OAI101,OAI3]``, a bare ``# migrate: ignore``, ``# noqa: OAI101``.

A bare ``# noqa`` is left to the linters it was written for; it does not silence migrate.
"""

from __future__ import annotations

import re

_MIGRATE = re.compile(r"#\s*migrate:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)
_NOQA = re.compile(r"#\s*noqa:\s*([A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)

ALL = frozenset({"*"})


def parse_suppressions(text: str) -> dict[int, frozenset[str]]:
    """Line number (1-based) -> suppressed code prefixes (``{"*"}`` for all)."""
    found: dict[int, frozenset[str]] = {}
    if "migrate:" not in text and "noqa" not in text:
        return found
    for number, line in enumerate(text.splitlines(), start=1):
        if "#" not in line:
            continue
        codes: set[str] = set()
        for match in _MIGRATE.finditer(line):
            if match.group(1) is None:
                codes.add("*")
            else:
                codes.update(c.strip().upper() for c in match.group(1).split(",") if c.strip())
        for match in _NOQA.finditer(line):
            codes.update(c.upper() for c in re.split(r"[\s,]+", match.group(1)) if c)
        if codes:
            found[number] = frozenset(codes)
    return found


def is_suppressed(code: str, lines: list[int], suppressions: dict[int, frozenset[str]]) -> bool:
    for line in lines:
        codes = suppressions.get(line)
        if codes and ("*" in codes or any(code.startswith(c) for c in codes)):
            return True
    return False
