"""The main screens in other languages as SVG snapshots: the pseudo-locale (every string
accented and 40 % longer, tests/tui/pseudo_locale.py) at the smallest terminal and a
roomy one, so a layout that holds it holds German too (the stockroom's screens and the
back office's: kits, courses, orders, purchase orders, reports); and German itself. After a
deliberate change: `pytest tests/tui/test_tui_locale_snapshots.py --snapshot-update`,
then look at the SVGs (cut-off text, unaccented strings: a string not translated)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from pseudo_locale import speaking_pseudo
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select
from tui_support import AS_OF, LOADED_AT, make_app, service_uow, settle, settle_until, type_text

from kitops.i18n import set_default_locale

SMALL_AND_WIDE = [pytest.param((80, 24), id="80x24"), pytest.param((120, 35), id="120x35")]
WIDE = (120, 35)
# GS1 element string for 12 vials of SERUM-5ML, lot NEWLOT1, expiry 2027-12-31
SCAN = "]d2010506099990001417271231" + "10NEWLOT1\x1d" + "3012"


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LANGUAGE", "pseudo")
    with speaking_pseudo():
        yield


@pytest.fixture
def german(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LANGUAGE", "de")
    set_default_locale("de")
    try:
        yield
    finally:
        set_default_locale("en")


async def _dashboard(pilot: Pilot[Any]) -> None:
    await settle(pilot)


async def _stock(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)


async def _receive(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)
    pilot.app.screen.query_one("#location", Select).value = "LON-FRIDGE"
    pilot.app.screen.query_one("#scan", Input).focus()
    await type_text(pilot, SCAN)
    await pilot.press("enter")
    await settle(pilot)
    pilot.app.clear_notifications()
    table = pilot.app.screen.query_one("#receipts", DataTable)
    table._clear_caches()
    table.refresh()
    await settle(pilot)


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_pseudo_dashboard(
    pseudo: None, snap_compare: Any, demo_url: str, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=_dashboard)


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_pseudo_stock(
    pseudo: None, snap_compare: Any, demo_url: str, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=_stock)


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_pseudo_receive(
    pseudo: None, snap_compare: Any, demo_url: str, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=_receive)


def test_german_dashboard(german: None, snap_compare: Any, demo_url: str) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=WIDE, run_before=_dashboard)


def test_german_stock(german: None, snap_compare: Any, demo_url: str) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=WIDE, run_before=_stock)


def test_german_receive(german: None, snap_compare: Any, demo_url: str) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=WIDE, run_before=_receive)


# --- the back office ---------------------------------------------------------------


def _screen(key: str) -> Any:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)

    return before


def _report(name: str, view: str | None = None) -> Any:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        options = {"report": name} | ({"view": view} if view else {})
        pilot.app.open_screen("reports", **options)  # type: ignore[attr-defined]
        await settle_until(pilot, lambda: _report_shown(pilot, name))

    return before


def _report_shown(pilot: Pilot[Any], name: str) -> bool:
    report = getattr(pilot.app.screen, "report", None)
    return report is not None and report.name == name


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_pseudo_kits(pseudo: None, snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=_screen("f5"))


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_pseudo_courses(
    pseudo: None, snap_compare: Any, demo_url: str, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=_screen("f6"))


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_pseudo_orders(
    pseudo: None,
    snap_compare: Any,
    demo_url: str,
    size: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kitops.services import orders

    monkeypatch.delenv("KITOPS_STRIPE_API_KEY", raising=False)
    with time_machine.travel(LOADED_AT, tick=False):
        orders.create_order(service_uow(demo_url), 3)
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=_screen("f7"))


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_pseudo_purchase_orders(
    pseudo: None, snap_compare: Any, demo_url: str, size: tuple[int, int]
) -> None:
    from kitops.services import reorder

    with time_machine.travel(LOADED_AT, tick=False):
        reorder.run(service_uow(demo_url), as_of=AS_OF)  # draft orders to list
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=_screen("f8"))


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_pseudo_report_table(
    pseudo: None, snap_compare: Any, demo_url: str, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=_report("expiring"))


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_pseudo_report_chart(
    pseudo: None, snap_compare: Any, demo_url: str, size: tuple[int, int]
) -> None:
    before = _report("demand", view="chart")
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)
