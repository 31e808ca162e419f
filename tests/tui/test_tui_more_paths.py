"""More of the terminal UI's main paths driven through Pilot on the demo data: the stock
screen's move, count, release and quarantine; the kits screen's hand over, return,
disassembly and labels; cancelling a course and its detail; two terminals on one
PostgreSQL database; the dashboard's own refresh; a failed database call. Every test
checks the outcome through the services and what the screen shows."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import make_url
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static
from tui_support import (
    AS_OF,
    make_app,
    service_uow,
    settle,
    settle_until,
    table_text,
    text_of,
    type_text,
)

from kitops.domain.ledger import LotStatus
from kitops.services import courses, kits, lots
from kitops.tui.lists import ListScreen
from kitops.tui.modals import ConfirmDialog, ErrorDialog, FormDialog
from kitops.tui.screens.dashboard import DashboardScreen
from kitops.tui.screens.stock import COLUMNS, StockScreen
from kitops.tui.widgets import Tile

SIZE = (100, 30)
QUARANTINED = "PTT6-C0115"  # 48 vials of SERUM-5ML at LON-QUAR, awaiting release
VIENNA_LOT = "PTT6-B1007"  # 13 released vials of SERUM-5ML at VIE-FRIDGE, its only place
NO_QUARANTINE = "no lot waiting for release"
QTY = [key for key, _, _ in COLUMNS].index("qty")  # the stock table's quantity column

T = TypeVar("T")


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(scenario())


# --- driving the screens ---------------------------------------------------------------


def _rows_match(table: DataTable[Any], search: str) -> bool:
    rows = table_text(table).lower().splitlines()
    return bool(rows) and all(search.lower() in row for row in rows)


async def _open_list(pilot: Pilot[Any], key: str, search: str) -> DataTable[Any]:
    """Open a list screen by its F-key, filter it as a person types, and wait until only
    the matching rows show (the first is highlighted)."""
    await pilot.press(key)
    await settle_until(pilot, lambda: isinstance(pilot.app.screen, ListScreen))
    screen = pilot.app.screen
    assert isinstance(screen, ListScreen)
    await pilot.press("slash")
    await type_text(pilot, search)
    await pilot.press("enter")
    table = screen.table
    await settle_until(pilot, lambda: _rows_match(table, search))
    return table


async def _form(pilot: Pilot[Any], key: str, **values: str) -> dict[str, str]:
    """Press the action's key, fill the FormDialog's fields by name, press OK; returns
    what the dialog held when OK was pressed."""
    await pilot.press(key)
    await settle_until(pilot, lambda: isinstance(pilot.app.screen, FormDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, FormDialog)
    for name, value in values.items():
        field = dialog.query_one(f"#field-{name}")
        assert isinstance(field, Input | Select), field
        field.value = value
    await pilot.pause()
    held = dialog.values()
    await pilot.click("#ok")
    await settle(pilot)
    return held


async def _confirm(pilot: Pilot[Any], key: str | None = None) -> str:
    """Press the action's key (if any), wait for the confirmation and confirm; returns
    the question asked."""
    if key is not None:
        await pilot.press(key)
    await settle_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmDialog)
    await pilot.click("#confirm")
    await settle(pilot)
    return dialog.message


async def _until_row_says(pilot: Pilot[Any], table: DataTable[Any], text: str) -> str:
    """Wait until the (refreshed) table shows ``text``; returns the table as text."""
    await settle_until(pilot, lambda: text in table_text(table))
    return table_text(table)


def _on_hand(url: str, lot: str, location: str, sku: str | None = None) -> int:
    detail = lots.show(service_uow(url), lot, sku=sku)
    return sum(place.quantity for place in detail.on_hand if place.location == location)


def _tile(pilot: Pilot[Any], name: str) -> str:
    return text_of(pilot.app.screen.query_one(f"#tile-{name}", Tile))


# --- stock: move, count, release, quarantine --------------------------------------------


def test_moving_part_of_a_lot_splits_it_between_two_places(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _open_list(pilot, "f3", VIENNA_LOT)
            assert table.row_count == 1
            await _form(pilot, "m", qty="5", to="VIE-SHELF")
            await settle_until(pilot, lambda: table.row_count == 2)
            rows = [row.split() for row in table_text(table).splitlines()]
            assert {row[1]: row[QTY] for row in rows} == {"VIE-FRIDGE": "8", "VIE-SHELF": "5"}
            assert not isinstance(app.screen, ErrorDialog)
        assert _on_hand(demo_url, VIENNA_LOT, "VIE-FRIDGE") == 8
        assert _on_hand(demo_url, VIENNA_LOT, "VIE-SHELF") == 5
        assert lots.show(service_uow(demo_url), VIENNA_LOT).total_on_hand == 13

    run(scenario)


def test_a_cycle_count_books_the_difference(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _open_list(pilot, "f3", VIENNA_LOT)
            await _form(pilot, "c", counted="10")
            await settle_until(pilot, lambda: table_text(table).split()[QTY] == "10")
        assert _on_hand(demo_url, VIENNA_LOT, "VIE-FRIDGE") == 10
        trace = lots.trace(service_uow(demo_url), VIENNA_LOT)
        assert any(
            f.reason == "count" and f.to_location == "ADJUSTMENT" and f.quantity == 3
            for f in trace.flows
        ), trace.flows

    run(scenario)


def test_releasing_a_quarantined_lot_is_confirmed_and_makes_it_usable(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _open_list(pilot, "f3", QUARANTINED)
            assert "quarantine" in table_text(table)
            question = await _confirm(pilot, "r")
            assert QUARANTINED in question
            assert "released" in await _until_row_says(pilot, table, "released")
        lot = lots.show(service_uow(demo_url), QUARANTINED)
        assert (lot.status, lot.total_on_hand) == ("released", 48)

    run(scenario)


def test_quarantining_a_released_lot_keeps_its_reason(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _open_list(pilot, "f3", VIENNA_LOT)
            assert "released" in table_text(table)
            await _form(pilot, "q", reason="fridge fault")
            await _until_row_says(pilot, table, "quarantine")
        lot = lots.show(service_uow(demo_url), VIENNA_LOT)
        assert (lot.status, lot.status_reason) == ("quarantine", "fridge fault")

    run(scenario)


# --- kits: hand over, return, disassemble, labels ------------------------------------------


def test_handing_over_a_reserved_kit_is_confirmed(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _open_list(pilot, "f5", "K0000001")
            assert "reserved" in table_text(table)
            question = await _confirm(pilot, "h")
            assert "P-LON-0001" in question
            await _until_row_says(pilot, table, "handed over")
        kit = kits.show_kit(service_uow(demo_url), "K0000001")
        assert (kit.status, kit.course_id, kit.location) == ("handed_over", 1, "LON-FRIDGE")
        assert _on_hand(demo_url, "K0000001", "LON-FRIDGE") == 0

    run(scenario)


@pytest.mark.parametrize(
    ("condition", "status", "shown", "course"),
    [("sealed", "quarantine", "quarantine", None), ("opened", "written_off", "written off", 5)],
)
def test_a_returned_kit_waits_in_quarantine_sealed_or_is_written_off_opened(
    demo_url: str, condition: str, status: str, shown: str, course: int | None
) -> None:
    kits.dispatch(
        service_uow(demo_url), "K0000005", handover=True, today=AS_OF
    )  # out with P-ESX-0001

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _open_list(pilot, "f5", "K0000005")
            assert "handed over" in table_text(table)
            await _form(pilot, "b", condition=condition)
            if condition == "opened":  # a write-off: asked first
                assert "written off" in await _confirm(pilot)
            await _until_row_says(pilot, table, shown)
            kit = kits.show_kit(service_uow(demo_url), "K0000005")
            assert (kit.status, kit.course_id) == (status, course)
            if condition == "sealed":  # a manager releases it after inspection
                assert "inspected" in await _confirm(pilot, "r")
                await _until_row_says(pilot, table, "available")
        back = 1 if condition == "sealed" else 0
        assert _on_hand(demo_url, "K0000005", "ESX-FRIDGE") == back

    run(scenario)


def test_disassembling_an_available_kit_returns_its_components_to_their_lots(
    demo_url: str,
) -> None:
    kit = kits.show_kit(service_uow(demo_url), "K0000002")
    assert kit.status == "available"
    assert kit.components
    parts = Counter[tuple[str, str]]()
    for part in kit.components:
        parts[part.sku, part.lot] += part.quantity
    before = {key: _on_hand(demo_url, key[1], kit.location, key[0]) for key in parts}

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _open_list(pilot, "f5", "K0000002")
            await _confirm(pilot, "d")
            await _until_row_says(pilot, table, "disassembled")

    run(scenario)
    assert kits.show_kit(service_uow(demo_url), "K0000002").status == "disassembled"
    for (sku, lot), quantity in parts.items():
        assert _on_hand(demo_url, lot, kit.location, sku) == before[sku, lot] + quantity


def test_labels_are_written_to_the_file_the_dialog_names(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the dialog offers a name in the working folder

    async def scenario() -> Path:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await _open_list(pilot, "f5", "K0000003")
            held = await _form(pilot, "l")
            written = tmp_path / held["out"]
            await settle_until(pilot, written.exists)
            assert not isinstance(app.screen, ErrorDialog)
            return written

    written = run(scenario)
    assert written.name == "label-K0000003.pdf"
    data = written.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 500


# --- courses: cancel, detail --------------------------------------------------------------


def test_cancelling_a_course_is_confirmed_and_frees_its_kit(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _open_list(pilot, "f6", "P-LON-0001")
            question = await _confirm(pilot, "x")
            assert "Cancel course 1 of P-LON-0001" in question
            await _until_row_says(pilot, table, "cancelled")
        course = courses.show_course(service_uow(demo_url), 1)
        assert (course.status, course.kits) == ("cancelled", ())
        kit = kits.show_kit(service_uow(demo_url), "K0000001")
        assert (kit.status, kit.course_id) == ("available", None)

    run(scenario)


def test_the_course_detail_shows_its_calendar_and_kits(demo_url: str) -> None:
    course = courses.show_course(service_uow(demo_url), 1)
    assert course.events

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await _open_list(pilot, "f6", "P-LON-0001")
            detail = app.screen.query_one("#course-detail", Static)
            await settle_until(pilot, lambda: "course 1 · P-LON-0001" in text_of(detail))
            text = text_of(detail)
            assert "kit 1: K0000001 (reserved, exp 2027-05-31)" in text
            for event in course.events:
                when = event.at.strftime("%a %d %b %Y %H:%M")
                assert any(
                    when in line and f"{event.kind} {event.number}:" in line
                    for line in text.splitlines()
                ), (event, text)

    run(scenario)


def test_the_course_detail_shows_a_paused_course_and_why(demo_url: str) -> None:
    courses.pause_course(service_uow(demo_url), 1, reason="patient travelling")

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _open_list(pilot, "f6", "P-LON-0001")
            await _until_row_says(pilot, table, "paused")
            detail = app.screen.query_one("#course-detail", Static)
            await settle_until(pilot, lambda: "course 1 · P-LON-0001" in text_of(detail))
            assert "· paused (patient travelling) since " in text_of(detail)

    run(scenario)


# --- PostgreSQL: two terminals on one database ----------------------------------------------


@asynccontextmanager
async def _two_terminals(url: str) -> AsyncIterator[tuple[Pilot[Any], Pilot[Any]]]:
    """Two apps on one database at once, as two people at two terminals."""
    async with (
        make_app(url).run_test(size=SIZE) as first,
        make_app(url).run_test(size=SIZE) as second,
    ):
        yield first, second


@contextmanager
def _at(pilot: Pilot[Any]) -> Iterator[Pilot[Any]]:
    """Drive this terminal: Textual finds "the app" through a context variable, which the
    inner ``run_test`` would otherwise leave pointing at the second app."""
    with pilot.app._context():
        yield pilot


@pytest.mark.postgresql
def test_a_release_at_one_terminal_reaches_the_others_dashboard_on_refresh(
    pg_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kitops.tui.screens.dashboard.REFRESH_SECONDS", 3600.0)  # only ctrl+r

    async def scenario() -> None:
        async with _two_terminals(pg_demo_url) as (first, second):
            with _at(first):
                await settle_until(first, lambda: QUARANTINED in _tile(first, "quarantine"))
            with _at(second):
                table = await _open_list(second, "f3", QUARANTINED)
                await _confirm(second, "r")
                await _until_row_says(second, table, "released")
            with _at(first):
                await settle(first)
                assert isinstance(first.app.screen, DashboardScreen)
                assert QUARANTINED in _tile(first, "quarantine")  # not refreshed yet
                await first.press("ctrl+r")
                await settle_until(first, lambda: NO_QUARANTINE in _tile(first, "quarantine"))
        assert lots.show(service_uow(pg_demo_url), QUARANTINED).status == "released"

    run(scenario)


@pytest.mark.postgresql
def test_a_write_off_at_one_terminal_reaches_the_others_stock_screen_on_refresh(
    pg_demo_url: str,
) -> None:
    async def scenario() -> None:
        async with _two_terminals(pg_demo_url) as (first, second):
            with _at(first):
                seen = await _open_list(first, "f3", "A0412")
                assert seen.row_count == 1
            with _at(second):
                table = await _open_list(second, "f3", "A0412")
                await _form(second, "w")
                await _confirm(second)
                await settle_until(second, lambda: table.row_count == 0)
            with _at(first):
                await settle(first)
                assert seen.row_count == 1  # not refreshed yet
                await first.press("ctrl+r")
                await settle_until(first, lambda: seen.row_count == 0)
        trace = lots.trace(service_uow(pg_demo_url), "PTT6-A0412")
        assert (trace.written_off, trace.lot.total_on_hand) == (8, 0)

    run(scenario)


# --- the dashboard refreshes by itself ------------------------------------------------------


def test_the_dashboard_refreshes_on_its_interval_without_a_key(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kitops.tui.screens.dashboard.REFRESH_SECONDS", 0.2)  # read when it mounts

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await settle_until(pilot, lambda: QUARANTINED in _tile(pilot, "quarantine"))
            lots.change_status(service_uow(demo_url), QUARANTINED, LotStatus.RELEASED, today=AS_OF)
            await settle_until(pilot, lambda: NO_QUARANTINE in _tile(pilot, "quarantine"))
            assert isinstance(app.screen, DashboardScreen)

    run(scenario)


# --- a failed database call -------------------------------------------------------------------


def _rename_table(url: str, old: str, new: str) -> None:
    """Another program changes the SQLite file under the app (a table goes missing)."""
    path = make_url(url).database
    assert path
    with sqlite3.connect(path) as conn:
        conn.execute(f"ALTER TABLE {old} RENAME TO {new}")


def test_a_failed_database_call_shows_an_error_and_the_app_keeps_running(
    demo_url: str,
) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f3")
            await settle_until(pilot, lambda: isinstance(app.screen, StockScreen))
            screen = app.screen
            assert isinstance(screen, StockScreen)
            await settle_until(pilot, lambda: screen.table.row_count > 1)
            _rename_table(demo_url, "stock_balances", "stock_balances_away")
            await pilot.press("ctrl+r")
            await settle_until(pilot, lambda: isinstance(app.screen, ErrorDialog))
            dialog = app.screen
            assert isinstance(dialog, ErrorDialog)
            assert dialog.title_text == "Database busy or unreachable"
            assert "stock_balances" in dialog.message
            assert "Traceback" not in dialog.message
            await pilot.press("enter")
            await settle_until(pilot, lambda: app.screen is screen)
            assert not screen.table.loading
            # the database is put right: the same screen filters and loads again
            _rename_table(demo_url, "stock_balances_away", "stock_balances")
            await pilot.press("slash")
            await type_text(pilot, QUARANTINED)
            await pilot.press("enter")
            await settle_until(pilot, lambda: _rows_match(screen.table, QUARANTINED))
            assert screen.table.row_count == 1
            assert app.is_running

    run(scenario)
