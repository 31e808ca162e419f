"""The back-office screens driven through Pilot: reports, purchase orders, orders and
payments. Every test checks the outcome through the services (the file holds what the
reports' formats render, the purchase order is approved in the database, the order is
paid and its course's kit reserved), not only that a screen changed.

Payments run against localstripe (``tests/payments_support.py``), a Stripe-compatible
server started on 127.0.0.1 for the session; the app reaches it through its environment
(``KITOPS_STRIPE_API_KEY``, ``KITOPS_STRIPE_API_BASE``), as an operator would set it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from payments_support import API_KEY
from textual.widgets import DataTable, Input, Select, Static
from textual_plotext import PlotextPlot
from tui_support import AS_OF, make_app, service_uow, settle, table_text, text_of

from kitops.documents.report_files import render
from kitops.reports.registry import run_report
from kitops.services import courses, orders, purchasing
from kitops.services.dto.reports import ReportRequest
from kitops.tui.modals import ConfirmDialog, ErrorDialog, FormDialog
from kitops.tui.screens.purchasing import ReorderPreview
from kitops.tui.widgets import Tile

pytest_plugins = ["payments_support"]

COURSE = 3  # home-6w at LON (P-LON-0003), no kit yet; the demo prices its kit 315.00 GBP


def run(scenario: Any) -> None:
    asyncio.run(scenario())


async def _dialog_ok(pilot: Any, **values: str) -> None:
    """Fill a FormDialog's fields by name and press OK."""
    dialog = pilot.app.screen
    assert isinstance(dialog, FormDialog), dialog
    for name, value in values.items():
        dialog.query_one(f"#field-{name}", Input | Select).value = value
    await pilot.pause()
    await pilot.click("#ok")
    await settle(pilot)


async def _confirm(pilot: Any) -> None:
    assert isinstance(pilot.app.screen, ConfirmDialog), pilot.app.screen
    await pilot.click("#confirm")
    await settle(pilot)


# --- reports -----------------------------------------------------------------------


def _unique_ids(page: str) -> str:
    """A page with pygal's random chart ids made equal (each render draws new ones)."""
    return re.sub(r"chart-[0-9a-f-]{36}", "chart-ID", page)


async def _open_report(pilot: Any, name: str, **options: Any) -> None:
    await settle(pilot)
    pilot.app.open_screen("reports", report=name, **options)
    await settle(pilot)


def test_a_report_runs_with_its_own_options_and_draws_its_chart(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _open_report(pilot, "expiring")
            screen = app.screen
            assert screen.query_one("#as-of", Input).value == AS_OF.isoformat()
            table = screen.query_one("#report-table", DataTable)
            rows = table_text(table)
            assert "LON" in rows
            assert "expired" in rows
            assert "1050.00 GBP" in rows
            status = text_of(screen.query_one("#report-status", Static))
            assert "within 90" in status
            # the report's own option: a 30-day window leaves the 31-60 buckets out
            window = screen.query_one("#opt-within", Input)
            window.value = "30d"
            window.focus()
            await pilot.press("enter")
            await settle(pilot)
            rows = table_text(screen.query_one("#report-table", DataTable))
            assert "31-60" not in rows
            assert "0-30" in rows
            # the picture: the expiry buckets as terminal bars
            await pilot.press("v")
            await pilot.press("v")
            await settle(pilot)
            plot = screen.query_one("#report-chart", PlotextPlot)
            assert plot.display
            assert not screen.query_one("#report-table").display
            assert screen.query_one("#view", Select).value == "chart:buckets"
            drawn = str(plot.render())
            assert "by days left" in drawn
            assert "0-30" in drawn
            assert "█" in drawn

    run(scenario)


def test_a_report_exports_exactly_what_the_reports_formats_render(
    demo_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _open_report(pilot, "wastage")
            for fmt in ("csv", "json", "html"):
                await pilot.press("e")
                await pilot.pause()
                await _dialog_ok(pilot, format=fmt, out=str(tmp_path / f"wastage.{fmt}"))
        expected = run_report(
            service_uow(demo_url), "wastage", ReportRequest(as_of=AS_OF.isoformat())
        )
        for fmt in ("csv", "json", "html"):
            written = (tmp_path / f"wastage.{fmt}").read_text(encoding="utf-8")
            assert _unique_ids(written) == _unique_ids(render(expected, fmt)), fmt
        assert "<svg" in (tmp_path / "wastage.html").read_text(encoding="utf-8")

    run(scenario)


def test_a_report_for_one_clinic_exports_in_the_clinics_locale(
    demo_url: str, tmp_path: Path
) -> None:
    """The reader reads English; the expiring report for Vienna (locale de_AT) is written
    as Vienna reads it, as ``kitops report expiring --clinic VIE`` writes it, while the
    screen stays in the reader's language; the report for every clinic in the reader's."""

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _open_report(pilot, "expiring")
            await pilot.press("e")
            await pilot.pause()
            await _dialog_ok(pilot, format="html", out=str(tmp_path / "all.html"))
            app.screen.query_one("#report-clinic", Select).value = "VIE"
            await settle(pilot)
            assert app.screen.report.clinic == "VIE"  # type: ignore[attr-defined]
            status = text_of(app.screen.query_one("#report-status", Static))
            assert "Expiring within 90 days: VIE, as of 2026-11-22" in status
            await pilot.press("e")
            await pilot.pause()
            await _dialog_ok(pilot, format="html", out=str(tmp_path / "vie.html"))

    run(scenario)
    vienna = (tmp_path / "vie.html").read_text(encoding="utf-8")
    assert '<html lang="de-AT">' in vienna
    assert "<h1>Verfall innerhalb von 90 Tagen</h1>" in vienna
    assert "Stand: <strong>22.11.2026</strong>" in vienna
    assert "Expiring within" not in vienna
    every = (tmp_path / "all.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in every
    assert "<h1>Expiring within 90 days</h1>" in every


def test_a_bad_report_day_is_refused_in_place_and_the_app_keeps_running(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_report(pilot, "stock")
            before = table_text(app.screen.query_one("#report-table", DataTable))
            as_of = app.screen.query_one("#as-of", Input)
            as_of.value = "2026-13-01"
            as_of.focus()
            await pilot.press("enter")
            await settle(pilot)
            assert not isinstance(app.screen, ErrorDialog)
            status = text_of(app.screen.query_one("#report-status", Static))
            assert "2026-13-01" in status
            assert table_text(app.screen.query_one("#report-table", DataTable)) == before
            await pilot.press("f2")
            await settle(pilot)
            assert app.current_mode == "dashboard"

    run(scenario)


# --- purchase orders -----------------------------------------------------------------


def test_the_dashboard_shows_what_to_reorder_and_opens_the_purchase_orders(
    demo_url: str,
) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            tile = app.screen.query_one("#tile-purchasing", Tile)
            shown = text_of(tile)
            assert "ESX STAMP-0.6" in " ".join(shown.split())
            assert "not drafted" in shown
            tile.focus()
            await pilot.press("enter")
            await settle(pilot)
            assert app.current_mode == "purchasing"

    run(scenario)


def test_reorder_now_previews_then_drafts_and_the_draft_is_approved(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("f8")
            await settle(pilot)
            assert app.screen.query_one("#pos", DataTable).row_count == 0
            await pilot.press("r")
            await settle(pilot)
            preview = app.screen
            assert isinstance(preview, ReorderPreview)
            assert "STAMP-0.6" in table_text(preview.query_one("#reorder-lines", DataTable))
            assert "pack of 10" in text_of(preview.query_one("#reorder-why", Static))
            assert purchasing.list_orders(service_uow(demo_url)) == []  # a dry run so far
            await pilot.click("#confirm")
            await settle(pilot)
            [draft] = purchasing.list_orders(service_uow(demo_url))
            assert (draft.status, draft.clinic, draft.lines[0].sku) == ("draft", "ESX", "STAMP-0.6")
            lines = app.screen.query_one("#po-lines", DataTable)
            assert "STAMP-0.6" in table_text(lines)
            why = text_of(app.screen.query_one("#line-explanation", Static))
            assert "min 5" in why
            await pilot.press("a")
            await pilot.pause()
            await _confirm(pilot)
        approved = purchasing.show_order(service_uow(demo_url), draft.number)
        assert (approved.status, approved.approved_by) == ("approved", "tester")

    run(scenario)


def test_sending_a_draft_is_refused_and_cancelling_asks_why_then_confirms(
    demo_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        from kitops.services import reorder

        reorder.run(service_uow(demo_url), as_of=AS_OF)
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("f8")
            await settle(pilot)
            await pilot.press("s")
            await pilot.pause()
            await _confirm(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "only a approved order can be sent" in app.screen.message
            await pilot.press("enter")
            await pilot.pause()
            assert purchasing.show_order(service_uow(demo_url), 1).status == "draft"
            await pilot.press("e")
            await pilot.pause()
            await _dialog_ok(pilot, format="csv", out=str(tmp_path / "po.csv"))
            assert "STAMP-0.6" in (tmp_path / "po.csv").read_text(encoding="utf-8")
            await pilot.press("x")
            await pilot.pause()
            await _dialog_ok(pilot, reason="supplier out of stock")
            await pilot.click("#cancel")  # the confirmation: not yet
            await settle(pilot)
            assert purchasing.show_order(service_uow(demo_url), 1).status == "draft"
            await pilot.press("x")
            await pilot.pause()
            await _dialog_ok(pilot, reason="supplier out of stock")
            await _confirm(pilot)
        cancelled = purchasing.show_order(service_uow(demo_url), 1)
        assert (cancelled.status, cancelled.note) == ("cancelled", "supplier out of stock")

    run(scenario)


# --- orders and payments -------------------------------------------------------------


async def _order_for_course(pilot: Any, course: int = COURSE) -> None:
    """From the course's line on the Courses screen: o, then c (course filled in)."""
    await settle(pilot)
    await pilot.press("f6")
    await settle(pilot)
    pilot.app.screen.query_one("#filter", Input).value = f"P-LON-{course:04d}"
    await settle(pilot)
    await pilot.press("o")
    await settle(pilot)
    assert pilot.app.current_mode == "orders"
    await pilot.press("c")
    await pilot.pause()
    assert pilot.app.screen.query_one("#field-course", Input).value == str(course)
    await _dialog_ok(pilot)


def test_an_order_for_a_course_shows_its_lines_and_without_a_key_payment_says_why(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KITOPS_STRIPE_API_KEY", raising=False)

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _order_for_course(pilot)
            [order] = orders.list_orders(service_uow(demo_url), course=COURSE)
            assert (order.status, str(order.total)) == ("open", "315.00 GBP")
            screen = app.screen
            assert "P-LON-0003" in table_text(screen.query_one("#orders", DataTable))
            detail = text_of(screen.query_one("#order-detail", Static))
            assert "KIT-HOME-6W" in detail
            assert "due 315.00 GBP" in detail
            message = text_of(screen.query_one("#pay-message", Static))
            assert "KITOPS_STRIPE_API_KEY is not set" in message
            await pilot.press("p")
            await pilot.pause()
            await _dialog_ok(pilot, method="pm_card_visa")
            await _confirm(pilot)
            assert not isinstance(app.screen, ErrorDialog)  # said in place
            assert "KITOPS_STRIPE_API_KEY" in text_of(screen.query_one("#pay-message", Static))
            # the app keeps running: the unpaid order can still be cancelled
            await pilot.press("x")
            await pilot.pause()
            await _confirm(pilot)
        assert orders.show_order(service_uow(demo_url), order.id).status == "cancelled"

    run(scenario)


def test_a_card_in_the_clinic_pays_the_order_and_the_course_shows_it_paid(
    demo_url: str, stripe_env: str
) -> None:
    assert API_KEY

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _order_for_course(pilot)
            await pilot.press("p")
            await pilot.pause()
            await _dialog_ok(pilot, method="pm_card_visa")
            await _confirm(pilot)
            [order] = orders.list_orders(service_uow(demo_url), course=COURSE)
            assert order.status == "paid"
            assert str(order.paid) == "315.00 GBP"
            await pilot.press("f6")
            await settle(pilot)
            detail = text_of(app.screen.query_one("#course-detail", Static))
            assert f"order {order.id} paid" in detail
        kits = courses.show_course(service_uow(demo_url), COURSE).kits
        assert [k.status for k in kits] == ["reserved"]

    run(scenario)


def test_a_declined_card_reads_in_place_and_fails_the_order(demo_url: str, stripe_env: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _order_for_course(pilot)
            await pilot.press("p")
            await pilot.pause()
            await _dialog_ok(pilot, method="pm_card_chargeCustomerFail")
            await _confirm(pilot)
            assert not isinstance(app.screen, ErrorDialog)
            message = text_of(app.screen.query_one("#pay-message", Static))
            assert "declined" in message
        [order] = orders.list_orders(service_uow(demo_url), course=COURSE)
        assert order.status == "failed"
        assert courses.show_course(service_uow(demo_url), COURSE).kits == ()

    run(scenario)


def test_a_refund_asks_what_happens_to_the_kits_and_is_sent_to_stripe(
    demo_url: str, stripe_env: str
) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _order_for_course(pilot)
            await pilot.press("p")
            await pilot.pause()
            await _dialog_ok(pilot, method="pm_card_visa")
            await _confirm(pilot)
            await pilot.press("r")
            await pilot.pause()
            await _dialog_ok(pilot, amount="400.00", restock="sealed")
            await _confirm(pilot)  # more than was paid: refused before Stripe is asked
            assert not isinstance(app.screen, ErrorDialog)
            message = text_of(app.screen.query_one("#pay-message", Static))
            assert "more than the 31500 (minor units) left to refund" in message
            [order] = orders.list_orders(service_uow(demo_url), course=COURSE)
            assert order.refunds == ()
            await pilot.press("r")
            await pilot.pause()
            await _dialog_ok(pilot, restock="sealed")
            await _confirm(pilot)
        [order] = orders.list_orders(service_uow(demo_url), course=COURSE)
        [refund] = order.refunds
        assert (refund.amount.amount_minor, refund.restock) == (31500, "sealed")
        assert refund.refund_id is not None  # at Stripe; applied when its event arrives

    run(scenario)
