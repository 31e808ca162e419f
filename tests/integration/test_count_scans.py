"""What a label scanned on a count adds to the sheet (``previews.counted_item``): a
vial's or box's GS1 label counts its lot by one or by its count (30); a kit's label counts
the kit (its serial is its lot); anything else is bad input naming the scan."""

from __future__ import annotations

import pytest

from kitops.errors import InvalidInput
from kitops.services import kits
from kitops.views.previews import counted_item

SERUM = "05060999900014"
GS = "\x1d"
KIT_GTINS = {"KIT-HOME-6W": "05060999900083", "KIT-HOME-PTT6": "05060999900090"}


def test_a_vial_label_counts_one_and_a_box_label_its_count(loaded, uow):
    vial = counted_item(uow(readonly=True), f"]d201{SERUM}10LOT-A")
    assert (vial.sku, vial.lot, vial.quantity) == ("SERUM-5ML", "LOT-A", 1)
    box = counted_item(uow(readonly=True), f"]d201{SERUM}10LOT-A{GS}3012")
    assert (box.sku, box.lot, box.quantity, box.what) == ("SERUM-5ML", "LOT-A", 12, "box of 12")


def test_a_kit_label_counts_that_kit(loaded, uow):
    kit = kits.list_kits(uow(readonly=True))[0]
    item = counted_item(uow(readonly=True), f"]d201{KIT_GTINS[kit.sku]}21{kit.serial}")
    assert (item.sku, item.lot, item.quantity, item.what) == (kit.sku, kit.serial, 1, "kit")


@pytest.mark.parametrize(
    ("scan", "words"),
    [
        (f"]d201{SERUM}3012", "SERUM-5ML is lot-tracked; the label has no lot (10)"),
        (f"]d201{KIT_GTINS['KIT-HOME-6W']}", "a kit's label needs its serial (21)"),
        (f"]d201{KIT_GTINS['KIT-HOME-6W']}21K9999999", "no kit has this serial"),
        ("]d20105060999900991", "no product in the catalogue has this GTIN"),
        ("LON-FRIDGE", "is not the label of a vial, a box or a kit"),
        ("KLOC:LON-FRIDGE", "is not the label of a vial, a box or a kit"),
    ],
)
def test_a_label_of_nothing_counted_here_is_bad_input(loaded, uow, scan, words):
    with pytest.raises(InvalidInput) as refused:
        counted_item(uow(readonly=True), scan)
    assert words in str(refused.value)


def test_a_kit_label_with_another_kit_products_gtin_is_refused(loaded, uow):
    kit = kits.list_kits(uow(readonly=True))[0]
    other = next(gtin for sku, gtin in KIT_GTINS.items() if sku != kit.sku)
    with pytest.raises(InvalidInput, match="kit has this serial"):
        counted_item(uow(readonly=True), f"]d201{other}21{kit.serial}")
