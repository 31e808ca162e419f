"""Booking a course's clinic visits again (after a change to its schedule or the clinic's
week) replaces only the visits still to come; on both backends."""

from __future__ import annotations

from datetime import date

from kitops.services.clinic_calendar import book_course


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
