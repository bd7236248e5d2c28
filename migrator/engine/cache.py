"""The scan result cache, like ruff's: ``.migrate_cache/`` next to the configuration (or in the working
directory), keyed on each file's content, the tool (its version and the code of its rules and engine),
the rules enabled for the file and the run options.

One JSON file per tool fingerprint and option set holds every entry; it is loaded once and written once
per run, atomically, merged with what other runs wrote meanwhile, so concurrent runs never corrupt it
(at worst one run's new entries are lost, which only costs a re-analysis). A cache that cannot be read
counts as empty; one that cannot be written is skipped silently. ``--no-cache`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from functools import lru_cache

from migrator.engine.results import FileResult, Finding, FixSafety

CACHE_DIR = ".migrate_cache"
GITIGNORE = "# Created by migrate automatically.\n*\n"


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """The version plus size and mtime of every module of the package: an edited rule invalidates."""
    import migrator

    package = os.path.dirname(os.path.abspath(migrator.__file__))
    digest = hashlib.blake2b(migrator.__version__.encode(), digest_size=8)
    for folder, dirs, files in sorted(os.walk(package)):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".py", ".toml")):
                st = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()


def _encode(result: FileResult) -> list:  # type: ignore[type-arg]
    findings = [[f.line, f.column, f.code, f.message, f.end_line, f.end_column, f.fix.value, f.statement_line]
                for f in result.findings]
    return [findings, result.error, result.parsed, result.suppressed, result.skipped]


def _decode(path: str, entry: list) -> FileResult:  # type: ignore[type-arg]
    findings, error, parsed, suppressed, skipped = entry
    return FileResult(
        path=path,
        findings=[Finding(path, line, column, code, message, end_line, end_column, FixSafety(fix), statement)
                  for line, column, code, message, end_line, end_column, fix, statement in findings],
        error=error, parsed=parsed, suppressed=suppressed, skipped=skipped,
    )


class ResultCache:
    """Scan results by file content and rules."""

    def __init__(self, root: str, options: str = "") -> None:
        self.directory = os.path.join(root, CACHE_DIR)
        key = hashlib.blake2b(f"{tool_fingerprint()}|{options}".encode(), digest_size=8).hexdigest()
        self.file = os.path.join(self.directory, f"scan-{key}.json")
        self.entries: dict[str, list] = self._load()  # type: ignore[type-arg]
        self.added: dict[str, list] = {}  # type: ignore[type-arg]

    def _load(self) -> dict[str, list]:  # type: ignore[type-arg]
        try:
            with open(self.file, encoding="utf-8") as fh:
                data = json.load(fh)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    @staticmethod
    def key(digest: str, codes: Sequence[str]) -> str:
        return f"{digest}:{','.join(codes)}"

    def get(self, path: str, digest: str, codes: Sequence[str]) -> FileResult | None:
        entry = self.entries.get(self.key(digest, codes))
        if entry is None:
            return None
        try:
            return _decode(path, entry)
        except (TypeError, ValueError):  # a damaged entry: analyse again
            return None

    def put(self, digest: str, codes: Sequence[str], result: FileResult) -> None:
        if not result.cacheable:
            return
        key = self.key(digest, codes)
        if key not in self.entries:
            self.entries[key] = self.added[key] = _encode(result)

    def save(self) -> None:
        """Merge this run's entries into the cache file (atomically)."""
        if not self.added:
            return
        from migrator.engine.writer import write_new

        try:
            os.makedirs(self.directory, exist_ok=True)
            ignore = os.path.join(self.directory, ".gitignore")
            if not os.path.exists(ignore):
                write_new(ignore, GITIGNORE.encode())
            merged = self._load()
            merged.update(self.added)
            write_new(self.file, json.dumps(merged, separators=(",", ":")).encode("utf-8"))
        except OSError:
            pass
