"""``kitops receive``: typed and scanned receipts, the receiving rules, bad input.

``receive`` judges expiry on the real current date, so every expiry here is computed
from today: far in the future for ordinary stock, in the past or within days for
short-dated stock.
"""

from __future__ import annotations

import calendar
import json
from datetime import date, timedelta

from e2e_support import assert_bad_input, assert_refused, json_of, keys_and_types

RECEIPT_KEYS = {
    "sku": str,
    "lot": str,
    "expiry": (str, type(None)),
    "status": str,
    "new_lot": bool,
    "quantity": int,
    "location": str,
    "on_hand_at_location": int,
    "reference": (str, type(None)),
}

SERUM_GTIN = "05060999900014"
STAMP_04_GTIN = "05060999900021"
CHX_GTIN = "05060999900076"
FAR = date.today() + timedelta(days=1200)  # well beyond any minimum shelf life


def yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def db_is_consistent(cli) -> None:
    report = json_of(cli, "db", "check", "--json")
    assert report["ok"] is True, report
    assert report["problems"] == []


def receipt(cli, *args):
    data = json_of(cli, "receive", *args, "--json")
    keys_and_types(data, RECEIPT_KEYS)
    return data


def test_new_serum_lot_waits_in_quarantine_and_a_new_stamp_lot_is_released(demo):
    serum = receipt(
        demo, "SERUM-5ML", "--lot", "PTT6-E2E01", "--expiry", FAR.isoformat(), "--qty", "12",
        "--location", "LON-FRIDGE", "--po", "PO-4711", "--cost", "35.00", "GBP",
    )  # fmt: skip
    assert serum == {
        "sku": "SERUM-5ML",
        "lot": "PTT6-E2E01",
        "expiry": FAR.isoformat(),
        "status": "quarantine",
        "new_lot": True,
        "quantity": 12,
        "location": "LON-FRIDGE",
        "on_hand_at_location": 12,
        "reference": "PO-4711",
    }

    more = demo(
        "receive", "serum-5ml", "--lot", "PTT6-E2E01", "--expiry", FAR.isoformat(),
        "--qty", "6", "--location", "lon-fridge",
    )  # fmt: skip
    assert more.code == 0, more.err
    assert more.out.startswith("received 6 × SERUM-5ML lot PTT6-E2E01"), more.out
    assert "existing lot, quarantine" in more.out
    assert "now 18 there" in more.out

    stamp = receipt(
        demo, "STAMP-0.4", "--lot", "DS04-E2E01", "--expiry", FAR.isoformat(), "--qty", "10",
        "--location", "lon-shelf",
    )  # fmt: skip
    assert (stamp["status"], stamp["new_lot"], stamp["location"]) == ("released", True, "LON-SHELF")
    assert stamp["reference"] is None

    usable = {line["lot"] for line in json_of(demo, "stock", "--json")}
    assert "DS04-E2E01" in usable
    assert "PTT6-E2E01" not in usable, "a quarantined lot is not available"
    everything = json_of(demo, "stock", "--include-unavailable", "--sku", "SERUM-5ML", "--json")
    [line] = [line for line in everything if line["lot"] == "PTT6-E2E01"]
    assert (line["location"], line["status"], line["quantity"]) == ("LON-FRIDGE", "quarantine", 18)

    lot = json_of(demo, "lot", "show", "PTT6-E2E01", "--json")
    assert (lot["status"], lot["receipt_ref"], lot["total_on_hand"]) == (
        "quarantine",
        "PO-4711",
        18,
    )
    db_is_consistent(demo)


def test_scanned_labels_give_product_lot_expiry_and_count(demo):
    # A DataMatrix read by a scanner: symbology prefix, FNC1 sent as the GS character.
    scan = f"]d201{SERUM_GTIN}17{yymmdd(FAR)}10PTT6-SCAN1\x1d21SER0001\x1d3024"
    serum = receipt(demo, "--scan", scan, "--location", "LON-FRIDGE", "--po", "DN-88")
    assert (serum["sku"], serum["lot"], serum["expiry"]) == ("SERUM-5ML", "PTT6-SCAN1", str(FAR))
    assert (serum["quantity"], serum["status"], serum["new_lot"]) == (24, "quarantine", True)
    assert serum["reference"] == "DN-88"

    bracket = f"(01){STAMP_04_GTIN}(17){yymmdd(FAR)}(10)DS04-SCAN1(30)15"
    stamp = receipt(demo, "--scan", bracket, "--location", "LON-SHELF")
    assert (stamp["sku"], stamp["lot"], stamp["expiry"]) == ("STAMP-0.4", "DS04-SCAN1", str(FAR))
    assert (stamp["quantity"], stamp["status"]) == (15, "released")

    # --qty wins over the label's count; a typed SKU and lot that agree are fine.
    again = receipt(
        demo, "STAMP-0.4", "--scan", bracket, "--lot", "DS04-SCAN1", "--qty", "3",
        "--location", "LON-SHELF",
    )  # fmt: skip
    assert (again["quantity"], again["new_lot"], again["on_hand_at_location"]) == (3, False, 18)

    # Expiry day 00 is the last day of the month (GS1 rule).
    month_end = FAR.replace(day=calendar.monthrange(FAR.year, FAR.month)[1])
    day_00 = f"(01){STAMP_04_GTIN}(17){FAR.strftime('%y%m')}00(10)DS04-SCAN2"
    end = receipt(demo, "--scan", day_00, "--qty", "2", "--location", "LON-SHELF")
    assert end["expiry"] == month_end.isoformat()

    # A product that is not lot-tracked: GTIN and count only.
    chx = receipt(demo, "--scan", f"]C101{CHX_GTIN}3012", "--location", "VIE-SHELF")
    assert (chx["sku"], chx["lot"], chx["expiry"], chx["quantity"]) == ("CHX-0.5", "-", None, 12)
    db_is_consistent(demo)


def test_bad_scans_and_bad_options_are_bad_input_and_write_nothing(demo, snapshot):
    expiry = yymmdd(FAR)
    before = snapshot()
    cases = [
        # a wrong check digit (…014 is right)
        (["--scan", f"(01)05060999900015(17){expiry}(10)L1(30)5"], "scan", "05060999900015"),
        # a well-formed GTIN that no product has
        (["--scan", f"]d20105060999900090(17){expiry}10L1\x1d305"], "scan", "05060999900090"),
        (["--scan", "not a label"], "scan", "not a label"),
        # what is wrong with a scan, in words (never the parser's pattern)
        (["--scan", f"(01){SERUM_GTIN}(17)271399(10)L1(30)5"], "scan", "(10)L1(30)5",
         "the expiry 271399 is not a date"),
        (["--scan", f"(01){SERUM_GTIN}(10)L1(30)5"], "expiry", "the scan has no expiry (17)"),
        # a lone symbology marker: the barcode library stumbles on it (it was exit 70)
        (["--scan", "]"], "scan", "]"),
        (["--scan", f"(01){SERUM_GTIN}(17){expiry}(30)5"], "lot", "missing"),
        (["--scan", f"(01){SERUM_GTIN}(17){expiry}(10)L1"], "qty", "missing"),
        (["--scan", f"(01){SERUM_GTIN}(17){expiry}(10)L1(30)0"], "scan", "count"),
        # a label's count beyond the cap --qty has: the same cap, the same error
        (["--scan", f"(01){SERUM_GTIN}(17){expiry}(10)L1(30)99999999"], "qty", "99999999"),
        (["STAMP-0.4", "--scan", f"(01){SERUM_GTIN}(17){expiry}(10)L1(30)5"], "sku", "STAMP-0.4"),
        (["SERUM-5ML", "--lot", "L1", "--expiry", FAR.isoformat()], "qty", "missing"),
        (["SERUM-5ML", "--lot", "L1", "--expiry", FAR.isoformat(), "--qty", "0"], "qty", "'0'"),
        (["SERUM-5ML", "--lot", "L1", "--qty", "5"], "expiry", "missing"),
        (["SERUM-5ML", "--expiry", FAR.isoformat(), "--qty", "5"], "lot", "missing"),
        (["SERUM-5ML", "--lot", "L1", "--expiry", "2030-02-30", "--qty", "5"], "expiry",
         "2030-02-30"),
        (["CHX-0.5", "--lot", "L1", "--qty", "5"], "lot", "L1"),
        (["SERUM-6ML", "--lot", "L1", "--expiry", FAR.isoformat(), "--qty", "5"], "sku",
         "SERUM-6ML"),
        (["--lot", "L1", "--qty", "5"], "sku", "missing"),
        (["SERUM-5ML", "--lot", "L1", "--expiry", FAR.isoformat(), "--qty", "5",
          "--cost", "abc", "GBP"], "cost", "abc"),
        (["SERUM-5ML", "--lot", "L1", "--expiry", FAR.isoformat(), "--qty", "5",
          "--cost", "35.00", "POUNDS"], "currency", "POUNDS"),
        (["SERUM-5ML", "--lot", "L1", "--expiry", FAR.isoformat(), "--qty", "5",
          "--cost", "35.00"], "--cost"),
    ]  # fmt: skip
    for args, *needles in cases:
        result = demo("receive", "--location", "LON-FRIDGE", *args)
        assert_bad_input(result, *needles)
        assert result.out == "", (args, result.out)

    good = ["SERUM-5ML", "--lot", "L1", "--expiry", FAR.isoformat(), "--qty", "5"]
    assert_bad_input(demo("receive", *good, "--location", "LON-FRIGDE"), "location", "LON-FRIGDE")
    assert_bad_input(demo("receive", *good, "--location", "SCRAP"), "location", "SCRAP")
    assert_bad_input(demo("receive", *good, "--location", "SUPPLIER"), "location", "SUPPLIER")
    assert_bad_input(demo("receive", *good), "--location")
    assert snapshot() == before


def test_short_dated_stock_is_refused_unless_accepted(demo, snapshot, today):
    soon = today + timedelta(days=10)  # inside the 30-day minimum shelf life on receipt
    before = snapshot()
    expired = demo(
        "receive", "SERUM-5ML", "--lot", "PTT6-OLD", "--expiry", "2020-01-01", "--qty", "4",
        "--location", "LON-FRIDGE",
    )  # fmt: skip
    assert_refused(expired, "expired on 2020-01-01", "--accept-short-dated")
    short = demo(
        "receive", "STAMP-0.5", "--lot", "DS05-SHORT", "--expiry", soon.isoformat(), "--qty", "4",
        "--location", "LON-SHELF", "--json",
    )  # fmt: skip
    assert_refused(short, soon.isoformat(), "minimum shelf life", "--accept-short-dated")
    assert short.out == ""
    assert snapshot() == before

    accepted = receipt(
        demo, "SERUM-5ML", "--lot", "PTT6-OLD", "--expiry", "2020-01-01", "--qty", "4",
        "--location", "LON-FRIDGE", "--accept-short-dated",
    )  # fmt: skip
    assert (accepted["expiry"], accepted["quantity"], accepted["new_lot"]) == (
        "2020-01-01", 4, True,
    )  # fmt: skip
    assert accepted["status"] == "quarantine"
    short_ok = receipt(
        demo, "STAMP-0.5", "--lot", "DS05-SHORT", "--expiry", soon.isoformat(), "--qty", "4",
        "--location", "LON-SHELF", "--accept-short-dated",
    )  # fmt: skip
    assert (short_ok["status"], short_ok["expiry"]) == ("released", soon.isoformat())
    db_is_consistent(demo)


def test_known_lot_with_another_expiry_or_recalled_is_refused(demo, snapshot):
    recorded = json_of(demo, "lot", "show", "PTT6-B0902", "--json")["expiry"]
    before = snapshot()
    conflict = demo(
        "receive", "SERUM-5ML", "--lot", "PTT6-B0902", "--expiry", FAR.isoformat(),
        "--qty", "6", "--location", "LON-FRIDGE",
    )  # fmt: skip
    assert_refused(conflict, "PTT6-B0902", recorded, FAR.isoformat(), "conflict")
    assert snapshot() == before

    # The recorded expiry is accepted and adds to the existing lot.
    same = receipt(
        demo, "SERUM-5ML", "--lot", "PTT6-B0902", "--expiry", recorded, "--qty", "6",
        "--location", "LON-FRIDGE", "--po", "PO-REORDER",
    )  # fmt: skip
    assert (same["new_lot"], same["status"], same["reference"]) == (False, "released", "PO-REORDER")

    stamp_expiry = json_of(demo, "lot", "show", "DS12-2311", "--json")["expiry"]
    recall = demo("lot", "recall", "DS12-2311", "--reason", "supplier notice 2026/17")
    assert recall.code == 0, recall.err
    before = snapshot()
    recalled = demo(
        "receive", "STAMP-1.2", "--lot", "DS12-2311", "--expiry", stamp_expiry, "--qty", "5",
        "--location", "LON-SHELF", "--accept-short-dated",
    )  # fmt: skip
    assert_refused(recalled, "DS12-2311", "recalled")
    scanned = demo(
        "receive", "--scan", f"(01)05060999900052(17){stamp_expiry[2:].replace('-', '')}"
        "(10)DS12-2311(30)5", "--location", "LON-SHELF",
    )  # fmt: skip
    assert_refused(scanned, "DS12-2311", "recalled")
    assert snapshot() == before
    db_is_consistent(demo)


# --- bugs found while writing these tests --------------------------------------------


def test_expiry_on_a_product_without_lots_names_the_expiry_field(demo, snapshot):
    before = snapshot()
    result = demo(
        "receive", "CHX-0.5", "--expiry", FAR.isoformat(), "--qty", "5", "--location", "LON-SHELF"
    )
    assert snapshot() == before
    assert_bad_input(result, FAR.isoformat())
    assert result.err.startswith("kitops: expiry "), result.err


def test_typed_expiry_that_disagrees_with_the_label_is_shown_as_typed(demo, snapshot):
    typed = FAR - timedelta(days=1)
    before = snapshot()
    result = demo(
        "receive", "--scan", f"(01){SERUM_GTIN}(17){yymmdd(FAR)}(10)L1(30)5",
        "--expiry", typed.isoformat(), "--location", "LON-FRIDGE",
    )  # fmt: skip
    assert snapshot() == before
    assert result.code == 2, result.err
    assert "datetime" not in result.err
    assert_bad_input(result, "expiry", f"'{typed.isoformat()}'", FAR.isoformat())


def test_blank_purchase_order_is_no_reference(demo):
    data = json.loads(
        demo(
            "receive", "STAMP-0.6", "--lot", "DS06-BLANKPO", "--expiry", FAR.isoformat(),
            "--qty", "3", "--location", "LON-SHELF", "--po", "   ", "--json",
        ).out
    )  # fmt: skip
    assert data["reference"] is None
    flows = json_of(demo, "trace", "DS06-BLANKPO", "--json")["flows"]
    assert flows[0]["references"] == []


def test_a_cost_in_a_currency_that_is_no_iso_4217_currency_is_bad_input(demo, snapshot):
    before = snapshot()
    good = ["SERUM-5ML", "--lot", "FX-E2E", "--expiry", FAR.isoformat(), "--qty", "5",
            "--location", "LON-FRIDGE"]  # fmt: skip
    for code in ("GPB", "XXX", "XTS", "gpb"):
        result = demo("receive", *good, "--cost", "35", code)
        assert_bad_input(result, "cost", repr(code.upper()), "ISO 4217")
        assert result.out == ""
    assert snapshot() == before


def test_a_cost_in_another_currency_than_the_clinics_needs_foreign_currency(demo, snapshot):
    before = snapshot()
    args = ["SERUM-5ML", "--lot", "FX-E2E", "--expiry", FAR.isoformat(), "--qty", "5",
            "--location", "LON-FRIDGE", "--cost", "41.00", "EUR"]  # fmt: skip
    result = demo("receive", *args)
    assert_refused(result, "EUR", "LON", "GBP", "--foreign-currency")
    assert result.out == ""
    assert snapshot() == before
    done = demo("receive", *args, "--foreign-currency")
    assert done.code == 0, done.err
    assert "received 5 × SERUM-5ML lot FX-E2E" in done.out
    # the same lot again at a pound price: a lot is costed in one currency
    again = demo("receive", *args[:-2], "35.00", "GBP")
    assert_refused(again, "FX-E2E", "EUR")
