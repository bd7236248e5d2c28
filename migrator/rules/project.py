"""What a rule may know about the rest of the program: facts gathered from every module before fixing.

The engine builds a :class:`ProjectView` in a first pass over the whole set of files (which module
configures the openai SDK, where; who imports whom; which functions return v0 responses and which
parameters receive them) and hands it to every file's analysis through the run options. A single-file run,
or a file outside any known package, gets the empty view: rules then fall back to what the file itself
shows, and say so where it matters.

Everything here is plain, picklable data: the view travels to worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProjectView:
    """Whole-program facts, keyed by dotted module names (``pkg.sub.mod``) and qualified names."""

    complete: bool = False  # False: built from one file only (what other modules do is unknown)
    modules: tuple[tuple[str, str], ...] = ()  # (path, dotted module name) of every analysed file

    def module_of(self, path: str) -> str | None:
        """The dotted name of the module at ``path``, if the project knows it."""
        for known, name in self.modules:
            if known == path:
                return name
        return None


EMPTY = ProjectView()
