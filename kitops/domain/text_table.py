"""Fixed-width text tables: the one layout the command line's tables and the reports'
terminal tables share.

A table is a heading line, a rule and one line per row; columns are two spaces apart and
no line ends in spaces. Widths count terminal cells, not characters: a CJK character or
a full-width form takes two cells, a combining accent none, so ``Größe`` and ``数量`` line
up with ``qty``. Given a ``width``, a table wider than it gives way in its text columns
only (down to their heading's width), each cut cell ending in ``…``; numbers, dates and
amounts always keep their full width.

Laid out here in plain Python rather than by rich's layout engine: a table can have tens
of thousands of lines (``kitops stock`` on a large clinic, a report's sections), and
laying out 10,000 lines this way takes milliseconds where rich takes seconds. Cells arrive
as the text to print: escaping control characters (``kitops.domain.text.visible``) and
writing values in the locale are the caller's.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

ELLIPSIS = "…"
GAP = "  "
RULE = "─"
# cells of zero width: combining marks, enclosing marks, format characters (a zero-width
# joiner, a soft hyphen)
_ZERO_WIDTH = frozenset(("Mn", "Me", "Cf"))


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if unicodedata.category(char) in _ZERO_WIDTH:
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """The terminal cells ``text`` takes: one per character for ASCII (the common case,
    answered by ``len``), two for a wide East Asian character, none for a combining mark."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


def truncate(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, ending in ``…`` when it was cut."""
    if cell_width(text) <= width:
        return text
    if width <= 0:
        return ""
    room = width - 1  # the ellipsis takes one cell
    taken = used = 0
    for char in text:
        size = _char_width(char)
        if used + size > room:
            break
        used += size
        taken += 1
    return text[:taken] + ELLIPSIS


def fit(text: str, width: int, *, right: bool = False) -> str:
    """``text`` in exactly ``width`` cells: cut (``truncate``) or padded with spaces on the
    right, or on the left for a right-aligned column."""
    size = cell_width(text)
    if size > width:
        text = truncate(text, width)
        size = cell_width(text)
    padding = " " * (width - size)
    return padding + text if right else text + padding


def column_widths(
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    shrinkable: Sequence[bool],
    width: int | None = None,
) -> list[int]:
    """Each column's width in cells: its widest cell or heading. With ``width``, when the
    table (columns two cells apart) is wider than that, the ``shrinkable`` (text) columns are
    capped at the largest common width that fits, never below their own heading's width;
    the other columns keep their widths, so a table can still end up wider than ``width``."""
    widths = [cell_width(heading) for heading in headings]
    for n in range(len(headings)):
        cells = {row[n] for row in rows}  # a column repeats its values: measure each once
        if cells:
            widths[n] = max(widths[n], max(map(cell_width, cells)))
    if width is None:
        return widths
    room = width - len(GAP) * (len(widths) - 1)
    room -= sum(w for w, text in zip(widths, shrinkable, strict=True) if not text)
    text_widths = [w for w, text in zip(widths, shrinkable, strict=True) if text]
    if not text_widths or sum(text_widths) <= room:
        return widths
    cap = max(text_widths)
    while cap > 1 and sum(min(w, cap) for w in text_widths) > room:
        cap -= 1
    return [
        max(cell_width(heading), min(w, cap)) if text else w
        for heading, w, text in zip(headings, widths, shrinkable, strict=True)
    ]


def render(
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[bool],
    shrinkable: Sequence[bool] | None = None,
    width: int | None = None,
) -> list[str]:
    """The table's lines: the headings, a rule as wide as the table, then one line per row.

    ``right`` says which columns are right-aligned; ``shrinkable`` which may give way when
    the table is wider than ``width`` (by default the left-aligned ones). Every row has a
    cell per heading."""
    if shrinkable is None:
        shrinkable = [not r for r in right]
    widths = column_widths(headings, rows, shrinkable=shrinkable, width=width)
    lines = [_line(headings, widths, right)]
    lines.append(RULE * (sum(widths) + len(GAP) * (len(widths) - 1)))
    # a column of ASCII text that is never cut is padded by str.format, a whole line in one
    # call; the others cell by cell (``fit``)
    plain = [
        all(row[n].isascii() and len(row[n]) <= size for row in rows)
        for n, size in enumerate(widths)
    ]
    layout = GAP.join(
        f"{{:{'>' if to_right else '<'}{size}}}" if simple else "{}"
        for size, to_right, simple in zip(widths, right, plain, strict=True)
    )
    if all(plain):
        lines += [layout.format(*row).rstrip() for row in rows]
    else:
        fitted = [
            (n, size, to_right)
            for n, (size, to_right, simple) in enumerate(zip(widths, right, plain, strict=True))
            if not simple
        ]
        for row in rows:
            cells = list(row)
            for n, size, to_right in fitted:
                cells[n] = fit(cells[n], size, right=to_right)
            lines.append(layout.format(*cells).rstrip())
    return lines


def _line(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    parts = []
    for text, size, to_right in zip(cells, widths, right, strict=True):
        if text.isascii() and len(text) <= size:
            parts.append(text.rjust(size) if to_right else text.ljust(size))
        else:
            parts.append(fit(text, size, right=to_right))
    return GAP.join(parts).rstrip()
