"""Scheduled demand reads the dates each course stored when it was created or moved (a
home course's kit need dates, a clinic course's booked sessions) instead of expanding
its calendar: the same needs, day for day, as the calendar gives, on the demo and after
courses are rescheduled, paused and resumed, cancelled, or lose their stored dates (a
kit recipe changed, a course booked before visits were). On both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_support import AS_OF
from sqlalchemy import delete, select

from kitops.data.schema import CourseAppointmentRow, CourseKitNeedRow, CourseRow
from kitops.domain.course_lifecycle import NEEDS_STOCK
from kitops.services import catalog, courses, demand, plans

WINDOWS = (
    (AS_OF, AS_OF + timedelta(days=13)),
    (AS_OF - timedelta(days=60), AS_OF + timedelta(days=120)),
    (AS_OF + timedelta(days=30), AS_OF + timedelta(days=400)),
)


def _counts(uow, start, end, *, stored):
    demand._application_dates.cache_clear()
    demand._kit_needs.cache_clear()
    with uow(readonly=True) as work:
        return demand._collect(work, start, end, None, lots=False, stored=stored).counts


def _same_as_the_calendar(uow) -> int:
    needs = 0
    for start, end in WINDOWS:
        read = _counts(uow, start, end, stored=True)
        assert read == _counts(uow, start, end, stored=False), (start, end)
        needs += sum(read.values())
    return needs


def _more_courses(uow) -> dict[str, int]:
    """A course of each plan at LON and VIE, starting soon and a few weeks ago (on
    Mondays: the clinics are closed on Sundays, and a course starts in the clinic)."""
    made = {}
    for n, plan in enumerate(
        ("home-6w", "home-12w", "ptt6-weekly-12", "clinic-weekly-6", "clinic-2w-6",
         "clinic-maint-4w")
    ):  # fmt: skip
        for clinic, start in (("LON", AS_OF + timedelta(days=1 + 7 * (n % 2))),
                              ("VIE", AS_OF - timedelta(days=20 + 7 * (n % 2)))):  # fmt: skip
            course = courses.create_course(
                uow(), f"P-STORED-{plan}-{clinic}", plan, start, clinic,
                today=AS_OF, allow_past=True,
            )  # fmt: skip
            made[f"{plan}@{clinic}"] = course.id
    return made


def test_the_demo_demand_from_stored_dates_is_the_calendars(loaded, uow):
    assert _same_as_the_calendar(uow) > 0


def test_every_running_home_course_stored_the_dates_its_calendar_gives(loaded, uow):
    _more_courses(uow)
    with uow(readonly=True) as work:
        running = work.session.scalars(
            select(CourseRow).where(CourseRow.status.in_(NEEDS_STOCK))
        ).all()
        stored = {
            (c, p): (first, earliest, last)
            for c, p, first, earliest, last in work.session.execute(
                select(CourseKitNeedRow.course_id, CourseKitNeedRow.part,
                       CourseKitNeedRow.first_use, CourseKitNeedRow.earliest_vial_last_use,
                       CourseKitNeedRow.last_use)
            )
        }  # fmt: skip
        checked = 0
        for course in running:
            for need in courses.needs_of(work, course, margin=0):
                assert stored[(course.id, need.part)] == (
                    need.first_use, min(need.vial_needed_until), need.last_needed
                )  # fmt: skip
                checked += 1
    assert checked >= 8


def test_moved_paused_resumed_and_cancelled_courses_keep_their_stored_dates_in_step(loaded, uow):
    made = _more_courses(uow)
    before = _same_as_the_calendar(uow)
    courses.reschedule_course(uow(), made["home-12w@LON"], AS_OF + timedelta(days=9),
                              today=AS_OF)  # fmt: skip
    courses.reschedule_course(uow(), made["clinic-weekly-6@LON"], AS_OF + timedelta(days=9),
                              weekdays="tue", today=AS_OF)  # fmt: skip
    courses.reschedule_course(uow(), made["ptt6-weekly-12@VIE"], AS_OF + timedelta(days=3),
                              today=AS_OF)  # fmt: skip
    courses.pause_course(uow(), made["home-6w@LON"], today=AS_OF)
    courses.resume_course(uow(), made["home-6w@LON"], AS_OF + timedelta(days=22), today=AS_OF)
    courses.pause_course(uow(), made["clinic-2w-6@LON"], today=AS_OF)
    courses.resume_course(uow(), made["clinic-2w-6@LON"], AS_OF + timedelta(days=15),
                          today=AS_OF)  # fmt: skip
    courses.cancel_course(uow(), made["home-12w@VIE"])
    after = _same_as_the_calendar(uow)
    assert after != before  # the moves changed the demand; both ways agree on it


@pytest.mark.parametrize("lost", ["kit needs", "appointments"])
def test_a_course_with_nothing_stored_is_counted_from_its_calendar(loaded, uow, lost):
    made = _more_courses(uow)
    expected = [_counts(uow, s, e, stored=False) for s, e in WINDOWS]
    with uow() as work:
        if lost == "kit needs":  # as after its kit recipe changed
            ids = [made["home-12w@LON"], made["ptt6-weekly-12@VIE"], made["home-6w@VIE"]]
            work.session.execute(
                delete(CourseKitNeedRow).where(CourseKitNeedRow.course_id.in_(ids))
            )
        else:  # a course booked before visits were, or one visit not booked
            work.session.execute(
                delete(CourseAppointmentRow).where(
                    CourseAppointmentRow.course_id == made["clinic-weekly-6@LON"],
                    CourseAppointmentRow.number == 3,
                )
            )
            work.session.execute(
                delete(CourseAppointmentRow).where(
                    CourseAppointmentRow.course_id == made["clinic-2w-6@VIE"]
                )
            )
        work.commit()
    assert [_counts(uow, s, e, stored=True) for s, e in WINDOWS] == expected
    assert [_counts(uow, s, e, stored=False) for s, e in WINDOWS] == expected


def test_kits_of_one_and_two_vials_are_matched_from_their_stored_dates_alone(
    loaded, uow, monkeypatch
):
    # the stored dates name vial 1's last day and the last vial's: a kit of one or two
    # vials needs no calendar at all, even when no assembled kit covers it
    for sku, vials, plan, per_week in (("KIT-1V", 1, "home-1v", 1), ("KIT-2V", 2, "home-2v", 2)):
        catalog.add_product(uow(), catalog.parse_product(sku, f"Kit {sku}", "kit", at_home=True))
        catalog.set_recipe(uow(), sku, [f"SERUM-5ML={vials}", "STAMP-0.5=1"])
        plans.add_plan(uow(), plan, f"At home, {plan}", per_week=per_week, weeks=2, ml="2.5",
                       administered="home", kit=sku, kits=1)  # fmt: skip
        for clinic, start in (("LON", AS_OF + timedelta(days=1)),
                              ("VIE", AS_OF + timedelta(days=8))):  # fmt: skip
            made = courses.create_course(uow(), f"P-{plan}-{clinic}", plan, start, clinic,
                                         today=AS_OF)  # fmt: skip
        courses.reschedule_course(uow(), made.id, AS_OF + timedelta(days=15), today=AS_OF)
    calendars: list[str] = []
    real = demand.course_calendar

    def counted(plan, *args, **kwargs):
        calendars.append(plan.code)
        return real(plan, *args, **kwargs)

    monkeypatch.setattr(demand, "course_calendar", counted)
    assert _same_as_the_calendar(uow) > 0
    assert "home-1v" in calendars  # (the calendar path expands them)
    assert "home-2v" in calendars
    calendars.clear()
    demand._kit_needs.cache_clear()
    with uow(readonly=True) as work:
        found = demand._collect(work, AS_OF, AS_OF + timedelta(days=40), None, lots=False)
        kits = {p.id for p in found.cat.products.values() if p.sku in ("KIT-1V", "KIT-2V")}
    assert "home-1v" not in calendars
    assert "home-2v" not in calendars
    assert len({key[1] for key in found.counts} & kits) == 2  # both kits are needed
