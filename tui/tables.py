"""A DataTable that paints its plain one-line cells itself.

Textual's ``DataTable`` paints every cell through Rich's general machinery (the cell in a
``Padding`` in a ``Styled``, rendered, wrapped, justified, split into lines and cropped):
about a fifth of a millisecond a cell, and a new page of the stock list shows 30 rows of 8
cells, so most of the frame that first shows a scanned place's stock. ``QuickTable``
builds the same segments directly for the cells that need none of that machinery: a
``Text`` without spans, printable, one cell per character, that fits its column, in a
row one line high, left- or right-justified (or unjustified). Any other cell (and the
header) goes the general way. ``tests/tui/test_tui_tables.py`` checks that both ways
paint the same."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

# how a cell's text is laid out: the padding after it is in the text's style (Rich's
# "left" and "right" pad the text itself) or plain (no justification: Rich pads the line)
_PADDED_IN_STYLE = {"left": True, "right": True, None: False, "default": False}


class QuickTable(DataTable[Any]):
    """A ``DataTable`` whose plain one-line cells are painted without Rich's layout."""

    quick = True  # False: every cell the general way (the tests compare both)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        if self.quick and row_index >= 0 and column_index >= 0:
            try:
                lines = self._quick_cell(row_index, column_index, base_style, width, cursor, hover)
            except (AttributeError, KeyError, TypeError, IndexError):
                # a Textual whose table keeps its cells otherwise: the general way only
                type(self).quick = False
                lines = None
            if lines is not None:
                return lines
        return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)

    def _quick_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]] | None:
        """The cell's one line as ``DataTable._render_cell`` paints it (kept in the same
        cache, under the same key), or None when the cell needs the general way."""
        if self.fixed_rows or self.fixed_columns:
            return None
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return None
        key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor,
               self._update_count, self._pseudo_class_state)  # fmt: skip
        cache = self._cell_render_cache
        if key in cache:
            return cache[key]
        row = self.rows[row_key]
        if row.height != 1:
            return None
        cell = self._get_row_renderables(row_index)[1][column_index]
        if type(cell) is not Text or cell.spans or cell.justify not in _PADDED_IN_STYLE:
            return None
        text = cell.plain
        pad = self.cell_padding
        room = width - 2 * pad
        if (
            room < len(text)
            or not text.isprintable()
            or cell_len(text) != len(text)
            or (cell.justify == "right" and text != text.rstrip())
            or (not text and not _PADDED_IN_STYLE[cell.justify])
        ):
            return None
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        # as Textual's Styled applies them: the table's style, then the cell's, then
        # the cursor's or hover's
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index})
        pre = pre + component_style
        plain = pre + post_style if post_style else pre
        own = self.app.console.get_style(cell.style) if cell.style else None
        styled = pre + own if own else pre
        if post_style:
            styled = styled + post_style
        fill = room - len(text)
        line: list[Segment] = [Segment(" " * pad, plain)] if pad else []
        if cell.justify == "right":
            line.append(Segment(" " * fill + text, styled))
        elif _PADDED_IN_STYLE[cell.justify]:
            line.append(Segment(text + " " * fill, styled))
        else:
            line.append(Segment(text, styled))
            if fill:
                line.append(Segment(" " * fill, plain))
        if pad:
            line.append(Segment(" " * pad, plain))
        cache[key] = lines = [line]
        return lines
