"""``kitops printer`` and ``kitops kit label --printer`` end to end, on the demo data, with a
loopback fake printer."""

from __future__ import annotations

import pytest
from e2e_support import assert_bad_input, assert_refused, json_of
from printer_support import FakePrinter, closed_port, zpl_commands


@pytest.fixture
def fake_printer():
    printer = FakePrinter()
    yield printer
    printer.close()


def test_a_printer_is_added_listed_printed_to_tested_and_removed(demo, fake_printer):
    added = demo("printer", "add", "zebra1", "--format", "zpl", "--tcp", fake_printer.address,
                 "--size", "62x29")  # fmt: skip
    assert added.code == 0, added.err
    assert added.out.strip() == (
        f"printer zebra1: zpl on 62x29 labels at 203 dpi, tcp {fake_printer.address}"
    )
    listed = json_of(demo, "printer", "list", "--json")
    assert listed == [{"name": "zebra1", "format": "zpl", "size": "62x29", "dpi": 203,
                       "via": "tcp", "target": fake_printer.address, "model": None}]  # fmt: skip
    assert "zebra1" in demo("printer", "list").out
    printed = demo("kit", "label", "K0000001", "K0000002", "--printer", "zebra1")
    assert printed.code == 0, printed.err
    assert printed.out.strip() == "2 label(s) sent to printer zebra1 in one job"
    (job,) = fake_printer.wait_for_jobs(1)
    assert zpl_commands(job).count(b"^XA") == 2
    tested = demo("printer", "test", "zebra1")
    assert tested.code == 0, tested.err
    assert b"^FDKITOPS TEST LABEL" in fake_printer.wait_for_jobs(2)[1]
    assert demo("printer", "remove", "zebra1").out.strip() == "printer zebra1 removed"
    assert json_of(demo, "printer", "list", "--json") == []


def test_an_unreachable_printer_is_one_line_exit_1_and_nothing_is_recorded(demo, snapshot):
    port = closed_port()
    assert demo("printer", "add", "zebra1", "--format", "zpl", "--tcp", f"127.0.0.1:{port}",
                "--size", "62").code == 0  # fmt: skip
    before = snapshot()
    assert_refused(demo("kit", "label", "K0000001", "--printer", "zebra1", "--reprint"),
                   f"printer zebra1 at 127.0.0.1:{port} refused the connection")  # fmt: skip
    assert_refused(demo("printer", "test", "zebra1"), f"printer zebra1 at 127.0.0.1:{port}")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("arguments", "needles"),
    [
        (["--format", "epl", "--tcp", "h", "--size", "62"], ("format", "'epl'")),
        (["--format", "zpl", "--tcp", "h", "--size", "10x10"], ("size", "'10x10'")),
        (["--format", "zpl", "--tcp", "h:0", "--size", "62"], ("tcp", "'h:0'")),
        (["--format", "zpl", "--size", "62"], ("connection", "--tcp")),
        (["--format", "zpl", "--tcp", "h", "--device", "/dev/usb/lp0", "--size", "62"],
         ("connection", "tcp, device")),
        (["--format", "ql", "--cups", "QL", "--size", "62", "--dpi", "203"], ("dpi", "203")),
    ],
)  # fmt: skip
def test_bad_printer_input_is_exit_2_naming_the_field(demo, snapshot, arguments, needles):
    before = snapshot()
    assert_bad_input(demo("printer", "add", "zebra1", *arguments), *needles)
    assert snapshot() == before
    assert json_of(demo, "printer", "list", "--json") == []


def test_kit_label_takes_a_file_or_a_printer(demo, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    assert_bad_input(demo("kit", "label", "K0000001"), "out", "--printer")
    assert_bad_input(demo("kit", "label", "K0000001", "--out", str(tmp_path / "l.pdf"),
                          "--printer", "zebra1"), "out")  # fmt: skip
    assert_bad_input(demo("kit", "label", "K0000001", "--printer", "zebra9"),
                     "printer", "'zebra9'", "no such printer")  # fmt: skip
    assert_bad_input(demo("kit", "label", "K0000001", "--out", str(tmp_path / "l.pdf"),
                          "--copies", "2"), "copies")  # fmt: skip
    assert list(tmp_path.iterdir()) == []
