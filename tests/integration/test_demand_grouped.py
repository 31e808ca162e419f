"""The scheduled demand counts the stored dates grouped by the database (a clinic course
with every session booked: its sessions still to come per day and session number; a home
course with its kit needs stored: those of the window, each with whether a kit is held
for it) and reads only the other courses one by one. It gives the same needs, key for
key, as reading every course one by one over the same stored dates: on a mixed set of
courses (sessions done, a kit held, rescheduled, paused and resumed, cancelled, a session
not booked, kit needs not stored or stored for another recipe), for every clinic and for
one. On both backends."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from ledger_support import AS_OF
from sqlalchemy import delete, select, update

from kitops.data.schema import (
    CourseAppointmentRow,
    CourseKitNeedRow,
    KitRow,
    LocationRow,
    LotRow,
    SessionRow,
)
from kitops.services import courses, demand

WINDOWS = (
    (AS_OF, AS_OF + timedelta(days=13)),
    (AS_OF, AS_OF + timedelta(days=35)),
    (AS_OF - timedelta(days=60), AS_OF + timedelta(days=120)),
    (AS_OF + timedelta(days=30), AS_OF + timedelta(days=400)),
)
PLANS = ("home-6w", "home-12w", "ptt6-weekly-12", "clinic-weekly-6", "clinic-2w-6",
         "clinic-maint-4w")  # fmt: skip


def _counts(uow, start: date, end: date, *, grouped: bool, clinic: int | None = None):
    demand._application_dates.cache_clear()
    demand._kit_needs.cache_clear()
    with uow(readonly=True) as work:
        return demand._collect(work, start, end, clinic, lots=False, grouped=grouped).counts


def _courses(uow) -> dict[str, int]:
    """A course of each plan at LON (starting soon) and VIE (started three weeks ago),
    on Mondays (the clinics are closed on Sundays)."""
    made = {}
    for n, plan in enumerate(PLANS):
        for clinic, start in (("LON", AS_OF + timedelta(days=1 + 7 * (n % 2))),
                              ("VIE", AS_OF - timedelta(days=20 + 7 * (n % 2)))):  # fmt: skip
            course = courses.create_course(
                uow(), f"P-GROUPED-{plan}-{clinic}", plan, start, clinic,
                today=AS_OF, allow_past=True,
            )  # fmt: skip
            made[f"{plan}@{clinic}"] = course.id
    return made


def _mixed(uow) -> dict[str, int]:
    made = _courses(uow)
    # sessions done: the first two of a clinic course that started three weeks ago (as
    # recorded: the demand counts them, whatever lots served them)
    with uow() as work:
        days = work.session.scalars(
            select(CourseAppointmentRow.day)
            .where(CourseAppointmentRow.course_id == made["clinic-2w-6@VIE"],
                   CourseAppointmentRow.kind == "application")
            .order_by(CourseAppointmentRow.number)
        ).all()  # fmt: skip
        lot = work.session.scalar(select(LotRow.id).limit(1))
        for number, day in enumerate(days[:2], start=1):
            work.session.add(SessionRow(
                course_id=made["clinic-2w-6@VIE"], session_no=number, session_date=day,
                lot_id=lot, quantity=1, actor="admin",
                recorded_at=datetime(2026, 11, 1, tzinfo=UTC),
            ))  # fmt: skip
        work.commit()
    courses.reschedule_course(uow(), made["home-12w@LON"], AS_OF + timedelta(days=9),
                              today=AS_OF)  # fmt: skip
    courses.reschedule_course(uow(), made["clinic-weekly-6@LON"], AS_OF + timedelta(days=9),
                              weekdays="tue", today=AS_OF)  # fmt: skip
    courses.pause_course(uow(), made["home-6w@LON"], today=AS_OF)
    courses.resume_course(uow(), made["home-6w@LON"], AS_OF + timedelta(days=22), today=AS_OF)
    courses.cancel_course(uow(), made["clinic-maint-4w@VIE"])
    with uow() as work:
        # a session not booked (a course booked before visits were)
        work.session.execute(
            delete(CourseAppointmentRow).where(
                CourseAppointmentRow.course_id == made["clinic-weekly-6@VIE"],
                CourseAppointmentRow.number == 4,
            )
        )
        # kit needs not stored (as after a kit recipe changed)
        work.session.execute(
            delete(CourseKitNeedRow).where(CourseKitNeedRow.course_id == made["home-6w@VIE"])
        )
        # kit needs stored for a recipe of another number of vials
        work.session.execute(
            update(CourseKitNeedRow)
            .where(CourseKitNeedRow.course_id == made["ptt6-weekly-12@LON"])
            .values(vial_last_uses=(AS_OF + timedelta(days=30)).isoformat())
        )
        work.commit()
    return made


def test_the_grouped_count_is_the_per_course_count_on_a_mixed_set(loaded, uow, monkeypatch):
    made = _mixed(uow)
    with uow(readonly=True) as work:
        assert work.session.scalar(select(SessionRow.id).limit(1)) is not None  # sessions done
        assert work.session.scalar(  # a kit is held for a course (the demo reserves some)
            select(KitRow.id).where(KitRow.course_id.is_not(None)).limit(1)
        ) is not None  # fmt: skip
    one_by_one: list[int] = []
    real = demand._PerCourse.count

    def count(self, rows, *args):
        rows = list(rows)
        one_by_one.extend(row[0] for row in rows)
        return real(self, rows, *args)

    monkeypatch.setattr(demand._PerCourse, "count", count)
    sources: Counter[tuple[str, str | None]] = Counter()
    for start, end in WINDOWS:
        one_by_one.clear()
        grouped = _counts(uow, start, end, grouped=True)
        # only the courses without all their dates stored went one by one
        assert set(one_by_one) <= {
            made["clinic-weekly-6@VIE"],
            made["home-6w@VIE"],
            made["ptt6-weekly-12@LON"],
        }, (start, end)
        assert grouped == _counts(uow, start, end, grouped=False), (start, end)
        for key, quantity in grouped.items():
            sources[(key[4], key[5])] += quantity
    # every kind of need was counted: clinic sessions, kits held, covered and open, and
    # the components of the open ones
    for source in (
        (demand.SESSION, None),
        (demand.KIT, "reserved"),
        (demand.KIT, None),
        (demand.KIT_COMPONENT, None),
    ):
        assert sources[source] > 0, source


@pytest.mark.parametrize("code", ["LON", "VIE"])
def test_the_grouped_count_of_one_clinic_is_the_per_course_count(loaded, uow, code):
    _mixed(uow)
    with uow(readonly=True) as work:
        clinic = work.session.scalar(select(LocationRow.id).where(LocationRow.code == code))
    found = 0
    for start, end in WINDOWS:
        grouped = _counts(uow, start, end, grouped=True, clinic=clinic)
        assert grouped == _counts(uow, start, end, grouped=False, clinic=clinic), (start, end)
        assert {key[0] for key in grouped} <= {clinic}
        found += sum(grouped.values())
    assert found > 0


def test_many_courses_not_every_session_booked_are_read_with_every_running_course(
    loaded, uow, monkeypatch
):
    # past the limit of courses read by id, the per-course path reads every running one
    made = _mixed(uow)
    monkeypatch.setattr(demand, "_BY_ID_LIMIT", 1)
    with uow() as work:
        work.session.execute(
            delete(CourseAppointmentRow).where(
                CourseAppointmentRow.course_id.in_(
                    [made["clinic-2w-6@VIE"], made["clinic-weekly-6@LON"]]
                ),
                CourseAppointmentRow.number == 5,
            )
        )
        work.commit()
    for start, end in WINDOWS:
        expected = _counts(uow, start, end, grouped=False)
        assert _counts(uow, start, end, grouped=True) == expected, (start, end)
