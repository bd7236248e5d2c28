"""The ``migrate`` command line. Commands only: the work happens in :mod:`migrator.engine`."""

from __future__ import annotations

import sys

import click

from migrator import __version__
from migrator.engine.discovery import DEFAULT_EXCLUDE, DiscoveryOptions, discover
from migrator.engine.runner import analyse_paths
from migrator.rules.registry import BY_CODE, RULES, SelectionError, select_rules


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """Accept both ``--select A --select B`` and ``--select A,B``."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def file_options(func):
    """Options shared by every command that walks files."""
    options = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the defaults)."),
        click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable in addition."),
        click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable."),
        click.option("--exclude", multiple=True, help="Globs to exclude (replaces the default list)."),
        click.option("--extend-exclude", multiple=True, help="Globs to exclude in addition to the defaults."),
        click.option("--force-exclude", is_flag=True, help="Apply excludes and .gitignore to paths named explicitly."),
        click.option("--no-respect-gitignore", is_flag=True, help="Do not honour .gitignore files."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per core)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migrate")
def main() -> None:
    """Migrate GPT-2/transformers and legacy openai v0 code to current SDKs and models."""


@main.command()
@file_options
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
def scan(paths, select, extend_select, ignore, exclude, extend_exclude, force_exclude, no_respect_gitignore, jobs,
         output_format, quiet) -> None:
    """Report every legacy site under PATHS (default: the current directory).

    Exit status: 0 nothing found, 1 legacy code found, 2 usage error or a file that could not be analysed.
    """
    from migrator.output.report import ScanReport

    try:
        rules = select_rules(_split(select), _split(ignore), _split(extend_select))
    except SelectionError as exc:
        raise click.UsageError(str(exc)) from None
    options = DiscoveryOptions(
        exclude=_split(exclude) if exclude else DEFAULT_EXCLUDE,
        extend_exclude=_split(extend_exclude),
        force_exclude=force_exclude,
        respect_gitignore=not no_respect_gitignore,
    )
    found = discover(list(paths) or ["."], options)
    report = ScanReport(errors=list(found.errors))
    codes = [entry.code for entry in rules]
    for result in analyse_paths(found.files, codes, jobs):
        report.add(result)

    if output_format == "json":
        from migrator.output.json_format import render_json

        click.echo(render_json(report))
    else:
        from migrator.output.text import render_errors, render_findings, render_summary

        for line in render_findings(report):
            click.echo(line)
        for line in render_errors(report):
            click.echo(line, err=True)
        if not quiet:
            if report.findings:
                click.echo("")
            for line in render_summary(report):
                click.echo(line)
    sys.exit(report.exit_code())


@main.command(name="rules")
@click.option("--output-format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True)
def list_rules(fmt: str) -> None:
    """List every rule: code, name, default, fix safety."""
    if fmt == "md":
        from migrator.output.docs import render_rules_markdown

        click.echo(render_rules_markdown(), nl=False)
        return
    if fmt == "json":
        import json

        click.echo(json.dumps([
            {"code": e.code, "name": e.name, "default": e.default, "fix": e.fix.value, "needs_target": e.needs_target}
            for e in RULES
        ], indent=2))
        return
    for entry in RULES:
        default = "on " if entry.default else "off"
        target = " (with --target)" if entry.needs_target else ""
        click.echo(f"{entry.code:<7} {entry.name:<28} {default}  fix: {entry.fix.value}{target}")


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print the documentation of the rule CODE."""
    entry = BY_CODE.get(code.upper())
    if entry is None:
        raise click.UsageError(f"unknown rule {code!r}; `migrate rules` lists them")
    from migrator.output.docs import rule_documentation

    click.echo(rule_documentation(entry))


if __name__ == "__main__":  # pragma: no cover
    main()
