"""The terminal UI driven through Textual's Pilot against a real database built by the
same factory the command line uses; every test checks the outcome through the services
(the ledger changed, the kit is reserved), not only that a screen opened."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Select, Static, Tree
from tui_support import AS_OF, make_app, service_uow, settle, type_text

from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput
from kitops.services import courses, kits, lots, operations
from kitops.tui.modals import ConfirmDialog, ErrorDialog, FormDialog
from kitops.tui.screens.dashboard import DashboardScreen
from kitops.tui.widgets import Tile
from kitops.views import pages

# GS1 element string for 12 vials of SERUM-5ML, lot NEWLOT1, expiry 2027-12-31, as a
# scanner types it: (01) GTIN, (17) expiry, (10) lot ended by GS, (30) count.
SCAN = "]d2010506099990001417271231" + "10NEWLOT1\x1d" + "3012"


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def text_of(widget: Static) -> str:
    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(content)
    return console.export_text()


def table_text(table: DataTable[Any]) -> str:
    return "\n".join(" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count))


# --- dashboard ---------------------------------------------------------------------


def test_dashboard_shows_the_days_work_per_clinic(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            due = text_of(screen.query_one("#tile-due", Tile))
            assert "course 8/1" in due  # VIE has no PTT6 kit
            assert "no kit fits" in due
            assert "K0000007 fits" in due
            assert "PTT6-C0115" in text_of(screen.query_one("#tile-quarantine", Tile))
            assert "K0000001" in text_of(screen.query_one("#tile-pick", Tile))
            assemble = text_of(screen.query_one("#tile-assemble", Tile))
            assert any(
                line.split()[:2] == ["VIE", "KIT-HOME-PTT6"] and line.split()[4] == "1"
                for line in assemble.splitlines()
                if line.strip()
            )

    run(scenario)


def test_a_dashboard_tile_opens_the_screen_that_deals_with_it(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.screen.query_one("#tile-quarantine", Tile).focus()
            await pilot.press("enter")
            await settle(pilot)
            assert app.current_mode == "stock"
            table = app.screen.query_one("#stock", DataTable)
            assert table.row_count == 1
            assert "PTT6-C0115" in table_text(table)

    run(scenario)


def test_refresh_shows_a_change_made_by_another_terminal(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert "PTT6-C0115" in text_of(app.screen.query_one("#tile-quarantine", Tile))
            lots.change_status(service_uow(demo_url), "PTT6-C0115", LotStatus.RELEASED, today=AS_OF)
            await pilot.press("ctrl+r")
            await settle(pilot)
            quarantine = text_of(app.screen.query_one("#tile-quarantine", Tile))
            assert "no lot waiting for release" in quarantine

    run(scenario)


# --- receive -----------------------------------------------------------------------


async def _open_receive(pilot: Any, location: str = "LON-FRIDGE") -> None:
    await pilot.press("f4")
    await settle(pilot)
    pilot.app.screen.query_one("#location", Select).value = location
    pilot.app.screen.query_one("#scan", Input).focus()
    await pilot.pause()


def test_receive_by_scan_books_a_new_lot_into_quarantine(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _open_receive(pilot)
            await type_text(pilot, SCAN)
            await pilot.press("enter")
            await settle(pilot)
            message = text_of(app.screen.query_one("#scan-message", Static))
            assert "received 12 × SERUM-5ML lot NEWLOT1 at LON-FRIDGE" in message
            assert "quarantine" in message
            assert app.screen.query_one("#receipts", DataTable).row_count == 1
            assert app.focused is app.screen.query_one("#scan")
        lot = lots.show(service_uow(demo_url), "NEWLOT1")
        assert (lot.sku, lot.status, lot.total_on_hand) == ("SERUM-5ML", "quarantine", 12)
        assert str(lot.expiry) == "2027-12-31"

    run(scenario)


def test_a_scan_without_a_count_asks_for_the_quantity(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _open_receive(pilot)
            await type_text(pilot, "(01)05060999900014(17)271231(10)NEWLOT2")
            await pilot.press("enter")
            await settle(pilot)
            assert app.focused is app.screen.query_one("#qty")
            assert app.screen.query_one("#lot", Input).value == "NEWLOT2"
            await type_text(pilot, "6")
            await pilot.press("enter")
            await settle(pilot)
        assert lots.show(service_uow(demo_url), "NEWLOT2").total_on_hand == 6

    run(scenario)


def test_a_bad_scan_says_why_in_place_and_keeps_the_field_for_the_next(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _open_receive(pilot)
            await type_text(pilot, SCAN.replace("0001417", "0001517"))  # bad check digit
            await pilot.press("enter")
            await settle(pilot)
            message = text_of(app.screen.query_one("#scan-message", Static))
            assert "check digit" in message.lower()
            assert not isinstance(app.screen, ErrorDialog)
            assert app.focused is app.screen.query_one("#scan")
            assert app.screen.query_one("#scan", Input).value == ""
            # the next scan goes through
            await type_text(pilot, SCAN)
            await pilot.press("enter")
            await settle(pilot)
        assert lots.show(service_uow(demo_url), "NEWLOT1").total_on_hand == 12

    run(scenario)


def test_a_short_dated_delivery_is_refused_in_place_and_nothing_is_booked(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _open_receive(pilot)
            await type_text(pilot, "0105060999900014" + "17261201" + "10SHORT1\x1d3006")
            await pilot.press("enter")
            await settle(pilot)
            message = text_of(app.screen.query_one("#scan-message", Static))
            assert "short" in message.lower() or "shelf life" in message.lower()
        with pytest.raises(InvalidInput):
            lots.show(service_uow(demo_url), "SHORT1")

    run(scenario)


# --- stock: write off, trace, errors --------------------------------------------------


async def _select_stock_line(pilot: Any, search: str) -> None:
    await pilot.press("f3")
    await settle(pilot)
    await pilot.press("slash")
    await type_text(pilot, search)
    await pilot.press("enter")
    await settle(pilot)


def test_write_off_asks_for_confirmation_then_moves_the_stock_to_scrap(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _select_stock_line(pilot, "A0412")
            table = app.screen.query_one("#stock", DataTable)
            assert table.row_count == 1
            await pilot.press("w")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, FormDialog)
            assert form.values() == {"qty": "8", "reason": "expired", "note": ""}
            await pilot.click("#ok")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.click("#confirm")
            await settle(pilot)
            assert table.row_count == 0  # refreshed: nothing left on hand
        trace = lots.trace(service_uow(demo_url), "PTT6-A0412")
        assert trace.written_off == 8
        assert trace.lot.total_on_hand == 0
        assert any(f.to_location == "SCRAP" and f.detail == "expired" for f in trace.flows)

    run(scenario)


def test_a_cancelled_write_off_changes_nothing(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _select_stock_line(pilot, "A0412")
            await pilot.press("w")
            await settle(pilot)
            await pilot.click("#ok")
            await settle(pilot)
            await pilot.click("#cancel")
            await settle(pilot)
        assert lots.trace(service_uow(demo_url), "PTT6-A0412").written_off == 0

    run(scenario)


def test_a_refused_move_shows_one_message_and_the_app_keeps_running(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _select_stock_line(pilot, "A0412")
            await pilot.press("m")
            await settle(pilot)
            qty = app.screen.query_one("#field-qty", Input)
            qty.value = "999"
            await pilot.click("#ok")
            await settle(pilot)
            dialog = app.screen
            assert isinstance(dialog, ErrorDialog)
            assert "Traceback" not in dialog.message
            assert dialog.title_text in ("Refused", "Please check")
            await pilot.press("enter")
            await settle(pilot)
            assert app.current_mode == "stock"
            assert app.screen.query_one("#stock", DataTable).row_count == 1
        assert lots.show(service_uow(demo_url), "PTT6-A0412").total_on_hand == 8

    run(scenario)


def test_trace_shows_the_lot_its_kits_and_their_courses_as_a_tree(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _select_stock_line(pilot, "DS05-2402")
            await pilot.press("t")
            await settle(pilot)
            tree = app.screen.query_one("#trace-tree", Tree)
            labels = []

            def walk(node: Any) -> None:
                labels.append(str(node.label))
                for child in node.children:
                    walk(child)

            walk(tree.root)
            text = "\n".join(labels)
            assert "STAMP-0.5 lot DS05-2402" in text
            assert "Kits (9)" in text
            assert "course 1 · patient P-LON-0001" in text
            await pilot.press("escape")
            await settle(pilot)
            assert app.current_mode == "stock"

    run(scenario)


def test_finding_an_unknown_lot_says_so(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.show_trace("NO-SUCH-LOT")
            await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "no lot has this code" in app.screen.message

    run(scenario)


def test_recall_is_confirmed_and_marks_the_kits_built_from_the_lot(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _select_stock_line(pilot, "DS05-2402")
            await pilot.press("x")
            await settle(pilot)
            app.screen.query_one("#field-reason", Input).value = "supplier notice"
            await pilot.click("#ok")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.click("#confirm")
            await settle(pilot)
            said = [note.message for note in app._notifications]
            assert any(
                "is now recalled: 0 kit(s) at patients' homes, 2 course(s) lost their "
                "reserved kit" in message
                for message in said
            ), said
            app.show_trace("DS05-2402")
            await settle(pilot)
            tree = app.screen.query_one("#trace-tree", Tree)
            labels = [str(node.label) for node in tree.root.children]
            freed = next(n for n in tree.root.children if "released" in str(n.label))
            leaves = "\n".join(str(leaf.label) for leaf in freed.children)
            assert "Reserved kits released by the recall (2)" in labels
            assert "course 1 part 1 · patient P-LON-0001 · LON" in leaves
            assert "course 5 part 1 · patient P-ESX-0001 · ESX" in leaves
        assert lots.show(service_uow(demo_url), "DS05-2402").status == "recalled"
        assert kits.show_kit(service_uow(demo_url), "K0000002").recalled

    run(scenario)


# --- kits ------------------------------------------------------------------------------


def test_assembly_with_a_shortfall_is_shown_and_refused(demo_url: str) -> None:
    # the fridge's serum and the shelf's stamps: London's stock counts wherever it lies
    possible = kits.available(service_uow(demo_url), "KIT-HOME-6W", "LON-FRIDGE", today=AS_OF)
    assert 0 < possible < 20

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f5")
            await settle(pilot)
            await pilot.press("a")
            await settle(pilot)
            screen = app.screen
            screen.query_one("#assemble-at", Select).value = "LON-FRIDGE"
            qty = screen.query_one("#assemble-qty", Input)
            qty.value = "20"  # more than London's whole usable stock makes
            await settle(pilot)
            preview = text_of(screen.query_one("#preview", Static))
            assert f"only {possible} can be assembled" in preview
            assert "STAMP-0.5" in preview
            await pilot.click("#assemble-button")
            await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "short by" in app.screen.message
        assert pages.kits_page(service_uow(demo_url)).total == 9

    run(scenario)


def test_assembly_after_confirmation_makes_the_kits(demo_url: str) -> None:
    operations.move(
        service_uow(demo_url),
        "STAMP-0.5",
        2,
        "ESX-SHELF",
        "ESX-FRIDGE",
        lot="DS05-2402",
        today=AS_OF,
    )

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f5")
            await settle(pilot)
            await pilot.press("a")
            screen = app.screen
            screen.query_one("#assemble-at", Select).value = "ESX-FRIDGE"
            screen.query_one("#assemble-qty", Input).value = "2"
            await settle(pilot)
            assert "2 can be assembled" in text_of(screen.query_one("#preview", Static))
            await pilot.click("#assemble-button")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.click("#confirm")
            await settle(pilot)
        page = pages.kits_page(service_uow(demo_url), clinic="ESX", status="available")
        assert page.total == 3

    run(scenario)


def test_shipping_a_reserved_kit_is_confirmed_and_it_leaves_for_the_patient(
    demo_url: str,
) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f5")
            await settle(pilot)
            table = app.screen.query_one("#kits", DataTable)
            assert str(table.get_row_at(0)[0]) == "K0000001"
            await pilot.press("s")
            await settle(pilot)
            app.screen.query_one("#field-tracking", Input).value = "RM123456785GB"
            await pilot.click("#ok")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.click("#confirm")
            await settle(pilot)
        kit = kits.show_kit(service_uow(demo_url), "K0000001")
        assert (kit.status, kit.tracking) == ("shipped", "RM123456785GB")

    run(scenario)


# --- courses ---------------------------------------------------------------------------


def test_create_a_course_with_its_calendar_then_fulfil_it(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("ctrl+n")
            await settle(pilot)
            screen = app.screen
            screen.query_one("#plan", Select).value = "home-6w"
            screen.query_one("#clinic", Select).value = "LON"
            screen.query_one("#start", Input).value = "2026-11-30"
            screen.query_one("#patient", Input).focus()
            await type_text(pilot, "P-LON-0107")
            await settle(pilot)
            events = screen.query_one("#preview-events", DataTable)
            assert events.row_count == 12 + 2  # applications and the follow-ups
            assert "2026-11-30" in text_of(screen.query_one("#preview-message", Static))
            await pilot.press("enter")
            await settle(pilot)
            table = screen.query_one("#courses", DataTable)
            assert str(table.get_row_at(table.cursor_row)[1]) == "P-LON-0107"
            await pilot.press("f")
            await settle(pilot)
        created = courses.list_courses(service_uow(demo_url), clinic="LON")
        course = next(c for c in created if c.patient_ref == "P-LON-0107")
        assert [k.status for k in course.kits] == ["reserved"]

    from datetime import UTC, datetime, time

    import time_machine

    # on the demo's day: a course starting before the clinic's today is refused
    with time_machine.travel(datetime.combine(AS_OF, time(12), UTC), tick=True):
        run(scenario)


def test_fulfilling_a_course_no_kit_fits_says_why(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("slash")
            await type_text(pilot, "P-VIE-0002")
            await pilot.press("enter")
            await settle(pilot)
            app.screen.query_one("#courses", DataTable).focus()
            await pilot.press("f")
            await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "no kit available at VIE" in app.screen.message
        assert courses.show_course(service_uow(demo_url), 8).kits == ()

    run(scenario)


def test_the_batch_shows_what_it_would_do_then_reserves(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("ctrl+b")
            await settle(pilot)
            lines = app.screen.query_one("#batch-lines", DataTable)
            assert "would get K0000007" in table_text(lines)
            await pilot.click("#run-batch")
            await settle(pilot)
            await pilot.click("#confirm")
            await settle(pilot)
            text = table_text(lines)
            assert "would get" not in text
            assert "not served" in text
        assert [k.serial for k in courses.show_course(service_uow(demo_url), 7).kits] == [
            "K0000007"
        ]

    run(scenario)


# --- palette, help, theme --------------------------------------------------------------


def test_the_palette_finds_a_kit_by_serial(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await type_text(pilot, "K0000005")
            await pilot.pause(0.3)
            await pilot.press("enter")  # a kit serial: "Find kit" is the first choice
            await settle(pilot)
            assert app.current_mode == "kits"
            table = app.screen.query_one("#kits", DataTable)
            assert table.row_count == 1
            assert str(table.get_row_at(0)[0]) == "K0000005"

    run(scenario)


def test_help_lists_the_screens_keys_and_the_theme_toggles(demo_url: str) -> None:
    async def scenario() -> None:
        from textual.widgets import HelpPanel

        app = make_app(demo_url)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("f3")
            await settle(pilot)
            await pilot.press("f1")
            await pilot.pause()
            assert app.screen.query(HelpPanel)
            dark = app.current_theme.dark
            await pilot.press("ctrl+t")
            assert app.current_theme.dark is not dark

    run(scenario)


def test_an_unknown_clinic_is_refused_at_start(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, clinic="XYZ")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "XYZ" in app.screen.message
            await pilot.press("enter")
            await pilot.pause()
        assert app.return_code == 1

    run(scenario)


# --- PostgreSQL ------------------------------------------------------------------------


@pytest.mark.postgresql
def test_receive_and_write_off_on_postgresql(pg_demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(pg_demo_url, clinic="LON")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await _open_receive(pilot)
            await type_text(pilot, SCAN)
            await pilot.press("enter")
            await settle(pilot)
            await _select_stock_line(pilot, "NEWLOT1")
            await pilot.press("w")
            await settle(pilot)
            app.screen.query_one("#field-qty", Input).value = "2"
            await pilot.click("#ok")
            await settle(pilot)
            await pilot.click("#confirm")
            await settle(pilot)
        trace = lots.trace(service_uow(pg_demo_url), "NEWLOT1")
        assert (trace.received, trace.written_off, trace.lot.total_on_hand) == (12, 2, 10)

    run(scenario)


def test_an_expired_kit_is_listed_as_expired_and_taken_apart_into_quarantine(
    demo_url: str,
) -> None:
    """After the sweep an expired kit shows its new status and place; taking it apart says
    that its components stay in quarantine."""
    from datetime import UTC, datetime, time, timedelta

    import time_machine

    from kitops.services import expiry

    day = AS_OF + timedelta(days=191)  # the demo's London kits expired the day before
    with time_machine.travel(datetime.combine(day, time(12), UTC), tick=False):
        expiry.sweep(service_uow(demo_url), as_of=day)

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f5")
            await settle(pilot)
            app.screen.query_one("#status", Select).value = "expired"
            await settle(pilot)
            table = app.screen.query_one("#kits", DataTable)
            assert table.row_count == 6
            row = [str(value) for value in table.get_row_at(0)]
            assert "expired" in row
            assert "LON-QUAR" in row
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "stay in quarantine at LON-QUAR" in app.screen.message
            await pilot.click("#confirm")
            await settle(pilot)
        assert kits.show_kit(service_uow(demo_url), "K0000001").status == "disassembled"

    run(scenario)
