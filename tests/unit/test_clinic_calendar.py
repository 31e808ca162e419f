"""A clinic's week, its closures and booking a course's clinic visits (pure rules)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from kitops.domain.clinic_calendar import (
    ClinicWeek,
    Closure,
    Visit,
    appointment_time,
    book_visits,
    check_closure,
    format_open_weekdays,
    parse_open_weekdays,
    parse_reason,
    parse_sessions_per_day,
    parse_time_of_day,
    read_weekdays,
    stored_weekdays,
)
from kitops.errors import InvalidInput, Refused

MON_FRI = (0, 1, 2, 3, 4)
CHRISTMAS = Closure(date(2026, 12, 25), date(2026, 12, 26), "Christmas", id=1)
LON = ClinicWeek("LON", MON_FRI, (CHRISTMAS,))


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", MON_FRI), ("mon-sat", (0, 1, 2, 3, 4, 5)), ("mon,tue,thu", (0, 1, 3)),
        ("MON-Wed, fri", (0, 1, 2, 4)), ("sun", (6,)), ("every-day", tuple(range(7))),
        ("mon-sun", tuple(range(7))),
    ],
)  # fmt: skip
def test_open_weekdays_parse(text, days):
    assert parse_open_weekdays(text) == days


@pytest.mark.parametrize("text", ["", "monday", "fri-mon", "mon,mon", "mon-fri,wed", "mon-"])
def test_open_weekdays_refuse_nonsense_naming_the_value(text):
    with pytest.raises(InvalidInput) as raised:
        parse_open_weekdays(text)
    assert raised.value.field == "days"


def test_open_weekdays_print_as_ranges_and_store_as_names():
    assert format_open_weekdays(MON_FRI) == "mon-fri"
    assert format_open_weekdays((0, 1, 3)) == "mon,tue,thu"
    assert format_open_weekdays(None) == format_open_weekdays(tuple(range(7))) == "every day"
    assert stored_weekdays(MON_FRI) == "mon,tue,wed,thu,fri"
    assert stored_weekdays(tuple(range(7))) is None
    assert read_weekdays("mon,tue,wed,thu,fri") == MON_FRI
    assert read_weekdays(None) is None


def test_times_sessions_and_reasons():
    assert parse_time_of_day("9:30") == time(9, 30)
    assert parse_time_of_day("14:05") == time(14, 5)
    for bad in ("24:00", "9", "09:60", "nine"):
        with pytest.raises(InvalidInput):
            parse_time_of_day(bad)
    assert parse_sessions_per_day("6") == 6
    for bad in ("0", "-1", "x", "501"):
        with pytest.raises(InvalidInput):
            parse_sessions_per_day(bad)
    assert parse_reason("  Boxing   Day ") == "Boxing Day"
    with pytest.raises(InvalidInput):
        parse_reason("   ")
    assert appointment_time(None, None) == time(9, 0)
    assert appointment_time(None, time(8, 30)) == time(8, 30)
    assert appointment_time(time(10, 30), time(8, 30)) == time(10, 30)


def test_a_clinic_without_hours_is_open_every_day():
    week = ClinicWeek("ESX")
    assert all(week.is_open(date(2026, 12, 20) + timedelta(days=n)) for n in range(7))
    assert week.next_open(date(2026, 12, 20)) == (date(2026, 12, 20), None)


def test_closed_on_sundays_says_so():
    sunday = date(2026, 12, 6)
    assert not LON.is_open(sunday)
    assert LON.why_closed(sunday) == "LON is closed on Sundays"
    assert LON.next_open(sunday) == (date(2026, 12, 7), "LON is closed on Sundays")
    assert LON.next_open(date(2026, 12, 7)) == (date(2026, 12, 7), None)


def test_boxing_day_moves_past_the_closure_and_the_weekend():
    # Christmas is a Friday, Boxing Day a Saturday: the next open day is Monday the 28th
    why = "LON is closed 2026-12-25 to 2026-12-26: Christmas"
    assert LON.why_closed(date(2026, 12, 26)) == why
    assert LON.next_open(date(2026, 12, 26)) == (date(2026, 12, 28), why)
    assert LON.next_open(date(2026, 12, 25)) == (date(2026, 12, 28), why)


def test_a_one_day_closure_reads_on_that_day():
    week = ClinicWeek("VIE", None, (Closure(date(2026, 12, 8), date(2026, 12, 8), "Holiday"),))
    assert week.next_open(date(2026, 12, 8)) == (
        date(2026, 12, 9),
        "VIE is closed on 2026-12-08: Holiday",
    )


def test_a_closure_spanning_a_weekend_moves_to_the_day_after_it():
    refit = Closure(date(2026, 12, 11), date(2026, 12, 15), "refit")  # Fri to Tue
    week = ClinicWeek("LON", MON_FRI, (refit,))
    assert week.next_open(date(2026, 12, 12)) == (
        date(2026, 12, 16),
        "LON is closed 2026-12-11 to 2026-12-15: refit",
    )


def test_a_clinic_open_on_no_day_is_refused_not_searched_forever():
    with pytest.raises(Refused):
        ClinicWeek("X", ()).next_open(date(2026, 12, 1))


def test_closures_must_run_forwards_and_not_overlap():
    with pytest.raises(InvalidInput) as raised:
        check_closure(Closure(date(2026, 12, 26), date(2026, 12, 25), "x"), ())
    assert raised.value.field == "to"
    with pytest.raises(Refused, match=r"already closed 2026-12-25 to 2026-12-26 \(Christmas, "
                                      r"closure 1\)"):  # fmt: skip
        check_closure(Closure(date(2026, 12, 26), date(2027, 1, 1), "New Year"), (CHRISTMAS,))
    check_closure(Closure(date(2026, 12, 27), date(2027, 1, 1), "New Year"), (CHRISTMAS,))


def weekly(start: date, count: int) -> list[Visit]:
    return [Visit("application", n + 1, start + timedelta(weeks=n)) for n in range(count)]


def test_visits_on_open_days_stay_put():
    bookings = book_visits(LON, weekly(date(2026, 11, 30), 3), {}, 8)
    assert [b.day for b in bookings] == [date(2026, 11, 30), date(2026, 12, 7), date(2026, 12, 14)]
    assert not any(b.moved for b in bookings)
    assert all(b.reason is None for b in bookings)


def test_a_session_on_christmas_moves_and_says_why_the_rest_stay():
    bookings = book_visits(LON, weekly(date(2026, 12, 18), 3), {}, 8)  # Fridays
    assert [b.day for b in bookings] == [date(2026, 12, 18), date(2026, 12, 28), date(2027, 1, 1)]
    assert [b.moved for b in bookings] == [False, True, False]
    assert bookings[1].reason == "LON is closed 2026-12-25 to 2026-12-26: Christmas"


def test_a_full_day_moves_the_session_to_the_next_day_with_room():
    full = {date(2026, 12, 7): 8, date(2026, 12, 8): 8}
    (booking,) = book_visits(LON, [Visit("application", 1, date(2026, 12, 7))], full, 8)
    assert booking.day == date(2026, 12, 9)
    assert booking.reason == "LON is full on 2026-12-07 (8 sessions a day)"
    # one place left: it is taken
    (booking,) = book_visits(LON, [Visit("application", 1, date(2026, 12, 7))],
                             lambda day: 7, 8)  # fmt: skip
    assert booking.day == date(2026, 12, 7)
    assert not booking.moved


def test_check_ins_and_follow_ups_take_no_session_place_but_skip_closed_days():
    full = {date(2026, 12, 7): 8}
    bookings = book_visits(
        LON, [Visit("checkin", 1, date(2026, 12, 7)), Visit("followup", 1, date(2027, 3, 28))],
        full, 8,
    )  # fmt: skip
    assert [b.day for b in bookings] == [date(2026, 12, 7), date(2027, 3, 29)]
    assert bookings[1].reason == "LON is closed on Sundays"


def test_a_moved_visit_pushes_the_next_one_later_never_earlier():
    # twice a week on Monday and Thursday; the first Monday starts a week-long closure
    week = ClinicWeek("LON", MON_FRI, (Closure(date(2026, 12, 7), date(2026, 12, 10), "flood"),))
    visits = [
        Visit("application", n, day)
        for n, day in enumerate(
            (date(2026, 12, 7), date(2026, 12, 10), date(2026, 12, 14)), start=1
        )
    ]
    bookings = book_visits(week, visits, {}, 8)
    assert [b.day for b in bookings] == [date(2026, 12, 11), date(2026, 12, 14), date(2026, 12, 15)]
    assert bookings[1].reason == "LON is closed 2026-12-07 to 2026-12-10: flood"
    assert bookings[2].reason == "application 2 moved to 2026-12-14 and comes first"
    for booking in bookings:
        assert booking.day >= booking.visit.planned
    days = [b.day for b in bookings]
    assert days == sorted(days)
    assert len(set(days)) == len(days)


def test_visits_of_one_course_count_against_the_capacity_they_fill():
    # one place a day: a course's own sessions never share a day anyway, but two courses do
    first = book_visits(LON, weekly(date(2026, 12, 7), 2), {}, 1)
    taken = {b.day: 1 for b in first}
    second = book_visits(LON, weekly(date(2026, 12, 7), 2), taken, 1)
    assert [b.day for b in second] == [date(2026, 12, 8), date(2026, 12, 15)]
    assert all(b.reason and "full" in b.reason for b in second)


def test_a_closures_days_read_as_the_language_in_force_writes_dates():
    from kitops.i18n import use_locale

    christmas = Closure(date(2026, 12, 24), date(2026, 12, 26), "Christmas")
    one_day = Closure(date(2026, 12, 25), date(2026, 12, 25), "Christmas Day")
    assert (christmas.days, one_day.days) == ("2026-12-24 to 2026-12-26", "on 2026-12-25")
    with use_locale("de"):
        assert (christmas.days, one_day.days) == ("von 24.12.2026 bis 26.12.2026", "am 25.12.2026")
