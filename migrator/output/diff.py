"""Unified diffs of rewrites; coloured on a terminal, plain otherwise; keys redacted."""

from __future__ import annotations

import difflib

import click

from migrator.rules.security.redact import redact_text


def unified_diff(path: str, before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=f"a/{path.lstrip('/')}", tofile=f"b/{path.lstrip('/')}"
    )
    out = []
    for line in lines:
        line = redact_text(line.rstrip("\r\n"))
        if line.startswith(("+++", "---")):
            out.append(click.style(line, bold=True))
        elif line.startswith("@@"):
            out.append(click.style(line, fg="cyan"))
        elif line.startswith("+"):
            out.append(click.style(line, fg="green"))
        elif line.startswith("-"):
            out.append(click.style(line, fg="red"))
        else:
            out.append(line)
    return out
