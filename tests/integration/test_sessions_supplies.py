"""A clinic session consumes its serum and its plan's session supplies (a stamp within the
plan's needle range, chlorhexidine) at the course's clinic, FEFO among released lots in
date that day, and records every lot, so a trace reaches the patient from each of them.

Course 4 is the demo's weekly clinic course in London (clinic-weekly-6, needle 2 mm),
course 10 its twice-a-week one (clinic-2w-6, 1.2-3 mm) and course 11 the maintenance one
at ESX (clinic-maint-4w, every 4 weeks).
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from types import SimpleNamespace

import pytest
from ledger_support import AS_OF, writes
from sqlalchemy import select

from kitops.data.repositories.lots import Lots
from kitops.data.schema import AuditRow
from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput, Refused
from kitops.services import courses, fulfilment, lots, plans, purchasing, sessions, stock

START_4 = AS_OF + timedelta(days=1)  # course 4's first session (a Monday)


def _shelf(uow, sku: str, location: str = "LON-SHELF") -> int:
    lines = stock.stock_on_hand(
        uow(readonly=True), location=location, include_unavailable=True, today=AS_OF
    )
    return sum(line.quantity for line in lines if line.sku == sku and line.location == location)


def _supplies(record) -> list[tuple[str, str, int, str]]:
    return [(u.sku, u.lot, u.quantity, u.location) for u in record.supplies]


def test_a_session_consumes_its_stamp_and_chlorhexidine_and_the_trace_reaches_the_patient(
    loaded, uow
):
    """The issue's case: STAMP-2.0 at LON stayed at its count after a session."""
    purchasing.set_session_supplies(uow(), "clinic-weekly-6", [("CHX-0.5", 1), ("STAMP-2.0", 1)])
    stamps, chx = _shelf(uow, "STAMP-2.0"), _shelf(uow, "CHX-0.5")

    record = sessions.record_session(uow(), 4, on=START_4, today=START_4)

    assert (_shelf(uow, "STAMP-2.0"), _shelf(uow, "CHX-0.5")) == (stamps - 1, chx - 1)
    assert (record.sku, record.lot, record.quantity) == ("SERUM-5ML", "PTT6-A0519", 1)
    assert _supplies(record) == [
        ("CHX-0.5", "-", 1, "LON-SHELF"),
        ("STAMP-2.0", "DS20-2311", 1, "LON-SHELF"),
    ]
    for code, sku in (("DS20-2311", "STAMP-2.0"), ("-", "CHX-0.5")):
        traced = lots.trace(uow(readonly=True), code, sku=sku)
        assert [(s.course_id, s.patient_ref, s.session_no, s.date, s.quantity, s.clinic)
                for s in traced.sessions] == [(4, "P-LON-0004", 1, START_4, 1, "LON")]  # fmt: skip
        assert any(
            f.to_location == "PATIENT" and f.reason == "session" and f.references == ("course:4",)
            for f in traced.flows
        )
    with uow() as u:  # one audit row for the serum and both supplies
        [audit] = u.session.scalars(
            select(AuditRow).where(AuditRow.action == "session.record")
        ).all()
        assert audit.after["supplies"] == [
            {"sku": "CHX-0.5", "lot": "-", "quantity": 1},
            {"sku": "STAMP-2.0", "lot": "DS20-2311", "quantity": 1},
        ]


def test_a_missing_supply_refuses_the_whole_session_and_writes_nothing(loaded, uow):
    purchasing.set_session_supplies(uow(), "clinic-weekly-6", [("CHX-0.5", 1), ("STAMP-2.0", 1)])
    lots.change_status(uow(), "DS20-2311", LotStatus.QUARANTINE, reason="damaged box",
                       today=AS_OF)  # fmt: skip
    serum = _shelf(uow, "SERUM-5ML", "LON-FRIDGE")
    before = writes(loaded)

    with pytest.raises(Refused, match=r"STAMP-2\.0.*LON") as refused:
        sessions.record_session(uow(), 4, on=START_4, today=START_4)

    assert "\n" not in str(refused.value)
    assert writes(loaded) == before
    assert _shelf(uow, "SERUM-5ML", "LON-FRIDGE") == serum
    assert courses.show_course(uow(readonly=True), 4).sessions_recorded == 0
    check = fulfilment.check_clinic_course(uow(readonly=True), 4, today=AS_OF)
    assert (check.enough, check.covered, check.short_skus) == (False, 0, ("STAMP-2.0",))


def test_a_supply_lot_recalled_while_picked_sends_the_session_round_again(loaded, uow, monkeypatch):
    """The re-check under the share lock: the first time the stamp lot is locked it reads
    as recalled (as if a recall committed between the pick and the lock); that attempt
    writes nothing and the session goes round again, here finding the lot usable."""
    purchasing.set_session_supplies(uow(), "clinic-weekly-6", [("STAMP-2.0", 1)])
    real_lock = Lots.lock
    locked: list[str] = []

    def lock(self, lot, *, share=False):
        row = real_lock(self, lot, share=share)
        locked.append(row.code)
        if row.code == "DS20-2311" and locked.count(row.code) == 1:
            return SimpleNamespace(id=row.id, code=row.code, expiry=row.expiry,
                                   status=LotStatus.RECALLED.value)  # fmt: skip
        return row

    monkeypatch.setattr(Lots, "lock", lock)
    moves, audits = writes(loaded)

    record = sessions.record_session(uow(), 4, on=START_4, today=START_4)

    assert locked.count("DS20-2311") == 2  # the first round stopped at the stamp lot
    assert _supplies(record) == [("STAMP-2.0", "DS20-2311", 1, "LON-SHELF")]
    # one round's writes only: the session's audit row and, its first session, the course's start
    assert writes(loaded) == (moves + 2, audits + 2)


def test_session_supplies_refuse_a_stamp_outside_the_plans_needle_range(loaded, uow):
    before = writes(loaded)
    with pytest.raises(InvalidInput) as bad:
        purchasing.set_session_supplies(uow(), "clinic-weekly-6", [("STAMP-1.2", 1)])
    assert (bad.value.field, bad.value.value) == ("supply", "STAMP-1.2")
    assert "1.2 mm needle" in str(bad.value)
    assert "clinic-weekly-6's 2 mm" in str(bad.value)
    assert writes(loaded) == before
    # within 1.2-3 mm, the in-clinic twice-a-week plan takes it
    assert purchasing.set_session_supplies(uow(), "clinic-2w-6", [("STAMP-2.0", 1)]) == [
        ("STAMP-2.0", 1)
    ]


def test_the_demo_plans_from_the_seeds_and_their_courses(loaded, uow):
    by_code = {p.code: p for p in plans.list_plans(uow(readonly=True))}
    twice = by_code["clinic-2w-6"]
    assert (twice.applications_per_week, twice.weeks, twice.ml_per_application, twice.needle,
            twice.session_supplies) == (2, 6, 2.5, "1.2-3 mm",
                                        (("CHX-0.5", 1), ("STAMP-1.2", 1)))  # fmt: skip
    upkeep = by_code["clinic-maint-4w"]
    assert (upkeep.applications, upkeep.every_weeks, upkeep.needle) == (3, 4, "1.2-3 mm")
    assert by_code["clinic-weekly-6"].needle == "2 mm"
    assert by_code["home-6w"].needle is None

    listed = {c.plan: c for c in courses.list_courses(uow(readonly=True))}
    assert set(listed) == set(by_code)  # one course on each plan
    maintenance = courses.show_course(uow(readonly=True), listed["clinic-maint-4w"].id)
    days = [e.at.date() for e in maintenance.events if e.kind == "application"]
    assert [(b - a).days for a, b in pairwise(days)] == [28, 28]

    # its three sessions, four weeks apart, each take a 1.2 mm stamp and chlorhexidine at ESX
    stamps = _shelf(uow, "STAMP-1.2", "ESX-SHELF")
    for day in days:
        record = sessions.record_session(uow(), maintenance.id, on=day, today=day)
        assert [u.sku for u in record.supplies] == ["CHX-0.5", "STAMP-1.2"]
    assert _shelf(uow, "STAMP-1.2", "ESX-SHELF") == stamps - 3
    done = courses.show_course(uow(readonly=True), maintenance.id)
    assert (done.status, done.sessions_recorded) == ("completed", 3)


def test_twice_a_week_in_the_clinic_the_second_session_finishes_the_vial_the_first_opened(
    loaded, uow
):
    """Half a 5 ml vial a treatment (seed 000): sessions 1, 3, 5 open a vial, 2, 4, 6 use
    its second half, unless its lot may no longer be used or it waited too long."""
    course = courses.show_course(uow(readonly=True), 10)
    days = [e.at.date() for e in course.events if e.kind == "application"]
    fridge = _shelf(uow, "SERUM-5ML", "LON-FRIDGE")

    def record(number: int, day):
        done = sessions.record_session(uow(), 10, on=day, today=day)
        assert done.session_no == number
        return done

    first, second = record(1, days[0]), record(2, days[1])
    assert (first.quantity, first.vial_opened_at) == (1, None)
    assert (second.lot, second.quantity, second.vial_opened_at) == (first.lot, 0, 1)
    assert _shelf(uow, "SERUM-5ML", "LON-FRIDGE") == fridge - 1  # one vial for two sessions
    assert [u.sku for u in second.supplies] == ["CHX-0.5", "STAMP-1.2"]  # a stamp each
    traced = lots.trace(uow(readonly=True), first.lot, sku="SERUM-5ML")
    assert [(s.course_id, s.session_no, s.quantity) for s in traced.sessions] == [
        (10, 1, 1), (10, 2, 0),
    ]  # fmt: skip

    third = record(3, days[2])  # its lot goes to quarantine before the fourth session:
    lots.change_status(uow(), third.lot, LotStatus.QUARANTINE, reason="cold chain",
                       today=days[2])  # fmt: skip
    fourth = record(4, days[3])  # its second half is not used: a fresh vial of another lot
    assert (fourth.quantity, fourth.vial_opened_at) == (1, None)
    assert fourth.lot != third.lot

    fifth = record(5, days[4])
    late = days[4] + timedelta(days=6)  # more than 4 days after the vial was opened
    sixth = record(6, late)
    assert (fifth.quantity, sixth.quantity, sixth.vial_opened_at) == (1, 1, None)
    # sessions 1, 3, 4 (a fresh vial), 5 and 6 (late) opened one each
    assert _shelf(uow, "SERUM-5ML", "LON-FRIDGE") == fridge - 5
