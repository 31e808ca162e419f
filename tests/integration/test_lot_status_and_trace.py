"""Lot status (release, quarantine, recall) and the trace of where a lot's units went.

The demo data is loaded as of a fixed day and that day is passed to every service.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from ledger_support import AS_OF, writes
from sqlalchemy import event, select

from kitops.data.repositories import PostedMove
from kitops.data.schema import AuditRow
from kitops.domain.ledger import LotStatus, Move
from kitops.errors import InvalidInput, Refused
from kitops.services import admin, lots, stock
from kitops.services.operations import CountedLine, ReceiptInput, count, move, receive, write_off


def _status_audits(db, key):
    with db.read_sessions() as session:
        rows = session.scalars(
            select(AuditRow)
            .where(AuditRow.entity == "lot", AuditRow.entity_key == key)
            .where(AuditRow.action.like("lot.%"))
            .order_by(AuditRow.id)
        ).all()
        return [(row.action, row.actor, row.before, row.after) for row in rows]


def _available_lots(uow, sku="SERUM-5ML", location=None) -> set[str]:
    lines = stock.stock_on_hand(uow(readonly=True), sku=sku, location=location, today=AS_OF)
    return {line.lot for line in lines}


def _ledger_ok(uow) -> bool:
    return admin.check(uow(readonly=True)).ok


# --- status ------------------------------------------------------------------------


def test_release_makes_a_quarantined_lot_available(loaded, uow):
    assert "PTT6-C0115" not in _available_lots(uow)

    detail = lots.change_status(uow(), "PTT6-C0115", LotStatus.RELEASED, today=AS_OF)

    assert (detail.status, detail.status_reason, detail.total_on_hand) == ("released", None, 48)
    assert lots.show(uow(readonly=True), "PTT6-C0115").status == "released"
    assert "PTT6-C0115" in _available_lots(uow, location="LON-QUAR")
    assert _ledger_ok(uow)


@pytest.mark.parametrize("target", [LotStatus.QUARANTINE, LotStatus.RECALLED])
def test_quarantine_and_recall_need_a_reason(loaded, uow, target):
    before = writes(loaded)
    for reason in (None, "", "   "):
        with pytest.raises(InvalidInput) as err:
            lots.change_status(uow(), "PTT6-B0902", target, reason=reason, today=AS_OF)
        assert err.value.field == "reason"
    assert writes(loaded) == before
    assert lots.show(uow(readonly=True), "PTT6-B0902").status == "released"

    detail = lots.change_status(uow(), "PTT6-B0902", target, reason=" cloudy vials ", today=AS_OF)

    assert (detail.status, detail.status_reason) == (target.value, "cloudy vials")
    shown = lots.show(uow(readonly=True), "PTT6-B0902")
    assert (shown.status, shown.status_reason) == (target.value, "cloudy vials")
    assert "PTT6-B0902" not in _available_lots(uow)
    assert _ledger_ok(uow)


def test_releasing_an_expired_lot_is_refused(loaded, uow):
    lots.change_status(uow(), "PTT6-A0412", LotStatus.QUARANTINE, reason="past expiry",
                       today=AS_OF)  # fmt: skip
    before = writes(loaded)

    with pytest.raises(Refused, match="expired"):
        lots.change_status(uow(), "PTT6-A0412", LotStatus.RELEASED, today=AS_OF)

    assert writes(loaded) == before
    assert lots.show(uow(readonly=True), "PTT6-A0412").status == "quarantine"
    # on its expiry day the lot is still in date and may be released
    expiry = AS_OF - timedelta(days=9)
    detail = lots.change_status(uow(), "PTT6-A0412", LotStatus.RELEASED, today=expiry)
    assert detail.status == "released"
    assert _ledger_ok(uow)


def test_a_lot_expired_on_any_clinics_calendar_is_not_released(loaded, uow):
    """Without a fixed day, release reads the latest clinic calendar: at 23:30 UTC on
    the expiry day it is still that day in London but the next one in Vienna."""
    lots.change_status(uow(), "PTT6-A0412", LotStatus.QUARANTINE, reason="past expiry",
                       today=AS_OF)  # fmt: skip
    expiry = AS_OF - timedelta(days=9)
    before = writes(loaded)

    late = datetime.combine(expiry, time(23, 30), UTC)
    with time_machine.travel(late, tick=False), pytest.raises(Refused, match=f"on {expiry}"):
        lots.change_status(uow(), "PTT6-A0412", LotStatus.RELEASED)

    assert writes(loaded) == before
    with time_machine.travel(datetime.combine(expiry, time(12, 0), UTC), tick=False):
        assert lots.change_status(uow(), "PTT6-A0412", LotStatus.RELEASED).status == "released"


def test_recalled_lot_must_be_quarantined_before_release(loaded, uow):
    lots.change_status(uow(), "PTT6-B0902", LotStatus.RECALLED, reason="supplier recall",
                       today=AS_OF)  # fmt: skip
    before = writes(loaded)

    with pytest.raises(Refused, match="recalled"):
        lots.change_status(uow(), "PTT6-B0902", LotStatus.RELEASED, today=AS_OF)
    with pytest.raises(Refused, match="already recalled"):
        lots.change_status(uow(), "PTT6-B0902", LotStatus.RECALLED, reason="again", today=AS_OF)

    assert writes(loaded) == before
    assert lots.show(uow(readonly=True), "PTT6-B0902").status == "recalled"
    lots.change_status(uow(), "PTT6-B0902", LotStatus.QUARANTINE, reason="recall lifted",
                       today=AS_OF)  # fmt: skip
    detail = lots.change_status(uow(), "PTT6-B0902", LotStatus.RELEASED, today=AS_OF)
    assert detail.status == "released"
    assert "PTT6-B0902" in _available_lots(uow)
    assert _ledger_ok(uow)


def test_recalled_lot_is_skipped_by_fefo(loaded, uow):
    lots.change_status(uow(), "PTT6-A0519", LotStatus.RECALLED, reason="supplier recall",
                       today=AS_OF)  # fmt: skip
    recalled_on_hand = lots.show(uow(readonly=True), "PTT6-A0519").total_on_hand

    transfer = move(uow(), "SERUM-5ML", 3, "LON-FRIDGE", "LON-SHELF", today=AS_OF)

    assert [(m.lot, m.quantity) for m in transfer.lots] == [("PTT6-A0603", 3)]
    assert lots.show(uow(readonly=True), "PTT6-A0519").total_on_hand == recalled_on_hand
    assert _ledger_ok(uow)


def test_ambiguous_lot_code_needs_the_sku(loaded, uow):
    receive(
        uow(),
        ReceiptInput("LON-SHELF", sku="STAMP-0.5", lot="PTT6-B0902",
                     expiry=(AS_OF + timedelta(days=700)).isoformat(), quantity=4),
        today=AS_OF,
    )  # fmt: skip
    before = writes(loaded)

    for action in (
        lambda: lots.change_status(uow(), "PTT6-B0902", LotStatus.RECALLED, reason="recall",
                                   today=AS_OF),
        lambda: lots.show(uow(readonly=True), "PTT6-B0902"),
        lambda: lots.trace(uow(readonly=True), "PTT6-B0902"),
    ):  # fmt: skip
        with pytest.raises(InvalidInput, match=re.escape("SERUM-5ML, STAMP-0.5")) as err:
            action()
        assert err.value.field == "lot"
    assert writes(loaded) == before

    detail = lots.change_status(uow(), "PTT6-B0902", LotStatus.RECALLED, reason="recall",
                                sku="serum-5ml", today=AS_OF)  # fmt: skip

    assert (detail.sku, detail.status) == ("SERUM-5ML", "recalled")
    stamp = lots.show(uow(readonly=True), "PTT6-B0902", sku="STAMP-0.5")
    assert (stamp.status, stamp.total_on_hand) == ("released", 4)
    assert lots.trace(uow(readonly=True), "PTT6-B0902", sku="STAMP-0.5").received == 4
    with pytest.raises(InvalidInput, match=re.escape("for STAMP-0.4")):
        lots.show(uow(readonly=True), "PTT6-B0902", sku="STAMP-0.4")
    assert _ledger_ok(uow)


def test_unknown_lot_or_same_status_changes_nothing(loaded, uow):
    before = writes(loaded)
    with pytest.raises(InvalidInput) as err:
        lots.change_status(uow(), "NO-SUCH-LOT", LotStatus.RELEASED, today=AS_OF)
    assert err.value.field == "lot"
    with pytest.raises(Refused, match="already released"):
        lots.change_status(uow(), "PTT6-B0902", LotStatus.RELEASED, today=AS_OF)
    with pytest.raises(Refused, match="already quarantine"):
        lots.change_status(uow(), "PTT6-C0115", LotStatus.QUARANTINE, reason="x", today=AS_OF)
    assert writes(loaded) == before


def test_every_status_change_writes_an_audit_row_with_before_and_after(loaded, uow):
    steps = [
        (LotStatus.RECALLED, "supplier recall"),
        (LotStatus.QUARANTINE, "recall lifted, retesting"),
        (LotStatus.RELEASED, None),
    ]
    for target, reason in steps:
        lots.change_status(uow(), "PTT6-A0603", target, reason=reason, today=AS_OF)

    assert _status_audits(loaded, "SERUM-5ML/PTT6-A0603") == [
        ("lot.recalled", "tester",
         {"status": "released", "reason": None},
         {"status": "recalled", "reason": "supplier recall"}),
        ("lot.quarantine", "tester",
         {"status": "recalled", "reason": "supplier recall"},
         {"status": "quarantine", "reason": "recall lifted, retesting"}),
        ("lot.released", "tester",
         {"status": "quarantine", "reason": "recall lifted, retesting"},
         {"status": "released", "reason": None}),
    ]  # fmt: skip
    assert _ledger_ok(uow)


# --- trace -------------------------------------------------------------------------


def _flows(trace):
    return {
        (f.from_location, f.to_location, f.reason, f.detail): (f.quantity, f.moves, f.references)
        for f in trace.flows
    }


def test_a_trace_asks_a_fixed_few_statements_however_many_flows(loaded, db, uow):
    """Each statement waits its turn on a loaded machine: the trace of a lot in no kit
    reads the lot, the places, the flows, their first references, the kits, the
    sessions, the on-hand with product and supplier, and the recalls (15 before)."""
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        trace = lots.trace(uow(readonly=True), "PTT6-A0519", references=3)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    asked = [s for s in statements if s.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert len(trace.flows) > 1
    assert len(asked) <= 10, "\n".join(s[:80] for s in asked)


def test_trace_adds_up_receipts_moves_write_offs_and_counts(loaded, uow):
    expiry = (AS_OF + timedelta(days=700)).isoformat()
    for place, quantity, po in (("LON-SHELF", 60, "PO-777"), ("LON-SHELF", 10, "PO-779"),
                                ("ESX-SHELF", 20, "PO-778")):  # fmt: skip
        receive(uow(), ReceiptInput(place, sku="STAMP-0.6", lot="TR-1", expiry=expiry,
                                    quantity=quantity, po=po), today=AS_OF)  # fmt: skip
    move(uow(), "STAMP-0.6", 10, "LON-SHELF", "LON-STORE", lot="TR-1", today=AS_OF)
    move(uow(), "STAMP-0.6", 2, "LON-SHELF", "LON-STORE", lot="TR-1", today=AS_OF)
    write_off(uow(), "STAMP-0.6", 3, "LON-STORE", "opened", lot="TR-1")
    write_off(uow(), "STAMP-0.6", 1, "ESX-SHELF", "damaged", lot="TR-1")
    count(uow(), "LON-SHELF", [CountedLine(2, "STAMP-0.6", "TR-1", 53)])  # 58 on record
    count(uow(), "LON-STORE", [CountedLine(2, "STAMP-0.6", "TR-1", 11)])  # 9 on record

    trace = lots.trace(uow(readonly=True), "TR-1")

    assert (trace.received, trace.written_off, trace.adjusted, trace.delivered) == (90, 4, -3, 0)
    assert trace.lot.total_on_hand == 90 - 4 + (-3) - 0 == 83
    assert {(o.location, o.clinic, o.quantity) for o in trace.lot.on_hand} == {
        ("LON-SHELF", "LON", 53), ("LON-STORE", "LON", 11), ("ESX-SHELF", "ESX", 19),
    }  # fmt: skip
    assert _flows(trace) == {
        ("SUPPLIER", "LON-SHELF", "receipt", None): (70, 2, ("PO-777", "PO-779")),
        ("SUPPLIER", "ESX-SHELF", "receipt", None): (20, 1, ("PO-778",)),
        ("LON-SHELF", "LON-STORE", "transfer", None): (12, 2, ()),
        ("LON-STORE", "SCRAP", "write_off", "opened"): (3, 1, ()),
        ("ESX-SHELF", "SCRAP", "write_off", "damaged"): (1, 1, ()),
        ("LON-SHELF", "ADJUSTMENT", "count", None): (5, 1, ("count:LON-SHELF",)),
        ("ADJUSTMENT", "LON-STORE", "count", None): (2, 1, ("count:LON-STORE",)),
    }
    assert trace.flows[0].from_location == "SUPPLIER"
    assert all(f.first <= f.last and f.first.utcoffset() is not None for f in trace.flows)
    assert lots.show(uow(readonly=True), "TR-1").receipt_ref == "PO-777"
    assert _ledger_ok(uow)


def test_a_trace_asked_for_three_references_lists_each_flows_first_three_and_counts_all(
    loaded, uow
):
    """What `kitops trace` and the terminal UI show: the first three references of a flow
    in order (the order of the full list, so both backends agree whatever the database
    collation) and how many there are; asked for all (`--json`), every one."""
    expiry = (AS_OF + timedelta(days=700)).isoformat()
    refs = ["PO-9", "po-2", "PO-10", "Z-1", "PO-9", "a-1", "PO-1", "_x"]  # PO-9 twice
    for ref in refs:
        receive(uow(), ReceiptInput("LON-SHELF", sku="STAMP-0.6", lot="TR-3", expiry=expiry,
                                    quantity=1, po=ref), today=AS_OF)  # fmt: skip
    receive(uow(), ReceiptInput("ESX-SHELF", sku="STAMP-0.6", lot="TR-3", expiry=expiry,
                                quantity=1, po="PO-E"), today=AS_OF)  # fmt: skip
    move(uow(), "STAMP-0.6", 2, "LON-SHELF", "LON-STORE", lot="TR-3", today=AS_OF)

    def flows(references):
        trace = lots.trace(uow(readonly=True), "TR-3", references=references)
        return {(f.from_location, f.to_location): (f.references, f.reference_count, f.moves)
                for f in trace.flows}  # fmt: skip

    every = tuple(sorted(set(refs)))
    assert flows(None) == {
        ("SUPPLIER", "LON-SHELF"): (every, 7, 8),
        ("SUPPLIER", "ESX-SHELF"): (("PO-E",), 1, 1),
        ("LON-SHELF", "LON-STORE"): ((), 0, 1),
    }
    assert flows(3) == {
        ("SUPPLIER", "LON-SHELF"): (every[:3], 7, 8),
        ("SUPPLIER", "ESX-SHELF"): (("PO-E",), 1, 1),
        ("LON-SHELF", "LON-STORE"): ((), 0, 1),
    }
    assert every[:3] == ("PO-1", "PO-10", "PO-9")


def test_a_flow_with_a_detail_lists_its_first_three_references_too(loaded, uow):
    """Flows with a detail (an opened kit written off, ``write_off``/``opened``) and flows
    without one are stepped by separate parts of the statement: both list their first
    three references in order and count them all."""
    expiry = (AS_OF + timedelta(days=700)).isoformat()
    receive(uow(), ReceiptInput("LON-SHELF", sku="STAMP-0.6", lot="TR-4", expiry=expiry,
                                quantity=9, po="PO-D"), today=AS_OF)  # fmt: skip
    refs = ["course:7", "course:12", "course:3", "course:7", "course:40"]
    with uow() as work:
        lot = work.lots.resolve("TR-4", "STAMP-0.6")
        shelf, scrap = work.locations.get("LON-SHELF"), work.locations.get("SCRAP")
        for ref in refs:
            work.ledger.post([PostedMove(Move(lot.id, shelf.id, scrap.id, 1), lot.product_id)],
                             reason="write_off", detail="opened", actor=work.actor,
                             reference=ref)  # fmt: skip
        work.ledger.post([PostedMove(Move(lot.id, shelf.id, scrap.id, 1), lot.product_id)],
                         reason="write_off", detail="damaged", actor=work.actor)  # fmt: skip
        work.commit()
    trace = lots.trace(uow(readonly=True), "TR-4", references=3)
    listed = {(f.to_location, f.detail): (f.references, f.reference_count, f.moves)
              for f in trace.flows}  # fmt: skip
    every = tuple(sorted(set(refs)))
    assert listed == {
        ("LON-SHELF", None): (("PO-D",), 1, 1),
        ("SCRAP", "opened"): (every[:3], 4, 5),
        ("SCRAP", "damaged"): ((), 0, 1),
    }
    assert every[:3] == ("course:12", "course:3", "course:40")


def test_trace_of_a_demo_lot_matches_what_is_on_hand(loaded, uow):
    trace = lots.trace(uow(readonly=True), "PTT6-A0603")
    on_hand = {o.location: o.quantity for o in trace.lot.on_hand}

    assert set(on_hand) == {"LON-FRIDGE", "ESX-FRIDGE"}
    assert trace.received == trace.lot.total_on_hand == sum(on_hand.values())
    assert (trace.written_off, trace.adjusted, trace.delivered) == (0, 0, 0)
    assert _flows(trace) == {
        ("SUPPLIER", place, "receipt", None): (quantity, 1, ("PO-DEMO-PTT6-A0603",))
        for place, quantity in on_hand.items()
    }
    assert trace.lot.expiry == AS_OF + timedelta(days=52)
    assert (trace.lot.supplier, trace.lot.receipt_ref) == ("CALECIM-UK", "PO-DEMO-PTT6-A0603")


# --- recall: every affected course ---------------------------------------------------

HANDED_OVER_AT = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)


def _recall_week(uow):
    """Course 1's kit K0000001 (6 vials of PTT6-B0902) is handed over; course 5 keeps
    K0000005 reserved at ESX; course 4 has a clinic session from PTT6-B0902 at LON (the
    earlier lots held back so FEFO reaches it). Returns the session."""
    from kitops.services import kits, sessions

    with time_machine.travel(HANDED_OVER_AT, tick=False):
        kits.dispatch(uow(), "K0000001", handover=True, today=AS_OF)
    for code in ("PTT6-A0519", "PTT6-A0603"):
        lots.change_status(uow(), code, LotStatus.QUARANTINE, reason="held back", today=AS_OF)
    session = sessions.record_session(uow(), 4, on=AS_OF + timedelta(days=13))
    assert session.lot == "PTT6-B0902"
    return session


def _at_patients(lists):
    return [(k.serial, k.course_id, k.part, k.clinic, k.status, k.patient_ref, k.went_out,
             k.quantity) for k in lists.at_patients]  # fmt: skip


def _released(lists):
    return [(r.serial, r.course_id, r.part, r.clinic, r.patient_ref, r.now_kit)
            for r in lists.released]  # fmt: skip


def _sessions(lists):
    return [(s.course_id, s.clinic, s.patient_ref, s.session_no, s.date, s.quantity)
            for s in lists.sessions]  # fmt: skip


def test_recall_lists_every_affected_course_and_trace_shows_the_same(loaded, uow):
    session = _recall_week(uow)

    with time_machine.travel(HANDED_OVER_AT + timedelta(hours=2), tick=False):
        recall = lots.change_status(uow(), "PTT6-B0902", LotStatus.RECALLED,
                                    reason="supplier recall", today=AS_OF)  # fmt: skip

    home = [("K0000001", 1, 1, "LON", "handed_over", "P-LON-0001", AS_OF, 6)]
    released = [("K0000005", 5, 1, "ESX", "P-ESX-0001", None)]
    given = [(4, "LON", "P-LON-0004", 1, session.date, session.quantity)]
    assert (recall.status, recall.sku, recall.lot) == ("recalled", "SERUM-5ML", "PTT6-B0902")
    assert _at_patients(recall) == home
    assert _released(recall) == released
    assert recall.released[0].needed_from is not None
    assert recall.released[0].recalled_on == AS_OF
    assert _sessions(recall) == given
    assert set(recall.kits_flagged) == {f"K000000{i}" for i in range(1, 7)}

    trace = lots.trace(uow(readonly=True), "PTT6-B0902")
    assert (_at_patients(trace), _released(trace), _sessions(trace)) == (home, released, given)
    # the recall's audit row names the released courses by number (no patient reference)
    after = _status_audits(loaded, "SERUM-5ML/PTT6-B0902")[-1][3]
    assert after["released"] == [{"kit": "K0000005", "course": 5, "part": 1}]
    assert "P-ESX-0001" not in str(after)
    assert _ledger_ok(uow)


def test_trace_says_which_released_courses_have_a_kit_again(loaded, uow):
    from kitops.services import fulfilment, kits

    lots.change_status(uow(), "PTT6-B0902", LotStatus.RECALLED, reason="supplier recall",
                       today=AS_OF)  # fmt: skip
    # a fresh lot at ESX makes a kit for course 5 again
    move(uow(), "STAMP-0.5", 1, "ESX-SHELF", "ESX-FRIDGE", lot="DS05-2402", today=AS_OF)
    receive(uow(), ReceiptInput("ESX-FRIDGE", sku="SERUM-5ML", lot="FRESH-1", quantity=6,
                                expiry=(AS_OF + timedelta(days=400)).isoformat()),
            today=AS_OF)  # fmt: skip
    if lots.show(uow(readonly=True), "FRESH-1").status != "released":
        lots.change_status(uow(), "FRESH-1", LotStatus.RELEASED, today=AS_OF)
    made = kits.assemble(uow(), "KIT-HOME-6W", 1, "ESX-FRIDGE", today=AS_OF).kits[0]
    fulfilment.fulfil_course(uow(), 5, today=AS_OF)

    trace = lots.trace(uow(readonly=True), "PTT6-B0902")

    assert _released(trace) == [
        ("K0000001", 1, 1, "LON", "P-LON-0001", None),
        ("K0000005", 5, 1, "ESX", "P-ESX-0001", made.serial),
    ]


def test_trace_counts_what_kits_and_sessions_delivered(loaded, uow):
    session = _recall_week(uow)

    trace = lots.trace(uow(readonly=True), "PTT6-B0902")

    assert trace.delivered_in_kits == 6
    assert trace.delivered == 6 + session.quantity
    # a kit that goes out is still counted among the units in kits (net of disassembly)
    assert trace.in_kits == 6 * 6
    assert _sessions(trace)[0][0] == 4
    assert lots.trace(uow(readonly=True), "K0000001").delivered == 1
    assert lots.trace(uow(readonly=True), "PTT6-A0603").delivered == 0
