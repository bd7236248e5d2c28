"""Jupyter notebooks: their code cells analysed and rewritten as one module, everything else kept.

Code cells are joined into one Python text (so ``import openai`` in cell 1 resolves in cell 5), each
preceded by a marker comment; IPython magics and shell lines (``%pip install openai==0.28``,
``!pip ...``, whole ``%%bash`` cells) are masked as marker comments and restored verbatim. After a
rewrite the text is split back at the markers. The JSON is written back with the formatting it was read
with (indent, key order, escaping, trailing newline); a notebook whose formatting cannot be reproduced
exactly, or whose JSON is broken, is reported and left alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from migrator.engine.source import SourceError

CELL = "# migrate:cell {}"
MAGIC = "# migrate:magic {}"
_CELL_RE = re.compile(r"^# migrate:cell (\d+)\s*$")
_MAGIC_RE = re.compile(r"^(\s*)# migrate:magic (\d+)\s*$")


def _is_magic(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("%", "!")) or (stripped.endswith("?") and not stripped.startswith("#"))


@dataclass
class Notebook:
    path: str
    raw: str
    data: dict
    dump: dict  # json.dumps keyword arguments that reproduce ``raw``
    trailing_newline: bool
    magics: list[str] = field(default_factory=list)
    line_map: list[tuple[int, int] | None] = field(default_factory=list)  # python line -> (cell number, line)

    @classmethod
    def parse(cls, path: str, raw: str) -> Notebook:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise SourceError(f"invalid notebook JSON ({exc}); left alone") from None
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            raise SourceError("not a Jupyter notebook (no 'cells' list); left alone")
        body = raw.removesuffix("\n")
        for indent in (1, 2, 4, None):
            for ensure_ascii in (False, True):
                if json.dumps(data, indent=indent, ensure_ascii=ensure_ascii) == body:
                    return cls(path, raw, data, {"indent": indent, "ensure_ascii": ensure_ascii}, raw.endswith("\n"))
        return cls(path, raw, data, {}, raw.endswith("\n"))  # analysable, but not rewritable

    @property
    def digest(self) -> str:
        """Digest of the notebook's bytes (the raw text was decoded from UTF-8, so this round-trips)."""
        from migrator.engine.source import content_digest

        return content_digest(self.raw.encode("utf-8"))

    @property
    def rewritable(self) -> bool:
        return bool(self.dump)

    def to_python(self) -> str:
        lines: list[str] = []
        self.magics, self.line_map = [], []
        for number, cell in enumerate(self.data["cells"], start=1):
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            lines.append(CELL.format(number))
            self.line_map.append(None)
            cell_lines = text.split("\n")
            opaque = bool(cell_lines) and cell_lines[0].lstrip().startswith("%%")
            for index, line in enumerate(cell_lines, start=1):
                if opaque or _is_magic(line):
                    indent = line[: len(line) - len(line.lstrip())]
                    lines.append(indent + MAGIC.format(len(self.magics)))
                    self.magics.append(line)
                else:
                    lines.append(line)
                self.line_map.append((number, index))
        return "\n".join(lines) + "\n"

    def locate(self, line: int) -> tuple[int, int] | None:
        """(cell number, line in cell) of a line of :meth:`to_python`'s text."""
        return self.line_map[line - 1] if 0 < line <= len(self.line_map) else None

    def from_python(self, text: str) -> str:
        """The notebook JSON with the code cells taken from ``text`` (magics restored)."""
        if not self.rewritable:
            raise SourceError("notebook formatting could not be reproduced exactly; left alone")
        cells: dict[int, list[str]] = {}
        current: int | None = None
        preamble: list[str] = []
        for line in text.split("\n"):
            marker = _CELL_RE.match(line)
            if marker:
                current = int(marker.group(1))
                cells[current] = []
                continue
            magic = _MAGIC_RE.match(line)
            if magic:
                line = self.magics[int(magic.group(2))]
            (cells[current] if current is not None else preamble).append(line)
        first = min(cells) if cells else None
        if preamble and any(line.strip() for line in preamble) and first is not None:
            cells[first] = [*preamble, *cells[first]]  # e.g. an import added above the first cell
        for number, cell in enumerate(self.data["cells"], start=1):
            if number not in cells:
                continue
            new_lines = cells[number]
            while new_lines and new_lines[-1] == "" and number != max(cells):
                new_lines.pop()
            original = cell.get("source", "")
            old_text = "".join(original) if isinstance(original, list) else str(original)
            new_text = "\n".join(new_lines)
            if number == max(cells):
                new_text = new_text.rstrip("\n") if not old_text.endswith("\n") else new_text
            if new_text == old_text:
                continue
            if isinstance(original, list):
                parts = new_text.split("\n")
                cell["source"] = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
            else:
                cell["source"] = new_text
        result = json.dumps(self.data, **self.dump)
        return result + "\n" if self.trailing_newline else result


def read_notebook(path: str) -> Notebook:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError("notebook is not valid UTF-8; left alone") from None
    return Notebook.parse(path, raw)
