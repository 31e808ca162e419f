"""Fulfilment through the services: one course at a time, the batch, clinic courses and
the pick list.

The demo data is loaded as of ``AS_OF``; its LON kits K0000002-4, ESX kit K0000006 and
VIE kits K0000007-9 are free, K0000001 and K0000005 are reserved for courses 1 and 5.
Some tests add a fourth clinic, MAN, whose stock the test controls completely.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_support import AS_OF, writes

from kitops.domain.kits import NotEnoughComponents
from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput, Refused
from kitops.services import admin, courses, fulfilment, kits, locations, lots, plans, sessions
from kitops.services.dto.courses import PickLine
from kitops.services.operations import ReceiptInput, receive

KIT = "KIT-HOME-6W"
MARGIN = timedelta(days=7)  # the default expiry margin after a vial's last use
FREE_LON = {"K0000002", "K0000003", "K0000004"}


def _ledger_ok(uow) -> bool:
    return admin.check(uow(readonly=True)).ok


def _kit(uow, serial: str):
    return kits.show_kit(uow(readonly=True), serial)


def _course(uow, course_id: int):
    return courses.show_course(uow(readonly=True), course_id)


def _receive(uow, sku, lot, expiry, quantity, *, location="MAN-FRIDGE", short=False):
    given = ReceiptInput(
        location=location,
        sku=sku,
        lot=lot,
        expiry=expiry.isoformat(),
        quantity=quantity,
        accept_short_dated=short,
    )
    receipt = receive(uow(), given, today=AS_OF)
    if receipt.status == LotStatus.QUARANTINE.value:
        lots.change_status(uow(), lot, LotStatus.RELEASED, today=AS_OF)
    return receipt


def _manchester(uow) -> None:
    """A fourth clinic with a fridge and nothing in it."""
    locations.add_location(uow(), "MAN", "Manchester", timezone="Europe/London", currency="GBP")
    locations.add_location(
        uow(), "MAN-STORE", "Manchester stockroom", parent="MAN", kind="stockroom"
    )
    locations.add_location(
        uow(), "MAN-FRIDGE", "Manchester fridge", parent="MAN-STORE", kind="fridge"
    )


def _keys(lines) -> set[tuple[int, int]]:
    return {(line.course_id, line.part) for line in lines}


# --- one course --------------------------------------------------------------------


def test_fulfilling_a_course_reserves_its_kits_once(loaded, uow):
    course3 = _course(uow, 3)

    report = fulfilment.fulfil_course(uow(), 3, today=AS_OF)

    assert report.unserved == ()
    [line] = report.served
    assert (line.course_id, line.patient_ref, line.clinic, line.part) == (3, "P-LON-0003", "LON", 1)
    assert (line.first_use, line.needed_until) == (course3.start, course3.end + MARGIN)
    assert line.kit in FREE_LON
    assert line.reason is None
    kit = _kit(uow, line.kit)
    assert (kit.status, kit.course_id, kit.course_part, kit.patient_ref) == (
        "reserved",
        3,
        1,
        "P-LON-0003",
    )
    assert line.kit_expiry == kit.expiry
    assert [(k.serial, k.course_part) for k in _course(uow, 3).kits] == [(line.kit, 1)]

    before = writes(loaded)
    for course_id in (3, 1):
        with pytest.raises(Refused, match="already has all its kits"):
            fulfilment.fulfil_course(uow(), course_id, today=AS_OF)
    with pytest.raises(InvalidInput) as err:
        fulfilment.fulfil_course(uow(), 4, today=AS_OF)  # treated in clinic
    assert (err.value.field, err.value.value) == ("course", 4)
    assert "--check" in str(err.value)
    for unknown in (999, "abc"):
        with pytest.raises(InvalidInput) as err:
            fulfilment.fulfil_course(uow(), unknown, today=AS_OF)
        assert err.value.field == "course"
    assert writes(loaded) == before

    # home-12w takes two kits: part 1 for weeks 1-6, part 2 for weeks 7-12
    course2 = _course(uow, 2)
    two = fulfilment.fulfil_course(uow(), 2, today=AS_OF).served
    assert [(s.course_id, s.part) for s in two] == [(2, 1), (2, 2)]
    assert {s.kit for s in two} == FREE_LON - {line.kit}
    applications = [e.at.date() for e in course2.events if e.kind == "application"]
    assert [s.first_use for s in two] == [applications[0], applications[12]]
    assert [s.needed_until for s in two] == [applications[11] + MARGIN, course2.end + MARGIN]
    assert [(k.course_part, k.status) for k in _course(uow, 2).kits] == [
        (1, "reserved"),
        (2, "reserved"),
    ]
    assert _ledger_ok(uow)

    # LON is now out of free kits: a new LON course is refused, with where kits are
    start = AS_OF + timedelta(days=15)
    extra = courses.create_course(uow(), "P-LON-0200", "home-6w", start, "LON", today=AS_OF)
    before = writes(loaded)
    with pytest.raises(Refused) as err:
        fulfilment.fulfil_course(uow(), extra.id, today=AS_OF)
    assert str(err.value) == (
        f"course {extra.id} (LON, kit 1 from {start}): needs a kit whose 6th vial is in date "
        f"until {extra.end + MARGIN}; no kit available at LON; ESX has 1 that fit, "
        "VIE has 3 that fit"
    )
    assert writes(loaded) == before
    assert _course(uow, extra.id).kits == ()


def test_a_kit_whose_vials_expire_mid_course_is_not_chosen(loaded, uow):
    _manchester(uow)
    short_expiry = AS_OF + timedelta(days=20)
    before = writes(loaded)
    with pytest.raises(Refused):  # inside the minimum shelf life on receipt
        _receive(uow, "SERUM-5ML", "PTT6-S0001", short_expiry, 6)
    assert writes(loaded) == before
    _receive(uow, "SERUM-5ML", "PTT6-S0001", short_expiry, 6, short=True)
    _receive(uow, "STAMP-0.5", "DS05-9001", AS_OF + timedelta(days=900), 3)

    # the default minimum shelf life keeps the short lot out of kits
    assert kits.available(uow(readonly=True), KIT, "MAN-FRIDGE", today=AS_OF) == 0
    with pytest.raises(NotEnoughComponents) as err:
        kits.assemble(uow(), KIT, 1, "MAN-FRIDGE", today=AS_OF)
    assert [(s.sku, s.usable, s.needed) for s in err.value.shortfalls] == [("SERUM-5ML", 0, 6)]
    assert (
        kits.available(uow(readonly=True), KIT, "MAN-FRIDGE", min_shelf_life_days=0, today=AS_OF)
        == 1
    )
    [short_kit] = kits.assemble(
        uow(), KIT, 1, "MAN-FRIDGE", min_shelf_life_days=0, today=AS_OF
    ).kits
    assert short_kit.expiry == short_expiry

    start = AS_OF + timedelta(days=3)
    course = courses.create_course(uow(), "P-MAN-0001", "home-6w", start, "MAN", today=AS_OF)
    needed_until = course.end + MARGIN
    assert start < short_expiry < needed_until  # its vials would run out mid-course
    before = writes(loaded)
    with pytest.raises(Refused) as err:
        fulfilment.fulfil_course(uow(), course.id, today=AS_OF)
    assert str(err.value) == (
        f"course {course.id} (MAN, kit 1 from {start}): needs a kit whose 6th vial is in date "
        f"until {needed_until}; best available at MAN expires {short_expiry}; "
        "LON has 3 that fit, ESX has 1 that fit, VIE has 3 that fit"
    )
    assert writes(loaded) == before
    assert _kit(uow, short_kit.serial).status == "available"

    # a long-dated kit arrives: it is chosen though the short one expires first
    _receive(uow, "SERUM-5ML", "PTT6-S0002", AS_OF + timedelta(days=300), 6)
    [long_kit] = kits.assemble(uow(), KIT, 1, "MAN-FRIDGE", today=AS_OF).kits
    [line] = fulfilment.fulfil_course(uow(), course.id, today=AS_OF).served
    assert (line.kit, line.kit_expiry) == (long_kit.serial, long_kit.expiry)
    assert _kit(uow, short_kit.serial).status == "available"

    # the short kit does serve a course that ends (plus margin) by its expiry
    plans.add_plan(
        uow(),
        "home-2w",
        "At-home 2 weeks",
        per_week=2,
        weeks=2,
        ml="2.5",
        administered="home",
        kit=KIT,
        kits=1,
    )
    brief = courses.create_course(uow(), "P-MAN-0002", "home-2w", start, "MAN", today=AS_OF)
    assert brief.end + MARGIN == short_expiry  # in date on its expiry day itself
    [line] = fulfilment.fulfil_course(uow(), brief.id, today=AS_OF).served
    assert line.kit == short_kit.serial
    assert _ledger_ok(uow)


def test_clinic_courses_are_checked_for_enough_in_date_serum(loaded, uow):
    check = fulfilment.check_clinic_course(uow(readonly=True), 4, today=AS_OF)
    assert (
        check.course_id,
        check.clinic,
        check.sessions_left,
        check.covered,
        check.enough,
        check.shortfall_dates,
    ) == (4, "LON", 6, 6, True, ())
    with pytest.raises(Refused, match="at home"):
        fulfilment.check_clinic_course(uow(readonly=True), 1, today=AS_OF)

    _manchester(uow)
    short_expiry = AS_OF + timedelta(days=20)
    _receive(uow, "SERUM-5ML", "PTT6-S0001", short_expiry, 3, short=True)
    course = courses.create_course(
        uow(), "P-MAN-0003", "clinic-weekly-6", AS_OF + timedelta(days=1), "MAN", today=AS_OF
    )
    days = [e.at.date() for e in course.events if e.kind == "application"]
    assert len(days) == 6
    assert days[2] <= short_expiry < days[3]

    assert days[1] + MARGIN <= short_expiry < days[2] + MARGIN

    check = fulfilment.check_clinic_course(uow(readonly=True), course.id, today=AS_OF)
    # in date on the third session's day, but not for the margin after it: planned short
    assert (check.sessions_left, check.covered, check.enough, check.shortfall_dates) == (
        6,
        2,
        False,
        tuple(days[2:]),
    )

    session = sessions.record_session(uow(), course.id, on=days[0], today=days[0])
    assert (session.lot, session.location, session.quantity) == ("PTT6-S0001", "MAN-FRIDGE", 1)
    check = fulfilment.check_clinic_course(uow(readonly=True), course.id, today=AS_OF)
    assert (check.sessions_left, check.covered, check.enough) == (5, 1, False)
    before = writes(loaded)
    with pytest.raises(Refused, match="in date"):
        # the lot is out of date by then
        sessions.record_session(uow(), course.id, on=days[3], today=days[3])
    assert writes(loaded) == before
    assert _course(uow, course.id).sessions_recorded == 1
    assert _ledger_ok(uow)


# --- the batch ---------------------------------------------------------------------


def test_the_batch_serves_courses_due_in_the_window_and_explains_the_rest(loaded, uow):
    before = writes(loaded)
    for bad in (-1, 367):
        with pytest.raises(InvalidInput) as err:
            fulfilment.fulfil_due(uow(), within_days=bad, today=AS_OF)
        assert err.value.field == "due-within"
    nothing = fulfilment.fulfil_due(uow(), within_days=0, today=AS_OF)  # no course starts today
    assert (nothing.served, nothing.unserved) == ((), ())
    assert writes(loaded) == before

    report = fulfilment.fulfil_due(uow(), within_days=14, today=AS_OF)

    # courses 1 and 5 already hold their kit; 4 and 9 are clinic courses; 6 starts later
    assert _keys(report.served) == {(7, 1), (2, 1), (3, 1)}
    assert [(s.first_use, s.course_id) for s in report.served] == sorted(
        (s.first_use, s.course_id) for s in report.served
    )
    for line in report.served:
        course = _course(uow, line.course_id)
        assert line.first_use == course.start <= AS_OF + timedelta(days=14)
        kit = _kit(uow, line.kit)
        assert (kit.status, kit.course_id, kit.course_part, kit.clinic) == (
            "reserved",
            line.course_id,
            1,
            course.clinic,
        )
        assert kit.expiry == line.kit_expiry >= line.needed_until
        assert line.reason is None
    assert {s.kit for s in report.served if s.clinic == "LON"} < FREE_LON
    [unserved] = report.unserved
    course8 = _course(uow, 8)
    assert (unserved.course_id, unserved.part, unserved.kit) == (8, 1, None)
    assert unserved.reason == (
        f"course 8 (VIE, kit 1 from {course8.start}): needs a kit whose 12th vial is in date "
        f"until {course8.end + MARGIN}; no kit available at VIE"
    )
    assert _course(uow, 6).kits == ()  # starts in 20 days
    assert [k.course_part for k in _course(uow, 2).kits] == [1]  # part 2 from week 7
    assert _ledger_ok(uow)

    again = fulfilment.fulfil_due(uow(), within_days=14, today=AS_OF)
    assert again.served == ()
    assert _keys(again.unserved) == {(8, 1)}

    later = fulfilment.fulfil_due(uow(), within_days=60, today=AS_OF)
    assert _keys(later.served) == {(2, 2), (6, 1)}  # held parts are skipped
    assert {s.kit for s in later.served} == {
        "K0000006",
        *(FREE_LON - {s.kit for s in report.served}),
    }
    assert [k.course_part for k in _course(uow, 2).kits] == [1, 2]
    with pytest.raises(Refused, match="already has all its kits"):
        fulfilment.fulfil_course(uow(), 2, today=AS_OF)
    assert _ledger_ok(uow)


def test_the_preview_is_the_batch_without_writing(loaded, uow):
    before = writes(loaded)
    with pytest.raises(InvalidInput):
        fulfilment.preview_due(uow(readonly=True), within_days=400, today=AS_OF)
    preview = fulfilment.preview_due(uow(readonly=True), within_days=14, today=AS_OF)
    vie = fulfilment.preview_due(uow(readonly=True), within_days=14, clinic="VIE", today=AS_OF)
    assert writes(loaded) == before
    assert _keys(preview.served) == {(7, 1), (2, 1), (3, 1)}
    assert _keys(preview.unserved) == {(8, 1)}
    assert _keys(vie.served) == {(7, 1)}
    assert vie.unserved == preview.unserved

    done = fulfilment.fulfil_due(uow(), within_days=14, today=AS_OF)

    assert done == preview  # the same kits, in the same order, with the same reasons
    after = fulfilment.preview_due(uow(readonly=True), within_days=14, today=AS_OF)
    assert (after.served, after.unserved) == ((), preview.unserved)


def test_the_batch_by_clinic_and_the_pick_list(loaded, uow):
    k1 = _kit(uow, "K0000001")
    assert fulfilment.pick_list(uow(readonly=True), "LON", on=AS_OF) == [
        PickLine("K0000001", "LON-FRIDGE", k1.expiry, 1, "P-LON-0001", 1, AS_OF + timedelta(days=3))
    ]

    lon = fulfilment.fulfil_due(uow(), within_days=14, clinic="LON", today=AS_OF)

    assert _keys(lon.served) == {(2, 1), (3, 1)}
    assert {s.clinic for s in lon.served} == {"LON"}
    assert lon.unserved == ()
    assert _course(uow, 7).kits == ()  # VIE is left alone
    fortnight = fulfilment.pick_list(uow(readonly=True), "LON", on=AS_OF, days=14)
    assert [(p.course_id, p.part, p.due) for p in fortnight] == [
        (1, 1, AS_OF + timedelta(days=3)),
        (2, 1, AS_OF + timedelta(days=10)),
        (3, 1, AS_OF + timedelta(days=12)),
    ]
    assert {p.serial for p in fortnight[1:]} == {s.kit for s in lon.served}
    assert all(p.location == "LON-FRIDGE" for p in fortnight)
    assert [p.serial for p in fulfilment.pick_list(uow(readonly=True), "LON", on=AS_OF)] == [
        "K0000001"
    ]
    assert [
        (p.serial, p.course_id) for p in fulfilment.pick_list(uow(readonly=True), "ESX", on=AS_OF)
    ] == [("K0000005", 5)]

    kits.dispatch(uow(), "K0000001", tracking="RM123456789GB", today=AS_OF)
    assert [
        p.course_id for p in fulfilment.pick_list(uow(readonly=True), "LON", on=AS_OF, days=14)
    ] == [2, 3]

    vie = fulfilment.fulfil_due(uow(), within_days=14, clinic="VIE", today=AS_OF)
    assert (_keys(vie.served), _keys(vie.unserved)) == ({(7, 1)}, {(8, 1)})
    before = writes(loaded)
    with pytest.raises(InvalidInput) as err:
        fulfilment.fulfil_due(uow(), within_days=14, clinic="LON-FRIDGE", today=AS_OF)
    assert err.value.field == "clinic"
    with pytest.raises(InvalidInput) as err:
        fulfilment.pick_list(uow(readonly=True), "ATLANTIS", on=AS_OF)
    assert err.value.field == "clinic"
    assert writes(loaded) == before
    assert _ledger_ok(uow)
