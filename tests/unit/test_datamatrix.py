"""The DataMatrix symbols kitops draws read back, through a real decoder (libdmtx), as
exactly the codes kitops meant, and biip understands the GS1 ones."""

from __future__ import annotations

from datetime import date

import pytest
from biip import parse
from dmtx_support import GS, read, read_plain

from kitops.documents.symbols import Symbol, gs1_datamatrix, text_datamatrix, to_image
from kitops.errors import InvalidInput
from kitops.gs1 import kit_element_string, read_code

GTIN = "05060999900083"
KIT = kit_element_string("K0000001", gtin=GTIN, expiry=date(2027, 5, 31), lot="PTT6-A0519")


def test_a_kit_code_reads_back_exactly_with_its_gs_separator():
    symbol = gs1_datamatrix(KIT)
    # libdmtx reports the leading FNC1 (the GS1 flag, codeword 232) as a GS too
    assert read(to_image(symbol, 4)) == [GS + KIT]
    assert f"01{GTIN}17270531" + "10PTT6-A0519" + GS + "21K0000001" == KIT


def test_biip_parses_the_decoded_kit_code_into_gtin_serial_expiry_and_lot():
    (decoded,) = read(to_image(gs1_datamatrix(KIT), 4))
    message = parse(decoded).gs1_message
    assert message is not None
    values = {e.ai.ai: e.value for e in message.element_strings}
    assert values == {"01": GTIN, "17": "270531", "10": "PTT6-A0519", "21": "K0000001"}
    assert message.element_strings[1].date == date(2027, 5, 31)
    scanned = read_code(decoded).gs1
    assert scanned is not None
    assert (scanned.gtin, scanned.serial, scanned.lot, scanned.expiry) == (
        GTIN, "K0000001", "PTT6-A0519", date(2027, 5, 31),
    )  # fmt: skip


def test_without_the_fnc1_property_libdmtx_drops_the_separators():
    """Why ``dmtx_support.read`` sets it: pylibdmtx's plain decode loses every FNC1, and
    the serial would run into the lot."""
    assert read_plain(to_image(gs1_datamatrix(KIT), 4)) == [KIT.replace(GS, "")]


@pytest.mark.parametrize(
    "code",
    [
        f"01{GTIN}21K1",  # one variable-length element last: no separator at all
        f"01{GTIN}10A1{GS}21K2",
        f"01{GTIN}17270531" + "10" + "X" * 20 + GS + "21" + "S" * 20,  # the longest
    ],
)
def test_every_kit_code_shape_round_trips(code):
    assert read(to_image(gs1_datamatrix(code), 4)) == [GS + code]


@pytest.mark.parametrize("text", ["KLOC:LON-FRIDGE", "KCRS:12", "KKIT:K0000001"])
def test_kitops_own_codes_are_plain_datamatrix_without_fnc1(text):
    (decoded,) = read(to_image(text_datamatrix(text), 4))
    assert decoded == text  # no leading GS: not GS1
    assert read_code(decoded).value == text.split(":", 1)[1]


def test_a_symbol_is_rows_of_modules_with_its_finder_pattern_and_no_quiet_zone():
    symbol = gs1_datamatrix(KIT)
    assert isinstance(symbol, Symbol)
    assert symbol.rows == symbol.columns == len(symbol.modules[0])
    assert all(symbol.modules[-1])  # the solid bottom edge of the L-shaped finder
    assert all(row[0] for row in symbol.modules)  # and its left edge
    assert [cell for cell in symbol.modules[0]][::2] == [True] * ((symbol.columns + 1) // 2)
    image = to_image(symbol, 3, quiet_zone=2)
    assert image.size == ((symbol.columns + 4) * 3, (symbol.rows + 4) * 3)
    assert image.getpixel((0, 0)) == 255
    assert image.getpixel((6, 6)) == 0


@pytest.mark.parametrize("bad", ["", GS + "0101", "0101" + GS, "01" + GS + GS + "21", "01é"])
def test_an_element_string_with_a_stray_gs_or_a_foreign_character_is_bad_input(bad):
    with pytest.raises(InvalidInput):
        gs1_datamatrix(bad)
