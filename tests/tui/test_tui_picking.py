"""The pick list by scanner: each kit's label ticks it off; a kit not on the list is
refused loudly and changes nothing; a picked kit ships one key away."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import DataTable, Static
from tui_support import (
    AS_OF,
    KeyClock,
    make_app,
    press_alone,
    screen_text,
    service_uow,
    settle,
    settle_until,
    text_of,
    type_text,
)

from kitops.services import kits
from kitops.services.fulfilment import pick_list
from kitops.tui.modals import ConfirmDialog, FormDialog
from kitops.tui.scans import CourseCardConfirm
from kitops.tui.screens.picking import PickScreen

SCANNER = 0.002
TRACKING = "1Z999AA10123456784"  # a carrier's parcel barcode
KIT_GTIN = "05060999900106"
KIT_GTINS = {
    "KIT-HOME-6W": "05060999900083",
    "KIT-HOME-PTT6": "05060999900090",
}  # the demo's  # any valid GTIN-14: the pick list goes by the serial (21)


def kit_label(serial: str, gtin: str = KIT_GTIN) -> str:
    return f"]d201{gtin}21{serial}"


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def test_scanning_the_pick_list_ticks_kits_off_and_refuses_others(demo_url: str) -> None:
    to_pick = [line.serial for line in pick_list(service_uow(demo_url), "LON", on=AS_OF)]
    assert to_pick, "the demo has kits to pick in London"
    every_kit = {kit.serial for kit in kits.list_kits(service_uow(demo_url))}
    stranger = sorted(every_kit - set(to_pick))[0]

    async def scenario() -> None:
        app = make_app(demo_url, clinic="LON", scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 32)) as pilot:
            await pilot.press("f5")
            await settle(pilot)
            await press_alone(pilot, "k")
            await settle_until(pilot, lambda: isinstance(app.screen, PickScreen))
            screen = app.screen
            table = screen.query_one("#pick-table", DataTable)
            assert table.row_count == len(to_pick)
            count = screen.query_one("#pick-count", Static)
            assert f"{len(to_pick)} of {len(to_pick)} kits still to pick" in text_of(count)

            await type_text(pilot, kit_label(stranger))
            await pilot.press("enter")
            await settle(pilot)
            message = text_of(screen.query_one("#pick-message", Static))
            assert f"kit {stranger} is not on the pick list" in message
            assert f"{len(to_pick)} of {len(to_pick)}" in text_of(count)

            await type_text(pilot, kit_label(to_pick[0]))
            await pilot.press("enter")
            await settle(pilot)
            assert f"picked kit {to_pick[0]}" in text_of(screen.query_one("#pick-message", Static))
            left = len(to_pick) - 1
            assert (f"{left} of {len(to_pick)}" if left else "all") in text_of(count)

            # the picked kit is the selected line: s ships it, after the tracking number,
            # scanned off the carrier's parcel label into the dialog's field
            await press_alone(pilot, "s")
            await settle_until(pilot, lambda: isinstance(app.screen, FormDialog))
            await type_text(pilot, TRACKING)
            await pilot.press("enter")
            await settle_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert TRACKING in screen_text(app)
            await pilot.press("enter")
            await settle_until(pilot, lambda: isinstance(app.screen, PickScreen)
                               and table.row_count == len(to_pick) - 1)  # fmt: skip
        shipped = kits.show_kit(service_uow(demo_url), to_pick[0])
        assert (shipped.status, shipped.tracking) == ("shipped", TRACKING)
        assert kits.show_kit(service_uow(demo_url), stranger).status != "shipped"

    run(scenario)


def test_a_kit_not_yet_picked_does_not_ship_from_the_pick_list(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, clinic="LON", scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            app.action_show_pick_list()
            await settle_until(pilot, lambda: isinstance(app.screen, PickScreen))
            await press_alone(pilot, "s")
            await settle(pilot)
            assert isinstance(app.screen, PickScreen)  # no shipping form
            message = text_of(app.screen.query_one("#pick-message", Static))
            assert "is not picked yet: scan its label first" in message

    run(scenario)


def test_a_kit_goes_to_its_patient_only_on_its_own_course_card(demo_url: str) -> None:
    first = pick_list(service_uow(demo_url), "LON", on=AS_OF)[0]

    async def scenario() -> None:
        app = make_app(demo_url, clinic="LON", scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            app.action_show_pick_list()
            await settle_until(pilot, lambda: isinstance(app.screen, PickScreen))
            await type_text(pilot, kit_label(first.serial))
            await pilot.press("enter")
            await settle(pilot)
            await press_alone(pilot, "h")
            await settle_until(pilot, lambda: isinstance(app.screen, CourseCardConfirm))
            dialog = app.screen
            await type_text(pilot, f"KCRS:{first.course_id + 1000}")  # another course's card
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is dialog  # refused: the dialog stays
            said = text_of(dialog.query_one("#confirm-message", Static))
            assert f"the kit is for course {first.course_id}" in said
            assert kits.show_kit(service_uow(demo_url), first.serial).status == "reserved"
            await type_text(pilot, f"KCRS:{first.course_id}")  # the patient's own card
            await pilot.press("enter")
            await settle_until(pilot, lambda: isinstance(app.screen, PickScreen))
            await settle(pilot)
        assert kits.show_kit(service_uow(demo_url), first.serial).status == "handed_over"

    run(scenario)


def test_a_kit_coming_back_is_scanned_and_returned_sealed(demo_url: str) -> None:
    first = pick_list(service_uow(demo_url), "LON", on=AS_OF)[0]
    kits.dispatch(service_uow(demo_url), first.serial, handover=True, today=AS_OF)

    async def scenario() -> None:
        app = make_app(demo_url, clinic="LON", scan_clock=KeyClock(SCANNER))
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            sku = kits.show_kit(service_uow(demo_url), first.serial).sku
            await type_text(pilot, kit_label(first.serial, KIT_GTINS[sku]))  # at the counter
            await pilot.press("enter")
            await settle_until(pilot, lambda: app.current_mode == "kits")
            await settle_until(pilot, lambda: app.screen.selected() is not None
                               and app.screen.selected().serial == first.serial)  # fmt: skip
            await press_alone(pilot, "b")
            await settle_until(pilot, lambda: isinstance(app.screen, FormDialog))
            await pilot.press("tab", "enter")  # condition: sealed (the default), then Next
            await settle_until(pilot, lambda: app.current_mode == "kits"
                               and not isinstance(app.screen, FormDialog))  # fmt: skip
            await settle(pilot)
        returned = kits.show_kit(service_uow(demo_url), first.serial)
        assert returned.status == "quarantine"

    run(scenario)
