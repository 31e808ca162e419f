"""What a scan opens, asked for by key: a lot's label filters the stock list to that lot
exactly (not every lot whose code contains it) until the filter is edited, a place's
label to that place, a course card the course list to that course; and the screens a
scan switches to come back with their keys and the theme chosen while they were away."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import DataTable, Input
from tui_support import AS_OF, KeyClock, make_app, service_uow, settle, settle_until, type_text

from kitops.services.operations import ReceiptInput, receive

SERUM_GTIN = "05060999900014"  # the demo's serum vial
SCANNER = 0.002  # seconds between a scanner's keys


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def test_a_lots_label_shows_that_lot_only_until_the_filter_is_edited(demo_url: str) -> None:
    for lot in ("SCANLOT1", "SCANLOT12"):
        given = ReceiptInput("LON-FRIDGE", sku="SERUM-5ML", lot=lot, expiry="2027-12-31",
                             quantity=5)  # fmt: skip
        receive(service_uow(demo_url), given, today=AS_OF)

    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 30)) as pilot:
            await settle(pilot)
            await type_text(pilot, f"]C101{SERUM_GTIN}10SCANLOT1")
            await pilot.press("enter")
            await settle_until(pilot, lambda: app.current_mode == "stock")
            search = app.screen.query_one("#filter", Input)
            await settle_until(pilot, lambda: search.value == "SCANLOT1")
            await settle(pilot)
            assert {row.lot for row in app.screen.rows} == {"SCANLOT1"}
            search.value = "SCANLOT"  # edited: a search again, over every column
            await settle_until(pilot, lambda: len({row.lot for row in app.screen.rows}) == 2)
            assert {row.lot for row in app.screen.rows} == {"SCANLOT1", "SCANLOT12"}

    run(scenario)


def test_a_places_label_shows_the_stock_at_that_place(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 30)) as pilot:
            await settle(pilot)
            await type_text(pilot, "KLOC:LON-SHELF")
            await pilot.press("enter")
            await settle_until(pilot, lambda: app.current_mode == "stock")
            search = app.screen.query_one("#filter", Input)
            await settle_until(pilot, lambda: search.value == "LON-SHELF")
            await settle(pilot)
            assert app.screen.rows
            assert {row.location for row in app.screen.rows} == {"LON-SHELF"}

    run(scenario)


def test_a_screen_switched_back_to_has_its_keys_and_the_theme_chosen_meanwhile(
    demo_url: str,
) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, theme="textual-dark")
        async with app.run_test(size=(110, 30)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            table = app.screen.query_one(DataTable)
            dark = table.styles.background
            keys = {key.description for key in app.screen.query("FooterKey")}
            assert {"Trace", "Move", "Recall"} <= keys
            await pilot.press("f2")
            await settle(pilot)
            await pilot.press("ctrl+t")  # light, while the stock list is away
            await settle(pilot)
            await pilot.press("f3")
            await settle(pilot)
            assert app.screen.query_one(DataTable) is table
            assert table.styles.background != dark
            assert {key.description for key in app.screen.query("FooterKey")} == keys

    run(scenario)


def test_a_course_card_shows_that_course_only_until_the_filter_is_edited(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 30)) as pilot:
            await settle(pilot)
            await type_text(pilot, "KCRS:1")
            await pilot.press("enter")
            await settle_until(pilot, lambda: app.current_mode == "courses")
            search = app.screen.query_one("#filter", Input)
            await settle_until(pilot, lambda: search.value == "1")
            await settle(pilot)
            assert [row.id for row in app.screen.rows] == [1]
            search.value = "P-"  # edited: a search again
            await settle_until(pilot, lambda: len(app.screen.rows) > 1)

    run(scenario)


def test_every_screen_comes_back_with_the_same_footer_keys_and_styles(demo_url: str) -> None:
    """The kit list (and every other screen) keeps its footer's keys and its styles when
    it comes back unchanged: nothing to re-make on the switch a scan makes."""

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(110, 30)) as pilot:
            await pilot.press("f5")
            await settle(pilot)
            kits = app.screen
            keys = list(kits.query("FooterKey"))
            assert keys
            await pilot.press("f2")
            await settle(pilot)
            restyled: list[object] = []
            kits.update_node_styles = lambda animate=True: restyled.append(animate)  # type: ignore[method-assign]
            await pilot.press("f5")
            await settle(pilot)
            assert app.screen is kits
            assert list(kits.query("FooterKey")) == keys  # the same widgets, not re-made
            assert restyled == []

    run(scenario)


def test_a_long_page_shows_a_screenful_first_and_the_rest_after(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(110, 12)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            screen = app.screen
            table = screen.query_one(DataTable)
            assert len(screen.rows) > 12, "the demo's stock list is longer than a screenful"
            screen.show_page()
            assert table.row_count == 12  # the rows that fit, drawn at once
            await settle(pilot)
            assert table.row_count == len(screen.rows)  # the rest after the first frame
            first = [table.get_row_at(n) for n in range(table.row_count)]
            assert first == [list(screen.row_cells(row)) for row in screen.rows]

    run(scenario)


def test_the_cursors_row_below_the_first_screenful_is_drawn_with_it(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(110, 12)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            screen = app.screen
            table = screen.query_one(DataTable)
            assert len(screen.rows) > 15
            table.move_cursor(row=15)
            screen.show_page()  # the page again (a theme change, a reload)
            assert 16 <= table.row_count < len(screen.rows)
            assert table.cursor_row == 15
            await settle(pilot)
            assert table.row_count == len(screen.rows)
            assert table.cursor_row == 15

    run(scenario)


def test_a_scan_loads_its_screen_once(demo_url: str) -> None:
    """The filter a scan puts in is loaded by the switch, not again by the filter's
    own reload a quarter of a second later."""

    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 30)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            stock = app.screen
            loads: list[dict[str, Any]] = []
            load = stock.load

            def counted(**query: Any) -> Any:
                loads.append(query)
                return load(**query)

            stock.load = counted  # type: ignore[method-assign]
            await pilot.press("f2")
            await settle(pilot)
            await type_text(pilot, "KLOC:LON-SHELF")
            await pilot.press("enter")
            await settle_until(pilot, lambda: app.current_mode == "stock" and bool(loads))
            await settle(pilot)
            assert [query.get("location") for query in loads] == ["LON-SHELF"]
            assert {row.location for row in stock.rows} == {"LON-SHELF"}

    run(scenario)
