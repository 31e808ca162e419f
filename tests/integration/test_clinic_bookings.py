"""Booking a course's clinic visits again (after a change to its schedule or the clinic's
week) replaces only the visits still to come; on both backends."""

from __future__ import annotations

from datetime import date

from kitops.i18n import use_locale
from kitops.services.clinic_calendar import add_closure, book_course
from kitops.services.demand import scheduled_demand


def _booked(work, course_id):
    return [(a.kind, a.number, a.planned_day, a.day, a.moved_because)
            for a in work.clinic_calendar.appointments(course_id)]  # fmt: skip


def test_booking_again_keeps_past_visits_and_replaces_the_rest(loaded, uow):
    # demo course 4: clinic-weekly-6 at LON on Mondays from 2026-11-23; its first
    # follow-up moved off a Sunday when the demo clinic's hours were set
    work = uow()
    with work:
        course = work.courses.get(4)
        before = _booked(work, 4)
        assert ("followup", 1, date(2027, 3, 28), date(2027, 3, 29),
                "LON is closed on Sundays") in before  # fmt: skip
        assert book_course(work, course, today=date(2026, 11, 22))[0].day == date(2027, 3, 29)
        assert _booked(work, 4) == before  # the same again: nothing doubled, nothing lost
        # two sessions have happened; the clinic then opens every day
        work.locations.clinic("LON").open_weekdays = None
        moved = book_course(work, course, today=date(2026, 12, 1))
        assert moved == ()
        after = _booked(work, 4)
        assert after[:2] == before[:2]  # the sessions of 2026-11-23 and 2026-11-30 stay
        assert ("followup", 1, date(2027, 3, 28), date(2027, 3, 28), None) in after
        assert len(after) == len(before)
        work.commit()


def test_planning_reads_a_moved_session_on_the_day_it_is_booked(loaded, uow):
    # course 4's third session falls on Monday 2026-12-07; LON closes that day
    add_closure(uow(), "LON", "2026-12-07", "2026-12-07", "staff training",
                today=date(2026, 11, 22))  # fmt: skip
    demand = scheduled_demand(uow(readonly=True), start=date(2026, 12, 1),
                              end=date(2026, 12, 14), clinic="LON")  # fmt: skip
    sessions = sorted({n.day for n in demand.needs if n.source == "session"
                       and n.sku == "SERUM-5ML" and n.day.weekday() in (0, 1)})  # fmt: skip
    assert date(2026, 12, 8) in sessions  # booked on the Tuesday
    assert date(2026, 12, 7) not in sessions


def test_a_booking_made_in_german_stores_its_reason_in_english(loaded, uow):
    """What kitops stores is English, whoever booked; each reader sees it in their
    language (a German reason stored here read German to everyone after)."""
    work = uow()
    with work, use_locale("de"):
        course = work.courses.get(4)
        book_course(work, course, today=date(2026, 12, 1))
        reasons = {a.moved_because for a in work.clinic_calendar.appointments(4)} - {None}
        assert reasons == {"LON is closed on Sundays"}
