"""Shared by every document writer: the file to write, writing it in one go, and text
in the characters the PDF core fonts can show."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path

from kitops.errors import InvalidInput

# --- the file to write ----------------------------------------------------------------------


def output_path(out: str, suffixes: Sequence[str]) -> Path:
    """The file to write: its extension one of ``suffixes``, its folder existing."""
    if not out or not out.strip():
        raise InvalidInput("out", out, "give the file to write")
    path = Path(out).expanduser()
    if path.suffix.lower() not in suffixes:
        raise InvalidInput("out", out, f"must end {' or '.join(suffixes)}")
    if not path.parent.is_dir():
        raise InvalidInput("out", out, f"folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise InvalidInput("out", out, "is a folder")
    return path


def write_file(path: Path, data: bytes, out: str) -> Path:
    """Write the finished bytes in one go (nothing is opened before they are ready)."""
    try:
        path.write_bytes(data)
    except OSError as error:
        raise InvalidInput("out", out, f"cannot be written: {error.strerror or error}") from None
    return path


# --- text for the PDF core fonts ------------------------------------------------------------


def printable(text: str) -> str:
    """``text`` in the characters Helvetica can show (Windows-1252): accents dropped where
    that helps, anything else as ``?``."""
    out = []
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            try:
                base.encode("cp1252")
            except UnicodeEncodeError:
                base = ""
            char = base or "?"
        out.append(char if char.isprintable() else " ")
    return "".join(out)
