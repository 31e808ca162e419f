"""Label printers: the printers named in settings, and the bytes that reach them (a
loopback fake printer on 127.0.0.1, a device file, a FIFO), on both backends."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from datetime import date

import pytest
from printer_support import (
    FakePrinter,
    closed_port,
    ql_page_image,
    read_ql,
    render_and_read_zpl,
    zpl_commands,
    zpl_field_data,
)
from sqlalchemy import select

from kitops.data.schema import AuditRow, SettingRow
from kitops.documents.labels import Code, dots, label_element_string, layout_label
from kitops.documents.printers import (
    gs1_zpl_data,
    lp_command,
    print_labels,
    print_test,
    render_zpl,
    send,
)
from kitops.domain.printers import SIZES, printer_spec
from kitops.errors import Conflict, InvalidInput, NotAllowed, Refused
from kitops.gs1 import human_readable
from kitops.services import catalog, kits, printers, users
from kitops.services.labels import read_labels

DAY = date(2026, 11, 22)
pytestmark = pytest.mark.demo_data(DAY)


@pytest.fixture
def fake_printer():
    printer = FakePrinter()
    yield printer
    printer.close()


def _audit(uow, action: str) -> list[str]:
    with uow(readonly=True) as u:
        query = select(AuditRow.entity_key).where(AuditRow.action == action)
        return list(u.session.scalars(query.order_by(AuditRow.id)))


# --- ZPL ------------------------------------------------------------------------------------


def test_zpl_labels_reach_the_printer_in_one_job_that_a_zpl_parser_and_renderer_accept(
    uow, fake_printer
):
    # the renderer's built-in font has no "°" (a Zebra's font 0 has): plain text here
    catalog.set_label_text(uow(), "KIT-HOME-6W", storage="Keep in the fridge at 2-8 C.")
    printers.add_printer(uow(), "zebra1", format="zpl", size="62x29", tcp=fake_printer.address)
    serials = ["K0000001", "K0000002"]
    job = print_labels(uow(readonly=True), serials, "zebra1")
    (data,) = fake_printer.wait_for_jobs(1)
    assert (job.labels, job.bytes_sent, len(data)) == (2, len(data), len(data))
    commands = zpl_commands(data)
    assert commands.count(b"^XA") == commands.count(b"^XZ") == 2
    assert commands.count(b"^PW496") == commands.count(b"^LL232") == 2  # 62 × 29 mm, 203 dpi
    expected = [human_readable(label_element_string(label))
                for label in read_labels(uow(readonly=True), serials)]  # fmt: skip
    assert zpl_field_data(commands, b"^BX") == [gs1_zpl_data(text).encode() for text in expected]
    texts = [c[3:] for c in commands if c.startswith(b"^FD")]
    assert b"Serial K0000001" in texts
    assert b"Serial K0000002" in texts
    rendered = render_and_read_zpl(data, 203)
    assert [codes for codes, _ in rendered] == [[f"]d2{text}"] for text in expected]
    assert {size for _, size in rendered} == {(496, 232)}


def test_zpl_for_300_dpi_and_copies(uow, fake_printer):
    printers.add_printer(uow(), "zebra300", format="zpl", size="62", dpi=300,
                         tcp=fake_printer.address)  # fmt: skip
    job = print_labels(uow(readonly=True), ["K0000001"], "zebra300", copies=3)
    (data,) = fake_printer.wait_for_jobs(1)
    commands = zpl_commands(data)
    assert job.copies == 3
    assert b"^PQ3" in commands
    assert (commands[2], commands[3]) == (b"^PW732", b"^LL472")


def test_text_and_escapes_in_zpl_fields():
    label = replace(_label("K0000009"), product="50% ^off~ \\ now", sku="KIT^1")
    data = render_zpl([layout_label(label, SIZES["50x25"])], 203)
    commands = zpl_commands(data)
    assert b"^FD50% \\5Eoff\\7E \\5C now" in commands
    assert b"^FDKIT\\5E1" in commands
    rendered = render_and_read_zpl(data, 203)  # the renderer accepts the escapes
    assert rendered[0][0] == ["KKIT:K0000009"]  # no GTIN: kitops's own code, plain


def _label(serial: str):
    from kitops.services.labels import Label

    return Label(serial, "KIT-HOME-6W", "Home kit", date(2027, 5, 31), None, None, None, False)


# --- the GS1 DataMatrix path, with a code of any size --------------------------


@pytest.mark.parametrize("dpi", [203, 300])
def test_a_gs1_datamatrix_code_is_written_as_bx_with_fnc1(dpi):
    element_string = "(01)05060999900083(17)270531(10)PTT6_A0519(21)K0000001"
    item = layout_label(_label("K0000001"), SIZES["62x29"])
    # 22 × 22 modules: the size a GS1 DataMatrix of this element string takes
    blank = tuple(tuple(False for _ in range(22)) for _ in range(22))
    item = replace(item, code=Code("gs1-datamatrix", element_string, blank, quiet=1))
    data = render_zpl([item], dpi)
    commands = zpl_commands(data)
    (field,) = zpl_field_data(commands, b"^BX")
    assert field == b"_101050609999000831727053110PTT6__A0519_121K0000001"
    (bx,) = [c for c in commands if c.startswith(b"^BX")]
    assert bx.split(b",")[2:5] == [b"200", b"22", b"22"]  # ECC 200, 22 columns, 22 rows
    ((codes, _),) = render_and_read_zpl(data, dpi)
    assert codes == [f"]d2{element_string}"]  # a GS1 DataMatrix, FNC1 in the right places


def test_gs1_zpl_data_separates_only_variable_length_values():
    assert gs1_zpl_data("(21)A1") == "_121A1"
    assert gs1_zpl_data("(01)05060999900083(17)270531") == "_1010506099990008317270531"
    assert gs1_zpl_data("(10)L1(21)S1") == "_110L1_121S1"
    assert gs1_zpl_data("(414)5060999900007(254)SHELF-2") == "_14145060999900007254SHELF-2"
    with pytest.raises(ValueError, match="bracket form"):
        gs1_zpl_data("0105060999900083")


# --- Brother QL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "media_type", "width_mm", "length_mm", "lines"),
    [
        ("62x29", 0x0B, 62, 29, 271),  # die-cut: brother_ql's printable 696 × 271 dots
        ("62", 0x0A, 62, 0, 472),  # the continuous roll, 40 mm a label at 300 dpi
        ("50x25", 0x0A, 50, 0, 295),
    ],
)
def test_ql_raster_reaches_the_printer_at_the_media_size(
    uow, fake_printer, size, media_type, width_mm, length_mm, lines
):
    printers.add_printer(uow(), "brother", format="ql", size=size, tcp=fake_printer.address)
    serials = ["K0000001", "K0000002"]
    job = print_labels(uow(readonly=True), serials, "brother")
    (data,) = fake_printer.wait_for_jobs(1)
    assert job.bytes_sent == len(data)
    pages = read_ql(data)
    assert len(pages) == 2
    for page in pages:
        assert (page.media_type, page.width_mm, page.length_mm) == (media_type, width_mm,
                                                                    length_mm)  # fmt: skip
        assert page.raster_lines == len(page.rows) == lines
    expected = [human_readable(label_element_string(label))
                for label in read_labels(uow(readonly=True), serials)]  # fmt: skip
    assert [[r.text for r in _read_codes(ql_page_image(page))] for page in pages] == [
        [text] for text in expected
    ]


def _read_codes(image):
    import zxingcpp

    return zxingcpp.read_barcodes(image)


# --- device files and CUPS ------------------------------------------------------------------


def test_a_device_file_receives_the_job(uow, tmp_path):
    device = tmp_path / "lp0"
    device.write_bytes(b"")
    printers.add_printer(uow(), "usb", format="zpl", size="62", device=str(device))
    print_labels(uow(readonly=True), ["K0000001"], "usb")
    commands = zpl_commands(device.read_bytes())
    assert (commands[0], commands[-1]) == (b"^XA", b"^XZ")


def test_a_fifo_is_written_while_someone_reads_it_and_refused_when_nobody_does(uow, tmp_path):
    fifo = tmp_path / "printer.fifo"
    os.mkfifo(fifo)
    printers.add_printer(uow(), "pipe", format="ql", size="62x29", device=str(fifo))
    with pytest.raises(Refused, match=r"^printer pipe at .*printer\.fifo: nothing reads"):
        print_labels(uow(readonly=True), ["K0000001"], "pipe")
    received: list[bytes] = []
    ready = threading.Event()

    def reader() -> None:
        with open(fifo, "rb") as pipe:  # blocks until the writer opens
            ready.set()
            received.append(pipe.read())

    thread = threading.Thread(target=reader)
    thread.start()
    # the reader's open() is under way; opening for writing then finds it (retry until it has)
    for _ in range(200):
        try:
            print_labels(uow(readonly=True), ["K0000001"], "pipe")
            break
        except Refused:
            threading.Event().wait(0.01)
    thread.join(timeout=30)
    assert ready.is_set()
    (page,) = read_ql(received[0])
    assert page.raster_lines == 271


def test_a_device_that_takes_nothing_is_refused_after_the_timeout(tmp_path):
    fifo = tmp_path / "stuck.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened, never read
    try:
        spec = printer_spec("stuck", "zpl", "62", device=str(fifo))
        with pytest.raises(Refused, match=r"^printer stuck at .* did not take the label within "
                                          r"0\.2 s$"):  # fmt: skip
            send(spec, b"x" * 1_000_000, timeout=0.2)
    finally:
        os.close(reader)


def test_a_tcp_printer_that_takes_nothing_is_refused_after_the_timeout():
    import socket

    # a printer that accepts the connection (the kernel does) but never reads: the bytes
    # fill the socket buffers and the send waits until the timeout
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        spec = printer_spec("zebra1", "zpl", "62", tcp=f"127.0.0.1:{port}")
        with pytest.raises(Refused) as refused:
            send(spec, b"^XA^XZ" * 10_000_000, timeout=0.2)
    assert str(refused.value) == f"printer zebra1 at 127.0.0.1:{port} did not answer within 0.2 s"


def test_a_printer_that_resets_the_connection_did_not_take_the_job():
    import socket
    import struct

    def reset_after_reading(server: socket.socket) -> None:
        connection, _ = server.accept()
        while connection.recv(65536):
            pass
        # close with a reset (linger on, zero seconds) instead of an orderly close
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()

    with socket.create_server(("127.0.0.1", 0)) as server:
        thread = threading.Thread(target=reset_after_reading, args=(server,))
        thread.start()
        spec = printer_spec("zebra1", "zpl", "62", tcp=f"127.0.0.1:{server.getsockname()[1]}")
        with pytest.raises(Refused, match=r"^printer zebra1 at .* reset the connection: the "):
            send(spec, b"^XA^XZ")
        thread.join(timeout=30)


def test_cups_is_lp_with_the_queue_raw_for_printer_languages():
    # `lp` is not installed on the test machines: the command line is checked instead
    zebra = printer_spec("z", "zpl", "62x29", cups="Zebra_ZD421")
    office = printer_spec("o", "pdf", "62", cups="office")
    assert lp_command(zebra) == ["lp", "-d", "Zebra_ZD421", "-t", "kitops labels", "-o", "raw"]
    assert lp_command(office) == ["lp", "-d", "office", "-t", "kitops labels"]


def test_without_lp_a_cups_printer_is_refused_in_one_line(uow, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no lp there
    printers.add_printer(uow(), "cups1", format="zpl", size="62", cups="Zebra")
    with pytest.raises(Refused, match=r"^printer cups1 \(CUPS queue Zebra\): `lp` is not "):
        print_labels(uow(readonly=True), ["K0000001"], "cups1")


# --- refusals, reprints, the audit ----------------------------------------------------------


def test_an_unreachable_printer_is_refused_and_a_reprint_is_not_recorded(uow, fake_printer):
    port = closed_port()
    printers.add_printer(uow(), "zebra1", format="zpl", size="62", tcp=f"127.0.0.1:{port}")
    kits.dispatch(uow(), "K0000001", handover=True, today=DAY)
    with pytest.raises(Refused) as refused:
        print_labels(uow(), ["K0000001"], "zebra1", reprint=True)
    assert str(refused.value).startswith(f"printer zebra1 at 127.0.0.1:{port} refused the ")
    assert "\n" not in str(refused.value)
    assert _audit(uow, "kit.label_reprint") == []
    printers.remove_printer(uow(), "zebra1")
    printers.add_printer(uow(), "zebra1", format="zpl", size="62", tcp=fake_printer.address)
    with pytest.raises(Refused, match="already with the patient"):
        print_labels(uow(readonly=True), ["K0000001"], "zebra1")
    job = print_labels(uow(), ["K0000001"], "zebra1", reprint=True)
    assert job.reprints == 1
    assert len(fake_printer.wait_for_jobs(1)) == 1
    assert _audit(uow, "kit.label_reprint") == ["K0000001"]


def test_an_unknown_serial_or_printer_is_bad_input_and_nothing_is_sent(uow, fake_printer):
    printers.add_printer(uow(), "zebra1", format="zpl", size="62", tcp=fake_printer.address)
    with pytest.raises(InvalidInput) as unknown:
        print_labels(uow(readonly=True), ["K0000001", "K9999999"], "zebra1")
    assert (unknown.value.field, unknown.value.value) == ("serial", "K9999999")
    with pytest.raises(InvalidInput) as no_printer:
        print_labels(uow(readonly=True), ["K0000001"], "zebra9")
    assert no_printer.value.field == "printer"
    with pytest.raises(InvalidInput) as copies:
        print_labels(uow(readonly=True), ["K0000001"], "zebra1", copies=0)
    assert copies.value.field == "copies"
    print_test(uow(readonly=True), "zebra1")
    (data,) = fake_printer.wait_for_jobs(1)  # only the test label arrived
    assert b"^FDKITOPS TEST LABEL" in data


# --- the printers in settings ---------------------------------------------------------------


def test_printers_are_kept_in_settings_listed_and_removed_with_an_audit_row(uow):
    added = printers.add_printer(uow(), "Zebra-1", format="ZPL", size="62x29",
                                 tcp="10.0.0.5")  # fmt: skip
    printers.add_printer(uow(), "brother", format="ql", size="62", tcp="[fd00::5]:9101",
                         model="ql-1110nwb")  # fmt: skip
    printers.add_printer(uow(), "office", format="pdf", size="62", cups="office_lj")
    assert (added.format, added.size, added.dpi, added.via, added.target) == (
        "zpl", "62x29", 203, "tcp", "10.0.0.5:9100")  # fmt: skip
    listed = printers.list_printers(uow(readonly=True))
    assert [(p.name, p.via, p.target, p.model) for p in listed] == [
        ("Zebra-1", "tcp", "10.0.0.5:9100", None),
        ("brother", "tcp", "[fd00::5]:9101", "QL-1110NWB"),
        ("office", "cups", "office_lj", None),
    ]
    with uow(readonly=True) as u:
        keys = set(u.session.scalars(select(SettingRow.key)))
    assert {"printer:Zebra-1", "printer:brother", "printer:office"} <= keys
    with pytest.raises(Conflict, match=r"^printer Zebra-1 exists already"):
        printers.add_printer(uow(), "zebra-1", format="zpl", size="62", tcp="10.0.0.6")
    printers.remove_printer(uow(), "BROTHER")  # names are found in any case
    assert [p.name for p in printers.list_printers(uow(readonly=True))] == ["Zebra-1", "office"]
    assert _audit(uow, "printer.add") == ["Zebra-1", "brother", "office"]
    assert _audit(uow, "printer.remove") == ["brother"]
    assert "printer:" not in " ".join(s.key for s in users.list_settings(uow(readonly=True)))


def test_only_admins_add_remove_and_test_printers_and_everyone_prints(uow, fake_printer):
    users.add_user(uow(), "sam", "stockroom")
    printers.add_printer(uow(), "zebra1", format="zpl", size="62", tcp=fake_printer.address)
    with pytest.raises(NotAllowed):
        printers.add_printer(uow(actor="sam"), "zebra2", format="zpl", size="62", tcp="h")
    with pytest.raises(NotAllowed):
        printers.remove_printer(uow(actor="sam"), "zebra1")
    with pytest.raises(NotAllowed):
        print_test(uow(actor="sam", readonly=True), "zebra1")
    assert [p.name for p in printers.list_printers(uow(actor="sam", readonly=True))] == ["zebra1"]
    print_labels(uow(actor="sam", readonly=True), ["K0000001"], "zebra1")
    assert len(fake_printer.wait_for_jobs(1)) == 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": "zebra 1"}, "name"),
        ({"format": "epl"}, "format"),
        ({"size": "100x50"}, "size"),
        ({"tcp": "printer:99999"}, "tcp"),
        ({"tcp": "bad host"}, "tcp"),
        ({"tcp": None, "device": "lp0"}, "device"),
        ({"tcp": None, "cups": "my queue"}, "cups"),
        ({"cups": "q"}, "connection"),
        ({"tcp": None}, "connection"),
        ({"dpi": 250}, "dpi"),
        ({"model": "QL-820NWB"}, "model"),
        ({"format": "ql", "dpi": 203}, "dpi"),
        ({"format": "ql", "model": "QL-9"}, "model"),
    ],
)
def test_bad_printer_input_names_its_field_and_adds_nothing(uow, arguments, field):
    given = {"name": "zebra1", "format": "zpl", "size": "62", "tcp": "10.0.0.5"} | arguments
    name = given.pop("name")
    with pytest.raises(InvalidInput) as raised:
        printers.add_printer(uow(), name, **given)
    assert raised.value.field == field
    assert printers.list_printers(uow(readonly=True)) == []


# --- one layout, every size -----------------------------------------------------------------


@pytest.mark.parametrize("size", sorted(SIZES))
def test_every_line_and_the_code_fit_on_every_label_size(uow, size):
    from kitops.documents.labels import helvetica_width

    (label,) = read_labels(uow(readonly=True), ["K0000001"])
    label = replace(label, recalled=True, serum_lots=("PTT6-A0519", "PTT6-B0620"))
    stock = SIZES[size]
    item = layout_label(label, stock)
    assert item.code_x_mm >= stock.margin_x_mm
    assert item.code_y_mm >= stock.margin_y_mm - 1e-9
    assert item.code_y_mm + item.code_mm <= stock.height_mm - stock.margin_y_mm + 1e-9
    assert item.text_x_mm + item.text_width_mm <= stock.width_mm - stock.margin_x_mm + 1e-9
    text = " ".join(line.text for line in item.lines)
    assert text.startswith("CONTAINS A RECALLED LOT KIT-HOME-6W")
    assert "Serial K0000001 Use by " in text
    assert "Serum lots PTT6-A0519, PTT6-B0620 Course 1, kit 1 Patient P-LON-0001" in text
    assert min(line.size_pt for line in item.lines) >= 8 * 0.75 * 0.75 - 1e-9  # kept legible
    for line in item.lines:
        assert stock.margin_y_mm < line.baseline_mm <= stock.height_mm - stock.margin_y_mm
        assert helvetica_width(line.text, line.size_pt, line.bold) <= item.text_width_mm + 1e-9
    # the ZPL draws the same layout: each line's ^FO at the text box's left edge, in order
    commands = zpl_commands(render_zpl([item], 300))
    text_origins = [c for c in commands if c.startswith(b"^FO")][1:]
    assert len(text_origins) == len(item.lines)
    assert {c.split(b",")[0] for c in text_origins} == {f"^FO{dots(item.text_x_mm, 300)}".encode()}
