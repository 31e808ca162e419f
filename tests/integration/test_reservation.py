"""Reserving a course's kit on the fast paths: stored need dates, the one-statement
reservation on PostgreSQL, and the cases where it must hand over to the general path.

The demo data is loaded as of ``AS_OF``. Tests that control the stock completely use a
fourth clinic, MAN, whose fridge starts empty.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from ledger_support import AS_OF
from sqlalchemy import delete, event, select, update

from kitops.data.schema import AuditRow, CourseKitNeedRow, SettingRow
from kitops.domain.ledger import LotStatus
from kitops.errors import Refused
from kitops.services import catalog, courses, fulfilment, kits, locations, lots, users
from kitops.services.operations import ReceiptInput, receive

KIT = "KIT-HOME-6W"


def _manchester(uow) -> None:
    locations.add_location(uow(), "MAN", "Manchester", timezone="Europe/London", currency="GBP")
    locations.add_location(uow(), "MAN-FRIDGE", "Manchester fridge", parent="MAN", kind="fridge")


def _receive(uow, sku: str, lot: str, expiry: date, quantity: int) -> None:
    given = ReceiptInput(
        location="MAN-FRIDGE", sku=sku, lot=lot, expiry=expiry.isoformat(),
        quantity=quantity, accept_short_dated=True,
    )  # fmt: skip
    if receive(uow(), given, today=AS_OF).status == LotStatus.QUARANTINE.value:
        lots.change_status(uow(), lot, LotStatus.RELEASED, today=AS_OF)


def _assemble(uow) -> str:
    [kit] = kits.assemble(uow(), KIT, 1, "MAN-FRIDGE", min_shelf_life_days=0, today=AS_OF).kits
    return kit.serial


def _stored(uow, course_id: int) -> list[tuple[int, date, date, date]]:
    with uow(readonly=True) as unit:
        rows = unit.session.execute(
            select(
                CourseKitNeedRow.part, CourseKitNeedRow.first_use,
                CourseKitNeedRow.earliest_vial_last_use, CourseKitNeedRow.last_use,
            )
            .where(CourseKitNeedRow.course_id == course_id)
            .order_by(CourseKitNeedRow.part)
        )  # fmt: skip
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _fulfil_audits(uow, course_id: int) -> list[tuple[str, dict]]:
    with uow(readonly=True) as unit:
        rows = unit.session.execute(
            select(AuditRow.actor, AuditRow.after).where(
                AuditRow.action == "course.fulfil", AuditRow.entity_key == str(course_id)
            )
        )
        return [(actor, after) for actor, after in rows]


def test_creating_a_course_stores_when_each_kit_is_used(loaded, uow):
    start = date(2026, 12, 7)  # a Monday
    course = courses.create_course(
        uow(), "P-LON-0100", "home-12w", start, "LON", weekdays="mon,thu", today=AS_OF
    )

    applications = [e.at.date() for e in course.events if e.kind == "application"]
    assert len(applications) == 24
    # kit 1 serves applications 1-12, kit 2 13-24; each 5 ml vial serves two 2.5 ml
    # applications, so the first vial's last use is the 2nd application of its kit
    assert _stored(uow, course.id) == [
        (1, applications[0], applications[1], applications[11]),
        (2, applications[12], applications[13], applications[23]),
    ]


def test_a_clinic_course_stores_no_kit_dates(loaded, uow):
    course = courses.create_course(
        uow(), "P-LON-0101", "clinic-weekly-6", AS_OF, "LON", today=AS_OF
    )
    assert _stored(uow, course.id) == []


def test_one_kit_course_is_reserved_with_the_earliest_fitting_kit_and_audited(
    loaded, uow, db, backend
):
    _manchester(uow)
    _receive(uow, "STAMP-0.5", "DS05-7001", AS_OF + timedelta(days=900), 3)
    for lot, days in (("LATE-0001", 300), ("EARLY-0001", 120), ("MID-0001", 200)):
        _receive(uow, "SERUM-5ML", lot, AS_OF + timedelta(days=days), 6)
    serials = {}
    for lot in ("LATE-0001", "EARLY-0001", "MID-0001"):
        serials[lot] = _assemble(uow)  # FEFO: the earliest lot goes into the first kit
    course = courses.create_course(uow(), "P-MAN-0100", "home-6w", AS_OF + timedelta(days=3),
                                   "MAN", today=AS_OF)  # fmt: skip
    statements: list[str] = []

    def count(*args) -> None:
        statements.append(args[2])

    users.add_user(uow(), "alice", "stockroom")
    event.listen(db.engine, "before_cursor_execute", count)
    report = fulfilment.fulfil_course(uow(actor="alice"), course.id, today=AS_OF)
    event.remove(db.engine, "before_cursor_execute", count)

    [line] = report.served
    earliest = min(serials.values(), key=lambda s: kits.show_kit(uow(readonly=True), s).expiry)
    assert line.kit == earliest
    assert kits.show_kit(uow(readonly=True), earliest).expiry == AS_OF + timedelta(days=120)
    assert (line.course_id, line.patient_ref, line.clinic, line.part) == (
        course.id, "P-MAN-0100", "MAN", 1,
    )  # fmt: skip
    assert (line.first_use, line.needed_until) == (course.start, course.end + timedelta(days=7))
    shown = kits.show_kit(uow(readonly=True), earliest)
    assert (shown.status, shown.course_id, shown.course_part) == ("reserved", course.id, 1)
    assert _fulfil_audits(uow, course.id) == [("alice", {"kits": {"1": earliest}})]
    # PostgreSQL: one statement on the driver connection (it checks alice's role too),
    # none through SQLAlchemy
    assert (statements == []) is (backend == "postgresql")


def test_a_user_who_may_not_fulfil_is_refused_and_audited_on_every_backend(loaded, uow):
    course = courses.create_course(uow(), "P-LON-0105", "home-6w", AS_OF + timedelta(days=4),
                                   "LON", today=AS_OF)  # fmt: skip
    users.add_user(uow(), "robot", "job")
    users.add_user(uow(), "bob", "stockroom")
    users.set_active(uow(), "bob", False)

    for name in ("robot", "bob", "nobody"):
        with pytest.raises(Refused):
            fulfilment.fulfil_course(uow(actor=name), course.id, today=AS_OF)
    assert _fulfil_audits(uow, course.id) == []
    assert all(k.course_id != course.id for k in kits.list_kits(uow(readonly=True)))
    with uow(readonly=True) as unit:
        refused = unit.session.scalars(
            select(AuditRow.actor).where(AuditRow.action == "access.refused")
        ).all()
    assert sorted(refused) == ["bob", "nobody", "robot"]


def test_the_expiry_margin_setting_is_applied_to_stored_need_dates(loaded, uow):
    _manchester(uow)
    _receive(uow, "STAMP-0.5", "DS05-7002", AS_OF + timedelta(days=900), 3)
    course = courses.create_course(uow(), "P-MAN-0101", "home-6w", AS_OF + timedelta(days=3),
                                   "MAN", today=AS_OF)  # fmt: skip
    last_use = _stored(uow, course.id)[0][3]
    # every vial of this kit is in date 10 days after the last use: enough for a 7-day
    # margin, not for a 14-day one
    _receive(uow, "SERUM-5ML", "MARGIN-0001", last_use + timedelta(days=10), 6)
    serial = _assemble(uow)
    with uow() as unit:
        unit.session.execute(
            update(SettingRow).where(SettingRow.key == "expiry_margin_days").values(value="14")
        )
        unit.commit()

    with pytest.raises(Refused) as err:
        fulfilment.fulfil_course(uow(), course.id, today=AS_OF)
    assert f"in date until {last_use + timedelta(days=14)}" in str(err.value)
    assert kits.show_kit(uow(readonly=True), serial).status == "available"

    with uow() as unit:
        unit.session.execute(
            update(SettingRow).where(SettingRow.key == "expiry_margin_days").values(value="7")
        )
        unit.commit()
    [line] = fulfilment.fulfil_course(uow(), course.id, today=AS_OF).served
    assert (line.kit, line.needed_until) == (serial, last_use + timedelta(days=7))


def test_a_mixed_lot_kit_that_fits_vial_by_vial_is_preferred(loaded, uow):
    _manchester(uow)
    _receive(uow, "STAMP-0.5", "DS05-7003", AS_OF + timedelta(days=900), 3)
    course = courses.create_course(uow(), "P-MAN-0102", "home-6w", AS_OF + timedelta(days=3),
                                   "MAN", today=AS_OF)  # fmt: skip
    [(_, _, first_vial_last_use, last_use)] = _stored(uow, course.id)
    # one vial lasts past the first vial's need but not to the end: used first, it fits
    short = first_vial_last_use + timedelta(days=10)
    assert short < last_use
    _receive(uow, "SERUM-5ML", "SHORT-0001", short, 1)
    _receive(uow, "SERUM-5ML", "LONG-0001", AS_OF + timedelta(days=300), 5)
    mixed = _assemble(uow)
    _receive(uow, "SERUM-5ML", "LONG-0002", AS_OF + timedelta(days=250), 6)
    lasting = _assemble(uow)
    assert kits.show_kit(uow(readonly=True), mixed).expiry == short

    [line] = fulfilment.fulfil_course(uow(), course.id, today=AS_OF).served

    assert line.kit == mixed
    assert kits.show_kit(uow(readonly=True), lasting).status == "available"


def test_a_two_kit_course_is_all_or_nothing(loaded, uow):
    _manchester(uow)
    _receive(uow, "STAMP-0.5", "DS05-7004", AS_OF + timedelta(days=900), 3)
    course = courses.create_course(uow(), "P-MAN-0103", "home-12w", AS_OF + timedelta(days=3),
                                   "MAN", today=AS_OF)  # fmt: skip
    [kit1, kit2] = _stored(uow, course.id)
    # one kit lasts for kit 1's share, nothing lasts for kit 2's
    _receive(uow, "SERUM-5ML", "HALF-0001", kit1[3] + timedelta(days=8), 6)
    serial = _assemble(uow)
    assert kit1[3] + timedelta(days=8) < kit2[1] + timedelta(days=7)  # useless for kit 2

    with pytest.raises(Refused, match="kit 2 from"):
        fulfilment.fulfil_course(uow(), course.id, today=AS_OF)
    assert kits.show_kit(uow(readonly=True), serial).status == "available"
    assert _fulfil_audits(uow, course.id) == []

    _receive(uow, "SERUM-5ML", "FULL-0001", AS_OF + timedelta(days=300), 6)
    second = _assemble(uow)
    served = fulfilment.fulfil_course(uow(), course.id, today=AS_OF).served
    assert [(line.part, line.kit) for line in served] == [(1, serial), (2, second)]
    assert _fulfil_audits(uow, course.id) == [("tester", {"kits": {"1": serial, "2": second}})]


def test_changing_a_kit_recipe_forgets_the_stored_dates_until_next_needed(loaded, uow):
    course = courses.create_course(uow(), "P-LON-0104", "home-6w", AS_OF + timedelta(days=4),
                                   "LON", today=AS_OF)  # fmt: skip
    stored = _stored(uow, course.id)
    assert stored

    catalog.set_recipe(uow(), KIT, ["SERUM-5ML=6", "STAMP-0.5=1"])
    assert _stored(uow, course.id) == []

    [line] = fulfilment.fulfil_course(uow(), course.id, today=AS_OF).served
    assert line.kit is not None
    assert _stored(uow, course.id) == stored


def test_missing_need_dates_are_filled_in_for_scheduled_home_courses(loaded, uow):
    with uow() as unit:
        unit.session.execute(delete(CourseKitNeedRow))
        unit.commit()
    scheduled_home = [
        c for c in courses.list_courses(uow(readonly=True), status="scheduled")
        if c.plan in ("home-6w", "home-12w", "ptt6-weekly-12")
    ]  # fmt: skip
    assert scheduled_home

    assert courses.store_missing_kit_needs(uow()) == len(scheduled_home)
    assert courses.store_missing_kit_needs(uow()) == 0
    for course in scheduled_home:
        assert len(_stored(uow, course.id)) == (2 if course.plan == "home-12w" else 1)
