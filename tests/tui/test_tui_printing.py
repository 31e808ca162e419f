"""Kit labels from the terminal UI to a label printer: `l` on a kit, the offer after an
assembly, `l` on the pick list. The printer is a loopback fake that keeps the bytes it
received (tests/printer_support.py); each test reads the ZPL back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import pytest
from printer_support import FakePrinter, closed_port, zpl_commands, zpl_field_data
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, Static
from tui_support import (
    AS_OF,
    KeyClock,
    make_app,
    press_alone,
    service_uow,
    settle,
    settle_until,
    text_of,
    type_text,
)

from kitops.documents.labels import label_element_string
from kitops.documents.printers import gs1_zpl_data
from kitops.gs1 import human_readable
from kitops.services import kits, operations, printers
from kitops.services.labels import read_labels
from kitops.tui.modals import ConfirmDialog, ErrorDialog, FormDialog
from kitops.tui.printing import DestinationDialog
from kitops.tui.screens.picking import PickScreen

# the label reprint test's own helpers: open a kit in the list, the audited reprints
from test_tui_label_reprint import _open_kit, _reprints  # isort: skip

SIZE = (100, 30)
T = TypeVar("T")


@pytest.fixture
def zebra() -> Iterator[FakePrinter]:
    printer = FakePrinter()
    yield printer
    printer.close()


@pytest.fixture
def zebra2() -> Iterator[FakePrinter]:
    printer = FakePrinter()
    yield printer
    printer.close()


def _add_printer(url: str, name: str, address: str) -> None:
    printers.add_printer(service_uow(url), name, format="zpl", size="62x29", tcp=address)


def _printed_serials(url: str, job: bytes, serials: Sequence[str]) -> list[bytes]:
    """The ^BX field data of the job; checked against what the labels of ``serials`` must
    encode, in that order."""
    commands = zpl_commands(job)
    assert commands.count(b"^XA") == commands.count(b"^XZ") == len(serials)
    expected = [gs1_zpl_data(human_readable(label_element_string(label))).encode()
                for label in read_labels(service_uow(url), serials)]  # fmt: skip
    found = zpl_field_data(commands, b"^BX")
    assert found == expected
    for data, serial in zip(found, serials, strict=True):
        assert data.endswith(b"21" + serial.encode())  # the serial, (21), last
    return found


def _said(pilot: Pilot[Any]) -> list[str]:
    return [str(note.message) for note in pilot.app._notifications]


async def _dialog(pilot: Pilot[Any], kind: type[T], *keys: str) -> T:
    """Press ``keys`` and wait for the dialog of ``kind``."""
    await pilot.press(*keys)
    await settle_until(pilot, lambda: isinstance(pilot.app.screen, kind))
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


def _highlighted(pilot: Pilot[Any]) -> str | None:
    dialog = pilot.app.screen
    assert isinstance(dialog, DestinationDialog)
    options = dialog.query_one("#destinations", OptionList)
    assert options.highlighted is not None
    return options.get_option_at_index(options.highlighted).id


async def _assemble(pilot: Pilot[Any], at: str, quantity: int) -> None:
    """Assemble kits of the first recipe on the Kits screen's Assemble tab, confirmed."""
    await pilot.press("f5")
    await settle(pilot)
    await pilot.press("a")
    screen = pilot.app.screen
    screen.query_one("#assemble-at", Select).value = at
    screen.query_one("#assemble-qty", Input).value = str(quantity)
    await settle(pilot)
    assert f"{quantity} can be assembled" in text_of(screen.query_one("#preview", Static))
    await pilot.click("#assemble-button")
    await _dialog(pilot, ConfirmDialog)
    await pilot.click("#confirm")


def _kit_serials(url: str) -> set[str]:
    return {kit.serial for kit in kits.list_kits(service_uow(url))}


def test_l_on_a_kit_sends_its_label_to_the_printer_chosen_and_remembers_it(
    demo_url: str, zebra: FakePrinter, zebra2: FakePrinter
) -> None:
    _add_printer(demo_url, "zebra1", zebra.address)
    _add_printer(demo_url, "zebra2", zebra2.address)

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await _open_kit(pilot, "K0000003")
            await _dialog(pilot, DestinationDialog, "l")
            assert _highlighted(pilot) == "zebra1"  # nothing chosen yet: the first
            await pilot.press("down", "enter")
            await settle_until(pilot, lambda: len(zebra2.jobs) == 1)
            assert "1 label sent to printer zebra2 in one job" in _said(pilot)
            assert app.last_printer == "zebra2"

            await _dialog(pilot, DestinationDialog, "l")  # again: the last printer is first
            assert _highlighted(pilot) == "zebra2"
            await pilot.press("enter")
            await settle_until(pilot, lambda: len(zebra2.jobs) == 2)
            assert not isinstance(app.screen, ErrorDialog)

    asyncio.run(scenario())
    assert zebra.jobs == []
    for job in zebra2.jobs:
        _printed_serials(demo_url, job, ["K0000003"])
    assert _reprints(demo_url) == []  # an available kit's label is no reprint


def test_after_assembling_two_kits_enter_prints_both_labels_in_one_job(
    demo_url: str, zebra: FakePrinter
) -> None:
    _add_printer(demo_url, "zebra1", zebra.address)
    operations.move(service_uow(demo_url), "STAMP-0.5", 2, "ESX-SHELF", "ESX-FRIDGE",
                    lot="DS05-2402", today=AS_OF)  # fmt: skip
    before = _kit_serials(demo_url)

    async def scenario() -> str:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await _assemble(pilot, "ESX-FRIDGE", 2)
            # the assembly went through; then the offer for the batch's labels
            await settle_until(pilot, lambda: isinstance(app.screen, ConfirmDialog)
                               and "labels" in app.screen.message)  # fmt: skip
            question = str(app.screen.message)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await settle_until(pilot, lambda: len(zebra.jobs) == 1)
            assert "2 labels sent to printer zebra1 in one job" in _said(pilot)
            return question

    question = asyncio.run(scenario())
    assert question == "Print the 2 labels on zebra1?"
    made = sorted(_kit_serials(demo_url) - before)
    assert len(made) == 2
    (job,) = zebra.jobs
    _printed_serials(demo_url, job, made)


def test_after_an_assembly_without_a_printer_the_labels_go_to_a_file(
    demo_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = _kit_serials(demo_url)

    async def scenario() -> str:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await _assemble(pilot, "LON-FRIDGE", 1)
            name = (await _dialog(pilot, FormDialog)).values()["out"]
            await pilot.click("#ok")
            await settle_until(pilot, (tmp_path / name).exists)
            return str(name)

    name = asyncio.run(scenario())
    (made,) = _kit_serials(demo_url) - before
    assert name == f"label-{made}.pdf"
    assert (tmp_path / name).read_bytes().startswith(b"%PDF")


def test_l_on_the_pick_list_sends_every_listed_kits_label_in_one_job(
    demo_url: str, zebra: FakePrinter
) -> None:
    _add_printer(demo_url, "zebra1", zebra.address)

    async def scenario() -> list[str]:
        app = make_app(demo_url)  # every clinic's kits to pick
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            app.action_show_pick_list()
            await settle_until(pilot, lambda: isinstance(app.screen, PickScreen)
                               and bool(app.screen.lines))  # fmt: skip
            screen = app.screen
            assert isinstance(screen, PickScreen)
            listed = [line.serial for _, line in screen.lines]
            await _dialog(pilot, DestinationDialog, "l")
            await pilot.press("enter")
            await settle_until(pilot, lambda: len(zebra.jobs) == 1)
            assert f"{len(listed)} labels sent to printer zebra1 in one job" in _said(pilot)
            return listed

    listed = asyncio.run(scenario())
    assert len(listed) >= 2, "the demo has kits to pick"
    (job,) = zebra.jobs
    _printed_serials(demo_url, job, listed)
    assert _reprints(demo_url) == []  # reserved kits: no reprints


def test_an_unreachable_printer_is_one_line_and_the_reprint_is_not_recorded(
    demo_url: str,
) -> None:
    _add_printer(demo_url, "zebra-off", f"127.0.0.1:{closed_port()}")
    kits.dispatch(service_uow(demo_url), "K0000005", handover=True, today=AS_OF)

    async def scenario() -> str:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await _open_kit(pilot, "K0000005")
            question = await _dialog(pilot, ConfirmDialog, "l")
            assert "already with the patient" in question.message
            await pilot.click("#confirm")
            await _dialog(pilot, DestinationDialog)
            await pilot.press("enter")
            error = await _dialog(pilot, ErrorDialog)
            assert not any("sent to printer" in said for said in _said(pilot))
            return error.message

    message = asyncio.run(scenario())
    assert "\n" not in message
    assert message.startswith("printer zebra-off at 127.0.0.1:")
    assert "refused the connection" in message
    assert _reprints(demo_url) == []


def test_a_scan_in_the_printer_dialog_prints_nothing(demo_url: str, zebra: FakePrinter) -> None:
    """The pick list takes scans; a scan landing in the printer dialog (its Enter would
    take the highlighted printer) is refused, and the person's Enter prints."""
    _add_printer(demo_url, "zebra1", zebra.address)

    async def scenario() -> None:
        app = make_app(demo_url, scan_clock=KeyClock(0.002))
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            app.action_show_pick_list()
            await settle_until(pilot, lambda: isinstance(app.screen, PickScreen))
            await press_alone(pilot, "l")
            await _dialog(pilot, DestinationDialog)
            await type_text(pilot, "]d20105060999900106" + "21K0000001")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DestinationDialog)
            assert zebra.jobs == []
            await press_alone(pilot, "enter")
            await settle_until(pilot, lambda: len(zebra.jobs) == 1)

    asyncio.run(scenario())


def test_escape_on_the_offer_after_an_assembly_prints_nothing(
    demo_url: str, zebra: FakePrinter
) -> None:
    _add_printer(demo_url, "zebra1", zebra.address)

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            await _assemble(pilot, "LON-FRIDGE", 1)
            offer = await _dialog(pilot, ConfirmDialog)
            assert offer.message == "Print the label on zebra1?"
            await pilot.press("escape")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmDialog)
            assert any("nothing changed" in said for said in _said(pilot))

    asyncio.run(scenario())
    assert zebra.jobs == []
