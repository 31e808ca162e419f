"""The papers people act on: a purchase order's VAT and pages, a kit label's content and
its reprint, on both backends (demo data as of a fixed day)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kitops.data.schema import (
    AuditRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    VatRateRow,
)
from kitops.documents.labels import label_element_string, label_lines, use_by, write_labels
from kitops.documents.purchase_orders import COLUMNS, export_order, order_pdf
from kitops.domain.money import Money
from kitops.domain.purchasing import po_number
from kitops.errors import InvalidInput, Refused
from kitops.gs1 import human_readable
from kitops.services import catalog, kits, locations, purchasing, vat
from kitops.services.dto.purchasing import OrderPaper, PaperLine
from kitops.services.labels import read_labels

DAY = date(2026, 11, 22)
pytestmark = pytest.mark.demo_data(DAY)


def _order(uow, supplier: str, clinic: str, lines: list[tuple[str, int, int]]) -> str:
    """A sent purchase order written straight into the database: (SKU, quantity, unit
    cost in minor units) per line."""
    with uow as u:
        supplier_row = u.suppliers.get(supplier)
        order = PurchaseOrderRow(
            supplier_id=supplier_row.id, clinic_id=u.locations.clinic(clinic).id,
            status="sent", origin="manual", currency=supplier_row.currency, as_of=DAY,
            expected_on=date(2026, 11, 27), created_by="tester",
        )  # fmt: skip
        u.session.add(order)
        u.session.flush()
        for position, (sku, quantity, cost) in enumerate(lines):
            u.session.add(
                PurchaseOrderLineRow(order_id=order.id, product_id=u.products.get(sku).id,
                                     position=position, quantity=quantity, unit_cost_minor=cost)
            )  # fmt: skip
        u.commit()
        return po_number(order.id)


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


# --- purchase orders ------------------------------------------------------------------------


def test_vat_per_line_rounded_half_up_and_the_totals_add_up(uow):
    vat.set_rate(uow(), "GB", "consumable", "5.5")
    number = _order(uow(), "DERMASUPPLY", "ESX", [("STAMP-0.5", 10, 450), ("CHX-0.5", 12, 320)])
    paper = purchasing.order_paper(uow(readonly=True), number)
    stamp, chx = paper.lines
    assert (stamp.supplier_sku, stamp.description, stamp.vat_rate_bp) == (
        "DS-ST050", "Derma stamp 0.5 mm", 2000)  # fmt: skip
    assert (stamp.net, stamp.vat) == (Money(4500, "GBP"), Money(900, "GBP"))
    assert (chx.vat_rate_bp, chx.net, chx.vat) == (550, Money(3840, "GBP"), Money(211, "GBP"))
    assert (paper.net, paper.vat, paper.gross) == (
        Money(8340, "GBP"), Money(1111, "GBP"), Money(9451, "GBP"))  # fmt: skip
    assert paper.vat_missing == 0
    assert paper.delivery_address == "4 Duke Street, Chelmsford CM1 1HL, United Kingdom"
    assert (paper.supplier_address, paper.payment_terms) == (
        "3 Riverside Park, Leeds LS11 5DG, United Kingdom", "14 days net")  # fmt: skip


def test_a_kind_without_a_rate_says_vat_not_set_and_stays_out_of_the_totals(uow, tmp_path):
    with uow() as u:  # Austria: no rate for serum vials
        u.session.delete(u.session.get_one(VatRateRow, ("AT", "serum_vial")))
        u.commit()
    number = _order(uow(), "CALECIM-EU", "VIE", [("SERUM-5ML", 12, 4100)])
    paper = purchasing.order_paper(uow(readonly=True), number)
    assert (paper.lines[0].vat_rate_bp, paper.lines[0].vat) == (None, None)
    assert (paper.net, paper.vat, paper.gross, paper.vat_missing) == (
        Money(49200, "EUR"), Money(0, "EUR"), Money(49200, "EUR"), 1)  # fmt: skip
    out = tmp_path / "po.pdf"
    export_order(uow(readonly=True), number, "pdf", str(out))
    (text,) = _pages(out.read_bytes())
    assert "VAT not set" in text
    assert "VAT not set for 1 line: no VAT rate is recorded" in " ".join(text.split())
    assert "Kärntner Ring 5" in text  # the delivery address, one line per comma
    assert "30 Tage netto" in text


def test_a_clinic_without_a_country_has_no_vat_and_says_so(uow):
    locations.set_address(uow(), "ESX", country="")
    number = _order(uow(), "DERMASUPPLY", "ESX", [("STAMP-0.5", 10, 450)])
    paper = purchasing.order_paper(uow(readonly=True), number)
    assert (paper.country, paper.vat_missing, paper.vat.amount_minor) == (None, 1, 0)


def test_a_cancelled_order_has_nothing_to_send(uow):
    number = _order(uow(), "DERMASUPPLY", "ESX", [("STAMP-0.5", 10, 450)])
    purchasing.change_status(uow(), number, "cancel", reason="not needed")
    with pytest.raises(Refused, match="is cancelled"):
        purchasing.order_paper(uow(readonly=True), number)


def _paper(lines: int) -> OrderPaper:
    """An order of ``lines`` lines (line i: i units at 1.99 GBP, 20 % VAT); VAT worked out
    here with Decimal's ROUND_HALF_UP, independently of the code under test."""
    rows = []
    for i in range(1, lines + 1):
        net = Decimal("1.99") * i
        tax = (net * Decimal("0.20")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        rows.append(
            PaperLine(position=i, sku=f"ITEM-{i:03d}", supplier_sku=f"S-{i:03d}",
                      description=f"Consumable number {i}", kind="consumable", quantity=i,
                      unit_price=Money(199, "GBP"), net=Money(int(net * 100), "GBP"),
                      vat_rate_bp=2000, vat=Money(int(tax * 100), "GBP"))
        )  # fmt: skip
    net = sum(r.net.amount_minor for r in rows)
    tax = sum(r.vat.amount_minor for r in rows if r.vat)
    return OrderPaper(
        number="PO-000042", status="approved", as_of=DAY, expected_on=None, currency="GBP",
        clinic="LON", clinic_name="London", delivery_address="1 Road, London, UK",
        delivery_contact="020 7946 0000", country="GB", supplier="ACME", supplier_name="Acme",
        supplier_address="2 Street, Leeds", supplier_contact=None, payment_terms="30 days net",
        note=None, lines=tuple(rows), net=Money(net, "GBP"), vat=Money(tax, "GBP"),
        gross=Money(net + tax, "GBP"), vat_missing=0,
    )  # fmt: skip


def test_a_long_order_repeats_the_table_header_on_every_page():
    paper = _paper(70)
    pages = _pages(order_pdf(paper))
    assert len(pages) >= 2
    heading = " ".join(COLUMNS)
    for number, text in enumerate(pages, start=1):
        assert heading in text, (number, text[:300])
        assert f"page {number} of {len(pages)}" in text
    everything = "\n".join(pages)
    # every line printed once, none lost or doubled at a page break
    assert [everything.count(f"S-{i:03d} ") for i in range(1, 71)] == [1] * 70
    # 1.99 x (1 + ... + 70) = 4945.15 net; VAT per line at 20 %, half up: 989.03
    assert (paper.net, paper.vat) == (Money(494_515, "GBP"), Money(98_903, "GBP"))
    assert "Net total 4945.15 GBP" in pages[-1]
    assert "VAT total 989.03 GBP" in pages[-1]
    assert "Total to pay 5934.18 GBP" in pages[-1]
    assert "Payment terms: 30 days net" in pages[0]


# --- kit labels -----------------------------------------------------------------------------


def test_label_code_holds_gtin_expiry_lot_and_serial_in_gs1_order(uow):
    from biip.gs1_messages import GS1Message

    (label,) = read_labels(uow(readonly=True), ["K0000002"])
    assert label.gtin == "05060999900083"
    assert len(label.serum_lots) == 1
    message = GS1Message.parse_hri(human_readable(label_element_string(label)))
    assert [(e.ai.ai, e.value) for e in message.element_strings] == [
        ("01", "05060999900083"), ("17", f"{label.expiry:%y%m%d}"),
        ("10", label.serum_lots[0]), ("21", "K0000002"),
    ]  # fmt: skip
    two_lots = replace(label, serum_lots=("A1", "B2"))
    assert label_element_string(two_lots) == f"010506099990008317{label.expiry:%y%m%d}21K0000002"
    assert (
        label_element_string(replace(label, gtin=None)) == "KKIT:K0000002"
    )  # no GS1 without a GTIN


def test_label_says_use_by_in_words_and_the_products_storage_and_usage(uow):
    (label,) = read_labels(uow(readonly=True), ["K0000002"])
    texts = [line.text for line in label_lines(label)]
    assert use_by(date(2027, 3, 14)) == "Use by 14 March 2027"
    assert use_by(label.expiry) in texts
    assert f"Serum lot {label.serum_lots[0]}" in texts
    assert "Keep in the fridge at 2-8 °C." in texts
    assert (
        "Half a vial per application, 3-4 days apart; no hair wash for 24-48 hours after." in texts
    )
    catalog.set_label_text(uow(), "KIT-HOME-6W", storage="", usage="")
    (bare,) = read_labels(uow(readonly=True), ["K0000002"])
    assert (bare.storage, bare.usage) == (None, None)
    assert len(label_lines(bare)) == len(texts) - 2


def test_label_text_is_one_short_line_each(uow):
    with pytest.raises(InvalidInput) as raised:
        catalog.set_label_text(uow(), "KIT-HOME-6W", usage="x" * 121)
    assert raised.value.field == "usage"
    with pytest.raises(InvalidInput) as raised:
        catalog.set_label_text(uow(), "KIT-HOME-6W", storage="cold\nplease")
    assert raised.value.field == "storage"


def _audit(uow, action: str) -> list[tuple[str, str]]:
    with uow(readonly=True) as u:
        return [(r.entity_key, r.actor) for r in u.session.scalars(
            select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id))]  # fmt: skip


def test_a_kit_with_its_patient_is_labelled_again_only_as_a_reprint(uow, tmp_path):
    kits.dispatch(uow(), "K0000001", handover=True, today=DAY)
    out = tmp_path / "again.pdf"
    with pytest.raises(Refused, match=r"K0000001 is already with the patient \(handed over\); "
                       r"pass --reprint"):  # fmt: skip
        write_labels(uow(readonly=True), ["K0000002", "K0000001"], str(out))
    assert not out.exists()
    assert _audit(uow, "kit.label_reprint") == []
    write_labels(uow(), ["K0000002", "K0000001"], str(out), reprint=True)
    assert len(_pages(out.read_bytes())) == 2
    assert _audit(uow, "kit.label_reprint") == [("K0000001", "tester")]
    # a kit still in stock needs no reprint and leaves no audit row
    write_labels(uow(readonly=True), ["K0000002"], str(tmp_path / "one.png"))
    assert _audit(uow, "kit.label_reprint") == [("K0000001", "tester")]
