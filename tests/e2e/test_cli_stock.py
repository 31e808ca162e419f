"""``kitops stock``: what is on the shelves, filtered by place, product and status."""

from __future__ import annotations

from datetime import date

from e2e_support import json_of, keys_and_types

STOCK_KEYS = {
    "clinic": (str, type(None)),
    "location": str,
    "sku": str,
    "product": str,
    "lot": str,
    "expiry": (str, type(None)),
    "days_to_expiry": (int, type(None)),
    "status": str,
    "available": bool,
    "quantity": int,
}

EXPIRED_LOT = "PTT6-A0412"
QUARANTINED_LOT = "PTT6-C0115"


def test_stock_json_has_stable_keys_and_types_and_text_has_a_total(demo):
    lines = json_of(demo, "stock", "--include-unavailable", "--json")
    assert len(lines) == 34  # lots per place, kits included
    for line in lines:
        keys_and_types(line, STOCK_KEYS)
        assert line["quantity"] > 0
        if line["expiry"] is not None:
            date.fromisoformat(line["expiry"])
    chx = [line for line in lines if line["sku"] == "CHX-0.5"]
    assert {line["clinic"] for line in chx} == {"LON", "ESX", "VIE"}
    assert all(line["expiry"] is None and line["days_to_expiry"] is None for line in chx)
    keys = [(line["clinic"], line["sku"], line["expiry"] or "9999") for line in lines]
    assert keys == sorted(keys), "clinic by clinic, product by product, earliest expiry first"

    text = demo("stock", "--location", "VIE")
    assert text.code == 0, text.err
    vienna = json_of(demo, "stock", "--location", "VIE", "--json")
    total = sum(line["quantity"] for line in vienna)
    assert f"{len(vienna)} lines, {total} units" in text.out
    assert "PTT6-A0711" in text.out
    assert "LON" not in text.out


def test_location_filter_takes_the_subtree_and_sku_filter_one_product(demo):
    everything = json_of(demo, "stock", "--include-unavailable", "--json")
    london = json_of(demo, "stock", "--location", "LON", "--include-unavailable", "--json")
    assert london == [line for line in everything if line["clinic"] == "LON"]
    places = {line["location"] for line in london}
    assert {"LON-FRIDGE", "LON-SHELF", "LON-QUAR"} <= places
    assert not any(line["location"].startswith("ESX") for line in london)
    assert json_of(demo, "stock", "--location", "lon-store", "--include-unavailable", "--json") == (
        london
    )
    fridge = json_of(demo, "stock", "--location", "LON-FRIDGE", "--json")
    assert fridge
    assert {line["location"] for line in fridge} == {"LON-FRIDGE"}
    assert json_of(demo, "stock", "--location", "SCRAP", "--json") == []

    serum = json_of(demo, "stock", "--sku", "serum-5ml", "--json")
    assert serum
    assert {line["sku"] for line in serum} == {"SERUM-5ML"}
    both = json_of(demo, "stock", "--sku", "STAMP-1.2", "--location", "ESX", "--json")
    assert [(line["location"], line["lot"]) for line in both] == [("ESX-SHELF", "DS12-2311")]


def test_expired_and_quarantined_lots_appear_only_with_include_unavailable(demo):
    usable = json_of(demo, "stock", "--json")
    assert all(line["available"] and line["status"] == "released" for line in usable)
    assert not {EXPIRED_LOT, QUARANTINED_LOT} & {line["lot"] for line in usable}

    everything = json_of(demo, "stock", "--include-unavailable", "--json")
    by_lot = {line["lot"]: line for line in everything}
    expired = by_lot[EXPIRED_LOT]
    assert (expired["status"], expired["available"]) == ("expired", False)
    assert expired["location"] == "LON-FRIDGE"
    assert expired["days_to_expiry"] < 0
    quarantined = by_lot[QUARANTINED_LOT]
    assert (quarantined["status"], quarantined["available"]) == ("quarantine", False)
    assert quarantined["location"] == "LON-QUAR"
    assert [line for line in everything if line["available"]] == usable


def test_stock_text_is_its_json_laid_out_cell_by_cell(demo, monkeypatch):
    """The table prints exactly what writing each line's cells one by one and laying them
    out with ``text_table.render`` prints (the layout every table of the command line
    shares), with the total under it: for every clinic, and at a width its text columns
    must give way to."""
    from kitops.cli.output import cell_text, quantity_text, status_label
    from kitops.domain import text_table

    headings = ["clinic", "location", "SKU", "lot", "expiry", "days", "status", "qty"]
    for width, args in ((100, ()), (100, ("--location", "LON")), (50, ())):
        monkeypatch.setenv("COLUMNS", str(width))
        lines = json_of(demo, "stock", "--include-unavailable", *args, "--json")
        cells = [
            [
                cell_text(line["clinic"]),
                cell_text(line["location"]),
                cell_text(line["sku"]),
                cell_text(line["lot"]),
                cell_text(line["expiry"] and date.fromisoformat(line["expiry"])),
                quantity_text(line["days_to_expiry"]),
                status_label(line["status"]),
                quantity_text(line["quantity"]),
            ]
            for line in lines
        ]
        table = text_table.render(
            headings,
            cells,
            right=[heading in ("days", "qty") for heading in headings],
            shrinkable=[heading not in ("expiry", "days", "qty") for heading in headings],
            width=width,
        )
        total = sum(line["quantity"] for line in lines)
        text = demo("stock", "--include-unavailable", *args)
        assert text.code == 0, text.err
        assert text.out == "\n".join([*table, f"{len(lines)} lines, {total} units"]) + "\n"
        assert any("…" in row for row in table) == (width == 50)
