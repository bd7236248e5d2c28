"""The ``migrate`` command line. Commands only: the work happens in :mod:`migrator.engine`."""

from __future__ import annotations

import sys

import click

from migrator import __version__
from migrator.engine.discovery import discover
from migrator.engine.runner import scan_paths
from migrator.rules.registry import BY_CODE, RULES


def file_options(func):
    """Options shared by every command that walks files."""
    options = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--config", "config_path", type=click.Path(dir_okay=False),
                     help="A pyproject.toml to read [tool.migrate] from (default: the nearest one above PATHS)."),
        click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the defaults)."),
        click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable in addition."),
        click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable."),
        click.option("--exclude", multiple=True, help="Globs to exclude (replaces the default list)."),
        click.option("--extend-exclude", multiple=True, help="Globs to exclude in addition to the defaults."),
        click.option("--force-exclude", is_flag=True, help="Apply excludes and .gitignore to paths named explicitly."),
        click.option("--no-respect-gitignore", is_flag=True, help="Do not honour .gitignore files."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per core)."),
        click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
                     help="Give up on a file after this long (default: 60; 0: no limit)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


SLOW_SECONDS = 0.25  # `scan -v` names files that took at least this long to parse and check


def _settings(paths, options, fix_flags=None, no_cache=False):
    """Settings from the file options (popped from ``options``); bad ones are usage errors."""
    from migrator.engine.settings import FixFlags, Settings, SettingsError

    keys = ("config_path", "select", "extend_select", "ignore", "exclude", "extend_exclude", "force_exclude",
            "no_respect_gitignore", "timeout")
    try:
        return Settings.load(paths, **{k: options.pop(k) for k in keys}, fix_flags=fix_flags or FixFlags(),
                             no_cache=no_cache)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migrate")
def main() -> None:
    """Migrate GPT-2/transformers and legacy openai v0 code to current SDKs and models."""


@main.command()
@file_options
@click.option("--output-format", type=click.Choice(["text", "json", "github", "sarif", "junit"]), default="text",
              show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when legacy code is found (2 still means an error).")
@click.option("-v", "--verbose", is_flag=True, help="Also list files that took long to analyse.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.migrate_cache/).")
def scan(paths, output_format, quiet, exit_zero, verbose, no_cache, **options) -> None:
    """Report every legacy site under PATHS (default: the current directory).

    Exit status: 0 nothing found, 1 legacy code found, 2 usage error or a file that could not be analysed.
    """
    from migrator.output.progress import with_progress
    from migrator.output.report import ScanReport

    jobs = options.pop("jobs")
    settings = _settings(paths, options, no_cache=no_cache)
    found = discover(settings.paths, settings.discovery)
    report = ScanReport(errors=list(found.errors))
    slow = []
    results = scan_paths(settings, found.files, jobs)
    for result in with_progress(results, len(found.files), "Scanning", enabled=not quiet):
        report.add(result)
        if result.seconds >= SLOW_SECONDS:
            slow.append(result)
    if verbose:
        for result in sorted(slow, key=lambda r: -r.seconds):
            click.echo(f"slow: {result.path}: {result.seconds:.2f}s", err=True)

    if output_format == "json":
        from migrator.output.json_format import render_json

        click.echo(render_json(report))
    elif output_format in ("github", "sarif", "junit"):
        from migrator.output import ci_formats

        rendered = getattr(ci_formats, f"render_{output_format}")(report)
        if rendered:
            click.echo(rendered)
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
    code = report.exit_code()
    sys.exit(0 if exit_zero and code == 1 else code)


def _fix_run(paths, options, clean=False, plan=None):
    from migrator.engine.apply import fix_run
    from migrator.engine.settings import FixFlags, SettingsError
    from migrator.output.progress import with_progress

    jobs = options.pop("jobs")
    flags = FixFlags(**{k: options.pop(k) for k in ("unsafe_fixes", "client_style", "target", "shim")})
    settings = _settings(paths, options, fix_flags=flags)
    try:
        found, results = fix_run(settings, jobs, clean=clean, plan=plan)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    return found, with_progress(results, len(found.files), "Migrating", enabled=True), settings


def fix_flag_options(func):
    """The options of the commands that rewrite (diff, apply), on top of :func:`file_options`."""
    func = click.option("--exit-zero", is_flag=True, help="Exit 0 even when changes or legacy code remain.")(func)
    func = click.option("--shim/--no-shim", default=None,
                        help="With an hf: target, wrap model ids as resolve_model(...) so tests load GPT-2 "
                             "when MIGRATE_BACKEND=local (default: on).")(func)
    func = click.option("--target", default=None, metavar="PROVIDER[:MODEL]",
                        help="Move code to this provider and model (see `migrate targets`).")(func)
    func = click.option("--client-style", type=click.Choice(["client", "module"]), default=None,
                        help="client (default): build OpenAI()/AsyncOpenAI() once per module; module: keep the "
                             "module-level client of the current SDK (the smallest diff).")(func)
    func = click.option("--unsafe-fixes/--no-unsafe-fixes", default=None, help="Also apply fixes marked unsafe.")(func)
    return file_options(func)


@main.command()
@fix_flag_options
def diff(paths, exit_zero, **options) -> None:
    """Show the rewrites as a unified diff; write nothing.

    Exit status: 0 no change, 1 there are changes, 2 usage error or a file that could not be analysed.
    """
    from migrator.output.fixing import show_diffs

    plan: list[str] = []
    found, results, _ = _fix_run(paths, options, plan=plan)
    if plan:  # on stderr: stdout stays a clean patch
        click.echo("Client plan (per module calling the v0 API):", err=True)
        for line in plan:
            click.echo(f"  {line}", err=True)
    report = show_diffs(results, list(found.errors), click.echo)
    sys.exit(report.exit_code(exit_zero=exit_zero))


@main.command()
@fix_flag_options
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when anything was rewritten (for pre-commit).")
@click.option("-i", "--interactive", is_flag=True, help="Show each file's diff and ask before writing it (terminal only).")
@click.option("--explain-plan", is_flag=True, help="Print the client plan of each module (and why); write nothing.")
def apply(paths, interactive, exit_zero, exit_non_zero_on_fix, explain_plan, **options) -> None:
    """Rewrite legacy code in place, then list what still needs a human.

    Exit status: 0 nothing legacy remains, 1 findings remain, 2 usage error or a file that failed.
    """
    from migrator.output.fixing import apply_results
    from migrator.output.interactive import Reviewer

    reviewer = None
    if interactive:
        reviewer = Reviewer(codes_for=None)  # refuses to run without a terminal, before any work
    from migrator.engine.project import ENVIRONMENT

    plan: list[str] = []
    found, results, settings = _fix_run(paths, options, clean=not explain_plan, plan=plan)
    environment = [line for line in plan if line.startswith(ENVIRONMENT)]
    if plan:
        click.echo("Client plan (per module calling the v0 API):")
        for line in plan:
            if explain_plan or line not in environment:  # apply lists those with what needs a human
                click.echo(f"  {line}")
    if explain_plan:  # the plan alone: nothing is fixed or written
        for path, reason in found.errors:
            click.echo(f"{click.style('error', fg='red', bold=True)}: {path}: {reason}", err=True)
        sys.exit(2 if found.errors else 0)
    if reviewer is not None:
        reviewer.codes_for = settings.codes_for
    report = apply_results(results, list(found.errors), click.echo, review=reviewer,
                           kept_findings=reviewer.kept_findings if reviewer else None, environment=environment)
    sys.exit(report.exit_code(exit_zero=exit_zero, exit_non_zero_on_fix=exit_non_zero_on_fix))


@main.command()
@click.option("--model", default=None, help="Model id or local path (default: $MIGRATE_LOCAL_MODEL, else gpt2).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default=None,
              help="Where the model runs (default: $MIGRATE_DEVICE, else auto: CUDA, then MPS, then CPU).")
def serve(model, host, port, device) -> None:
    """Serve the OpenAI API from a local model (GPT-2 by default), for tests and offline work."""
    try:
        from migrator.runtime.backend import ModelUnavailable
        from migrator.runtime.server import serve as run_server
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise click.ClickException(f"the runtime extra is not installed ({exc}): pip install 'migrate-llm[runtime]'") from None
    try:
        run_server(model, host, port, echo=lambda line: click.echo(line, err=True), device=device)
    except ModelUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:  # pragma: no cover - uvicorn handles Ctrl-C itself
        pass


@main.command()
@file_options
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write here (default: stdout).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.migrate_cache/).")
def report(paths, fmt, output, no_cache, **options) -> None:
    """Write a migration report: totals, a table per file, and the work left for humans."""
    from migrator.output.migration_report import render_report
    from migrator.output.report import ScanReport

    jobs = options.pop("jobs")
    settings = _settings(paths, options, no_cache=no_cache)
    found = discover(settings.paths, settings.discovery)
    scanned = ScanReport(errors=list(found.errors))
    for result in scan_paths(settings, found.files, jobs):
        scanned.add(result)
    text = render_report(scanned, fmt)
    if output:
        from migrator.engine.writer import write_new

        write_new(output, text.encode("utf-8"))
        click.echo(f"Wrote {output}: {len(scanned.findings)} legacy sites in {scanned.files_with_findings} files.", err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(2 if scanned.errors else 0)


@main.command()
def targets() -> None:
    """List the providers `--target PROVIDER[:MODEL]` accepts, with their defaults, and the registry's
    hf models (context length, parameters, chat template, licence and access gate)."""
    from migrator.targets import PROVIDERS

    for provider in PROVIDERS.values():
        where = provider.base_url or ("local transformers" if provider.kind == "hf" else "the client's default")
        models = provider.chat_model + (f", embeddings {provider.embedding_model}" if provider.embedding_model else "")
        click.echo(f"{provider.name:<10} {provider.kind:<4} {where:<58} key ${provider.key_env:<21} default {models}")
        for model in provider.models:
            gate = f"gated: {model.gate}" if model.gate else "open"
            template = "yes" if model.chat_template else "no"
            click.echo(f"    {model.id:<38} context {model.context_length:>7,}  params {model.parameters:<6} "
                       f"chat template {template:<3}  {model.licence}; {gate}")


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
