"""Reading Python source files: encoding cookies, BOMs, binary and unreadable files.

Every failure becomes a :class:`SourceError` with a one-line message; nothing here raises anything else.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import tokenize
from dataclasses import dataclass

GENERATED_MARKER = "@generated"
# Only the head of a file is searched for the marker, as other tools do: a file *about* generated code is
# not itself generated.
GENERATED_HEAD = 2048


class SourceError(Exception):
    """A file that cannot be analysed; ``str(err)`` is the one-line reason."""


@dataclass(frozen=True)
class Source:
    """Decoded text of a file plus what is needed to write it back byte-faithfully."""

    path: str
    text: str
    encoding: str  # the codec named by the cookie (or utf-8)
    bom: bool
    digest: str = ""  # of the bytes read: a write checks the file still has them (see engine.writer)

    @property
    def is_generated(self) -> bool:
        return GENERATED_MARKER in self.text[:GENERATED_HEAD]

    def encode(self, text: str) -> bytes:
        """Encode ``text`` the way this file was encoded (same codec, same BOM)."""
        data = text.encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.bom else data


def read_source(path: str) -> Source:
    """Read and decode ``path``, honouring a PEP 263 coding cookie and a UTF-8 BOM."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from None
    return decode_source(path, data)


def decode_source(path: str, data: bytes, digest: bool = True) -> Source:
    """Decode ``data`` read from ``path``; see :func:`read_source`. ``digest``: record the bytes' digest
    (needed to write the file back, not to scan it)."""
    if b"\0" in data:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        reason = str(getattr(exc, "msg", exc))
        if not reason.startswith("invalid or missing encoding declaration"):
            raise SourceError(f"bad encoding declaration: {reason}") from None
        encoding = "utf-8"  # undecodable bytes in the first lines: the decode below says where
    bom = encoding == "utf-8-sig"
    codec = "utf-8" if bom else encoding
    body = data[len(codecs.BOM_UTF8):] if bom else data
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"not valid {codec}: byte 0x{body[exc.start]:02x} at line {line} cannot be decoded"
        ) from None
    except LookupError:
        raise SourceError(f"unknown encoding {codec!r} in coding cookie") from None
    return Source(path=os.fspath(path), text=text, encoding=codec, bom=bom,
                  digest=content_digest(data) if digest else "")


def content_digest(data: bytes) -> str:
    """A digest of a file's bytes (cache keys, and the check that a file did not change before a write)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def syntax_error_message(text: str, exc: Exception) -> str:
    """A one-line syntax error, located by CPython's parser (libcst's positions are approximate)."""
    import ast

    try:
        ast.parse(text)
    except SyntaxError as err:
        return f"syntax error at line {err.lineno}, column {err.offset or 1}: {err.msg}"
    except (ValueError, RecursionError, MemoryError):
        pass
    first = str(getattr(exc, "message", exc)).splitlines()[0]
    return f"syntax not supported by the parser: {first}"
