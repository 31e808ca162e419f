"""A barcode scanner at the stockroom keyboard: its fast keys and Enter become one scan
on every screen, never typed into a field or taken as key bindings; a person's keys
still come through in order. Bursts are judged by a key clock (``KeyClock``), not by
the machine's speed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Select, Static
from tui_support import (
    AS_OF,
    KeyClock,
    make_app,
    service_uow,
    settle,
    settle_until,
    table_text,
    text_of,
    type_text,
)

from kitops.services import lots
from kitops.services.stock import stock_on_hand
from kitops.tui.modals import ConfirmDialog, ErrorDialog, FormDialog

# a supplier's GS1 DataMatrix as a scanner types it: symbology prefix, (01) GTIN,
# (17) expiry, (10) lot ended by GS, (30) count
SUPPLIER_LABEL = "]d2010506099990001417271231" + "10NEWLOT1\x1d" + "3012"
SERUM_GTIN = "05060999900014"  # the demo's serum vial
SCANNER = 0.002  # seconds between a scanner's keys
PERSON = 0.2  # and a person's


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def test_a_scan_on_the_receive_screen_is_received_whichever_field_has_the_cursor(
    demo_url: str,
) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f4")
            await settle(pilot)
            app.screen.query_one("#location", Select).value = "LON-FRIDGE"
            lot_field = app.screen.query_one("#lot", Input)
            lot_field.focus()
            await pilot.pause()
            await type_text(pilot, SUPPLIER_LABEL)
            await pilot.press("enter")
            await settle_until(pilot, lambda: "received" in text_of(
                app.screen.query_one("#scan-message", Static)))  # fmt: skip
            message = text_of(app.screen.query_one("#scan-message", Static))
            assert "received 12 × SERUM-5ML lot NEWLOT1 at LON-FRIDGE" in message
            # the scanner's characters never landed in the field that had the cursor
            assert "]d2" not in lot_field.value
            assert "0506099990001" not in lot_field.value
        lot = lots.show(service_uow(demo_url), "NEWLOT1")
        assert (lot.status, lot.total_on_hand) == ("quarantine", 12)

    run(scenario)


def test_a_scan_on_the_stock_screen_fires_no_key_binding_and_opens_the_lot(
    demo_url: str,
) -> None:
    # the stock screen's keys: t traces, r releases, q quarantines, x recalls, c counts,
    # m moves, w writes off; a lot code made of them must not open any of those dialogs
    from kitops.services.operations import ReceiptInput, receive

    given = ReceiptInput("LON-FRIDGE", sku="SERUM-5ML", lot="TRQXCMW1", expiry="2027-12-31",
                         quantity=5)  # fmt: skip
    receive(service_uow(demo_url), given, today=AS_OF)
    label = "]d2" + "01" + SERUM_GTIN + "10TRQXCMW1"

    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            search = app.screen.query_one("#filter", Input)
            await type_text(pilot, label)
            await pilot.press("enter")
            await settle_until(pilot, lambda: search.value == "TRQXCMW1")
            assert not any(isinstance(s, (FormDialog, ConfirmDialog)) for s in app.screen_stack)
            assert "TRQXCMW1" in table_text(app.screen.query_one(DataTable))
        assert lots.show(service_uow(demo_url), "TRQXCMW1").status == "quarantine"  # untouched

    run(scenario)


def test_a_lots_label_then_a_places_label_moves_the_lot_there(demo_url: str) -> None:
    lines = stock_on_hand(service_uow(demo_url), location="LON-FRIDGE", sku="SERUM-5ML",
                          today=AS_OF)  # fmt: skip
    line = next(line for line in lines if line.location == "LON-FRIDGE")
    before = _at(demo_url, "LON-SHELF", line.lot)

    async def scenario() -> None:
        app = make_app(demo_url, clinic="LON", scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 30)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            await type_text(pilot, f"]d201{SERUM_GTIN}10{line.lot}")
            await pilot.press("enter")
            search = app.screen.query_one("#filter", Input)
            await settle_until(pilot, lambda: search.value == line.lot)
            await type_text(pilot, "KLOC:LON-SHELF")
            await pilot.press("enter")
            await settle_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert app.screen.message.endswith("from LON-FRIDGE to LON-SHELF?")
            await pilot.press("enter")
            await settle_until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        assert _at(demo_url, "LON-FRIDGE", line.lot) == 0
        assert _at(demo_url, "LON-SHELF", line.lot) == before + line.quantity

    run(scenario)


@pytest.mark.parametrize(
    ("code", "mode", "search"),
    [
        ("KLOC:LON-SHELF", "stock", "LON-SHELF"),
        ("]d201050609999000832" + "1K0000001", "kits", "K0000001"),
        ("KCRS:1", "courses", "1"),
    ],
)
def test_a_scan_anywhere_opens_what_it_names(demo_url: str, code: str, mode: str,
                                             search: str) -> None:  # fmt: skip
    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 30)) as pilot:
            await settle(pilot)
            await type_text(pilot, code)
            await pilot.press("enter")
            await settle_until(pilot, lambda: app.current_mode == mode)
            await settle_until(pilot, lambda: app.screen.query_one("#filter", Input).value
                               == search)  # fmt: skip

    run(scenario)


def _at(url: str, place: str, lot: str) -> int:
    found = stock_on_hand(service_uow(url), location=place, sku="SERUM-5ML",
                          include_unavailable=True, today=AS_OF)  # fmt: skip
    return sum(line.quantity for line in found if line.lot == lot and line.location == place)


def test_a_person_typing_still_uses_the_keys_and_fields(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(PERSON))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            await pilot.press("slash")  # the filter: typed slowly, it is typing
            await settle(pilot)
            await type_text(pilot, "SERUM-5ML")
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen.query_one("#filter", Input).value == "SERUM-5ML"
            assert not isinstance(app.screen, ErrorDialog)

    run(scenario)


def test_an_unknown_scan_says_why_in_words(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await type_text(pilot, "]d20109501101530009")  # wrong check digit
            await pilot.press("enter")
            await settle_until(pilot, lambda: isinstance(app.screen, ErrorDialog))
            assert "check digit" in screen_message(app)

    run(scenario)


def screen_message(app: Any) -> str:
    return " ".join(text_of(w) for w in app.screen.query(Static))


def test_a_scan_never_presses_a_dialogs_button(demo_url: str) -> None:
    # a write-off's confirmation has its button focused: a scanner's Enter must not press it
    async def scenario() -> None:
        app = make_app(demo_url, clinic="LON", scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 30)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            line = app.screen.selected()
            app.screen.action_write_off()
            await settle_until(pilot, lambda: isinstance(app.screen, FormDialog))
            await pilot.press("tab", "tab", "tab", "enter")  # past the fields to Write off
            await settle_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await type_text(pilot, "KLOC:LON-SHELF")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)  # still asking
            await pilot.press("escape")
            await settle(pilot)
        after = stock_on_hand(service_uow(demo_url), location=line.location, sku=line.sku,
                              include_unavailable=True, today=AS_OF)  # fmt: skip
        assert any(x.lot == line.lot and x.quantity == line.quantity for x in after)

    run(scenario)
