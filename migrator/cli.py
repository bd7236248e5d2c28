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
    ]
    for option in reversed(options):
        func = option(func)
    return func


SLOW_SECONDS = 0.25  # `scan -v` names files that took at least this long to parse and check


class Settings:
    """Command-line flags merged over ``[tool.migrate]``: flags win, lists given on both are extended."""

    def __init__(self, paths, config_path, select, extend_select, ignore, exclude, extend_exclude, force_exclude,
                 no_respect_gitignore, **fix_flags) -> None:
        from migrator.engine.config import ConfigError, resolve_config

        try:
            self.config = resolve_config(paths or ("."), config_path)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        config = self.config
        try:
            self.rules = select_rules(
                _split(select) or config.select,
                config.ignore + _split(ignore),
                config.extend_select + _split(extend_select),
            )
        except SelectionError as exc:
            where = f" ({config.path})" if config.path and not (select or ignore or extend_select) else ""
            raise click.UsageError(f"{exc}{where}") from None
        self.codes = [entry.code for entry in self.rules]
        self.discovery = DiscoveryOptions(
            exclude=_split(exclude) or config.exclude or DEFAULT_EXCLUDE,
            extend_exclude=config.extend_exclude + _split(extend_exclude),
            force_exclude=force_exclude,
            respect_gitignore=not no_respect_gitignore,
        )
        self.paths = list(paths) or ["."]
        self.fix_flags = fix_flags

    def codes_for(self, path: str) -> tuple[str, ...]:
        ignored = self.config.ignored_for(path)
        return tuple(c for c in self.codes if not any(c.startswith(i) for i in ignored))

    def fix_options(self):
        from migrator.engine.fixer import FixOptions
        from migrator.targets import TargetError, parse_target

        flags, config = self.fix_flags, self.config
        target = flags.get("target") or config.target
        if target:
            try:
                parse_target(target)
            except TargetError as exc:
                raise click.UsageError(str(exc)) from None
        pick = lambda flag, configured, default: (  # noqa: E731
            flag if flag is not None else configured if configured is not None else default
        )
        return FixOptions(
            unsafe=pick(flags.get("unsafe_fixes"), config.unsafe_fixes, False),
            client_style=pick(flags.get("client_style"), config.client_style, "client"),
            target=target,
            shim=pick(flags.get("shim"), config.shim, True),
        )


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
def scan(paths, output_format, quiet, exit_zero, verbose, **options) -> None:
    """Report every legacy site under PATHS (default: the current directory).

    Exit status: 0 nothing found, 1 legacy code found, 2 usage error or a file that could not be analysed.
    """
    from migrator.output.report import ScanReport

    jobs = options.pop("jobs")
    settings = Settings(paths, **options)
    found = discover(settings.paths, settings.discovery)
    from migrator.output.progress import with_progress

    report = ScanReport(errors=list(found.errors))
    slow = []
    results = analyse_paths(found.files, settings.codes, jobs, codes_for=settings.codes_for)
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


def _fix_run(paths, options):
    from migrator.engine.fixer import fix_paths

    jobs = options.pop("jobs")
    options.pop("exit_zero", None)
    options.pop("exit_non_zero_on_fix", None)
    fix_flags = {k: options.pop(k) for k in ("unsafe_fixes", "client_style", "target", "shim")}
    from migrator.output.progress import with_progress

    settings = Settings(paths, **options, **fix_flags)
    found = discover(settings.paths, settings.discovery)
    results = fix_paths(found.files, settings.codes, settings.fix_options(), jobs, codes_for=settings.codes_for)
    return found, list(with_progress(results, len(found.files), "Migrating", enabled=True)), settings


def fix_options(func):
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
@fix_options
def diff(paths, **options) -> None:
    exit_zero = options["exit_zero"]
    """Show the rewrites as a unified diff; write nothing.

    Exit status: 0 no change, 1 there are changes, 2 usage error or a file that could not be analysed.
    """
    from migrator.output.diff import unified_diff

    found, results, _ = _fix_run(paths, options)
    changed = 0
    for result in results:
        if result.changed:
            changed += 1
            # A notebook is shown as the code of its changed cells, not as JSON.
            parts = [(f"{result.path}:cell {n}", old, new) for n, old, new in result.cells] or [
                (result.path, result.source.text, result.new_text)]
            for name, old, new in parts:
                for line in unified_diff(name, old if old.endswith("\n") else old + "\n", new if new.endswith("\n") else new + "\n"):
                    click.echo(line)
    errors = list(found.errors) + [(r.path, r.error) for r in results if r.error]
    for path, reason in errors:
        click.echo(f"{click.style('error', fg='red', bold=True)}: {path}: {reason}", err=True)
    click.echo(f"{changed} file{'s' * (changed != 1)} would be rewritten.", err=True)
    sys.exit(2 if errors else 1 if changed and not exit_zero else 0)


@main.command()
@fix_options
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when anything was rewritten (for pre-commit).")
@click.option("-i", "--interactive", is_flag=True, help="Show each file's diff and ask before writing it (terminal only).")
def apply(paths, interactive, **options) -> None:
    """Rewrite legacy code in place, then list what still needs a human.

    Exit status: 0 nothing legacy remains, 1 findings remain, 2 usage error or a file that failed.
    """
    from migrator.engine.source import SourceError
    from migrator.engine.writer import write_atomic
    from migrator.output.text import finding_line

    exit_zero, on_fix = options["exit_zero"], options["exit_non_zero_on_fix"]
    if interactive and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError("--interactive needs a terminal; use `migrate diff` to review changes in a pipe")
    found, results, settings = _fix_run(paths, options)
    quit_rest = False
    errors = list(found.errors)
    fixed = files = 0
    remaining = []
    for result in results:
        if result.error:
            errors.append((result.path, result.error))
            continue
        if result.changed and interactive:
            from migrator.engine.runner import analyse_text
            from migrator.output.diff import unified_diff

            answer = "n"
            if not quit_rest:
                for line in unified_diff(result.path, result.source.text, result.new_text):
                    click.echo(line)
                answer = click.prompt(f"Apply to {result.path}? [y]es, [n]o, [q]uit", type=click.Choice(["y", "n", "q"]),
                                      show_choices=False)
                quit_rest = answer == "q"
            if answer != "y":  # keep the file as it is; its findings remain
                kept = analyse_text(result.path, result.source.text, settings.codes_for(result.path))
                remaining.extend(kept.findings)
                continue
        if result.changed:
            try:
                write_atomic(result.path, result.source.encode(result.new_text))
            except (OSError, UnicodeEncodeError, SourceError) as exc:
                errors.append((result.path, f"could not write: {exc}"))
                continue
            files += 1
            fixed += len(result.fixed)
        if result.remaining is not None:
            remaining.extend(result.remaining.findings)
            if result.remaining.error:
                errors.append((result.path, result.remaining.error))
    click.echo(f"Fixed {fixed} legacy site{'s' * (fixed != 1)} in {files} file{'s' * (files != 1)}.")
    if remaining:
        click.echo(f"{len(remaining)} need{'s' * (len(remaining) == 1)} a human:")
        for finding in sorted(remaining):
            click.echo(finding_line(finding))
    for path, reason in errors:
        click.echo(f"{click.style('error', fg='red', bold=True)}: {path}: {reason}", err=True)
    if errors:
        sys.exit(2)
    sys.exit(1 if (remaining and not exit_zero) or (on_fix and files) else 0)


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
def report(paths, fmt, output, **options) -> None:
    """Write a migration report: totals, a table per file, and the work left for humans."""
    from migrator.output.migration_report import render_report
    from migrator.output.report import ScanReport

    jobs = options.pop("jobs")
    settings = Settings(paths, **options)
    found = discover(settings.paths, settings.discovery)
    scanned = ScanReport(errors=list(found.errors))
    for result in analyse_paths(found.files, settings.codes, jobs, codes_for=settings.codes_for):
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
    """List the providers `--target PROVIDER[:MODEL]` accepts, with their defaults."""
    from migrator.targets import PROVIDERS

    for provider in PROVIDERS.values():
        where = provider.base_url or ("local transformers" if provider.kind == "hf" else "the client's default")
        models = provider.chat_model + (f", embeddings {provider.embedding_model}" if provider.embedding_model else "")
        click.echo(f"{provider.name:<10} {provider.kind:<4} {where:<58} key ${provider.key_env:<21} default {models}")


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
