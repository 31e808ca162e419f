"""The terminal as staff meet it: the login, confirmations that say what happened, the
receive form (cost, scans, short-dated stock), the new-course preview and the palette.
Each test drives the screens with Pilot and checks the outcome (what is rendered, the
audit, the ledger)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Input, Static
from tui_support import log_in, make_app, service_uow, settle, text_of, type_text

from kitops.data.engine import open_database
from kitops.data.schema import AuditRow, LotReceiptRow

# 12 vials of SERUM-5ML, lot NEWLOT1, expiry 2027-12-31, as a scanner types it
SCAN = "]d2010506099990001417271231" + "10NEWLOT1\x1d" + "3012"


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def _receipt_audits(url: str) -> list[dict[str, Any]]:
    with open_database(url).read_sessions() as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.action == "stock.receive"))
        return [dict(row.after or {}) for row in rows]


async def _open_receive(pilot: Any) -> None:
    from textual.widgets import Select

    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)
    pilot.app.screen.query_one("#location", Select).value = "LON-FRIDGE"
    pilot.app.screen.query_one("#scan", Input).focus()
    await pilot.pause()


# --- receive ----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def any_demo_url(request: pytest.FixtureRequest) -> str:
    """The demo database on each backend."""
    name = "demo_url" if request.param == "sqlite" else "pg_demo_url"
    return str(request.getfixturevalue(name))


def test_a_scanned_receipt_with_a_cost_is_audited_as_a_scan(any_demo_url: str) -> None:
    demo_url = any_demo_url

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _open_receive(pilot)
            # a scan without a count: the form asks for the quantity, then the cost
            await type_text(pilot, SCAN[: -len("\x1d3012")])
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert app.focused is screen.query_one("#qty")
            screen.query_one("#qty", Input).value = "12"
            screen.query_one("#cost", Input).value = "35.00"
            screen.query_one("#cost", Input).focus()
            await pilot.press("enter")
            await settle(pilot)
            message = text_of(screen.query_one("#scan-message", Static))
            assert "cost '35.00': give the amount and its currency" in message
            assert _receipt_audits(demo_url) == []
            screen.query_one("#cost", Input).value = "35.00 EUR"  # LON keeps GBP
            screen.query_one("#cost", Input).focus()
            await pilot.press("enter")
            await settle(pilot)
            message = text_of(screen.query_one("#scan-message", Static))
            assert "EUR is not LON's currency (GBP); give the cost in GBP" in message
            assert "--" not in message  # no command-line flag in the terminal
            assert _receipt_audits(demo_url) == []
            screen.query_one("#cost", Input).value = "35.00 GBP"
            screen.query_one("#cost", Input).focus()
            await pilot.press("enter")
            await settle(pilot)
            message = text_of(screen.query_one("#scan-message", Static))
            assert "received 12 × SERUM-5ML lot NEWLOT1" in message
        [audit] = _receipt_audits(demo_url)
        assert audit["scan"] is True
        assert audit["unit_cost"] == "35.00 GBP"
        with open_database(demo_url).read_sessions() as session:
            receipts = session.scalars(select(LotReceiptRow)).all()
            assert [r.unit_cost_minor for r in receipts if r.quantity == 12][-1] == 3500

    run(scenario)


def test_a_short_dated_refusal_points_at_the_checkbox_not_a_flag(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _open_receive(pilot)
            await type_text(pilot, "0105060999900014" + "17261201" + "10SHORT1\x1d3006")
            await pilot.press("enter")
            await settle(pilot)
            message = text_of(app.screen.query_one("#scan-message", Static))
            assert "minimum shelf life" in message
            assert 'tick "accept short-dated" to receive it anyway' in message
            assert "--accept-short-dated" not in message
        assert _receipt_audits(demo_url) == []

    run(scenario)


# --- the login --------------------------------------------------------------------------


def test_the_login_suggests_a_name_but_fills_nothing_in(demo_url: str) -> None:
    from kitops.tui.login import LoginScreen

    async def scenario() -> None:
        app = make_app(demo_url, user="manager", login=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, LoginScreen)
            user = screen.query_one("#login-user", Input)
            assert user.value == ""
            assert "manager" in user.placeholder
            assert app.focused is user

    run(scenario)


def test_ctrl_u_on_the_login_starts_the_pin_again_wherever_the_cursor_is(
    demo_url: str,
) -> None:
    from kitops.tui.login import LoginScreen

    async def scenario() -> None:
        app = make_app(demo_url, user="", login=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await log_in(pilot, "manager", "9999")
            screen = app.screen
            assert isinstance(screen, LoginScreen)
            screen.query_one("#login-user", Input).focus()  # the cursor back in the name
            await pilot.press("ctrl+u")
            await settle(pilot)
            assert screen.query_one("#login-user", Input).value == "manager"
            assert app.focused is screen.query_one("#login-pin", Input)
            await type_text(pilot, "2222")
            await pilot.press("enter")
            await settle(pilot)
            assert app.user == "manager"

    run(scenario)


def test_after_log_out_nothing_of_the_last_user_shows(demo_url: str) -> None:
    from kitops.tui.login import LoginScreen
    from kitops.tui.screens.dashboard import DashboardScreen

    async def scenario() -> None:
        app = make_app(demo_url, user="", login=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await log_in(pilot, "manager", "2222")
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("f5")
            await settle(pilot)
            await pilot.press("f2")
            await settle(pilot)
            shown = app.export_screenshot()
            assert "P-LON-" in shown  # the dashboard's work
            assert "KIT-" in shown
            old_screens = [s for s in app._registry if not isinstance(s, LoginScreen)]
            await pilot.press("ctrl+u")
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen)
            shown = app.export_screenshot()
            for private in ("P-LON-", "P-ESX-", "P-VIE-", "KIT-", "SERUM", "course"):
                assert private not in shown, private
            # the screens of the user who left are gone, not only hidden
            assert not any(isinstance(s, DashboardScreen) for s in app.screen_stack)
            await pilot.press("f3")  # no screen opens without a login
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen)
            await log_in(pilot, "stock", "3333")
            assert isinstance(app.screen, DashboardScreen)
            assert app.screen not in old_screens
            assert "stock (stockroom)" in app.sub_title

    run(scenario)


# --- confirmations ----------------------------------------------------------------------

QUARANTINED = "PTT6-C0115"  # 48 vials of SERUM-5ML at LON-QUAR, awaiting release


def _said(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def _stock_line(pilot: Any, search: str) -> None:
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)
    await pilot.press("slash")
    await type_text(pilot, search)
    await pilot.press("enter")
    await settle(pilot)


def test_enter_on_a_confirmation_does_what_was_asked_and_says_so(demo_url: str) -> None:
    from kitops.services import lots
    from kitops.tui.modals import ConfirmDialog

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _stock_line(pilot, QUARANTINED)
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert app.focused is app.screen.query_one("#confirm")
            await pilot.press("escape")
            await settle(pilot)
            assert "Release lot: cancelled, nothing changed" in _said(app)
            assert lots.show(service_uow(demo_url), QUARANTINED).status == "quarantine"
            await pilot.press("r")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert f"lot {QUARANTINED} of SERUM-5ML is now released" in _said(app)
        assert lots.show(service_uow(demo_url), QUARANTINED).status == "released"

    run(scenario)


# --- a new course --------------------------------------------------------------------------


def test_the_course_preview_never_shows_a_calendar_the_form_no_longer_says(
    demo_url: str,
) -> None:
    from textual.widgets import DataTable, Select

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("ctrl+n")
            screen = app.screen
            screen.query_one("#plan", Select).value = "home-12w"
            screen.query_one("#clinic", Select).value = "ESX"
            screen.query_one("#start", Input).value = "2026-12-05"
            await settle(pilot)
            message = screen.query_one("#preview-message", Static)
            events = screen.query_one("#preview-events", DataTable)
            assert "at ESX: 2026-12-05" in text_of(message)
            assert events.row_count > 0
            screen.query_one("#start", Input).value = ""
            screen.query_one("#clinic", Select).value = "VIE"
            await settle(pilot)
            assert text_of(message).strip() == "fill in the start date to see the calendar"
            assert events.row_count == 0
            screen.query_one("#start", Input).value = "2026-12-07"
            await settle(pilot)
            assert "at VIE: 2026-12-07" in text_of(message)
            # Tab from the last field reaches the button, not the read-only preview
            screen.query_one("#weekdays", Input).focus()
            await pilot.press("tab")
            assert app.focused is screen.query_one("#create")

    run(scenario)


# --- the palette ---------------------------------------------------------------------------


def test_the_palette_offers_first_what_the_typed_text_can_be(demo_url: str) -> None:
    from textual.widgets import DataTable

    from kitops.tui.modals import ErrorDialog

    async def palette(pilot: Any, text: str) -> None:
        await pilot.press("ctrl+p")
        await type_text(pilot, text)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await palette(pilot, "P-LON-0001")
            assert not isinstance(app.screen, ErrorDialog)
            assert app.current_mode == "courses"
            table = app.screen.query_one("#courses", DataTable)
            patients = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
            assert patients == {"P-LON-0001"}
            await pilot.press("f2")
            await settle(pilot)
            await palette(pilot, "3")
            assert app.current_mode == "courses"
            table = app.screen.query_one("#courses", DataTable)
            assert str(table.get_row_at(table.cursor_row)[0]) == "3"

    run(scenario)


# --- 80x24 ----------------------------------------------------------------------------------


def test_at_80x24_details_footers_and_skus_stay_whole(demo_url: str) -> None:
    from tui_support import screen_text

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("f3")
            await settle(pilot)
            footer = screen_text(app).splitlines()[-1]
            for key in ("t Trace", "w Write off", "r Release", "q Quarantine", "x Recall"):
                assert key in footer, footer
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("slash")
            await type_text(pilot, "P-LON-0001")
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen.query_one(".detail").region.height >= 8
            shown = screen_text(app)
            assert "kits: kit 1: K0000001" in shown
            assert "payment:" in shown
            await pilot.press("f5")
            await settle(pilot)
            await pilot.press("a")
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            shown = screen_text(app)
            assert "KIT-HOME-6W" in shown
            assert "SERUM-5ML" in shown
            assert "Cursor" in shown or "Scroll" in shown  # the help panel is open

    run(scenario)
