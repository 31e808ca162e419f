"""Receive, move, write off and count: what each operation does to the stock on hand.

Every test loads the demo data as of a fixed day and passes that day to the services,
so the outcome never depends on the real date. Refusals write nothing at all.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from ledger_support import AS_OF, writes
from sqlalchemy import func, select

from kitops.data.schema import AuditRow, LotRow, StockMoveRow
from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput, Refused
from kitops.services import admin, lots, stock
from kitops.services.operations import (
    CountedLine,
    CountRejected,
    ReceiptInput,
    count,
    move,
    read_count_sheet,
    receive,
    write_off,
)

SERUM_GTIN = "05060999900014"


def _rows(db, table) -> int:
    with db.read_sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def _qty(uow, sku, location, lot=None) -> int:
    """On hand of ``sku`` (one lot or all) at exactly ``location``, whatever its status."""
    lines = stock.stock_on_hand(
        uow(readonly=True), sku=sku, location=location, include_unavailable=True, today=AS_OF
    )
    return sum(
        line.quantity
        for line in lines
        if line.location == location and (lot is None or line.lot == lot)
    )


def _lot_row(db, sku, code) -> LotRow:
    with db.read_sessions() as session:
        row = session.scalar(
            select(LotRow).join(LotRow.product).where(LotRow.code == code).filter_by(sku=sku)
        )
        assert row is not None
        session.expunge(row)
        return row


def _expiry(days: int) -> str:
    return (AS_OF + timedelta(days=days)).isoformat()


def _serum(lot, quantity=10, days=200, location="LON-FRIDGE", **options) -> ReceiptInput:
    return ReceiptInput(
        location=location, sku="SERUM-5ML", lot=lot, expiry=_expiry(days), quantity=quantity,
        **options,
    )  # fmt: skip


def _ledger_ok(uow) -> bool:
    return admin.check(uow(readonly=True)).ok


# --- receive -----------------------------------------------------------------------


def test_new_serum_lot_is_received_into_quarantine(loaded, uow):
    receipt = receive(uow(), _serum("NEW-S1", quantity=10), today=AS_OF)

    assert (receipt.new_lot, receipt.status, receipt.quantity) == (True, "quarantine", 10)
    assert receipt.on_hand_at_location == 10
    detail = lots.show(uow(readonly=True), "NEW-S1")
    assert (detail.status, detail.total_on_hand) == (LotStatus.QUARANTINE.value, 10)
    assert [(o.location, o.clinic, o.quantity) for o in detail.on_hand] == [
        ("LON-FRIDGE", "LON", 10)
    ]
    available = stock.stock_on_hand(uow(readonly=True), sku="SERUM-5ML", today=AS_OF)
    assert "NEW-S1" not in {line.lot for line in available}
    assert _ledger_ok(uow)


def test_new_stamp_lot_is_received_released_and_available(loaded, uow):
    receipt = receive(
        uow(),
        ReceiptInput("LON-SHELF", sku="STAMP-0.5", lot="DS05-NEW", expiry=_expiry(700),
                     quantity=20),
        today=AS_OF,
    )  # fmt: skip

    assert (receipt.new_lot, receipt.status) == (True, "released")
    assert lots.show(uow(readonly=True), "DS05-NEW").status == LotStatus.RELEASED.value
    available = stock.stock_on_hand(uow(readonly=True), sku="STAMP-0.5", today=AS_OF)
    assert ("LON-SHELF", "DS05-NEW", 20) in {(s.location, s.lot, s.quantity) for s in available}
    assert _ledger_ok(uow)


def test_receiving_more_of_a_known_lot_adds_to_it(loaded, uow):
    before = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")
    total_before = lots.show(uow(readonly=True), "PTT6-B0902").total_on_hand

    receipt = receive(uow(), _serum("PTT6-B0902", quantity=7, days=190), today=AS_OF)

    assert (receipt.new_lot, receipt.status) == (False, "released")
    assert receipt.on_hand_at_location == before + 7
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == before + 7
    assert lots.show(uow(readonly=True), "PTT6-B0902").total_on_hand == total_before + 7
    assert _ledger_ok(uow)


def test_known_lot_with_another_expiry_is_refused_and_writes_nothing(loaded, uow):
    before = writes(loaded)
    on_hand = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")

    with pytest.raises(Refused, match="expiry"):
        receive(uow(), _serum("PTT6-B0902", quantity=7, days=191), today=AS_OF)

    assert writes(loaded) == before
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == on_hand
    assert lots.show(uow(readonly=True), "PTT6-B0902").expiry == AS_OF + timedelta(days=190)
    assert _ledger_ok(uow)


def test_expired_or_short_dated_stock_is_refused_unless_accepted(loaded, uow):
    before = writes(loaded)
    # expired yesterday, expires today, one day inside the 30-day minimum shelf life
    for days, message in ((-1, "expired"), (0, "minimum"), (29, "minimum")):
        with pytest.raises(Refused, match=message):
            receive(uow(), _serum(f"SHORT{days}", days=days), today=AS_OF)
    assert writes(loaded) == before
    with pytest.raises(InvalidInput):
        lots.show(uow(readonly=True), "SHORT29")

    for days in (-1, 29):
        receipt = receive(
            uow(), _serum(f"SHORT{days}", days=days, accept_short_dated=True), today=AS_OF
        )
        assert receipt.new_lot
        assert receipt.expiry == AS_OF + timedelta(days=days)
        assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", f"SHORT{days}") == 10
    # exactly the minimum shelf life is enough
    receipt = receive(uow(), _serum("EDGE30", days=30), today=AS_OF)
    assert receipt.expiry == AS_OF + timedelta(days=30)
    assert _ledger_ok(uow)


def test_receiving_into_a_recalled_lot_is_refused(loaded, uow):
    lots.change_status(uow(), "PTT6-B0902", LotStatus.RECALLED, reason="supplier recall",
                       today=AS_OF)  # fmt: skip
    before = writes(loaded)
    on_hand = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")

    with pytest.raises(Refused, match="recalled"):
        receive(uow(), _serum("PTT6-B0902", quantity=5, days=190), today=AS_OF)

    assert writes(loaded) == before
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == on_hand
    assert _ledger_ok(uow)


def test_receiving_into_a_virtual_location_is_invalid(loaded, uow):
    before = writes(loaded)
    for place in ("SCRAP", "SUPPLIER", "PATIENT", "ADJUSTMENT"):
        with pytest.raises(InvalidInput) as err:
            receive(uow(), _serum("VIRT-1", location=place), today=AS_OF)
        assert (err.value.field, err.value.value) == ("location", place)
    with pytest.raises(InvalidInput) as err:
        receive(uow(), _serum("VIRT-1", location="NOWHERE"), today=AS_OF)
    assert err.value.field == "location"
    assert writes(loaded) == before


def test_gs1_scan_receives_the_count_lot_and_expiry_on_the_label(loaded, uow):
    scan = "]d2" + "01" + SERUM_GTIN + "17280331" + "10LOTX1" + "\x1d" + "3012"

    receipt = receive(uow(), ReceiptInput("LON-FRIDGE", scan=scan), today=AS_OF)

    assert (receipt.sku, receipt.lot, receipt.expiry) == ("SERUM-5ML", "LOTX1", date(2028, 3, 31))
    assert (receipt.quantity, receipt.status, receipt.new_lot) == (12, "quarantine", True)
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "LOTX1") == 12
    with loaded.read_sessions() as session:
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "stock.receive")).one()
    assert audit.after is not None
    assert audit.after["scan"] is True
    assert _ledger_ok(uow)


def test_bracket_scan_with_day_00_expires_on_the_last_day_of_the_month(loaded, uow):
    scan = f"(01){SERUM_GTIN}(17)280300(10)LOTX2"
    with pytest.raises(InvalidInput) as err:
        receive(uow(), ReceiptInput("LON-FRIDGE", scan=scan), today=AS_OF)
    assert err.value.field == "qty"  # no AI 30 on the label and no quantity given

    receipt = receive(uow(), ReceiptInput("LON-FRIDGE", scan=scan, quantity=6), today=AS_OF)

    assert (receipt.lot, receipt.expiry, receipt.quantity) == ("LOTX2", date(2028, 3, 31), 6)
    assert lots.show(uow(readonly=True), "LOTX2").expiry == date(2028, 3, 31)
    assert _ledger_ok(uow)


def test_scan_of_an_unknown_gtin_or_a_wrong_check_digit_is_invalid(loaded, uow):
    before = writes(loaded)
    for scan in (
        "(01)05012345678900(17)280331(10)L1",  # valid check digit, not in the catalogue
        "(01)05060999900015(17)280331(10)L1",  # SERUM-5ML with the last digit misread
        "]d2010506099990001517280331" + "10L1",
    ):
        with pytest.raises(InvalidInput) as err:
            receive(uow(), ReceiptInput("LON-FRIDGE", scan=scan, quantity=5), today=AS_OF)
        assert err.value.field == "scan", scan
    with pytest.raises(InvalidInput) as err:  # the label is SERUM-5ML, the typed SKU is not
        receive(
            uow(), ReceiptInput("LON-FRIDGE", sku="STAMP-0.5", quantity=5,
                                scan=f"(01){SERUM_GTIN}(17)280331(10)L1"), today=AS_OF,
        )  # fmt: skip
    assert err.value.field == "sku"
    assert writes(loaded) == before


def test_lot_tracked_scan_without_lot_or_expiry_is_invalid(loaded, uow):
    before = writes(loaded)
    for scan, field in (
        (f"(01){SERUM_GTIN}(17)280331", "lot"),
        (f"(01){SERUM_GTIN}(10)LOTX3", "expiry"),
    ):
        with pytest.raises(InvalidInput) as err:
            receive(uow(), ReceiptInput("LON-FRIDGE", scan=scan, quantity=5), today=AS_OF)
        assert err.value.field == field
    assert writes(loaded) == before


def test_typed_quantity_wins_over_the_count_on_the_label(loaded, uow):
    scan = f"(01){SERUM_GTIN}(17)280331(10)LOTX4(30)12"
    receipt = receive(uow(), ReceiptInput("LON-FRIDGE", scan=scan, quantity="5"), today=AS_OF)
    assert receipt.quantity == 5
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "LOTX4") == 5
    assert _ledger_ok(uow)


def test_cost_and_po_of_a_new_lot_are_stored(loaded, uow):
    receive(
        uow(), _serum("COST-1", quantity=12, po=" PO-4711 ", cost="41.50", currency="gbp"),
        today=AS_OF,
    )  # fmt: skip

    row = _lot_row(loaded, "SERUM-5ML", "COST-1")
    assert (row.unit_cost_minor, row.currency, row.receipt_ref) == (4150, "GBP", "PO-4711")
    assert lots.show(uow(readonly=True), "COST-1").receipt_ref == "PO-4711"
    (flow,) = lots.trace(uow(readonly=True), "COST-1").flows
    assert (flow.from_location, flow.to_location, flow.references) == (
        "SUPPLIER", "LON-FRIDGE", ("PO-4711",),
    )  # fmt: skip

    assert _ledger_ok(uow)


def _receipt_costs(db, code) -> list[tuple[int, int | None, str | None]]:
    """(quantity, unit cost, currency) of every receipt of lot ``code``, oldest first."""
    from kitops.data.schema import LotReceiptRow

    with db.read_sessions() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(LotReceiptRow.quantity, LotReceiptRow.unit_cost_minor,
                       LotReceiptRow.currency)
                .join(LotRow, LotRow.id == LotReceiptRow.lot_id)
                .where(LotRow.code == code)
                .order_by(LotReceiptRow.id)
            )
        ]  # fmt: skip


def test_every_receipt_keeps_its_cost_and_the_lot_costs_their_weighted_average(loaded, uow):
    receive(uow(), _serum("COST-1", quantity=12, cost="41.50", currency="GBP"), today=AS_OF)
    # a second delivery of the same lot at another price: it was dropped
    receive(uow(), _serum("COST-1", quantity=6, cost="50.00", currency="GBP"), today=AS_OF)
    receive(uow(), _serum("COST-1", quantity=2), today=AS_OF)  # no cost on the paperwork
    assert _receipt_costs(loaded, "COST-1") == [
        (12, 4150, "GBP"),
        (6, 5000, "GBP"),
        (2, None, None),
    ]
    # (12 x 41.50 + 6 x 50.00) / 18 = 44.333... per unit
    row = _lot_row(loaded, "SERUM-5ML", "COST-1")
    assert (row.unit_cost_minor, row.currency) == (4433, "GBP")

    # a lot received without a cost takes the first one given later
    receive(uow(), _serum("COST-2", quantity=6), today=AS_OF)
    assert _lot_row(loaded, "SERUM-5ML", "COST-2").unit_cost_minor is None
    receive(uow(), _serum("COST-2", quantity=6, cost="38", currency="GBP"), today=AS_OF)
    row = _lot_row(loaded, "SERUM-5ML", "COST-2")
    assert (row.unit_cost_minor, row.currency) == (3800, "GBP")
    assert lots.show(uow(readonly=True), "COST-2").total_on_hand == 12
    assert _ledger_ok(uow)


def test_a_cost_in_another_currency_than_the_clinics_is_refused_unless_meant(loaded, uow):
    before = writes(loaded)
    with pytest.raises(Refused, match=r"EUR is not LON's currency \(GBP\).*foreign"):
        receive(uow(), _serum("FX-1", quantity=5, cost="38", currency="EUR"), today=AS_OF)
    assert writes(loaded) == before
    # said on purpose: the supplier invoiced in euros
    receive(
        uow(), _serum("FX-1", quantity=5, cost="38", currency="EUR", foreign_currency=True),
        today=AS_OF,
    )  # fmt: skip
    assert _receipt_costs(loaded, "FX-1") == [(5, 3800, "EUR")]
    # in the clinic's own currency no flag is needed (VIE is in euros)
    receive(uow(), _serum("FX-2", quantity=5, location="VIE-FRIDGE", cost="38",
                          currency="EUR"), today=AS_OF)  # fmt: skip
    assert _receipt_costs(loaded, "FX-2") == [(5, 3800, "EUR")]


def test_a_lot_costed_in_one_currency_refuses_a_receipt_costed_in_another(loaded, uow):
    receive(uow(), _serum("FX-3", quantity=5, cost="35", currency="GBP"), today=AS_OF)
    before = writes(loaded)
    with pytest.raises(Refused, match=r"lot FX-3 is costed in GBP"):
        receive(uow(), _serum("FX-3", quantity=5, location="VIE-FRIDGE", cost="41",
                              currency="EUR"), today=AS_OF)  # fmt: skip
    assert writes(loaded) == before
    receive(uow(), _serum("FX-3", quantity=5, location="VIE-FRIDGE", cost="36", currency="GBP",
                          foreign_currency=True), today=AS_OF)  # fmt: skip
    assert _lot_row(loaded, "SERUM-5ML", "FX-3").unit_cost_minor == 3550


def test_a_scanned_receipt_checks_its_cost_like_a_typed_one(loaded, uow):
    scan = f"(01){SERUM_GTIN}(17)280331(10)SCANFX(30)12"
    with pytest.raises(InvalidInput, match=r"cost currency 'GPB'"):
        receive(uow(), ReceiptInput("LON-FRIDGE", scan=scan, cost="35", currency="GPB"),
                today=AS_OF)  # fmt: skip
    with pytest.raises(Refused, match="foreign"):
        receive(uow(), ReceiptInput("LON-FRIDGE", scan=scan, cost="35", currency="USD"),
                today=AS_OF)  # fmt: skip
    receive(uow(), ReceiptInput("LON-FRIDGE", scan=scan, cost="35", currency="gbp"), today=AS_OF)
    assert _receipt_costs(loaded, "SCANFX") == [(12, 3500, "GBP")]


# --- move --------------------------------------------------------------------------


def test_named_lot_moves_between_places(loaded, uow):
    fridge = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")

    transfer = move(uow(), "SERUM-5ML", 5, "LON-FRIDGE", "LON-SHELF", lot="PTT6-B0902",
                    today=AS_OF)  # fmt: skip

    assert [(m.lot, m.quantity) for m in transfer.lots] == [("PTT6-B0902", 5)]
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == fridge - 5
    assert _qty(uow, "SERUM-5ML", "LON-SHELF", "PTT6-B0902") == 5

    # a named lot moves whatever its status: quarantined and expired stock too
    move(uow(), "SERUM-5ML", 8, "LON-QUAR", "LON-STORE", lot="PTT6-C0115", today=AS_OF)
    move(uow(), "SERUM-5ML", 1, "LON-FRIDGE", "LON-QUAR", lot="PTT6-A0412", today=AS_OF)
    assert _qty(uow, "SERUM-5ML", "LON-STORE", "PTT6-C0115") == 8
    assert _qty(uow, "SERUM-5ML", "LON-QUAR", "PTT6-C0115") == 40
    assert _qty(uow, "SERUM-5ML", "LON-QUAR", "PTT6-A0412") == 1
    assert _ledger_ok(uow)


def test_fefo_takes_the_earliest_expiring_released_in_date_lot(loaded, uow):
    # A quarantined lot that expires before every released one sits in the same fridge;
    # PTT6-A0412 is released but expired on AS_OF.
    receive(uow(), _serum("EARLY-Q", quantity=10, days=20, accept_short_dated=True),
            today=AS_OF)  # fmt: skip
    a0519 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0519")

    transfer = move(uow(), "SERUM-5ML", 3, "LON-FRIDGE", "LON-SHELF", today=AS_OF)

    assert [(m.lot, m.expiry, m.quantity) for m in transfer.lots] == [
        ("PTT6-A0519", AS_OF + timedelta(days=24), 3)
    ]
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0519") == a0519 - 3
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "EARLY-Q") == 10
    assert _qty(uow, "SERUM-5ML", "LON-SHELF", "PTT6-A0519") == 3

    # ten days earlier PTT6-A0412 was still in date, and FEFO takes it first
    earlier = move(uow(), "SERUM-5ML", 2, "LON-FRIDGE", "LON-SHELF",
                   today=AS_OF - timedelta(days=10))  # fmt: skip
    assert [(m.lot, m.quantity) for m in earlier.lots] == [("PTT6-A0412", 2)]
    assert _ledger_ok(uow)


def test_fefo_splits_across_lots_when_one_is_not_enough(loaded, uow):
    a0519 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0519")
    a0603 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0603")

    transfer = move(uow(), "SERUM-5ML", a0519 + 4, "LON-FRIDGE", "LON-SHELF", today=AS_OF)

    assert transfer.quantity == a0519 + 4
    assert [(m.lot, m.quantity) for m in transfer.lots] == [
        ("PTT6-A0519", a0519), ("PTT6-A0603", 4),
    ]  # fmt: skip
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0519") == 0
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0603") == a0603 - 4
    assert _qty(uow, "SERUM-5ML", "LON-SHELF") == a0519 + 4
    assert _ledger_ok(uow)


def test_moving_more_than_on_hand_is_refused_and_writes_nothing(loaded, uow):
    released = sum(
        _qty(uow, "SERUM-5ML", "LON-FRIDGE", code)
        for code in ("PTT6-A0519", "PTT6-A0603", "PTT6-B0902")
    )
    b0902 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")
    before = writes(loaded)

    with pytest.raises(Refused, match=f"{released} available"):
        move(uow(), "SERUM-5ML", released + 1, "LON-FRIDGE", "LON-SHELF", today=AS_OF)
    with pytest.raises(Refused, match="not enough stock"):
        move(uow(), "SERUM-5ML", b0902 + 1, "LON-FRIDGE", "LON-SHELF", lot="PTT6-B0902",
             today=AS_OF)  # fmt: skip

    assert writes(loaded) == before
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == b0902
    assert _ledger_ok(uow)


def test_move_with_a_bad_place_or_product_is_invalid(loaded, uow):
    before = writes(loaded)
    for sku, source, target, field in (
        ("SERUM-5ML", "LON-FRIDGE", "LON-FRIDGE", "to"),  # from == to
        ("SERUM-9ML", "LON-FRIDGE", "LON-SHELF", "sku"),
        ("SERUM-5ML", "LON-NOPE", "LON-SHELF", "from"),
        ("SERUM-5ML", "LON-FRIDGE", "LON-NOPE", "to"),
        ("SERUM-5ML", "LON-FRIDGE", "SCRAP", "to"),
        ("SERUM-5ML", "SUPPLIER", "LON-FRIDGE", "from"),
        ("SERUM-5ML", "LON-FRIDGE", "LON-SHELF", "qty"),
    ):
        quantity = 0 if field == "qty" else 1
        with pytest.raises(InvalidInput) as err:
            move(uow(), sku, quantity, source, target, today=AS_OF)
        assert err.value.field == field, (sku, source, target)
    with pytest.raises(InvalidInput) as err:
        move(uow(), "SERUM-5ML", 1, "LON-FRIDGE", "LON-SHELF", lot="PTT6-Z9999", today=AS_OF)
    assert err.value.field == "lot"
    assert writes(loaded) == before


# --- write off ---------------------------------------------------------------------


def test_write_off_moves_stock_to_scrap_with_the_reason(loaded, uow):
    before = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")

    result = write_off(uow(), "SERUM-5ML", 3, "LON-FRIDGE", " Damaged ", lot="PTT6-B0902",
                       note="dropped vial")  # fmt: skip

    assert (result.reason, result.quantity, result.on_hand_after) == ("damaged", 3, before - 3)
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == before - 3
    trace = lots.trace(uow(readonly=True), "PTT6-B0902")
    scrapped = [f for f in trace.flows if f.to_location == "SCRAP"]
    assert [(f.from_location, f.reason, f.detail, f.quantity) for f in scrapped] == [
        ("LON-FRIDGE", "write_off", "damaged", 3)
    ]
    assert trace.written_off == 3
    with loaded.read_sessions() as session:
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "stock.write_off")).one()
    assert audit.after is not None
    assert (audit.after["reason"], audit.after["note"]) == ("damaged", "dropped vial")
    assert _ledger_ok(uow)


def test_write_off_with_an_unknown_reason_is_invalid(loaded, uow):
    before = writes(loaded)
    for reason in ("broken", "", "expired-ish"):
        with pytest.raises(InvalidInput) as err:
            write_off(uow(), "SERUM-5ML", 1, "LON-FRIDGE", reason, lot="PTT6-B0902")
        assert err.value.field == "reason"
    with pytest.raises(InvalidInput) as err:
        write_off(uow(), "SERUM-5ML", 1, "SCRAP", "damaged", lot="PTT6-B0902")
    assert err.value.field == "location"
    assert writes(loaded) == before


def test_writing_off_more_than_on_hand_is_refused_and_writes_nothing(loaded, uow):
    on_hand = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")
    before = writes(loaded)
    with pytest.raises(Refused, match="not enough stock"):
        write_off(uow(), "SERUM-5ML", on_hand + 1, "LON-FRIDGE", "expired", lot="PTT6-B0902")
    assert writes(loaded) == before
    result = write_off(uow(), "SERUM-5ML", on_hand, "LON-FRIDGE", "expired", lot="PTT6-B0902")
    assert result.on_hand_after == 0
    assert _ledger_ok(uow)


def test_untracked_product_is_received_moved_and_written_off_without_a_lot(loaded, uow):
    shelf = _qty(uow, "CHX-0.5", "LON-SHELF")

    receipt = receive(uow(), ReceiptInput("LON-SHELF", sku="CHX-0.5", quantity=12), today=AS_OF)
    transfer = move(uow(), "CHX-0.5", 5, "LON-SHELF", "LON-STORE", today=AS_OF)
    result = write_off(uow(), "CHX-0.5", 2, "LON-STORE", "opened")

    assert (receipt.lot, receipt.new_lot) == ("-", False)
    assert [(m.lot, m.quantity) for m in transfer.lots] == [("-", 5)]
    assert (result.lot, result.on_hand_after) == ("-", 3)
    assert (_qty(uow, "CHX-0.5", "LON-SHELF"), _qty(uow, "CHX-0.5", "LON-STORE")) == (
        shelf + 7, 3,
    )  # fmt: skip

    before = writes(loaded)
    for attempt in (
        lambda: receive(uow(), ReceiptInput("LON-SHELF", sku="CHX-0.5", lot="L1", quantity=1),
                        today=AS_OF),
        lambda: move(uow(), "CHX-0.5", 1, "LON-SHELF", "LON-STORE", lot="L1", today=AS_OF),
        lambda: write_off(uow(), "CHX-0.5", 1, "LON-SHELF", "opened", lot="L1"),
        lambda: write_off(uow(), "SERUM-5ML", 1, "LON-FRIDGE", "opened"),  # tracked, no lot
    ):  # fmt: skip
        with pytest.raises(InvalidInput) as err:
            attempt()
        assert err.value.field == "lot"
    assert writes(loaded) == before
    assert _ledger_ok(uow)


# --- count -------------------------------------------------------------------------


def test_count_differences_become_adjustments_both_ways(loaded, uow):
    b0902 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")
    a0603 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0603")
    a0519 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0519")
    sheet = [
        CountedLine(2, "SERUM-5ML", "PTT6-B0902", b0902 + 3),
        CountedLine(3, "serum-5ml", "PTT6-A0603", str(a0603 - 2)),
        CountedLine(4, "SERUM-5ML", "PTT6-A0519", a0519),
    ]
    moves = _rows(loaded, StockMoveRow)

    report = count(uow(), "LON-FRIDGE", sheet)

    assert _rows(loaded, StockMoveRow) == moves + 2  # a lot counted right moves nothing
    assert (report.lines_counted, report.units_added, report.units_removed) == (3, 3, 2)
    assert {(d.lot, d.expected, d.counted, d.difference) for d in report.differences} == {
        ("PTT6-B0902", b0902, b0902 + 3, 3), ("PTT6-A0603", a0603, a0603 - 2, -2),
    }  # fmt: skip
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == b0902 + 3
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0603") == a0603 - 2
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0519") == a0519
    found = lots.trace(uow(readonly=True), "PTT6-B0902")
    lost = lots.trace(uow(readonly=True), "PTT6-A0603")
    assert (found.adjusted, lost.adjusted) == (3, -2)
    assert [
        (f.from_location, f.to_location, f.references) for f in lost.flows if f.reason == "count"
    ] == [("LON-FRIDGE", "ADJUSTMENT", ("count:LON-FRIDGE",))]
    assert _ledger_ok(uow)


def test_count_lines_of_the_same_lot_add_up(loaded, uow):
    b0902 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")
    sheet = [
        CountedLine(2, "SERUM-5ML", "PTT6-B0902", 10),
        CountedLine(3, "SERUM-5ML", " PTT6-B0902 ", 6),
        CountedLine(4, "SERUM-5ML", "PTT6-B0902", 0),
    ]
    report = count(uow(), "LON-FRIDGE", sheet)
    assert [(d.lot, d.counted, d.difference) for d in report.differences] == [
        ("PTT6-B0902", 16, 16 - b0902)
    ]
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == 16
    assert _ledger_ok(uow)


def test_full_count_zeroes_lots_missing_from_the_sheet(loaded, uow):
    expected = {
        line.lot: line.quantity
        for line in stock.stock_on_hand(uow(readonly=True), location="LON-FRIDGE",
                                        include_unavailable=True, today=AS_OF)
        if line.sku == "SERUM-5ML"  # the demo's kits there are serialised, not counted
    }  # fmt: skip
    assert set(expected) == {"PTT6-A0412", "PTT6-A0519", "PTT6-A0603", "PTT6-B0902"}

    report = count(uow(), "LON-FRIDGE", [CountedLine(2, "SERUM-5ML", "PTT6-B0902", 5)], full=True)

    assert {d.lot: d.counted for d in report.differences} == {
        "PTT6-A0412": 0, "PTT6-A0519": 0, "PTT6-A0603": 0, "PTT6-B0902": 5,
    }  # fmt: skip
    assert report.units_removed == sum(expected.values()) - 5
    remaining = stock.stock_on_hand(uow(readonly=True), location="LON-FRIDGE",
                                    include_unavailable=True, today=AS_OF)  # fmt: skip
    serum = [(s.lot, s.quantity) for s in remaining if s.sku == "SERUM-5ML"]
    assert serum == [("PTT6-B0902", 5)]
    assert {s.sku for s in remaining} == {"SERUM-5ML", "KIT-HOME-6W"}  # kits left alone
    assert _qty(uow, "SERUM-5ML", "LON-QUAR", "PTT6-C0115") == 48  # other places untouched
    assert _ledger_ok(uow)


def test_partial_count_leaves_lots_missing_from_the_sheet(loaded, uow):
    a0519 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0519")
    report = count(uow(), "LON-FRIDGE", [CountedLine(2, "SERUM-5ML", "PTT6-B0902", 5)])
    assert [d.lot for d in report.differences] == ["PTT6-B0902"]
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-A0519") == a0519
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == 5
    assert _ledger_ok(uow)


def test_count_sheet_with_bad_lines_is_rejected_whole(loaded, uow):
    sheet = [
        CountedLine(2, "SERUM-5ML", "PTT6-B0902", 1),  # good
        CountedLine(3, "SERUM-9ML", "PTT6-B0902", 1),  # unknown SKU
        CountedLine(4, "SERUM-5ML", "PTT6-Z9999", 1),  # unknown lot
        CountedLine(5, "SERUM-5ML", "PTT6-A0603", -1),  # negative
        CountedLine(6, "SERUM-5ML", "", 4),  # lot missing for a tracked product
        CountedLine(7, "CHX-0.5", "L1", 4),  # lot for an untracked product
        CountedLine(8, "SERUM-5ML", "PTT6-A0519", "many"),  # not a number
        CountedLine(9, "CHX-0.5", "", 3),  # good
    ]
    before = writes(loaded)
    b0902 = _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902")

    with pytest.raises(CountRejected) as err:
        count(uow(), "LON-FRIDGE", sheet, full=True)

    assert err.value.exit_code == 2
    assert [p.split(":")[0] for p in err.value.problems] == [
        "line 3", "line 4", "line 5", "line 6", "line 7", "line 8",
    ]  # fmt: skip
    assert "6 bad lines, nothing adjusted" in str(err.value)
    assert writes(loaded) == before
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == b0902

    with pytest.raises(InvalidInput) as bad_place:
        count(uow(), "ADJUSTMENT", [CountedLine(2, "CHX-0.5", "", 3)])
    assert bad_place.value.field == "location"
    assert writes(loaded) == before
    assert _ledger_ok(uow)


def test_count_of_fifty_lots_in_one_sheet(loaded, uow):
    codes = [f"DS04-N{i:03d}" for i in range(50)]
    for code in codes:
        receive(
            uow(), ReceiptInput("LON-STORE", sku="STAMP-0.4", lot=code, expiry=_expiry(800),
                                quantity=10), today=AS_OF,
        )  # fmt: skip
    # Each lot counted over two lines; lot i is found with i units where 10 were recorded.
    sheet = [CountedLine(2 + i, "STAMP-0.4", code, i // 2) for i, code in enumerate(codes)]
    sheet += [CountedLine(60 + i, "STAMP-0.4", code, i - i // 2) for i, code in enumerate(codes)]

    report = count(uow(), "LON-STORE", sheet)

    assert report.lines_counted == 100
    assert len(report.differences) == 49  # lot 10 matches the records
    assert report.units_added == sum(i - 10 for i in range(11, 50))
    assert report.units_removed == sum(10 - i for i in range(10))
    on_hand = {
        s.lot: s.quantity
        for s in stock.stock_on_hand(uow(readonly=True), location="LON-STORE", today=AS_OF)
        if s.location == "LON-STORE"
    }
    assert on_hand == {code: i for i, code in enumerate(codes) if i > 0}
    assert _ledger_ok(uow)


def test_a_count_finds_a_lot_held_elsewhere_even_when_its_code_is_here_for_another_product(
    loaded, uow
):
    """A count reads the place's lots with its balances; a line naming a lot the place
    does not hold (here: the same code, held here for another product) is looked up."""
    for place, sku in (("LON-SHELF", "STAMP-0.6"), ("LON-STORE", "STAMP-0.4")):
        receive(uow(), ReceiptInput(place, sku=sku, lot="TWIN-1", expiry=_expiry(800),
                                    quantity=10), today=AS_OF)  # fmt: skip

    report = count(uow(), "LON-SHELF", [CountedLine(2, "STAMP-0.4", "TWIN-1", 2),
                                        CountedLine(3, "STAMP-0.6", "TWIN-1", 9)])  # fmt: skip

    assert sorted((d.sku, d.lot, d.expected, d.counted) for d in report.differences) == [
        ("STAMP-0.4", "TWIN-1", 0, 2), ("STAMP-0.6", "TWIN-1", 10, 9),
    ]  # fmt: skip
    assert _qty(uow, "STAMP-0.4", "LON-SHELF", "TWIN-1") == 2
    assert _qty(uow, "STAMP-0.6", "LON-SHELF", "TWIN-1") == 9
    assert _qty(uow, "STAMP-0.4", "LON-STORE", "TWIN-1") == 10
    assert _ledger_ok(uow)


def test_count_sheet_csv_accepts_a_qty_header(tmp_path):
    path = tmp_path / "count.csv"
    path.write_text(
        "\ufeff SKU , Lot ,Qty\n"
        "SERUM-5ML,PTT6-B0902,12\n"
        "\n"
        "CHX-0.5,,3\n"
        ",,\n"
        "STAMP-0.5, DS05-2402 , 7 \n",
        encoding="utf-8",
    )
    lines = read_count_sheet(str(path))
    assert lines == [
        CountedLine(2, "SERUM-5ML", "PTT6-B0902", "12"),
        CountedLine(4, "CHX-0.5", "", "3"),
        CountedLine(6, "STAMP-0.5", "DS05-2402", "7"),
    ]


def test_count_sheet_csv_is_applied_like_typed_lines(tmp_path, loaded, uow):
    path = tmp_path / "count.csv"
    path.write_text("sku,lot,counted\nSERUM-5ML,PTT6-B0902,12\nCHX-0.5,,3\n", encoding="utf-8")
    report = count(uow(), "LON-FRIDGE", read_count_sheet(str(path)))
    assert report.lines_counted == 2
    assert _qty(uow, "SERUM-5ML", "LON-FRIDGE", "PTT6-B0902") == 12
    assert _qty(uow, "CHX-0.5", "LON-FRIDGE") == 3
    assert _ledger_ok(uow)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("sku,lot,amount\nSERUM-5ML,PTT6-B0902,12\n", id="no-count-column"),
        pytest.param("product,lot,counted\nSERUM-5ML,PTT6-B0902,12\n", id="no-sku-column"),
        pytest.param("", id="empty-file"),
    ],
)
def test_count_sheet_csv_without_the_needed_columns_is_invalid(tmp_path, content):
    path = tmp_path / "count.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        read_count_sheet(str(path))
    assert err.value.field == "file"


def test_count_sheet_that_does_not_exist_is_invalid(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist") as err:
        read_count_sheet(str(tmp_path / "missing.csv"))
    assert err.value.field == "file"


def test_a_kit_lot_with_no_kit_is_refused_by_its_serial_in_the_language_in_force(loaded, uow):
    from kitops.i18n import use_locale

    with uow() as work:
        kit = work.products.get("KIT-HOME-6W")
        work.lots.add(LotRow(product_id=kit.id, code="K9999999", expiry=AS_OF + timedelta(days=90),
                             status=LotStatus.RELEASED.value, receipt_ref="test"))  # fmt: skip
        work.commit()
    for locale, said in (("en", "no kit has the serial K9999999; it is not on a shelf"),
                         ("de", "kein Kit hat die Seriennummer K9999999; es liegt nicht im "
                                "Regal")):  # fmt: skip
        with use_locale(locale), pytest.raises(Refused) as refused:
            move(uow(), "KIT-HOME-6W", 1, "LON-FRIDGE", "LON-SHELF", lot="K9999999", today=AS_OF)
        assert str(refused.value) == said
