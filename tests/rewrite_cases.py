"""Shared by the rewrite tests: the fixture pairs and the options a pair's header asks for."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import FIXTURES

from migrator.engine.fixer import FixOptions

REWRITES = FIXTURES / "rewrites"
PAIRS = sorted(REWRITES.glob("*.before.py"))


def after_of(before: Path) -> Path:
    return before.with_name(before.name.replace(".before.py", ".after.py"))


def options_for(text: str) -> FixOptions:
    header = re.search(r"^# migrate-options:(.*)$", text, re.MULTILINE)
    flags = header.group(1).split() if header else []
    style = flags[flags.index("--client-style") + 1] if "--client-style" in flags else "client"
    target = flags[flags.index("--target") + 1] if "--target" in flags else None
    return FixOptions(unsafe="--unsafe-fixes" in flags, client_style=style, target=target, shim="--no-shim" not in flags)
