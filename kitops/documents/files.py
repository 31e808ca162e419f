"""Shared by every document writer: the file to write, writing it in one go, and text
in the characters the PDF core fonts can show."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path

from kitops.errors import InvalidInput
from kitops.i18n import _

# --- the file to write ----------------------------------------------------------------------


def output_path(out: str, suffixes: Sequence[str]) -> Path:
    """The file to write: its extension one of ``suffixes``, its folder existing."""
    if not out or not out.strip():
        raise InvalidInput("out", out, _("give the file to write"))
    path = Path(out).expanduser()
    if path.suffix.lower() not in suffixes:
        raise InvalidInput("out", out, _must_end(suffixes))
    if not path.parent.is_dir():
        raise InvalidInput(
            "out", out, _("folder {folder} does not exist").format(folder=repr(str(path.parent)))
        )
    if path.is_dir():
        raise InvalidInput("out", out, _("is a folder"))
    return path


def _must_end(suffixes: Sequence[str]) -> str:
    if len(suffixes) == 1:
        return _("must end {suffix}").format(suffix=suffixes[0])
    return _("must end {suffixes} or {last}").format(
        suffixes=", ".join(suffixes[:-1]), last=suffixes[-1]
    )


def write_file(path: Path, data: bytes, out: str) -> Path:
    """Write the finished bytes in one go (nothing is opened before they are ready)."""
    try:
        path.write_bytes(data)
    except OSError as error:
        raise InvalidInput(
            "out", out, _("cannot be written: {error}").format(error=error.strerror or error)
        ) from None
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
