"""GS1 DataMatrix symbols as plain module grids, drawn by whoever prints them.

``gs1_datamatrix(element_string)`` encodes a GS1 element string (``kitops.gs1``: the
elements run together, a GS character, ``\\x1d``, after each variable-length element
that is not the last) as an ECC 200 Data Matrix in GS1 mode: codeword 232 (FNC1) first,
which tells a scanner the symbol is GS1, and FNC1 again wherever the string has a GS.
The encoder is pyStrich (README, Libraries and why).

A ``Symbol`` is only its modules, rows of dark (True) and light (False), finder pattern
included and no quiet zone: the PDF and PNG labels draw it as rectangles or pixels, and
a printer language (ZPL, a raster) can draw it its own way. ``to_image`` renders one
with Pillow at a whole number of pixels per module and a quiet zone (ISO/IEC 16022 asks
for one module at least; kitops leaves two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kitops.errors import InvalidInput

if TYPE_CHECKING:
    from PIL import Image

GS = "\x1d"
QUIET_ZONE = 2  # modules of light margin around a symbol when rendered


@dataclass(frozen=True)
class Symbol:
    """A 2D symbol's modules: rows top to bottom, True for dark; no quiet zone."""

    modules: tuple[tuple[bool, ...], ...]

    @property
    def rows(self) -> int:
        return len(self.modules)

    @property
    def columns(self) -> int:
        return len(self.modules[0]) if self.modules else 0

    def runs(self) -> list[tuple[int, int, int]]:
        """The dark modules as horizontal runs ``(row, first column, length)``: what a
        vector renderer fills as one rectangle each."""
        return [(r, start, end - start)
                for r, row in enumerate(self.modules) for start, end in dark_runs(row)]  # fmt: skip


def dark_runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """The dark runs of a row of modules: (first, past the last)."""
    runs = []
    c = 0
    while c < len(row):
        if not row[c]:
            c += 1
            continue
        start = c
        while c < len(row) and row[c]:
            c += 1
        runs.append((start, c))
    return runs


def gs1_datamatrix(element_string: str) -> Symbol:
    """A GS1 DataMatrix of ``element_string`` (GS-separated, as ``kitops.gs1`` builds
    them). A GS at either end, two in a row, or a character outside printable ASCII is
    bad input (GS1 element values are a subset of printable ASCII)."""
    from pystrich.datamatrix import FNC1

    parts = element_string.split(GS)
    if not element_string or any(not part for part in parts):
        raise InvalidInput(
            "element string", element_string, "needs elements, one GS between two of them"
        )
    _check_ascii(element_string.replace(GS, ""), "element string")
    segments: list[Any] = [FNC1]
    for index, part in enumerate(parts):
        if index:
            segments.append(FNC1)
        segments.append(part)
    return _encode(segments)


def text_datamatrix(text: str) -> Symbol:
    """A plain (not GS1) DataMatrix of printable ASCII ``text``: kitops's own codes
    (``KLOC:...``, ``KCRS:...``), which must not read as GS1."""
    if not text:
        raise InvalidInput("code", text, "is empty")
    _check_ascii(text, "code")
    return _encode([text])


def _check_ascii(text: str, field: str) -> None:
    if any(not (" " <= ch <= "~") for ch in text):
        raise InvalidInput(field, text, "holds a character outside printable ASCII")


def _encode(segments: list[Any]) -> Symbol:
    from pystrich.datamatrix import DataMatrixData, DataMatrixEncoder

    # with FNC1, pyStrich encodes byte by byte in ASCII mode: a digit pair takes one
    # codeword, so the numeric GS1 data stays compact
    data = DataMatrixData(*segments, encoding="ascii")
    marks = DataMatrixEncoder(data, quiet_zone=0).get_rect_marks()
    grid = [[False] * marks.width for _ in range(marks.height)]
    for x, y, width, height in marks.marks:
        for row in range(y, y + height):
            for column in range(x, x + width):
                grid[row][column] = True
    return Symbol(tuple(tuple(row) for row in grid))


def to_image(symbol: Symbol, scale: int, *, quiet_zone: int = QUIET_ZONE) -> Image.Image:
    """The symbol as a greyscale Pillow image: ``scale`` pixels per module, black on
    white, with ``quiet_zone`` modules of white around it."""
    from PIL import Image

    if scale < 1:
        raise ValueError("scale must be at least 1 pixel per module")
    width = (symbol.columns + 2 * quiet_zone) * scale
    height = (symbol.rows + 2 * quiet_zone) * scale
    image = Image.new("L", (width, height), 255)
    for row, first, length in symbol.runs():
        left = (first + quiet_zone) * scale
        top = (row + quiet_zone) * scale
        image.paste(0, (left, top, left + length * scale, top + scale))
    return image
