"""``location set-address``, ``supplier set-address``, ``vat``, ``catalog set-label-text``,
``po export --format pdf`` and ``kit label --reprint`` end to end, on the demo data."""

from __future__ import annotations

import io
import json

from e2e_support import assert_bad_input, assert_refused, json_of
from pypdf import PdfReader


def _text(path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(
        path.read_bytes())).pages]  # fmt: skip


def test_the_data_papers_print_is_set_from_the_command_line(demo):
    address = "9 Moulsham Street, Chelmsford CM2 0HY"
    clinic = json_of(demo, "location", "set-address", "esx", "--address", address,
                     "--country", "gb", "--json")  # fmt: skip
    assert (clinic["address"], clinic["country"]) == (address, "GB")
    assert clinic["contact"] == "Stockroom +44 1632 960 402, stock.esx@clinic.example"  # kept
    supplier = json_of(demo, "supplier", "set-address", "DERMASUPPLY", "--terms",
                       "60 days end of month", "--json")  # fmt: skip
    assert supplier["payment_terms"] == "60 days end of month"
    assert supplier["address"] == "3 Riverside Park, Leeds LS11 5DG, United Kingdom"
    rate = json_of(demo, "vat", "set", "GB", "consumable", "5.5", "--json")
    assert (rate["country"], rate["kind"], rate["rate_bp"]) == ("GB", "consumable", 550)
    listed = json_of(demo, "vat", "list", "--country", "gb", "--json")
    assert {(r["kind"], r["rate_bp"]) for r in listed} == {
        ("consumable", 550),
        ("derma_stamp", 2000),
        ("kit", 2000),
        ("serum_vial", 2000),
    }
    assert "5.5%" in demo("vat", "list").out
    product = json_of(demo, "catalog", "set-label-text", "SERUM-5ML", "--usage",
                      "For use with a derma stamp only", "--json")  # fmt: skip
    assert (product["storage"], product["usage"]) == (
        "Store at 2-8 °C. Do not freeze.", "For use with a derma stamp only")  # fmt: skip
    audit = json.loads(demo("audit", "--limit", "4", "--json").out)
    assert {row["action"] for row in audit} == {
        "location.address",
        "supplier.address",
        "vat.set",
        "product.label_text",
    }


def test_bad_papers_input_names_the_field_and_writes_nothing(demo, snapshot):
    before = snapshot()
    assert_bad_input(demo("location", "set-address", "LON", "--country", "UK"),
                     "country 'UK'", "GB")  # fmt: skip
    assert_bad_input(demo("location", "set-address", "LON-FRIDGE", "--country", "GB"),
                     "clinic 'LON-FRIDGE'", "not a clinic")  # fmt: skip
    assert_bad_input(demo("location", "set-address", "LON"), "--address")
    assert_bad_input(demo("vat", "set", "GB", "kit", "5.555"), "rate '5.555'", "two decimals")
    assert_bad_input(demo("vat", "set", "GB", "kit", "120"), "rate '120'", "0 to 100")
    assert_bad_input(demo("vat", "set", "XX", "kit", "20"), "country 'XX'")
    assert_bad_input(demo("supplier", "set-address", "NOPE", "--terms", "cash"), "NOPE")
    assert_bad_input(demo("catalog", "set-label-text", "KIT-HOME-6W", "--usage", "x" * 200),
                     "usage", "at most 120")  # fmt: skip
    assert snapshot() == before


def test_po_pdf_carries_what_the_supplier_needs(demo, tmp_path):
    assert demo("reorder", "run").code == 0
    (order,) = json_of(demo, "po", "list", "--json")
    (line,) = order["lines"]
    out = tmp_path / "po.pdf"
    done = demo("po", "export", order["number"], "--format", "pdf", "--out", str(out))
    assert done.code == 0, done.err
    (page,) = _text(out)
    for needed in (
        f"Order reference: {order['number']}", f"Order date: {order['as_of']}",
        f"Expected delivery: {order['expected_on']}", "Derma Supply Ltd",
        "3 Riverside Park Leeds LS11 5DG", "Essex (ESX) 4 Duke Street Chelmsford CM1 1HL",
        "Contact: Stockroom +44 1632 960 402", "Payment terms: 14 days net",
        "DS-ST060", "Derma stamp 0.6 mm", "our SKU STAMP-0.6",
    ):  # fmt: skip
        assert needed in page, (needed, page)
    assert line["sku"] == "STAMP-0.6"
    net = int(line["quantity"]) * 450  # 4.50 GBP a stamp, 20 % VAT
    vat = (net * 2000 * 2 + 10_000) // 20_000
    assert f"{line['quantity']} 4.50 {net / 100:.2f} 20% {vat / 100:.2f}" in page
    assert f"Net total {net / 100:.2f} GBP VAT total {vat / 100:.2f} GBP" in page
    assert f"Total to pay {(net + vat) / 100:.2f} GBP" in page
    assert "DRAFT: not approved yet" in page  # the reorder job's draft says so
    assert demo("po", "approve", order["number"]).code == 0
    assert demo("po", "export", order["number"], "--format", "pdf", "--out", str(out)).code == 0
    assert "DRAFT" not in _text(out)[0]


def test_kit_label_of_a_kit_with_its_patient_needs_reprint(demo, tmp_path):
    assert demo("kit", "handover", "K0000005").code == 0
    out = tmp_path / "label.pdf"
    refused = demo("kit", "label", "K0000005", "--out", str(out))
    assert_refused(refused, "K0000005 is already with the patient (handed over)", "--reprint")
    assert not out.exists()
    done = demo("kit", "label", "K0000005", "--out", str(out), "--reprint")
    assert done.code == 0, done.err
    (page,) = _text(out)
    assert "Serial K0000005" in page
    assert "Use by " in page
    audit = json.loads(demo("audit", "--limit", "1", "--json").out)
    assert (audit[0]["action"], audit[0]["key"]) == ("kit.label_reprint", "K0000005")
