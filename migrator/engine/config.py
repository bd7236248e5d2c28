"""``[tool.migrate]`` in pyproject.toml: found upward from the paths given, or named with --config."""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

_LISTS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
_BOOLS = ("unsafe-fixes", "shim")
KEYS = ("target", "client-style", "per-file-ignores", *_LISTS, *_BOOLS)


class ConfigError(ValueError):
    """A bad configuration file; the message names the file and the key."""


@dataclass
class Config:
    path: str | None = None  # the pyproject.toml it came from
    target: str | None = None
    client_style: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    unsafe_fixes: bool | None = None
    shim: bool | None = None
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def ignored_for(self, path: str) -> tuple[str, ...]:
        """Codes ``per-file-ignores`` switches off for ``path`` (globs relative to the config's folder)."""
        if not self.per_file_ignores:
            return ()
        base = os.path.dirname(os.path.abspath(self.path)) if self.path else os.getcwd()
        rel = os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")
        name = os.path.basename(path)
        return tuple(
            code
            for pattern, codes in self.per_file_ignores.items()
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(name, pattern)
            for code in codes
        )


def find_config(paths: list[str] | tuple[str, ...]) -> str | None:
    """The nearest pyproject.toml with a [tool.migrate] table, upward from the first path (or cwd)."""
    start = os.path.abspath(paths[0] if paths else ".")
    current = start if os.path.isdir(start) else os.path.dirname(start)
    while True:
        candidate = os.path.join(current, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as fh:
                    if "migrate" in tomllib.load(fh).get("tool", {}):
                        return candidate
            except (OSError, tomllib.TOMLDecodeError):
                pass  # an unrelated broken pyproject is not ours to report; keep looking
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def load_config(path: str) -> Config:
    try:
        with open(path, "rb") as fh:
            document = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table = document.get("tool", {}).get("migrate", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.migrate] must be a table")
    config = Config(path=path)
    for key, value in table.items():
        where = f"{path}: [tool.migrate] {key}"
        if key not in KEYS:
            raise ConfigError(f"{path}: unknown key {key!r} in [tool.migrate]; valid keys: {', '.join(sorted(KEYS))}")
        if key in _LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: expected a list of strings")
            setattr(config, key.replace("-", "_"), tuple(value))
        elif key in _BOOLS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false")
            setattr(config, key.replace("-", "_"), value)
        elif key == "client-style":
            if value not in ("client", "module"):
                raise ConfigError(f"{where}: expected \"client\" or \"module\", got {value!r}")
            config.client_style = value
        elif key == "target":
            from migrator.targets import TargetError, parse_target

            if not isinstance(value, str):
                raise ConfigError(f"{where}: expected a string like \"anthropic:claude-sonnet-4-5\"")
            try:
                parse_target(value)
            except TargetError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            config.target = value
        elif key == "per-file-ignores":
            if not isinstance(value, dict) or not all(
                isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()
            ):
                raise ConfigError(f"{where}: expected a table of glob = [codes]")
            config.per_file_ignores = {k: tuple(v) for k, v in value.items()}
    return config


def resolve_config(paths, explicit: str | None) -> Config:
    if explicit:
        return load_config(explicit)
    found = find_config(list(paths))
    return load_config(found) if found else Config()
