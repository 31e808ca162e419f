"""SVG snapshots of the main screens at 100×30 and 80×24 (pytest-textual-snapshot), on
the demo data with a fixed day, a fixed load time and no cursor blink. After a
deliberate change of layout: `pytest tests/tui --snapshot-update`, then look at the
report before committing the new SVGs."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select
from tui_support import (
    AS_OF,
    LOADED_AT,
    make_app,
    service_uow,
    settle,
    settle_until,
    type_text,
)

SIZES = [pytest.param((100, 30), id="100x30"), pytest.param((80, 24), id="80x24")]
# the smallest terminal and a roomy one, for the layouts that must hold at both
SMALL_AND_WIDE = [pytest.param((80, 24), id="80x24"), pytest.param((120, 35), id="120x35")]


async def _ready(pilot: Pilot[Any]) -> None:
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=_ready)


def test_dashboard_light_theme(snap_compare: Any, demo_url: str) -> None:
    app = make_app(demo_url, theme="textual-light")
    assert snap_compare(app, terminal_size=(100, 30), run_before=_ready)


@pytest.mark.parametrize("size", SIZES)
def test_stock(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", [*SIZES, pytest.param((120, 35), id="120x35")])
def test_receive_after_a_scan(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        pilot.app.screen.query_one("#location", Select).value = "LON-FRIDGE"
        pilot.app.screen.query_one("#scan", Input).focus()
        await type_text(pilot, "]d2010506099990001417271231" + "10NEWLOT1\x1d" + "3012")
        await pilot.press("enter")
        await settle(pilot)
        pilot.app.clear_notifications()
        # the received line widens the table's columns; a header line rendered before that
        # can stay in the table's line cache under load: drop the cache, paint it anew
        table = pilot.app.screen.query_one("#receipts", DataTable)
        table._clear_caches()
        table.refresh()
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_kits(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


def test_assembly_shortfall(snap_compare: Any, demo_url: str) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("a")
        pilot.app.screen.query_one("#assemble-qty", Input).value = "20"
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=(100, 30), run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_courses(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_courses_filtered_to_one(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    """One course left by the filter: the detail pane keeps its room."""

    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "P-LON-0001")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_assembly_with_the_help_panel(
    snap_compare: Any, demo_url: str, size: tuple[int, int]
) -> None:
    """The help panel open beside the assembly form: the kit SKUs stay whole."""

    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SMALL_AND_WIDE)
def test_new_course_form(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    """The form with its button before the preview, which says what to fill in."""

    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("ctrl+n")
        screen = pilot.app.screen
        screen.query_one("#plan", Select).value = "home-12w"
        screen.query_one("#clinic", Select).value = "VIE"
        screen.query_one("#start", Input).value = ""
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


def test_new_course_preview(snap_compare: Any, demo_url: str) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("ctrl+n")
        screen = pilot.app.screen
        screen.query_one("#plan", Select).value = "home-12w"
        screen.query_one("#clinic", Select).value = "LON"
        screen.query_one("#start", Input).value = "2026-11-30"
        screen.query_one("#patient", Input).value = "P-LON-0107"
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=(100, 30), run_before=before)


def test_batch_review(snap_compare: Any, demo_url: str) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=(100, 30), run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_trace(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.show_trace("PTT6-B0902")  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


def test_refusal_dialog(snap_compare: Any, demo_url: str) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.show_trace("NO-SUCH-LOT")  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=(80, 24), run_before=before)


# --- reports, purchase orders, orders ------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_report_table(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.open_screen("reports", report="expiring")  # type: ignore[attr-defined]
        await settle_until(pilot, lambda: _report_shown(pilot, "expiring"))

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_report_chart(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.open_screen("reports", report="demand", view="chart")  # type: ignore[attr-defined]
        await settle_until(pilot, lambda: _report_shown(pilot, "demand"))

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


def _report_shown(pilot: Pilot[Any], name: str) -> bool:
    """The reports screen shows the named report (not an earlier one still loading)."""
    report = getattr(pilot.app.screen, "report", None)
    return report is not None and report.name == name


def _drafts(url: str) -> None:
    from kitops.services import reorder

    with time_machine.travel(LOADED_AT, tick=False):
        reorder.run(service_uow(url), as_of=AS_OF)


@pytest.mark.parametrize("size", SIZES)
def test_purchase_orders(snap_compare: Any, demo_url: str, size: tuple[int, int]) -> None:
    _drafts(demo_url)

    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


def test_reorder_preview(snap_compare: Any, demo_url: str) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        pilot.app.clear_notifications()
        await settle(pilot)  # the screen without the toast, repainted whole

    assert snap_compare(make_app(demo_url), terminal_size=(100, 30), run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_orders_without_a_stripe_key(
    snap_compare: Any, demo_url: str, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kitops.services import orders

    monkeypatch.delenv("KITOPS_STRIPE_API_KEY", raising=False)
    with time_machine.travel(LOADED_AT, tick=False):
        orders.create_order(service_uow(demo_url), 3)
        orders.create_order(service_uow(demo_url), 4)

    async def before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=size, run_before=before)


def test_login(snap_compare: Any, demo_url: str) -> None:
    app = make_app(demo_url, user="manager", login=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready)
