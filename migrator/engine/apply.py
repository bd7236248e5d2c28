"""The ``diff``/``apply`` pipeline: discover, build the project view, fix in a pool, write as results
arrive.

Phases:

1. Discovery (and, for ``apply``, removal of temporary files that killed runs left in the folders about
   to be written).
2. The project phase: whole-program facts (:class:`~migrator.rules.project.ProjectView`) gathered from
   every file before any is fixed (:func:`migrator.engine.project.plan_run`), with the client plan of each
   module as lines for the user. A view given in ``FixOptions(project=...)`` is used as it is.
3. Fixing: :func:`~migrator.engine.fixer.fix_paths` streams results in path order; the options and the
   view reach each worker once.
4. Writing: :func:`write_fix` writes one result atomically, unless the file changed on disk since it
   was read (then it is left alone and reported: run again).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from migrator.engine.discovery import Discovery, discover
from migrator.engine.fixer import FileFix, FixOptions, fix_paths
from migrator.engine.settings import Settings
from migrator.engine.source import SourceError, content_digest
from migrator.engine.writer import remove_stale_temp_files, write_atomic
from migrator.rules.project import EMPTY


class ConcurrentModification(SourceError):
    """The file on disk is no longer the one that was read."""


def plan_project(settings: Settings, files: list[str], options: FixOptions) -> tuple[FixOptions, list[str]]:
    """The project phase: ``options`` with the whole program's view, and the client plan of each module
    (one line each, with the reason). A view already in ``options`` is kept."""
    from migrator.engine.project import plan_run

    if options.project is not EMPTY or not files:
        return options, []
    return plan_run(files, settings.codes, options)


def fix_run(settings: Settings, jobs: int | None, options: FixOptions | None = None,
            clean: bool = False, plan: list[str] | None = None) -> tuple[Discovery, Iterator[FileFix]]:
    """Discover the files of ``settings`` and fix them (lazily: results stream). ``clean``: first remove
    stale temporary files from the folders of the files found (``apply`` does). ``plan``, when given,
    receives the client plan lines of the project phase."""
    found = discover(settings.paths, settings.discovery)
    if clean:
        remove_stale_temp_files(os.path.dirname(os.path.realpath(path)) for path in found.files)
    options, lines = plan_project(settings, found.files, options or settings.fix_options())
    if plan is not None:
        plan.extend(lines)
    return found, fix_paths(found.files, settings.codes, options, jobs, codes_for=settings.codes_for)


def _unchanged_since_read(result: FileFix):  # type: ignore[no-untyped-def]
    def check(target: str) -> None:
        assert result.source is not None
        try:
            with open(target, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise ConcurrentModification(f"could not be re-read before writing: {exc.strerror or exc}") from None
        if result.source.digest and content_digest(data) != result.source.digest:
            raise ConcurrentModification("changed on disk while it was being migrated; not overwritten (run again)")
    return check


def write_fix(result: FileFix) -> None:
    """Write ``result``'s new text over its file, atomically, keeping encoding, BOM and mode; refuse if the
    file changed since it was read. Raises :class:`SourceError` with a one-line reason."""
    assert result.source is not None and result.new_text is not None
    try:
        data = result.source.encode(result.new_text)
        write_atomic(result.path, data, check=_unchanged_since_read(result))
    except SourceError:
        raise
    except (OSError, UnicodeEncodeError) as exc:
        raise SourceError(f"could not write: {exc}") from None
