"""Redaction of API keys: the tool never prints a key it finds in code."""

from __future__ import annotations

import re

KEY_PATTERN = re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}")


def redact(secret: str) -> str:
    """``sk-proj-abc...xyz1`` -> ``sk-proj-...xyz1``; short or unknown secrets -> ``***``."""
    match = re.match(r"sk-(?:proj-|svcacct-|admin-)?", secret)
    prefix = match.group(0) if match else ""
    if len(secret) - len(prefix) < 12:
        return prefix + "***"
    return f"{prefix}...{secret[-4:]}"


def redact_text(text: str) -> str:
    """Replace every key-shaped substring of ``text`` with its redacted form."""
    return KEY_PATTERN.sub(lambda m: redact(m.group(0)), text)
