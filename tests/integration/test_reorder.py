"""The reorder job and scheduled demand on small data worked out by hand (see
``reorder_worker.build_world``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from ledger_support import AS_OF as DEMO_DAY
from ledger_support import writes
from reorder_worker import AS_OF, build_world, calendar_policy
from sqlalchemy import func, select, text

from kitops.data.schema import AuditRow, JobLockRow, PurchaseOrderLineRow, PurchaseOrderRow
from kitops.domain.purchasing import po_number
from kitops.errors import InvalidInput, Refused
from kitops.services import courses, demand, demo, purchasing, reorder
from kitops.services.operations import ReceiptInput, receive


@pytest.fixture
def world(db):
    """``build_world`` (reorder_worker.py): built once per run and backend, the test's
    database a clone (``TEMPLATE_FIXTURES``, tests/conftest.py)."""
    return db


TEMPLATE_FIXTURES = {"world": build_world}


def _orders(db) -> list[tuple[str, str, int, int, bool]]:
    with db.read_sessions() as session:
        rows = session.execute(
            select(PurchaseOrderRow.id, PurchaseOrderRow.status, PurchaseOrderLineRow.quantity,
                   PurchaseOrderLineRow.received_qty, PurchaseOrderLineRow.closed)
            .join(PurchaseOrderLineRow, PurchaseOrderLineRow.order_id == PurchaseOrderRow.id)
            .order_by(PurchaseOrderRow.id)
        ).all()  # fmt: skip
    return [(po_number(i), s, q, r, c) for i, s, q, r, c in rows]


def _audit_count(db) -> int:
    with db.read_sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditRow)) or 0


# --- scheduled demand ---------------------------------------------------------------------


def test_demand_lists_each_session_with_the_day_its_vial_must_last_until(world, uow):
    found = demand.scheduled_demand(uow(readonly=True), start=AS_OF, end=date(2026, 12, 8))
    sessions = [(n.day, n.needed_until, n.quantity, n.source) for n in found.needs]
    assert sessions == [
        (date(2026, 11, 23), date(2026, 11, 30), 1, "session"),
        (date(2026, 11, 25), date(2026, 12, 2), 1, "session"),
        (date(2026, 11, 30), date(2026, 12, 7), 1, "session"),
        (date(2026, 12, 2), date(2026, 12, 9), 1, "session"),
        (date(2026, 12, 7), date(2026, 12, 14), 1, "session"),
    ]
    assert [(s.lot, s.expiry, s.status, s.quantity) for s in found.stock] == [
        ("SHORT", date(2026, 12, 1), "released", 10),
        ("LONG", date(2027, 6, 30), "released", 1),
    ]
    (cover,) = demand.product_cover(found)
    assert (cover.demand, cover.covered, cover.short) == (5, 2, 3)
    assert cover.expiring_unused == 9  # SHORT expires before the needs it could serve
    assert cover.first_short_day == date(2026, 11, 30)
    assert cover.days_of_cover == 8


def test_demand_of_home_courses_is_kits_and_the_components_of_kits_not_yet_assembled(loaded, uow):
    found = demand.scheduled_demand(uow(readonly=True), start=DEMO_DAY,
                                    end=DEMO_DAY + timedelta(days=13), clinic="VIE")  # fmt: skip
    kits = [(n.sku, n.day, n.covered_by) for n in found.needs if n.source == "kit"]
    # the home-6w course (day 2) fits an assembled kit at VIE; no PTT-6 kit exists (day 8)
    assert kits == [("KIT-HOME-6W", date(2026, 11, 24), "kit"),
                    ("KIT-HOME-PTT6", date(2026, 11, 30), None)]  # fmt: skip
    parts = [n for n in found.needs if n.source == "kit_component"]
    serum = sorted(n.needed_until for n in parts if n.sku == "SERUM-5ML")
    # 12 weekly 5 ml applications from Monday 30 Nov: vial k lasts until week k + 7 days
    assert serum == [date(2026, 11, 30) + timedelta(weeks=k, days=7) for k in range(12)]
    assert all(n.day == date(2026, 11, 30) and n.quantity == 1 for n in parts)
    assert [(n.sku, n.quantity) for n in parts if n.sku != "SERUM-5ML"] == [("STAMP-0.5", 1)]
    sessions = [n.day for n in found.needs if n.source == "session"]
    assert sessions == [date(2026, 11, 26), date(2026, 12, 3)]  # clinic-weekly-6 from day 4


def test_a_reserved_kit_covers_its_course(loaded, uow):
    found = demand.scheduled_demand(uow(readonly=True), start=DEMO_DAY,
                                    end=DEMO_DAY + timedelta(days=6), clinic="LON")  # fmt: skip
    kits = [(n.sku, n.day, n.covered_by) for n in found.needs if n.source == "kit"]
    assert ("KIT-HOME-6W", date(2026, 11, 25), "reserved") in kits
    assert not [n for n in found.needs if n.source == "kit_component"]


def test_demand_refuses_a_window_that_ends_before_it_starts(world, uow):
    with pytest.raises(InvalidInput, match="end '2026-11-01'"):
        demand.scheduled_demand(uow(readonly=True), start=AS_OF, end=date(2026, 11, 1))


# --- the reorder run ---------------------------------------------------------------------


def test_calendar_policy_orders_what_stock_in_date_cannot_serve(world, uow):
    calendar_policy(uow)
    result = reorder.run(uow(), as_of=AS_OF)
    (line,) = result.suggestions
    assert (line.demand, line.usable, line.on_hand, line.expiring_unused) == (5, 2, 11, 9)
    assert (line.on_order, line.net, line.quantity) == (0, 3, 12)  # minimum 12, packs of 6
    assert line.need_by == date(2026, 11, 30)
    assert result.orders_created == ("PO-000001",)
    assert _orders(world) == [("PO-000001", "draft", 12, 0, False)]
    order = purchasing.show_order(uow(readonly=True), "PO-000001")
    assert str(order.total) == "420.00 GBP"
    assert order.expected_on == date(2026, 12, 2)
    assert "demand 5" in (order.lines[0].explanation or "")


def test_min_max_policy_sees_enough_stock_where_the_calendar_does_not(world, uow):
    purchasing.set_policy(uow(), "SERUM-5ML", "LON", supplier="CAL", method="min_max",
                          min_qty=4, max_qty=10)  # fmt: skip
    result = reorder.run(uow(), as_of=AS_OF)
    assert result.suggestions == ()
    assert "nothing to order" in result.summary
    assert _orders(world) == []


def test_pack_size_rounding_without_a_minimum(db, uow):
    build_world(uow, min_order=1, pack=6)
    calendar_policy(uow)
    (line,) = reorder.run(uow(), as_of=AS_OF).suggestions
    assert (line.net, line.quantity) == (3, 6)


def test_a_second_run_with_nothing_changed_writes_nothing(world, uow):
    calendar_policy(uow)
    reorder.run(uow(), as_of=AS_OF)
    before = (_orders(world), _audit_count(world), writes(world))
    again = reorder.run(uow(), as_of=AS_OF)
    assert again.orders_created == again.orders_changed == again.orders_cancelled == ()
    assert len(again.suggestions) == 1
    assert again.suggestions[0].po == "PO-000001"
    assert "nothing changed" in again.summary
    assert (_orders(world), _audit_count(world), writes(world)) == before


def test_a_dry_run_writes_nothing(world, uow):
    calendar_policy(uow)
    before = (_audit_count(world), _orders(world))
    result = reorder.run(uow(), as_of=AS_OF, dry_run=True)
    assert result.dry_run
    assert result.suggestions[0].quantity == 12
    assert "would be created" in result.summary
    assert (_audit_count(world), _orders(world)) == before


def test_the_draft_follows_the_policy_and_is_cancelled_when_nothing_is_needed(db, uow):
    build_world(uow, min_order=1, pack=6)
    calendar_policy(uow)
    reorder.run(uow(), as_of=AS_OF)
    assert _orders(db) == [("PO-000001", "draft", 6, 0, False)]
    calendar_policy(uow, safety_days=17)  # + 5 units: 17 days of 5/17 a day
    changed = reorder.run(uow(), as_of=AS_OF)
    assert changed.orders_changed == ("PO-000001",)
    assert _orders(db) == [("PO-000001", "draft", 12, 0, False)]
    purchasing.set_policy(uow(), "SERUM-5ML", "LON", supplier="CAL", method="min_max",
                          min_qty=4, max_qty=10)  # fmt: skip
    gone = reorder.run(uow(), as_of=AS_OF)
    assert gone.orders_cancelled == ("PO-000001",)
    with db.read_sessions() as session:
        assert session.scalar(select(PurchaseOrderRow.status)) == "cancelled"


def test_a_partially_received_order_counts_only_what_is_still_to_come(world, uow):
    calendar_policy(uow, safety_days=17)  # demand 5 + safety 5 - usable 2 = 8 → 12
    reorder.run(uow(), as_of=AS_OF)
    purchasing.change_status(uow(), "PO-000001", "approve")
    purchasing.change_status(uow(), "1", "send")
    receipt = receive(uow(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot="NEW",
                                          expiry="2027-09-30", quantity=5, po="PO-000001"),
                      today=AS_OF)  # fmt: skip
    assert receipt.reference == "PO-000001"
    assert _orders(world) == [("PO-000001", "partial", 12, 5, False)]
    # by hand: NEW (5, awaiting release) serves 3 more needs and 2 are spare: usable 7;
    # 5 + 5 safety - 7 usable - 7 still on order = -4: nothing to order
    result = reorder.run(uow(), as_of=AS_OF, dry_run=True)
    assert result.suggestions == ()
    calendar_policy(uow, safety_days=34)  # safety 10: 5 + 10 - 7 - 7 = 1, so 12 more
    (line,) = reorder.run(uow(), as_of=AS_OF, dry_run=True).suggestions
    assert (line.demand, line.safety, line.usable, line.on_order) == (5, 10, 7, 7)
    assert (line.net, line.quantity) == (1, 12)
    order = purchasing.show_order(uow(readonly=True), "PO-000001")
    assert (order.lines[0].received, order.lines[0].open) == (5, 7)


def test_each_receipt_against_an_order_keeps_its_own_cost(world, uow):
    from kitops.data.schema import LotReceiptRow, LotRow

    calendar_policy(uow)
    reorder.run(uow(), as_of=AS_OF)  # 12 x SERUM-5ML at 35.00 GBP
    purchasing.change_status(uow(), "PO-000001", "approve")
    receive(uow(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot="NEW",
                                expiry="2027-09-30", quantity=4, po="PO-000001"),
            today=AS_OF)  # fmt: skip
    # the rest of the order came with an invoice at a new price
    receive(uow(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot="NEW",
                                expiry="2027-09-30", quantity=8, po="PO-000001",
                                cost="38.00", currency="GBP"), today=AS_OF)  # fmt: skip
    with world.read_sessions() as session:
        kept = session.execute(
            select(LotReceiptRow.quantity, LotReceiptRow.unit_cost_minor, LotReceiptRow.currency,
                   LotReceiptRow.reference)
            .join(LotRow, LotRow.id == LotReceiptRow.lot_id).where(LotRow.code == "NEW")
            .order_by(LotReceiptRow.id)
        ).all()  # fmt: skip
    assert [tuple(r) for r in kept] == [
        (4, 3500, "GBP", "PO-000001"), (8, 3800, "GBP", "PO-000001"),
    ]  # fmt: skip
    assert _orders(world) == [("PO-000001", "received", 12, 12, True)]


def test_over_receipt_is_refused_unless_confirmed_and_closes_the_order(world, uow):
    calendar_policy(uow)
    reorder.run(uow(), as_of=AS_OF)
    purchasing.change_status(uow(), "PO-000001", "approve")
    before = writes(world)
    with pytest.raises(Refused, match="over-receipt"):
        receive(uow(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot="NEW",
                                    expiry="2027-09-30", quantity=13, po="1"),
                today=AS_OF)  # fmt: skip
    assert writes(world) == before
    assert _orders(world) == [("PO-000001", "approved", 12, 0, False)]
    receive(uow(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot="NEW",
                                expiry="2027-09-30", quantity=13, po="PO-000001",
                                confirm_over_receipt=True), today=AS_OF)  # fmt: skip
    assert _orders(world) == [("PO-000001", "received", 12, 13, True)]
    with pytest.raises(Refused, match="received"):
        receive(uow(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot="NEW",
                                    expiry="2027-09-30", quantity=1, po="PO-000001"),
                today=AS_OF)  # fmt: skip


def test_receiving_against_a_draft_or_for_another_product_is_refused(world, uow):
    calendar_policy(uow)
    reorder.run(uow(), as_of=AS_OF)
    with pytest.raises(Refused, match="still a draft"):
        receive(uow(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot="NEW",
                                    expiry="2027-09-30", quantity=1, po="PO-000001"),
                today=AS_OF)  # fmt: skip
    with pytest.raises(InvalidInput, match="po 'PO-000099'"):
        receive(uow(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot="NEW",
                                    expiry="2027-09-30", quantity=1, po="PO-000099"),
                today=AS_OF)  # fmt: skip
    # a supplier's own reference is still just a reference
    free = receive(uow(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot="NEW",
                                       expiry="2027-09-30", quantity=1, po="DN-4711"),
                   today=AS_OF)  # fmt: skip
    assert free.reference == "DN-4711"


def test_cancelled_orders_stop_counting_and_cannot_be_approved(world, uow):
    calendar_policy(uow)
    reorder.run(uow(), as_of=AS_OF)
    purchasing.change_status(uow(), "PO-000001", "approve")
    with pytest.raises(Refused, match="approved; only a draft"):
        purchasing.change_status(uow(), "PO-000001", "approve")
    with pytest.raises(InvalidInput, match="reason"):
        purchasing.change_status(uow(), "PO-000001", "cancel")
    purchasing.change_status(uow(), "PO-000001", "cancel", reason="supplier out of stock")
    assert _orders(world) == [("PO-000001", "cancelled", 12, 0, True)]
    again = reorder.run(uow(), as_of=AS_OF)
    assert again.orders_created == ("PO-000002",)  # the need is still there


def test_a_cancelled_course_lowers_the_demand(world, uow):
    calendar_policy(uow, safety_days=0)
    courses.cancel_course(uow(), 2)  # P-2's sessions on 25 Nov and 2 Dec go
    (line,) = reorder.run(uow(), as_of=AS_OF, dry_run=True).suggestions
    # 23 Nov, 30 Nov, 7 Dec (until 30 Nov, 7 Dec, 14 Dec): SHORT serves one, LONG one
    assert (line.demand, line.usable, line.net, line.quantity) == (3, 2, 1, 12)


def test_a_run_while_another_holds_the_lock_does_nothing(world, uow, backend, db):
    calendar_policy(uow)
    if backend == "sqlite":
        from kitops.data.schema import utcnow

        with db.write_sessions() as session:
            session.add(JobLockRow(name="reorder", holder="other", acquired_at=utcnow(),
                                   expires_at=utcnow() + timedelta(minutes=5)))  # fmt: skip
            session.commit()
        result = reorder.run(uow(), as_of=AS_OF)
    else:
        with db.engine.connect() as other:
            other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": reorder.ADVISORY_KEY})
            result = reorder.run(uow(), as_of=AS_OF)
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": reorder.ADVISORY_KEY})
    assert result.in_progress
    assert "another reorder run is in progress" in result.summary
    assert _orders(world) == []


def test_a_run_with_nothing_to_write_takes_no_lease_so_a_writer_does_not_hold_it_up(
    world, uow, backend, db, monkeypatch
):
    """SQLite: while another connection holds the database's write lock (a stockroom
    terminal mid-receipt), a run that finds nothing to write still answers; it never asks
    for the write lock its lease would need (one that has drafts to write does)."""
    if backend != "sqlite":
        pytest.skip("the lease is SQLite's lock")
    import sqlite3

    from kitops.data.engine import open_database
    from kitops.services.unit_of_work import UnitOfWork

    calendar_policy(uow)
    reorder.run(uow(), as_of=AS_OF)
    before = (_orders(world), _audit_count(world), writes(world))
    monkeypatch.setenv("KITOPS_BUSY_TIMEOUT_MS", "100")  # a wait for the lock fails fast
    quick = open_database(db.url)
    writer = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        again = reorder.run(UnitOfWork(quick, "tester"), as_of=AS_OF)
        writer.execute("ROLLBACK")
    finally:
        writer.close()
        quick.dispose()
    assert not again.in_progress
    assert "nothing changed" in again.summary
    assert [s.po for s in again.suggestions] == ["PO-000001"]
    assert (_orders(world), _audit_count(world), writes(world)) == before


def test_an_expired_lease_does_not_block_the_run(world, uow, backend, db):
    if backend != "sqlite":
        pytest.skip("the lease is SQLite's lock")
    from kitops.data.schema import utcnow

    calendar_policy(uow)
    with db.write_sessions() as session:
        session.add(JobLockRow(name="reorder", holder="crashed", acquired_at=utcnow(),
                               expires_at=utcnow() - timedelta(seconds=1)))  # fmt: skip
        session.commit()
    assert reorder.run(uow(), as_of=AS_OF).orders_created == ("PO-000001",)
    with db.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(JobLockRow)) == 0


def test_policies_are_checked(world, uow):
    with pytest.raises(InvalidInput, match="max"):
        purchasing.set_policy(uow(), "SERUM-5ML", "LON", supplier="CAL", method="min_max",
                              min_qty=5)  # fmt: skip
    with pytest.raises(InvalidInput, match="max 3: is below the minimum 5"):
        purchasing.set_policy(uow(), "SERUM-5ML", "LON", supplier="CAL", method="min_max",
                              min_qty=5, max_qty=3)  # fmt: skip
    with pytest.raises(InvalidInput, match="supplier 'NOPE'"):
        calendar_policy(uow, supplier="NOPE")
    with pytest.raises(InvalidInput, match="clinic 'LON-FRIDGE'"):
        purchasing.set_policy(uow(), "SERUM-5ML", "LON-FRIDGE", supplier="CAL",
                              method="calendar")  # fmt: skip
    purchasing.add_supplier(uow(), "OTHER", "Other", lead_time_days=3, currency="GBP")
    with pytest.raises(InvalidInput, match="does not sell SERUM-5ML"):
        calendar_policy(uow, supplier="OTHER")
    with pytest.raises(InvalidInput, match="review_days 400"):
        calendar_policy(uow, review_period_days=400)


def test_the_demo_has_something_to_reorder(loaded, uow):
    result = reorder.run(uow(), as_of=DEMO_DAY)
    assert result.policies == len(demo.POLICIES)
    assert [(s.clinic, s.sku, s.quantity) for s in result.suggestions] == [("ESX", "STAMP-0.6", 20)]
