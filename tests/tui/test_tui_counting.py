"""A count sheet by scanner: each label scanned adds one (or its count (30)), a label of
nothing kept here is refused in red and leaves the sheet as it was, and the sheet is
applied as one count."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import DataTable, Static
from tui_support import (
    AS_OF,
    KeyClock,
    make_app,
    press_alone,
    service_uow,
    settle,
    settle_until,
    table_text,
    text_of,
    type_text,
)

from kitops.services.stock import stock_on_hand
from kitops.tui.modals import FormDialog
from kitops.tui.screens.counting import CountScreen

SCANNER = 0.002
SERUM_GTIN = "05060999900014"
GS = "\x1d"


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def on_hand(url: str, place: str, lot: str) -> int:
    lines = stock_on_hand(service_uow(url), location=place, sku="SERUM-5ML",
                          include_unavailable=True, today=AS_OF)  # fmt: skip
    return sum(line.quantity for line in lines if line.lot == lot and line.location == place)


def test_a_count_sheet_filled_by_scanning_is_applied_as_one_count(demo_url: str) -> None:
    place = "LON-FRIDGE"
    lines = stock_on_hand(service_uow(demo_url), location=place, sku="SERUM-5ML", today=AS_OF)
    lot = next(line.lot for line in lines if line.location == place)
    vial = f"]d201{SERUM_GTIN}10{lot}"
    box = f"]d201{SERUM_GTIN}10{lot}{GS}305"

    async def scenario() -> None:
        app = make_app(demo_url, clinic="LON", scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            app.action_count_sheet(place)
            await settle_until(pilot, lambda: isinstance(app.screen, CountScreen))
            screen = app.screen
            table = screen.query_one("#count-table", DataTable)
            for label in (vial, vial, box):
                await type_text(pilot, label)
                await pilot.press("enter")
                await settle(pilot)
            assert table.row_count == 1
            assert f"SERUM-5ML {lot} 7" in table_text(table)

            await type_text(pilot, "]d20105060999900991")  # a GTIN nothing in the catalogue has
            await pilot.press("enter")
            await settle(pilot)
            message = text_of(screen.query_one("#count-message", Static))
            assert "not counted" in message
            assert "no product in the catalogue has this GTIN" in message
            assert f"SERUM-5ML {lot} 7" in table_text(table)

            await pilot.press("ctrl+s")
            await settle_until(pilot, lambda: isinstance(app.screen, FormDialog))
            await pilot.press("tab", "enter")  # other lots on record: left as they are
            await settle_until(pilot, lambda: isinstance(app.screen, CountScreen)
                               and table.row_count == 0)  # fmt: skip
            assert "applied" in text_of(screen.query_one("#count-message", Static))
        assert on_hand(demo_url, place, lot) == 7

    run(scenario)


def test_the_stock_screen_opens_a_count_sheet_at_the_selected_place(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, clinic="LON", scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 32)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            await press_alone(pilot, "C")
            await settle_until(pilot, lambda: isinstance(app.screen, CountScreen))
            assert app.screen.location.startswith("LON")

    run(scenario)
