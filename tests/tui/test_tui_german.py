"""The terminal UI in German: the footer's key bindings (marked with ``N_`` where the
class is defined, translated when shown), the screens' own words, dates and amounts as
German writes them, and a cost typed with a decimal comma."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import DataTable, Footer, Input, Label, Select, Static
from textual.widgets._footer import FooterKey
from tui_support import make_app, settle, type_text

from kitops.i18n import set_default_locale
from kitops.tui.widgets import Tile

SCAN = "]d2010506099990001417271231" + "10NEWLOT1\x1d" + "3012"


@pytest.fixture
def german(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # as `kitops tui` on a German machine: the environment's language, before and after
    # the log-in of a user who chose none
    monkeypatch.setenv("LANGUAGE", "de")
    set_default_locale("de")
    try:
        yield
    finally:
        set_default_locale("en")


def _footer(app: Any) -> list[str]:
    return [key.description for key in app.screen.query_one(Footer).query(FooterKey)]


def _text(widget: Static) -> str:
    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(content)
    return console.export_text()


def _headings(table: DataTable[Any]) -> list[str]:
    return [str(column.label) for column in table.columns.values()]


def test_the_dashboard_speaks_german(german: None, demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            titles = {str(tile.border_title) for tile in app.screen.query(Tile)}
            assert {"Zusammenzustellende Kits", "Wartet auf Freigabe", "Verfall"} <= titles
            assert "Letzte Aktivitäten" in titles
            nav = _text(app.screen.query_one("#nav", Static))
            assert "F3 Bestand" in nav
            assert "alles finden" in nav
            assert "Hilfe" in _footer(app)
            assert "Befehle" in _footer(app)
            assert "Stand 22.11.2026" in app.sub_title  # the fixed day, as German writes it

    asyncio.run(scenario())


def test_the_stock_screen_speaks_german(german: None, demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            await pilot.press("f3")
            await settle(pilot)
            table = app.screen.query_one("#stock", DataTable)
            assert _headings(table)[:5] == ["Klinik", "Lagerort", "SKU", "Charge", "Menge"]
            footer = _footer(app)
            for word in ("Verfolgen", "Umlagern", "Zählen", "Ausbuchen", "Freigeben"):
                assert word in footer
            assert "Trace" not in footer
            page = str(app.screen.query_one("#page-status", Label).content)
            assert " von " in page
            assert "sortiert nach Verfall" in page
            expiry = str(table.get_row_at(0)[5])
            assert expiry.count(".") == 2  # 4.12.2026, not 2026-12-04
            shown = app.screen.query_one("#show", Select)
            assert "Gesamtbestand" in [str(prompt) for prompt, _value in shown._options]

    asyncio.run(scenario())


def test_the_receive_screen_speaks_german_and_takes_a_decimal_comma(
    german: None, demo_url: str
) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            await pilot.press("f4")
            await settle(pilot)
            screen = app.screen
            assert screen.query_one("#scan", Input).border_title == "Scan"
            assert screen.query_one("#cost", Input).border_title == "Stückkosten"
            assert "Leeren" in _footer(app)
            assert "Wareneingang" in _footer(app)
            assert _headings(screen.query_one("#receipts", DataTable))[-1] == "Vorrätig"
            screen.query_one("#location", Select).value = "LON-FRIDGE"
            screen.query_one("#cost", Input).value = "12,50 GBP"
            screen.query_one("#scan", Input).focus()
            await type_text(pilot, SCAN)
            await pilot.press("enter")
            await settle(pilot)
            said = _text(screen.query_one("#scan-message", Static))
            assert "12 × SERUM-5ML Charge NEWLOT1 an LON-FRIDGE empfangen" in said, said
            assert "Quarantäne: wartet auf Freigabe" in said
            row = screen.query_one("#receipts", DataTable).get_row_at(0)
            assert str(row[3]) == "31.12.2027"
            assert str(row[6]) == "Quarantäne"

    asyncio.run(scenario())
    # the cost as typed, 12,50: 1250 pence, not 125000 or a refusal
    with sqlite3.connect(demo_url.removeprefix("sqlite:///")) as db:
        found = db.execute(
            "SELECT r.unit_cost_minor, r.currency FROM lot_receipts r "
            "JOIN lots l ON l.id = r.lot_id WHERE l.code = 'NEWLOT1'"
        ).fetchall()
    assert found == [(1250, "GBP")]


def test_an_ambiguous_cost_is_refused_in_place(german: None, demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            await pilot.press("f4")
            await settle(pilot)
            screen = app.screen
            screen.query_one("#location", Select).value = "LON-FRIDGE"
            screen.query_one("#cost", Input).value = "1,250 GBP"
            screen.query_one("#scan", Input).focus()
            await type_text(pilot, SCAN)
            await pilot.press("enter")
            await settle(pilot)
            said = _text(screen.query_one("#scan-message", Static))
            assert "mehrdeutig" in said, said
            assert screen.query_one("#receipts", DataTable).row_count == 0

    asyncio.run(scenario())


def test_the_command_palette_speaks_german(german: None, demo_url: str) -> None:
    from kitops.tui.commands import KitopsCommands

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            commands = KitopsCommands(app.screen)
            names = {name: help_text for name, _action, help_text in commands.commands()}
            assert names["Wareneingang"] == "Etikett des Lieferanten scannen (F4)"
            assert "Chargen vor der Freigabe" in names
            finds = [text for _score, text, _action, _help in commands.finds("PTT6-A0412")]
            assert "Charge PTT6-A0412 suchen" in finds
            system = [command.title for command in app.get_system_commands(app.screen)]
            assert "Design" in system
            assert "Theme" not in system

    asyncio.run(scenario())


def test_the_help_panel_speaks_german(german: None, demo_url: str) -> None:
    from textual.widgets._key_panel import BindingsTable

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            await pilot.press("f3")
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            table = app.screen.query_one(BindingsTable).render_bindings_table()
            console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
            console.print(table)
            shown = console.export_text()
            for words in ("Umlagern", "Zählliste", "Nächste Seite", "Cursor nach oben"):
                assert words in shown, shown

    asyncio.run(scenario())
