"""Kits and courses through the services: assembly, disassembly, recipes, courses and
their calendar, clinic sessions, shipping, returns and recalls.

The demo data is loaded as of ``AS_OF`` (see ``loaded``) and that day is passed to every
service that judges "today"; dates that a test chooses (a course's start, a session's
day) are counted from ``AS_OF`` too.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from ledger_support import AS_OF, writes

from kitops.data.schema import SettingRow
from kitops.domain.kits import NotEnoughComponents
from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput, KitopsError, Refused
from kitops.services import admin, catalog, courses, fulfilment, kits, lots, sessions, stock
from kitops.services.operations import move, write_off
from kitops.views import previews

KIT = "KIT-HOME-6W"
FRIDGE = "LON-FRIDGE"
# The default minimum shelf life of KIT-HOME-6W: one kit of its shortest plan (home-6w, and
# each of home-12w's two kits, six weeks) + margin.
DEFAULT_SHELF_DAYS = 6 * 7 + 7


def _on_hand(uow, location: str = FRIDGE) -> dict[tuple[str, str], int]:
    """(sku, lot) → units at one place, whatever their status."""
    lines = stock.stock_on_hand(
        uow(readonly=True), location=location, include_unavailable=True, today=AS_OF
    )
    return {(line.sku, line.lot): line.quantity for line in lines if line.location == location}


def _ledger_ok(uow) -> bool:
    return admin.check(uow(readonly=True)).ok


def _stamps_to_fridge(uow, quantity: int, clinic: str = "LON") -> None:
    move(
        uow(),
        "STAMP-0.5",
        quantity,
        f"{clinic}-SHELF",
        f"{clinic}-FRIDGE",
        lot="DS05-2402",
        today=AS_OF,
    )


def _kit(uow, serial: str):
    return kits.show_kit(uow(readonly=True), serial, today=AS_OF)


def _serum_lot_expiry(uow, code: str):
    return lots.show(uow(readonly=True), code).expiry


# --- assembly ----------------------------------------------------------------------


def test_assembly_builds_serialised_kits_and_moves_the_components_on_the_ledger(loaded, uow):
    # the clinic's stock counts wherever in it it lies: moving stamps changes nothing
    anywhere = kits.available(uow(readonly=True), KIT, FRIDGE, today=AS_OF)
    _stamps_to_fridge(uow, 15)
    assert kits.available(uow(readonly=True), KIT, FRIDGE, today=AS_OF) == anywhere
    before = _on_hand(uow)
    fresh_until = AS_OF + timedelta(days=DEFAULT_SHELF_DAYS)
    # the min rule, worked out from the stock: only lots lasting the default shelf life
    serum = stock.stock_on_hand(uow(readonly=True), location=FRIDGE, sku="SERUM-5ML", today=AS_OF)
    usable_serum = sum(line.quantity for line in serum if line.expiry >= fresh_until)
    # A0519 is too short; A0603 (52 days) and B0902 last
    assert usable_serum == before[("SERUM-5ML", "PTT6-A0603")] + before[("SERUM-5ML", "PTT6-B0902")]
    expected = min(usable_serum // 6, before[("STAMP-0.5", "DS05-2402")] // 1)
    assert expected == usable_serum // 6 < 15  # serum is the limit here
    assert kits.available(uow(readonly=True), KIT, FRIDGE, today=AS_OF) == expected

    result = kits.assemble(uow(), KIT, 3, FRIDGE, today=AS_OF)

    assert (result.sku, result.location, result.min_expiry) == (KIT, FRIDGE, fresh_until)
    serials = [k.serial for k in result.kits]
    assert len(set(serials)) == 3
    assert all(re.fullmatch(r"K\d{7}", s) for s in serials), serials
    assert not set(serials) & {f"K000000{i}" for i in range(1, 10)}  # the demo's kits
    serum_expiry = _serum_lot_expiry(uow, "PTT6-A0603")  # first expiry first out
    stamp_expiry = lots.show(uow(readonly=True), "DS05-2402").expiry
    for made in result.kits:
        assert (made.sku, made.location, made.clinic, made.status) == (
            KIT,
            FRIDGE,
            "LON",
            "available",
        )
        assert (made.recalled, made.course_id, made.patient_ref) == (False, None, None)
        parts = {(c.sku, c.lot, c.expiry, c.quantity) for c in made.components}
        assert parts == {
            ("SERUM-5ML", "PTT6-A0603", serum_expiry, 6),
            ("STAMP-0.5", "DS05-2402", stamp_expiry, 1),
        }
        assert made.expiry == min(c.expiry for c in made.components) == serum_expiry
        assert _kit(uow, made.serial) == made
    after = _on_hand(uow)
    assert after[("SERUM-5ML", "PTT6-A0603")] == before[("SERUM-5ML", "PTT6-A0603")] - 18
    assert after[("SERUM-5ML", "PTT6-B0902")] == before[("SERUM-5ML", "PTT6-B0902")]
    assert after[("STAMP-0.5", "DS05-2402")] == before[("STAMP-0.5", "DS05-2402")] - 3
    assert {lot: qty for (sku, lot), qty in after.items() if sku == KIT} == {
        **{lot: qty for (sku, lot), qty in before.items() if sku == KIT},
        **{serial: 1 for serial in serials},
    }
    listed = kits.list_kits(uow(readonly=True), status="available", location="LON", sku=KIT)
    assert set(serials) <= {k.serial for k in listed}
    assert kits.available(uow(readonly=True), KIT, FRIDGE, today=AS_OF) == expected - 3
    assert _ledger_ok(uow)


def test_assembly_is_all_or_nothing_and_names_every_short_component(loaded, uow):
    _stamps_to_fridge(uow, 3)
    # the rest of London's stamps go to quarantine, where assembly never draws from
    shelf = _on_hand(uow, "LON-SHELF")[("STAMP-0.5", "DS05-2402")]
    move(uow(), "STAMP-0.5", shelf, "LON-SHELF", "LON-QUAR", lot="DS05-2402", today=AS_OF)
    on_hand = _on_hand(uow)
    usable_serum = on_hand[("SERUM-5ML", "PTT6-A0603")] + on_hand[("SERUM-5ML", "PTT6-B0902")]
    wanted = usable_serum // 6 + 1
    assert wanted > 3
    kits_before = kits.list_kits(uow(readonly=True))
    before = writes(loaded)

    with pytest.raises(NotEnoughComponents) as err:
        kits.assemble(uow(), KIT, wanted, FRIDGE, today=AS_OF)

    assert {(s.sku, s.needed, s.usable, s.missing) for s in err.value.shortfalls} == {
        ("SERUM-5ML", 6 * wanted, usable_serum, 6 * wanted - usable_serum),
        ("STAMP-0.5", wanted, 3, wanted - 3),
    }
    message = str(err.value)
    assert "none assembled" in message
    assert f"SERUM-5ML: {6 * wanted - usable_serum} short" in message
    assert f"STAMP-0.5: {wanted - 3} short (3 usable, {wanted} needed)" in message
    assert writes(loaded) == before
    assert kits.list_kits(uow(readonly=True)) == kits_before

    for bad in (0, -1, "x"):
        with pytest.raises(InvalidInput) as bad_err:
            kits.assemble(uow(), KIT, bad, FRIDGE, today=AS_OF)
        assert bad_err.value.field == "qty"
    with pytest.raises(InvalidInput) as not_kit:
        kits.assemble(uow(), "SERUM-5ML", 1, FRIDGE, today=AS_OF)
    assert not_kit.value.field == "recipe"
    assert writes(loaded) == before

    # exactly what is possible works, and then nothing more is
    assert len(kits.assemble(uow(), KIT, 3, FRIDGE, today=AS_OF).kits) == 3
    assert kits.available(uow(readonly=True), KIT, FRIDGE, today=AS_OF) == 0
    assert _ledger_ok(uow)


def test_minimum_shelf_life_keeps_short_dated_lots_out_of_kits(loaded, uow):
    _stamps_to_fridge(uow, 15)
    on_hand = _on_hand(uow)
    a0519, a0603, b0902 = (
        on_hand[("SERUM-5ML", code)] for code in ("PTT6-A0519", "PTT6-A0603", "PTT6-B0902")
    )
    stamps = 15 + _on_hand(uow, "LON-SHELF")[("STAMP-0.5", "DS05-2402")]  # the whole clinic's
    # A0412 is past its expiry (still "released" until the sweep): never counted
    assert on_hand[("SERUM-5ML", "PTT6-A0412")] > 0
    available = {
        days: kits.available(uow(readonly=True), KIT, FRIDGE, min_shelf_life_days=days, today=AS_OF)
        for days in (0, 30, 60, DEFAULT_SHELF_DAYS, 400)
    }
    assert available == {
        0: min((a0519 + a0603 + b0902) // 6, stamps),
        30: min((a0603 + b0902) // 6, stamps),
        60: min(b0902 // 6, stamps),
        DEFAULT_SHELF_DAYS: min((a0603 + b0902) // 6, stamps),
        400: 0,
    }

    # by default the FEFO-first lot A0519 is too short: A0603 (52 days) is used
    default = kits.assemble(uow(), KIT, 1, FRIDGE, today=AS_OF).kits[0]
    assert {c.lot for c in default.components} == {"PTT6-A0603", "DS05-2402"}
    # with a minimum beyond A0603's 52 days, B0902
    longer = kits.assemble(uow(), KIT, 1, FRIDGE, min_shelf_life_days=60, today=AS_OF).kits[0]
    assert {c.lot for c in longer.components} == {"PTT6-B0902", "DS05-2402"}
    # with no minimum, first expiry first out: A0519, never the expired A0412
    short = kits.assemble(uow(), KIT, 1, FRIDGE, min_shelf_life_days=0, today=AS_OF).kits[0]
    assert {c.lot for c in short.components} == {"PTT6-A0519", "DS05-2402"}
    assert short.expiry == _serum_lot_expiry(uow, "PTT6-A0519") < default.expiry
    with pytest.raises(InvalidInput) as err:
        kits.assemble(uow(), KIT, 1, FRIDGE, min_shelf_life_days=-1, today=AS_OF)
    assert err.value.field == "min_shelf_life"
    assert _ledger_ok(uow)


def test_at_home_kit_refuses_long_stamps_at_recipe_and_at_assembly(loaded, uow):
    recipe_before = {p.sku: p.recipe for p in catalog.list_products(uow(readonly=True))}
    before = writes(loaded)

    for stamp in ("STAMP-1.2", "STAMP-2.0"):
        with pytest.raises(InvalidInput) as err:
            catalog.set_recipe(uow(), KIT, ["SERUM-5ML=6", f"{stamp}=1"])
        assert (err.value.field, err.value.value) == ("component", stamp)

    assert writes(loaded) == before
    assert {p.sku: p.recipe for p in catalog.list_products(uow(readonly=True))} == recipe_before
    # 0.6 mm is the at-home maximum itself: allowed
    ptt6 = catalog.set_recipe(uow(), "KIT-HOME-PTT6", ["SERUM-5ML=12", "STAMP-0.6=1"])
    assert {(line.component_sku, line.quantity) for line in ptt6.recipe} == {
        ("SERUM-5ML", 12),
        ("STAMP-0.6", 1),
    }

    # the setting is lowered after the recipe was accepted: assembly checks again
    with loaded.write_sessions() as session:
        session.merge(SettingRow(key="at_home_max_needle_mm", value="0.4"))
        session.commit()
    _stamps_to_fridge(uow, 2)
    before = writes(loaded)
    with pytest.raises(InvalidInput) as err:
        kits.assemble(uow(), KIT, 1, FRIDGE, today=AS_OF)
    assert err.value.field == "recipe"
    assert "STAMP-0.5" in str(err.value)
    assert "0.4 mm" in str(err.value)
    assert writes(loaded) == before
    # and `kit available` says the same instead of counting kits that cannot be made
    with pytest.raises(InvalidInput, match=r"STAMP-0\.5.*0\.4 mm"):
        kits.available(uow(readonly=True), KIT, FRIDGE, today=AS_OF)


def test_disassembly_returns_components_to_their_lots_and_refuses_reserved_kits(loaded, uow):
    _stamps_to_fridge(uow, 2)
    before_assembly = _on_hand(uow)
    available_before = kits.available(uow(readonly=True), KIT, FRIDGE, today=AS_OF)
    made = kits.assemble(uow(), KIT, 1, FRIDGE, today=AS_OF).kits[0]
    assert kits.available(uow(readonly=True), KIT, FRIDGE, today=AS_OF) == available_before - 1

    taken_apart = kits.disassemble(uow(), made.serial)

    assert (taken_apart.serial, taken_apart.status) == (made.serial, "disassembled")
    assert _on_hand(uow) == before_assembly  # components back, the kit gone from the fridge
    assert kits.available(uow(readonly=True), KIT, FRIDGE, today=AS_OF) == available_before
    assert made.serial not in {
        k.serial for k in kits.list_kits(uow(readonly=True), status="available")
    }
    assert _ledger_ok(uow)

    reserved = _kit(uow, "K0000001")
    assert (reserved.status, reserved.course_id) == ("reserved", 1)
    before = writes(loaded)
    for serial, state in (("K0000001", "reserved"), (made.serial, "disassembled")):
        with pytest.raises(Refused, match=state):
            kits.disassemble(uow(), serial)
    with pytest.raises(InvalidInput) as err:
        kits.disassemble(uow(), "K9999999")
    assert err.value.field == "serial"
    assert writes(loaded) == before
    assert _kit(uow, "K0000001") == reserved


# --- courses -----------------------------------------------------------------------


def test_course_creation_lays_out_the_calendar_and_refuses_bad_input(loaded, uow):
    start = AS_OF + timedelta(days=8)  # a Monday
    assert start.weekday() == 0

    course = courses.create_course(uow(), "P-LON-0100", "home-6w", start, "LON", today=AS_OF)

    assert (course.patient_ref, course.plan, course.clinic, course.start) == (
        "P-LON-0100",
        "home-6w",
        "LON",
        start,
    )
    assert (course.weekdays, course.status, course.kits, course.sessions_recorded) == (
        "mon,thu",
        "scheduled",
        (),
        0,
    )
    applications = [e for e in course.events if e.kind == "application"]
    assert [e.number for e in applications] == list(range(1, 13))
    days = [e.at.date() for e in applications]
    assert days[0] == start
    assert days[-1] == course.end == start + timedelta(weeks=5, days=3)
    assert {d.weekday() for d in days} == {0, 3}
    assert [(e.kit_part, e.vial) for e in applications] == [
        (1, v) for v in range(1, 7) for _ in (0, 1)
    ]
    assert all(e.at.hour == 9 for e in applications)
    assert [e.kind for e in course.events].count("followup") == 2
    assert courses.show_course(uow(readonly=True), course.id) == course
    # a course across the clock change keeps its local hour (Vienna, end of March 2027)
    spring = courses.create_course(uow(), "P-VIE-0100", "home-6w", "2027-03-15", "VIE", today=AS_OF)
    moments = [e.at for e in spring.events if e.kind == "application"]
    assert {(m.hour, m.minute) for m in moments} == {(9, 0)}
    assert {m.utcoffset() for m in moments} == {timedelta(hours=1), timedelta(hours=2)}
    assert course.id in {c.id for c in courses.list_courses(uow(readonly=True), clinic="LON")}
    assert course.id not in {c.id for c in courses.list_courses(uow(readonly=True), clinic="VIE")}

    before = writes(loaded)
    count = len(courses.list_courses(uow(readonly=True)))
    refusals = [
        (("John Smith", "home-6w", start, "LON"), {}, "patient"),
        (("", "home-6w", start, "LON"), {}, "patient"),
        (("P-1", "home-99w", start, "LON"), {}, "plan"),
        (("P-1", "home-6w", start, "MAD"), {}, "clinic"),
        (("P-1", "home-6w", start, "LON-FRIDGE"), {}, "clinic"),
        (("P-1", "home-6w", "2026-02-30", "LON"), {}, "start"),
        (("P-1", "home-6w", start + timedelta(days=1), "LON"), {"weekdays": "mon,thu"}, "start"),
        (("P-1", "home-6w", start, "LON"), {"weekdays": "mon"}, "weekdays"),
        (("P-1", "home-6w", AS_OF - timedelta(days=6), "LON"), {}, "start"),  # in the past
    ]
    for args, options, field in refusals:
        with pytest.raises(InvalidInput) as err:
            courses.create_course(uow(), *args, **options, today=AS_OF)
        assert err.value.field == field, (args, options, err.value)
    assert writes(loaded) == before
    assert len(courses.list_courses(uow(readonly=True))) == count


def test_the_preview_and_create_refuse_twice_a_week_days_too_close_alike(loaded, uow):
    """The new-course form's preview judges the weekdays as ``create_course`` does."""
    monday = AS_OF + timedelta(days=7 - AS_OF.weekday())
    before = writes(loaded)
    count = len(courses.list_courses(uow(readonly=True)))
    with pytest.raises(InvalidInput) as previewed:
        previews.preview_course(uow(readonly=True), "home-12w", monday, "LON", weekdays="mon,tue")
    with pytest.raises(InvalidInput) as created:
        courses.create_course(
            uow(), "P-1", "home-12w", monday, "LON", weekdays="mon,tue", today=AS_OF
        )
    errors = [str(previewed.value), str(created.value)]
    assert errors[0] == errors[1]
    assert "weekdays 'mon,tue'" in errors[0]
    assert "3 or 4 days apart" in errors[0]
    assert writes(loaded) == before
    assert len(courses.list_courses(uow(readonly=True))) == count
    preview = previews.preview_course(uow(readonly=True), "home-12w", monday, "LON",
                                      weekdays="mon,fri")  # fmt: skip
    assert preview.weekdays == "mon,fri"


def test_the_preview_books_clinic_visits_and_refuses_a_closed_start_as_create_does(loaded, uow):
    # on the demo's day, as the clinic would book it then
    with time_machine.travel(datetime.combine(AS_OF, time(12), UTC), tick=False):
        # the demo's LON opens mon-sat and closes for Christmas and Boxing Day 2026
        friday = date(2026, 12, 18)
        preview = previews.preview_course(uow(readonly=True), "clinic-weekly-6", friday, "LON")
        created = courses.create_course(uow(), "P-1", "clinic-weekly-6", friday, "LON")
        shown = [(e.kind, e.number, e.at, e.moved_from, e.moved_because) for e in preview.events]
        assert shown == [(e.kind, e.number, e.at, e.moved_from, e.moved_because)
                         for e in created.events]  # fmt: skip
        moved = [e for e in preview.events if e.moved_from]
        assert [(e.number, e.moved_from, e.at.date()) for e in moved] == [
            (2, date(2026, 12, 25), date(2026, 12, 28))
        ]
        sunday = date(2026, 12, 20)
        with pytest.raises(InvalidInput) as previewed:
            previews.preview_course(uow(readonly=True), "home-6w", sunday, "LON")
        with pytest.raises(InvalidInput) as refused:
            courses.create_course(uow(), "P-2", "home-6w", sunday, "LON")
        assert str(previewed.value) == str(refused.value)
        assert "LON is closed on Sundays" in str(refused.value)


def test_cancelling_a_course_releases_its_reserved_kits(loaded, uow):
    course = courses.show_course(uow(readonly=True), 1)
    assert [(k.serial, k.status) for k in course.kits] == [("K0000001", "reserved")]

    cancelled = courses.cancel_course(uow(), 1)

    assert (cancelled.status, cancelled.kits) == ("cancelled", ())
    kit = _kit(uow, "K0000001")
    assert (kit.status, kit.course_id, kit.course_part, kit.patient_ref) == (
        "available",
        None,
        None,
        None,
    )
    assert "K0000001" in {k.serial for k in kits.list_kits(uow(readonly=True), status="available")}
    before = writes(loaded)
    with pytest.raises(Refused, match="cancelled"):
        courses.cancel_course(uow(), 1)
    with pytest.raises(Refused, match="cancelled"):
        fulfilment.fulfil_course(uow(), 1, today=AS_OF)
    with pytest.raises(InvalidInput) as err:
        courses.cancel_course(uow(), 999)
    assert err.value.field == "course"
    assert writes(loaded) == before
    # the released kit serves another course
    served = fulfilment.fulfil_course(uow(), 3, today=AS_OF).served
    assert [line.kit for line in served] == ["K0000001"]


# --- clinic sessions ---------------------------------------------------------------


def test_clinic_sessions_use_fefo_lots_in_date_and_the_trace_reaches_the_patient(loaded, uow):
    course = courses.show_course(uow(readonly=True), 4)
    assert (course.plan, course.clinic, course.patient_ref) == (
        "clinic-weekly-6",
        "LON",
        "P-LON-0004",
    )
    a0519 = _serum_lot_expiry(uow, "PTT6-A0519")
    days = [course.start + timedelta(weeks=week) for week in range(6)]
    assert days[3] <= a0519 < days[4]  # A0519 runs out between the 4th and 5th session
    before = _on_hand(uow)
    with pytest.raises(Refused, match="at home"):
        sessions.record_session(uow(), 1, on=AS_OF)

    records = [sessions.record_session(uow(), 4, on=days[0], today=days[0])]
    started = courses.show_course(uow(readonly=True), 4)
    assert (started.status, started.history[-1].action) == ("active", "course.start")
    records += [sessions.record_session(uow(), 4, on=day, today=day) for day in days[1:]]

    assert [
        (r.course_id, r.session_no, r.date, r.sku, r.quantity, r.location) for r in records
    ] == [(4, n, day, "SERUM-5ML", 1, FRIDGE) for n, day in enumerate(days, start=1)]
    # earliest expiry first among lots in date that day; the expired A0412 never
    assert [r.lot for r in records] == ["PTT6-A0519"] * 4 + ["PTT6-A0603"] * 2
    after = _on_hand(uow)
    assert after[("SERUM-5ML", "PTT6-A0519")] == before[("SERUM-5ML", "PTT6-A0519")] - 4
    assert after[("SERUM-5ML", "PTT6-A0603")] == before[("SERUM-5ML", "PTT6-A0603")] - 2
    assert after[("SERUM-5ML", "PTT6-A0412")] == before[("SERUM-5ML", "PTT6-A0412")]
    done = courses.show_course(uow(readonly=True), 4)
    assert (done.status, done.sessions_recorded) == ("completed", 6)
    assert _ledger_ok(uow)

    before_writes = writes(loaded)
    with pytest.raises(Refused):
        sessions.record_session(uow(), 4, on=days[-1] + timedelta(weeks=1))
    assert writes(loaded) == before_writes

    traced = lots.trace(uow(readonly=True), "PTT6-A0519")
    assert [
        (s.course_id, s.patient_ref, s.session_no, s.date, s.quantity) for s in traced.sessions
    ] == [(4, "P-LON-0004", n, days[n - 1], 1) for n in range(1, 5)]
    assert any(
        f.to_location == "PATIENT"
        and f.reason == "session"
        and "course:4" in f.references
        and f.quantity == 4
        for f in traced.flows
    )
    assert [s.session_no for s in lots.trace(uow(readonly=True), "PTT6-A0603").sessions] == [5, 6]
    assert lots.trace(uow(readonly=True), "PTT6-A0412").sessions == ()


# --- dispatch and returns ----------------------------------------------------------


def test_ship_handover_and_returns_move_the_kit_on_the_ledger(loaded, uow):
    before = writes(loaded)
    with pytest.raises(Refused, match="available"):
        kits.dispatch(uow(), "K0000002", tracking="RM1", today=AS_OF)
    for tracking in (None, "", "   "):
        with pytest.raises(InvalidInput) as err:
            kits.dispatch(uow(), "K0000001", tracking=tracking, today=AS_OF)
        assert err.value.field == "tracking"
    with pytest.raises(Refused, match="reserved"):
        kits.take_back(uow(), "K0000001", "sealed")
    with pytest.raises(InvalidInput) as err:
        kits.take_back(uow(), "K0000001", "broken")
    assert err.value.field == "condition"
    assert writes(loaded) == before

    shipped = kits.dispatch(uow(), "K0000001", tracking=" RM123456789GB ", today=AS_OF)
    handed = kits.dispatch(uow(), "K0000005", handover=True, today=AS_OF)

    assert (shipped.status, shipped.tracking, shipped.course_id, shipped.patient_ref) == (
        "shipped",
        "RM123456789GB",
        1,
        "P-LON-0001",
    )
    assert (handed.status, handed.tracking, handed.course_id, handed.patient_ref) == (
        "handed_over",
        None,
        5,
        "P-ESX-0001",
    )
    assert ("KIT-HOME-6W", "K0000001") not in _on_hand(uow)
    assert ("KIT-HOME-6W", "K0000005") not in _on_hand(uow, "ESX-FRIDGE")
    out = lots.trace(uow(readonly=True), "K0000001")
    assert (out.delivered, out.lot.total_on_hand) == (1, 0)
    assert any(
        (f.from_location, f.to_location, f.reason, f.references)
        == (FRIDGE, "PATIENT", "dispatch", ("course:1",))
        for f in out.flows
    )
    assert [k.serial for k in courses.show_course(uow(readonly=True), 1).kits] == ["K0000001"]
    with pytest.raises(Refused, match="shipped"):
        kits.dispatch(uow(), "K0000001", tracking="RM2", today=AS_OF)

    sealed = kits.take_back(uow(), "K0000001", "sealed")
    opened = kits.take_back(uow(), "K0000005", "opened")

    # sealed: back at its place, but in quarantine until a manager releases it
    assert (sealed.status, sealed.course_id, sealed.tracking) == ("quarantine", None, None)
    assert _on_hand(uow)[("KIT-HOME-6W", "K0000001")] == 1
    assert lots.show(uow(readonly=True), "K0000001").status_reason == "returned"
    # opened: written off, and it keeps its course part (returned opened)
    assert (opened.status, opened.course_id, opened.course_part) == ("written_off", 5, 1)
    assert ("KIT-HOME-6W", "K0000005") not in _on_hand(uow, "ESX-FRIDGE")
    scrapped = lots.trace(uow(readonly=True), "K0000005")
    assert scrapped.written_off == 1
    assert any(
        (f.from_location, f.to_location, f.reason, f.detail)
        == ("PATIENT", "SCRAP", "write_off", "opened")
        for f in scrapped.flows
    )
    returned = lots.trace(uow(readonly=True), "K0000001")
    assert any(
        (f.from_location, f.to_location, f.reason) == ("PATIENT", FRIDGE, "return")
        for f in returned.flows
    )
    assert _ledger_ok(uow)
    # a sealed kit is stock again once released; a written-off one is gone for good
    assert "K0000001" not in {
        k.serial for k in kits.list_kits(uow(readonly=True), status="available")
    }
    kits.release(uow(), "K0000001", today=AS_OF)
    assert "K0000001" in {k.serial for k in kits.list_kits(uow(readonly=True), status="available")}
    with pytest.raises(Refused, match="written_off"):
        kits.take_back(uow(), "K0000005", "sealed")


def test_trace_still_names_the_patient_after_an_opened_return(loaded, uow):
    kits.dispatch(uow(), "K0000001", tracking="RM123456789GB", today=AS_OF)
    kits.take_back(uow(), "K0000001", "opened")

    uses = {k.serial: k for k in lots.trace(uow(readonly=True), "PTT6-B0902").kits}

    assert (uses["K0000001"].course_id, uses["K0000001"].patient_ref) == (1, "P-LON-0001")


# --- recall ------------------------------------------------------------------------


def test_recalling_a_component_lot_marks_every_kit_holding_it(loaded, uow):
    kits.dispatch(uow(), "K0000001", tracking="RM123456789GB", today=AS_OF)  # course 1, out
    uses = {k.serial: k for k in lots.trace(uow(readonly=True), "PTT6-B0902").kits}
    assert set(uses) == {f"K000000{i}" for i in range(1, 7)}
    assert {
        s: (u.course_id, u.patient_ref, u.quantity) for s, u in uses.items() if u.course_id
    } == {"K0000001": (1, "P-LON-0001", 6), "K0000005": (5, "P-ESX-0001", 6)}

    lots.change_status(
        uow(), "PTT6-B0902", LotStatus.RECALLED, reason="supplier recall", today=AS_OF
    )

    by_serial = {k.serial: k for k in kits.list_kits(uow(readonly=True))}
    shipped, reserved, spare = by_serial["K0000001"], by_serial["K0000005"], by_serial["K0000002"]
    assert (shipped.status, shipped.recalled, shipped.course_id) == ("shipped", True, 1)
    assert (reserved.status, reserved.recalled, reserved.course_id) == ("recalled", True, None)
    assert (spare.status, spare.recalled) == ("recalled", True)
    assert {s for s, k in by_serial.items() if k.recalled} == {f"K000000{i}" for i in range(1, 7)}
    assert {(s, k.status) for s, k in by_serial.items() if not k.recalled} == {
        (f"K000000{i}", "available") for i in (7, 8, 9)
    }  # other serum lot
    assert courses.show_course(uow(readonly=True), 5).kits == ()
    assert lots.show(uow(readonly=True), "K0000002").status == "recalled"
    traced = {k.serial: k for k in lots.trace(uow(readonly=True), "PTT6-B0902").kits}
    assert all(k.recalled for k in traced.values())
    assert (traced["K0000001"].course_id, traced["K0000001"].patient_ref) == (1, "P-LON-0001")
    assert _ledger_ok(uow)

    before = writes(loaded)
    with pytest.raises(Refused):
        kits.dispatch(uow(), "K0000005", tracking="RM2", today=AS_OF)
    with pytest.raises(Refused):
        kits.dispatch(uow(), "K0000002", handover=True, today=AS_OF)
    # course 5 needs a new kit: none at ESX is usable, VIE's three still fit
    with pytest.raises(Refused) as err:
        fulfilment.fulfil_course(uow(), 5, today=AS_OF)
    assert "no kit available at ESX" in str(err.value)
    assert "VIE has 3 that fit" in str(err.value)
    assert "LON has" not in str(err.value)
    assert writes(loaded) == before

    # the shipped kit comes back sealed: it holds a recalled lot, so it is destroyed
    back = kits.take_back(uow(), "K0000001", "sealed")
    assert back.status == "written_off"
    assert lots.trace(uow(readonly=True), "K0000001").written_off == 1
    assert _ledger_ok(uow)


# --- kits and the generic stock commands -------------------------------------------


def test_a_kit_moved_by_the_generic_move_stays_where_its_record_says(loaded, uow):
    # refusing to move a serialised kit this way would be as good as moving its record
    with contextlib.suppress(KitopsError):
        move(uow(), KIT, 1, FRIDGE, "ESX-FRIDGE", lot="K0000002", today=AS_OF)

    held_at = [place.location for place in lots.show(uow(readonly=True), "K0000002").on_hand]

    assert held_at == [_kit(uow, "K0000002").location]


def test_a_kit_written_off_by_the_generic_writeoff_is_no_longer_available(loaded, uow):
    # refusing to write off a serialised kit this way would be as good as marking it
    with contextlib.suppress(KitopsError):
        write_off(uow(), KIT, 1, FRIDGE, "damaged", lot="K0000002")

    on_hand = _on_hand(uow).get((KIT, "K0000002"), 0)

    assert (_kit(uow, "K0000002").status == "available") == (on_hand == 1)


def test_recalling_a_kits_own_lot_stops_the_kit_going_out(loaded, uow):
    lots.change_status(uow(), "K0000001", LotStatus.RECALLED, reason="label misprint", today=AS_OF)

    with pytest.raises(Refused):
        kits.dispatch(uow(), "K0000001", tracking="RM123456789GB", today=AS_OF)


def _set_lot_status(db, code: str, status: str) -> None:
    from sqlalchemy import update

    from kitops.data.schema import LotRow

    with db.engine.begin() as conn:
        conn.execute(update(LotRow).where(LotRow.code == code).values(status=status))


def test_a_kit_whose_lot_is_recalled_or_expired_does_not_go_out_whatever_its_own_flag(loaded, uow):
    """Ship and hand-over read every lot in the kit again at that moment: a kit left
    unflagged (as a recall racing its assembly once left it) is still kept in."""
    from datetime import UTC, datetime, time

    import time_machine

    serum = next(c for c in kits.show_kit(uow(), "K0000001").components if c.sku == "SERUM-5ML")
    assert serum.expiry is not None
    _set_lot_status(loaded, serum.lot, LotStatus.RECALLED.value)
    before = writes(loaded)
    with pytest.raises(Refused, match=f"holds lot {serum.lot} \\(SERUM-5ML\\), which is recalled"):
        kits.dispatch(uow(), "K0000001", handover=True, today=AS_OF)
    with pytest.raises(Refused, match=f"holds lot {serum.lot}"):
        kits.dispatch(uow(), "K0000001", tracking="RM123456789GB", today=AS_OF)

    # the recall lifted the two documented ways (the database allows no shortcut)
    _set_lot_status(loaded, serum.lot, LotStatus.QUARANTINE.value)
    _set_lot_status(loaded, serum.lot, LotStatus.RELEASED.value)
    after_expiry = datetime.combine(serum.expiry + timedelta(days=1), time(12), UTC)
    with (
        time_machine.travel(after_expiry, tick=False),
        pytest.raises(Refused, match=f"holds lot {serum.lot} .*expired on {serum.expiry}"),
    ):
        kits.dispatch(uow(), "K0000001", handover=True)
    assert writes(loaded) == before
    assert kits.show_kit(uow(), "K0000001").status == "reserved"
    assert kits.dispatch(uow(), "K0000001", handover=True, today=AS_OF).status == "handed_over"


def test_a_session_after_the_clinics_today_is_refused_and_consumes_nothing(loaded, uow):
    """Course 4 (clinic-weekly-6 at LON) starts the day after ``AS_OF``."""
    start = courses.show_course(uow(readonly=True), 4).start
    before = writes(loaded)
    on_hand = _on_hand(uow)
    with pytest.raises(InvalidInput) as err:
        sessions.record_session(uow(), 4, on=start, today=start - timedelta(days=1))
    assert (err.value.field, err.value.value) == ("date", start.isoformat())
    assert err.value.reason == (
        f"is in the future (today at LON is {start - timedelta(days=1)}); "
        "record a session when it happens"
    )
    assert writes(loaded) == before
    assert _on_hand(uow) == on_hand
    assert courses.show_course(uow(readonly=True), 4).sessions_recorded == 0
    assert sessions.record_session(uow(), 4, on=start, today=start).session_no == 1
