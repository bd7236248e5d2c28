"""``apply --interactive``: show each file's diff and ask before writing it (terminal only)."""

from __future__ import annotations

import sys

import click

from migrator.engine.fixer import FileFix
from migrator.engine.results import Finding


class NotATerminal(click.UsageError):
    """--interactive without a terminal: prompts never appear in a pipe."""


class Reviewer:
    """Asks ``Apply to PATH? [y]es, [n]o, [q]uit`` per changed file; after ``q`` every later file is kept."""

    def __init__(self, codes_for) -> None:  # type: ignore[no-untyped-def]
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise NotATerminal("--interactive needs a terminal; use `migrate diff` to review changes in a pipe")
        self.codes_for = codes_for
        self.quit = False

    def __call__(self, result: FileFix) -> bool:
        from migrator.output.diff import unified_diff

        if self.quit:
            return False
        assert result.source is not None and result.new_text is not None
        for line in unified_diff(result.path, result.source.text, result.new_text):
            click.echo(line)
        answer = click.prompt(f"Apply to {result.path}? [y]es, [n]o, [q]uit", type=click.Choice(["y", "n", "q"]),
                              show_choices=False)
        self.quit = answer == "q"
        return answer == "y"

    def kept_findings(self, result: FileFix) -> list[Finding]:
        """The findings of a file the user chose to keep as it is."""
        from migrator.engine.runner import analyse_text

        assert result.source is not None
        return analyse_text(result.path, result.source.text, self.codes_for(result.path)).findings
