"""Finding the files to analyse.

Walks the given paths in sorted order, honours ``.gitignore`` (nested files and those of the parent
repository), skips version-control folders, virtualenvs and installed packages, applies exclude globs and
terminates on symlink loops. Explicitly named files are always analysed unless ``force_exclude`` is set,
which is what pre-commit needs: it passes file names one by one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from migrator.engine.gitignore import IgnoreFile, inherited_ignores, is_ignored, load_ignore_file
from migrator.engine.globs import compile_glob

PYTHON_SUFFIXES = (".py", ".pyi", ".ipynb")

DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv",
    ".vscode", "__pycache__", "__pypackages__", "_build", "buck-out", "dist", "dist-packages",
    "node_modules", "site-packages", "venv", ".migrate_cache",
)


@dataclass
class DiscoveryOptions:
    """How to pick files. ``exclude`` replaces the defaults; ``extend_exclude`` adds to them."""

    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    force_exclude: bool = False
    respect_gitignore: bool = True


@dataclass
class Discovery:
    """The outcome of a walk: files to analyse (sorted, unique) and per-path errors."""

    files: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


class _Excluder:
    """Exclude globs. A glob without ``/`` names a file or folder anywhere; one with ``/`` is a path
    relative to the working directory or to the walked root."""

    def __init__(self, patterns: tuple[str, ...], cwd: str) -> None:
        names = [p.rstrip("/") for p in patterns if "/" not in p.rstrip("/")]
        # Plain names (the defaults) are a set lookup; only real globs need a regex per entry.
        self.plain_names = {n for n in names if not any(c in n for c in "*?[\\")}
        self.name_regexes = [compile_glob(n) for n in names if n not in self.plain_names]
        self.path_regexes = [compile_glob(p) for p in patterns if "/" in p.rstrip("/")]
        self.cwd = cwd

    def _relative(self, path: str, root: str | None) -> list[str]:
        absolute = os.path.abspath(path)
        out = []
        for base in (self.cwd, root):
            if base is not None:
                rel = os.path.relpath(absolute, os.path.abspath(base)).replace(os.sep, "/")
                if not rel.startswith(".."):
                    out.append(rel)
        return out

    def walked(self, path: str, root: str, name: str | None = None) -> bool:
        """For an entry met while walking ``root`` (``name``: its base name): its parents were already checked."""
        name = name if name is not None else os.path.basename(path)
        if name in self.plain_names or any(r.match(name) for r in self.name_regexes):
            return True
        return bool(self.path_regexes) and any(
            r.match(rel) for r in self.path_regexes for rel in self._relative(path, root)
        )

    def explicit(self, path: str) -> bool:
        """For a path named on the command line: any component may be excluded."""
        rels = self._relative(path, None) or [os.path.basename(os.path.abspath(path))]
        if any(part in self.plain_names for rel in rels for part in rel.split("/")):
            return True
        return any(r.match(rel) for r in self.name_regexes + self.path_regexes for rel in rels)


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of the temporary files atomic writes use (see engine.writer)."""
    return name.startswith(".migrate-") and name.endswith(".tmp")


def _is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


def _display(path: str, cwd: str) -> str:
    """Paths under the working directory are shown relative to it, others absolute."""
    absolute = os.path.abspath(path)
    prefix = cwd.rstrip(os.sep) + os.sep
    return absolute.removeprefix(prefix)


def discover(paths: list[str] | tuple[str, ...], options: DiscoveryOptions | None = None) -> Discovery:
    """Collect Python files under ``paths`` (files or directories)."""
    options = options or DiscoveryOptions()
    cwd = os.getcwd()
    excluded = _Excluder(tuple(options.exclude) + tuple(options.extend_exclude), cwd)
    result = Discovery()
    seen: set[str] = set()

    cwd_prefix = cwd.rstrip(os.sep) + os.sep

    def add(path: str, absolute: bool = False) -> None:
        shown = path.removeprefix(cwd_prefix) if absolute else _display(path, cwd)
        if shown not in seen:
            seen.add(shown)
            result.files.append(shown)

    for given in paths or (".",):
        try:
            os.stat(given)
        except OSError as exc:
            result.errors.append((given, exc.strerror or str(exc)))
            continue
        if not os.path.isdir(given):
            if is_temp_name(os.path.basename(given)):
                continue  # a write in progress (or left by a killed run), never a source
            if options.force_exclude and (
                excluded.explicit(given) or _force_gitignored(given, options)
            ):
                continue
            add(given)
            continue
        if options.force_exclude and excluded.explicit(given):
            continue
        _walk(given, options, excluded, add, result)
    result.files.sort()
    return result


def _force_gitignored(path: str, options: DiscoveryOptions) -> bool:
    if not options.respect_gitignore:
        return False
    directory = os.path.dirname(os.path.abspath(path))
    ignores = inherited_ignores(directory)
    own = load_ignore_file(os.path.join(directory, ".gitignore"), directory)
    if own is not None:
        ignores.append(own)
    return is_ignored(os.path.abspath(path), False, ignores)


def _walk(top: str, options: DiscoveryOptions, excluded: _Excluder, add, result: Discovery) -> None:
    inherited: list[IgnoreFile] = inherited_ignores(top) if options.respect_gitignore else []
    visited: set[tuple[int, int]] = set()

    def on_error(exc: OSError) -> None:
        result.errors.append((exc.filename or top, exc.strerror or str(exc)))

    # ignore files in force for each directory walked, keyed by absolute path
    stack: dict[str, list[IgnoreFile]] = {}
    for dirpath, dirnames, filenames in os.walk(top, onerror=on_error, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            on_error(exc)
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:  # a symlink loop, or two links to one directory
            dirnames[:] = []
            continue
        visited.add(key)
        absolute = os.path.abspath(dirpath)
        rules = stack.get(os.path.dirname(absolute), inherited)
        if options.respect_gitignore:
            own = load_ignore_file(os.path.join(dirpath, ".gitignore"), absolute)
            if own is not None and own.rules:
                rules = rules + [own]
        stack[absolute] = rules

        prefix, absolute_prefix = dirpath.rstrip(os.sep) + os.sep, absolute.rstrip(os.sep) + os.sep
        keep = []
        for name in sorted(dirnames):
            child = os.path.join(dirpath, name)
            if excluded.walked(child, top) or _is_virtualenv(child):
                continue
            if rules and is_ignored(os.path.join(absolute, name), True, rules):
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            if not name.endswith(PYTHON_SUFFIXES):
                continue
            if excluded.walked(prefix + name, top, name):
                continue
            full = absolute_prefix + name
            if rules and is_ignored(full, False, rules):
                continue
            add(full, absolute=True)
