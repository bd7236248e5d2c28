"""One run's settings: command-line flags merged over ``[tool.migrate]`` (flags win; lists given on both
are extended), validated once, in the form the engine uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from migrator.engine.config import Config, ConfigError, resolve_config
from migrator.engine.discovery import DEFAULT_EXCLUDE, DiscoveryOptions
from migrator.rules.registry import RuleEntry, SelectionError, select_rules

if TYPE_CHECKING:
    from migrator.engine.fixer import FixOptions


class SettingsError(ValueError):
    """Bad flags or configuration; the message says which (the command line shows it as a usage error)."""


def split_codes(values: Sequence[str]) -> tuple[str, ...]:
    """Accept both ``--select A --select B`` and ``--select A,B``."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class FixFlags:
    """Fix options given on the command line (None: not given, the configuration or default decides)."""

    unsafe_fixes: bool | None = None
    client_style: str | None = None
    target: str | None = None
    shim: bool | None = None


@dataclass
class Settings:
    """Everything a run needs to know, from flags and the configuration file."""

    config: Config
    rules: list[RuleEntry]
    discovery: DiscoveryOptions
    paths: list[str]
    fix_flags: FixFlags = field(default_factory=FixFlags)
    no_cache: bool = False
    timeout: float | None = None

    @property
    def codes(self) -> list[str]:
        return [entry.code for entry in self.rules]

    @cached_property
    def _all_codes(self) -> tuple[str, ...]:
        return tuple(self.codes)

    @classmethod
    def load(cls, paths: Sequence[str], config_path: str | None = None, select: Sequence[str] = (),
             extend_select: Sequence[str] = (), ignore: Sequence[str] = (), exclude: Sequence[str] = (),
             extend_exclude: Sequence[str] = (), force_exclude: bool = False, no_respect_gitignore: bool = False,
             fix_flags: FixFlags = FixFlags(), no_cache: bool = False, timeout: float | None = None) -> Settings:
        """Merge ``flags`` over the configuration found above ``paths`` (or at ``config_path``)."""
        try:
            config = resolve_config(tuple(paths) or ("."), config_path)
        except ConfigError as exc:
            raise SettingsError(str(exc)) from None
        try:
            rules = select_rules(
                split_codes(select) or config.select,
                config.ignore + split_codes(ignore),
                config.extend_select + split_codes(extend_select),
            )
        except SelectionError as exc:
            where = f" ({config.path})" if config.path and not (select or ignore or extend_select) else ""
            raise SettingsError(f"{exc}{where}") from None
        discovery = DiscoveryOptions(
            exclude=split_codes(exclude) or config.exclude or DEFAULT_EXCLUDE,
            extend_exclude=config.extend_exclude + split_codes(extend_exclude),
            force_exclude=force_exclude,
            respect_gitignore=not no_respect_gitignore,
        )
        return cls(config, rules, discovery, list(paths) or ["."], fix_flags, no_cache, timeout)

    def codes_for(self, path: str) -> tuple[str, ...]:
        """The enabled codes minus those ``per-file-ignores`` switches off for ``path``."""
        ignored = self.config.ignored_for(path)
        if not ignored:
            return self._all_codes
        return tuple(c for c in self.codes if not any(c.startswith(i) for i in ignored))

    def fix_options(self) -> FixOptions:
        """The typed options of ``diff``/``apply``: flags, else the configuration, else the defaults."""
        from migrator.engine.fixer import FixOptions
        from migrator.engine.limits import DEFAULT_TIMEOUT
        from migrator.targets import TargetError, parse_target

        flags, config = self.fix_flags, self.config
        target = flags.target or config.target
        if target:
            try:
                parse_target(target)
            except TargetError as exc:
                raise SettingsError(str(exc)) from None

        def pick(flag, configured, default):  # type: ignore[no-untyped-def]
            return flag if flag is not None else configured if configured is not None else default

        return FixOptions(
            unsafe=pick(flags.unsafe_fixes, config.unsafe_fixes, False),
            client_style=pick(flags.client_style, config.client_style, "client"),
            target=target,
            shim=pick(flags.shim, config.shim, True),
            timeout=self.timeout if self.timeout is not None else DEFAULT_TIMEOUT,
        )
