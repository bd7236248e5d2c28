"""Rule documentation, taken from the rules' docstrings and rendered through templates/."""

from __future__ import annotations

import inspect
from pathlib import Path

from migrator.rules.registry import RULES, RuleEntry


def templates_dir() -> Path:
    """Installed wheels carry templates as ``migrator/templates``; a source checkout has ``templates/``."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("migrate's templates directory is missing from this installation")


def environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def rule_doc(entry: RuleEntry) -> str:
    return inspect.cleandoc(entry.load().__doc__ or "")


def rule_documentation(entry: RuleEntry) -> str:
    fix = entry.fix.value + (" (needs --target)" if entry.needs_target else "")
    return f"# {entry.code} ({entry.name})\n\nFix: {fix}. Enabled by default: {'yes' if entry.default else 'no'}.\n\n{rule_doc(entry)}"


def render_rules_markdown() -> str:
    rules = [{"entry": e, "doc": rule_doc(e).replace("\n## ", "\n### ")} for e in RULES]
    return environment().get_template("rules.md.j2").render(rules=rules)
