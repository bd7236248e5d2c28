"""The scan result cache, like ruff's: ``.migrate_cache/`` next to the configuration (or in the working
directory), keyed on each file's content, the tool (its version and the code of its rules and engine),
the rules enabled for the file and the run options.

One JSON file per tool fingerprint and option set holds every entry; it is loaded once and written once
per run, atomically, merged with what other runs wrote meanwhile, so concurrent runs never corrupt it
(at worst one run's new entries are lost, which only costs a re-analysis). A cache that cannot be read
counts as empty; one that cannot be written is skipped silently. ``--no-cache`` turns it off.

Like git's index, the cache also remembers each file's size, modification time and inode next to the
digest of its content, so an unchanged file is answered without being read. A file modified less than
:data:`RACY_SECONDS` before it was recorded is never remembered that way (a later change within the same
timestamp tick could go unseen): it is read and hashed every time.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from functools import lru_cache

from migrator.engine.results import FileResult, Finding, FixSafety

CACHE_DIR = ".migrate_cache"
FORMAT = 2  # of the cache file; another format is another file
RACY_SECONDS = 2.0
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


@lru_cache(maxsize=64)
def _codes_key(codes: tuple[str, ...]) -> str:
    """A short stand-in for a set of rule codes (runs with per-file-ignores have a few)."""
    return hashlib.blake2b(",".join(codes).encode(), digest_size=6).hexdigest()


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
        self._cwd = os.getcwd()
        key = hashlib.blake2b(f"{FORMAT}|{tool_fingerprint()}|{options}".encode(), digest_size=8).hexdigest()
        self.file = os.path.join(self.directory, f"scan-{key}.json")
        self.entries, self.files = self._load()
        self.added: dict[str, list] = {}  # type: ignore[type-arg]
        self.added_files: dict[str, list] = {}  # type: ignore[type-arg]

    def _load(self) -> tuple[dict[str, list], dict[str, list]]:  # type: ignore[type-arg]
        try:
            with open(self.file, encoding="utf-8") as fh:
                data = json.load(fh)
            entries, files = data["entries"], data["files"]
            if isinstance(entries, dict) and isinstance(files, dict):
                return entries, files
        except (OSError, ValueError, TypeError, KeyError):
            pass
        return {}, {}

    def _absolute(self, path: str) -> str:
        # Discovery gives normalised paths: joining is enough (and far cheaper than abspath per file).
        return path if os.path.isabs(path) else os.path.join(self._cwd, path)

    @staticmethod
    def _stamp(st: os.stat_result) -> list[int]:
        return [st.st_size, st.st_mtime_ns, st.st_ino]

    def known_digest(self, path: str, st: os.stat_result) -> str | None:
        """The content digest recorded for ``path`` when its size, mtime and inode are still ``st``'s."""
        known = self.files.get(self._absolute(path))
        if isinstance(known, list) and len(known) == 4 and known[:3] == self._stamp(st):
            return known[3] if isinstance(known[3], str) else None
        return None

    def remember(self, path: str, st: os.stat_result, digest: str, now: float) -> None:
        """Record ``path``'s stat next to its digest, unless it changed too recently to be trusted."""
        if now - st.st_mtime_ns / 1e9 < RACY_SECONDS:
            return
        record = [*self._stamp(st), digest]
        absolute = self._absolute(path)
        if self.files.get(absolute) != record:
            self.files[absolute] = self.added_files[absolute] = record

    def answer(self, path: str, codes: Sequence[str]) -> FileResult | None:
        """The cached result of an unchanged file, from its stat alone (no read), or None."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        digest = self.known_digest(path, st)
        return self.get(path, digest, codes) if digest is not None else None

    @staticmethod
    def key(digest: str, codes: Sequence[str]) -> str:
        return f"{digest}:{_codes_key(tuple(codes))}"

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
        if not self.added and not self.added_files:
            return
        from migrator.engine.writer import write_new

        try:
            os.makedirs(self.directory, exist_ok=True)
            ignore = os.path.join(self.directory, ".gitignore")
            if not os.path.exists(ignore):
                write_new(ignore, GITIGNORE.encode())
            entries, files = self._load()
            entries.update(self.added)
            files.update(self.added_files)
            data = {"format": FORMAT, "entries": entries, "files": files}
            write_new(self.file, json.dumps(data, separators=(",", ":")).encode("utf-8"))
        except OSError:
            pass
