"""``QuickTable`` paints its plain one-line cells itself: every cell, painted that way,
is the line Textual's own way paints (the same text in the same styles), whatever the
cell's text, style and justification, under the cursor or not, in a narrow column or a
wide one, in any theme; the cells it cannot paint so go Textual's way."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from kitops.tui.tables import QuickTable

CELLS: list[Any] = [
    Text("LON-FRIDGE", style="bold #ff0000", justify="left"),
    Text("12", style="", justify="right"),
    Text("-3", style="#e0a030", justify="right"),
    Text("", justify="left"),
    Text("", style="italic", justify="right"),
    Text("quarantine", style=Style(color="yellow"), justify="left"),
    Text("Kühlschrank", justify="left"),
    Text("plain", justify=None),
    Text("unjustified", style="red"),
    Text("1 2 ", justify="right"),  # trailing space: Rich strips it
    Text("a very long cell that does not fit", justify="left"),
    Text("wide 漢字", justify="left"),
    Text("centred", justify="center"),
    Text.assemble(("two", "red"), " styles"),
    "London",
    "2027-01-31",
    "",
    "[bold]markup[/bold]",
    42,
    None,
]


class Tables(App[None]):
    def compose(self) -> ComposeResult:
        table = QuickTable(id="quick", cursor_type="row", zebra_stripes=True)
        for n, width in enumerate((None, 4, 12, None, 3)):
            table.add_column(f"c{n}", width=width)
        yield table


def painted(table: QuickTable, row: int, column: int, cursor: bool) -> list[Segment]:
    """The cell as painted, after Textual joins equal styles (as every line is)."""
    table._cell_render_cache.clear()
    width = table.ordered_columns[column].get_render_width(table)
    lines = table._render_cell(row, column, table.rich_style, width, cursor=cursor)
    assert len(lines) == 1
    return list(Segment.simplify(lines[0]))


def test_quick_cells_are_painted_as_textual_paints_them() -> None:
    async def scenario() -> None:
        app = Tables()
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(QuickTable)
            rows = [CELLS[n : n + 5] for n in range(0, len(CELLS), 5)]
            for n in range(len(CELLS)):  # every cell in every column
                rows.append([CELLS[(n + k) % len(CELLS)] for k in range(5)])
            for row in rows:
                table.add_row(*row, *([""] * (5 - len(row))))
            await pilot.pause()
            for theme in ("textual-dark", "textual-light"):
                app.theme = theme
                await pilot.pause()
                for row in range(table.row_count):
                    for column in range(len(table.columns)):
                        for cursor in (False, True):
                            quick = painted(table, row, column, cursor)
                            table.quick = False
                            try:
                                general = painted(table, row, column, cursor)
                            finally:
                                table.quick = True
                            assert quick == general, (theme, row, column, cursor)
                            assert quick[0].style is not None
                            assert quick[0].style.meta == {"row": row, "column": column}
            assert QuickTable.quick  # never fell back for good

    asyncio.run(scenario())


def test_a_quick_table_paints_quickly_the_cells_it_can() -> None:
    """Plain cells that fit take the quick way; a centred one, an empty unjustified one
    and one too long for its column Textual's."""

    async def scenario() -> None:
        app = Tables()
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(QuickTable)
            # columns: as wide as their cells, 4, 12, as wide as their cells, 3
            table.add_row(Text("LON", justify="left"), "ab", Text("x", justify="center"), "",
                          Text("long", justify="left"))  # fmt: skip
            await pilot.pause()
            width = [c.get_render_width(table) for c in table.ordered_columns]
            quick = [
                table._quick_cell(0, column, table.rich_style, width[column], False, False)
                is not None
                for column in range(5)
            ]
            assert quick == [True, True, False, False, False]
            assert isinstance(table, DataTable)

    asyncio.run(scenario())
