"""Gitignore-style glob patterns translated to regular expressions (``*``, ``?``, ``[...]``, ``**``)."""

from __future__ import annotations

import re


def translate(pattern: str) -> str:
    """Translate a gitignore-style glob (no leading ``!``, no trailing ``/``) into a regex body."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^") else i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A pattern with a ``/`` (other than a trailing one) is anchored; otherwise it matches at any depth."""
    pattern = pattern.rstrip("/")
    if "/" in pattern:
        return re.compile("^" + translate(pattern.lstrip("/")) + "(?:/.*)?$")
    return re.compile("^(?:.*/)?" + translate(pattern) + "(?:/.*)?$")
