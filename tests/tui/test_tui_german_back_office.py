"""The back-office screens (courses, kits, orders, purchasing) in German, on the
demo data as of a fixed day: headings, tabs, stored statuses, dates and money as a
German-speaking clinic reads them, and a refund amount typed with a decimal comma
(``12,50``) handed on as 12.50, an ambiguous ``1,250`` refused with a line saying why."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Label, Select, Static, TabbedContent
from tui_support import make_app, service_uow, settle, settle_until, table_text, text_of

from kitops.i18n import set_default_locale
from kitops.services import orders
from kitops.tui.modals import ConfirmDialog, FormDialog
from kitops.tui.screens.purchasing import ReorderPreview

SIZE = (120, 35)
COURSE = 3  # home-6w at LON (P-LON-0003), no kit yet; the demo prices its kit 315.00 GBP


@pytest.fixture(autouse=True)
def german(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A German machine's environment: the process speaks German from before the app is
    built (and after the log-in of a user who chose no language); English again after."""
    monkeypatch.setenv("LANGUAGE", "de")
    set_default_locale("de")
    yield
    set_default_locale("en")


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def headings(table: DataTable[Any]) -> list[str]:
    return [str(column.label) for column in table.columns.values()]


async def open_screen(pilot: Any, key: str, table: str) -> DataTable[Any]:
    await settle(pilot)
    await pilot.press(key)
    await settle_until(pilot, lambda: bool(pilot.app.screen.query(f"#{table}")))
    found = pilot.app.screen.query_one(f"#{table}", DataTable)
    await settle_until(pilot, lambda: found.row_count > 0)
    return found


def test_the_courses_screen_speaks_german(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_screen(pilot, "f6", "courses")
            screen = app.screen
            assert headings(table) == [
                "Nr.",
                "Patient",
                "Plan",
                "Kits",
                "Klinik",
                "Beginn",
                "Tage",
                "Status",
            ]
            rows = table_text(table)
            assert "25.11.2026" in rows  # course 1 starts Wed 25 Nov 2026
            assert "aktiv" in rows or "geplant" in rows
            assert "scheduled" not in rows
            assert "active" not in rows
            tabs = screen.query_one("#tabs", TabbedContent)
            titles = [str(tab.label) for tab in tabs.query("ContentTab")]
            assert titles == ["Kuren", "Neue Kur", "Stapel"]
            screen.query_one("#filter", Input).value = "P-LON-0001"
            await settle_until(pilot, lambda: table.row_count == 1)
            await settle_until(pilot, lambda: "Kur 1 ·" in _text(screen, "#course-detail"))
            detail = _text(screen, "#course-detail")
            assert "Kits: Kit 1: K0000001 (reserviert, Verfall 31.5.2027)" in detail
            assert "Zahlung: noch kein Auftrag" in detail
            assert "Mi., 25. Nov. 2026" in detail  # the calendar, with German weekdays
            page = str(screen.query_one("#page-status", Label).render())
            assert "f: bedienen" in page
            # the batch tab: its preview line and headings
            await pilot.press("ctrl+b")
            await settle_until(pilot, lambda: "fällig" in _text(screen, "#batch-message"))
            batch = screen.query_one("#batch-lines", DataTable)
            assert headings(batch)[:3] == ["Kur", "Patient", "Klinik"]
            assert "Kits reservieren… führt den Stapel aus." in _text(screen, "#batch-message")

    run(scenario)


def test_the_kits_screen_speaks_german(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_screen(pilot, "f5", "kits")
            screen = app.screen
            assert headings(table) == [
                "Seriennummer",
                "Kit",
                "Lagerort",
                "Verfall",
                "Status",
                "Kur",
                "Patient",
                "Sendungsverfolgung",
            ]
            rows = table_text(table)
            assert "31.5.2027" in rows  # K0000001's expiry, 2027-05-31
            assert "reserviert" in rows
            assert "2027-05-31" not in rows
            assert "reserved" not in rows
            await settle_until(pilot, lambda: "Charge" in _text(screen, "#kit-detail"))
            assert "verfällt am" in _text(screen, "#kit-detail")
            # the assembly form and its preview
            await pilot.press("a")
            await settle_until(pilot, lambda: "pro Kit" in _text(screen, "#preview"))
            preview = _text(screen, "#preview")
            assert "zusammengestellt werden" in preview
            assert "Haltbarkeit" in preview

    run(scenario)


def test_the_orders_screen_speaks_german_and_takes_a_refund_typed_with_a_comma(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KITOPS_STRIPE_API_KEY", raising=False)
    orders.create_order(service_uow(demo_url), COURSE)
    asked: list[str | None] = []

    def refund(uow: Any, gateway: Any, order_id: int, **kwargs: Any) -> Any:
        """Stripe stands in: the amount the screen hands on is what counts here."""
        asked.append(kwargs["amount"])
        return orders.show_order(uow, order_id)

    monkeypatch.setattr(orders, "refund_order", refund)

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_screen(pilot, "f7", "orders")
            screen = app.screen
            assert headings(table) == [
                "Nr.",
                "Kur",
                "Patient",
                "Klinik",
                "Status",
                "Summe",
                "Bezahlt",
                "Fällig",
            ]
            rows = table_text(table)
            assert "offen" in rows
            assert "315,00" in rows
            assert "315.00" not in rows
            await settle_until(pilot, lambda: "Auftrag" in _text(screen, "#order-detail"))
            assert "Summe 315,00" in _text(screen, "#order-detail")

            # an ambiguous amount is refused in place, in German, and nothing is sent
            await pilot.press("r")
            await settle_until(pilot, lambda: isinstance(app.screen, FormDialog))
            dialog = app.screen
            assert isinstance(dialog, FormDialog)
            assert dialog.title_text.startswith("Rückerstattung für Auftrag")
            dialog.query_one("#field-amount", Input).value = "1,250"
            await pilot.pause()
            await pilot.click("#ok")
            await settle(pilot)
            assert app.screen is screen
            message = _text(screen, "#pay-message")
            assert "mehrdeutig" in message
            assert "1250" in message
            assert "1.250" in message
            assert asked == []

            # 12,50 is twelve pounds fifty: said so in the confirmation, handed on as 12.50
            await pilot.press("r")
            await settle_until(pilot, lambda: isinstance(app.screen, FormDialog))
            app.screen.query_one("#field-amount", Input).value = "12,50"
            await pilot.pause()
            await pilot.click("#ok")
            await settle_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            confirm = app.screen
            assert isinstance(confirm, ConfirmDialog)
            assert confirm.message.startswith("12,50\xa0£ von Auftrag")  # CLDR: a no-break space
            assert "nur Geld: die Kits bleiben beim Patienten" in confirm.message
            await pilot.click("#confirm")
            await settle_until(pilot, lambda: asked != [])
            assert asked == ["12.50"]

    run(scenario)


def test_the_purchasing_screen_speaks_german(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f8")
            await settle_until(pilot, lambda: bool(app.screen.query("#pos")))
            screen = app.screen
            table = screen.query_one("#pos", DataTable)
            await settle_until(pilot, lambda: "Bestellung" in _label(screen, "#page-status"))
            assert headings(table) == [
                "Bestellung",
                "Klinik",
                "Lieferant",
                "Status",
                "Positionen",
                "Summe",
                "Erwartet",
            ]
            lines = screen.query_one("#po-lines", DataTable)
            assert "Stückkosten" in headings(lines)
            assert "offen · r: jetzt nachbestellen" in _label(screen, "#page-status")
            # reorder now: the dry run, in German, with its date as Germans write it
            await pilot.press("r")
            await settle_until(pilot, lambda: isinstance(app.screen, ReorderPreview))
            preview = app.screen
            title = str(preview.query_one(".dialog-title", Label).render())
            assert title == "Nachbestellung zum 22.11.2026 (Probelauf)"
            summary = _text(preview, "#reorder-summary")
            assert "Bestellregel" in summary
            reorder = preview.query_one("#reorder-lines", DataTable)
            assert headings(reorder)[3] == "Bestellen"
            assert str(preview.query_one("#cancel").label) == "Abbrechen"  # type: ignore[attr-defined]
            await pilot.click("#confirm")
            await settle_until(pilot, lambda: table.row_count > 0)
            rows = table_text(table)
            assert "Entwurf" in rows
            assert "draft" not in rows
            assert "£" in rows  # money as a German reads it: 1.234,50 £

    run(scenario)


def _text(screen: Any, selector: str) -> str:
    return text_of(screen.query_one(selector, Static))


def _label(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Label).render())


def _report_shown(app: Any, name: str) -> bool:
    report = getattr(app.screen, "report", None)
    return report is not None and report.name == name


def test_the_reports_screen_speaks_german(demo_url: str) -> None:
    """The report's heading with its options, its tables' titles, headings and stored
    values, and its chart's title and weeks (Babel's German month) in German."""
    from textual_plotext import PlotextPlot

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.open_screen("reports", report="cover")  # type: ignore[attr-defined]
            await settle_until(pilot, lambda: _report_shown(app, "cover"))
            status = text_of(app.screen.query_one("#report-status", Static))
            assert status.startswith(
                "Reichweite, nächste 180 Tage: alle Kliniken, Stand 22.11.2026, Tage 180 · "
            )
            assert "days" not in status
            days = app.screen.query_one("#opt-days", Input)
            assert (days.border_title, days.tooltip) == (
                "Tage",
                "Wie weit voraus Bedarf gesucht wird.",
            )
            table = app.screen.query_one("#report-table", DataTable)
            assert headings(table)[:3] == ["Klinik", "SKU", "Art"]
            # the picker names the reports in German; the chosen one is still its name
            picker = app.screen.query_one("#report", Select)
            names = [str(label) for label, _key in picker._options]
            assert names[:3] == ["Vorrätiger Bestand", "Verfallender Bestand", "Kits gegen Kuren"]
            assert "Reichweite" in names
            assert "cover" not in names
            assert picker.value == "cover"
            app.open_screen("reports", report="demand", view="chart")  # type: ignore[attr-defined]
            await settle_until(pilot, lambda: _report_shown(app, "demand"))
            drawn = str(app.screen.query_one("#report-chart", PlotextPlot).render())
            assert "Dez." in drawn
            assert "Dec" not in drawn
            assert "Serum-Fläschchen" in drawn or "Fläschchen" in drawn
            assert "needed" not in drawn

    run(scenario)
