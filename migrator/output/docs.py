"""Rule documentation, taken from the rules' docstrings and rendered through templates/."""

from __future__ import annotations

import inspect

from migrator.rules.registry import RULES, RuleEntry
from migrator.templating import render


def rule_doc(entry: RuleEntry) -> str:
    return inspect.cleandoc(entry.load().__doc__ or "")


def rule_documentation(entry: RuleEntry) -> str:
    fix = entry.fix.value + (" (needs --target)" if entry.needs_target else "")
    return f"# {entry.code} ({entry.name})\n\nFix: {fix}. Enabled by default: {'yes' if entry.default else 'no'}.\n\n{rule_doc(entry)}"


def render_rules_markdown() -> str:
    rules = [{"entry": e, "doc": rule_doc(e).replace("\n## ", "\n### ")} for e in RULES]
    return render("rules.md.j2", rules=rules)
