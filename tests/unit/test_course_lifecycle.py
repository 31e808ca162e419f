"""A course's life in the domain: the transition table, what a session, a kit going out
or coming back opened does to it, and the calendar of a course whose remaining
applications were moved."""

from datetime import date

import pytest

from kitops.domain.course_lifecycle import (
    FINISHED,
    LIVE,
    NEEDS_STOCK,
    TRANSITIONS,
    Segment,
    applications_kept,
    check_move,
    check_transition,
    dump_segments,
    load_segments,
    moves_of,
    overlaps,
    pause_for_opened_return,
    remaining_after,
    status_after_handover,
    status_after_resume,
    status_after_session,
    with_segment,
)
from kitops.domain.courses import Administered, CourseStatus, Plan, course_calendar, kit_needs
from kitops.errors import InvalidInput, Refused

MON, TUE, WED, THU, FRI = range(5)
HOME = Plan("home-6w", "x", 2, 6, 2500, Administered.HOME, "KIT", kits_per_course=1,
            checkin_weeks=(3,))  # fmt: skip
CLINIC = Plan("clinic-weekly-6", "x", 1, 6, 5000, Administered.CLINIC)
START = date(2027, 1, 4)  # a Monday


def test_every_status_has_its_transitions_and_finished_ones_are_final():
    assert set(TRANSITIONS) == set(CourseStatus)
    for status in FINISHED:
        assert TRANSITIONS[CourseStatus(status)] == frozenset()
    assert set(LIVE) == set(NEEDS_STOCK) | {"paused"}
    assert not set(LIVE) & set(FINISHED)


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("scheduled", CourseStatus.ACTIVE, True),
        ("scheduled", CourseStatus.CANCELLED, True),
        ("active", CourseStatus.CANCELLED, False),
        ("active", CourseStatus.PAUSED, True),
        ("paused", CourseStatus.ACTIVE, True),
        ("paused", CourseStatus.ENDED_EARLY, True),
        ("completed", CourseStatus.ACTIVE, False),
        ("cancelled", CourseStatus.PAUSED, False),
        ("ended_early", CourseStatus.COMPLETED, False),
    ],
)
def test_check_transition_allows_the_table_and_refuses_the_rest_in_one_line(
    current, target, allowed
):
    if allowed:
        check_transition(7, current, target)
    else:
        # the status reads as words ("ended early"), never as the stored value
        words = current.replace("_", " ")
        with pytest.raises(Refused, match=f"^course 7 is {words}; only ") as caught:
            check_transition(7, current, target)
        assert "\n" not in str(caught.value)


def test_a_session_makes_a_course_active_and_the_last_one_completes_it():
    assert status_after_session(1, "scheduled", 1, 6) == "active"
    assert status_after_session(1, "active", 2, 6) == "active"
    assert status_after_session(1, "active", 6, 6) == "completed"
    assert status_after_session(1, "scheduled", 1, 1) == "completed"
    for current in ("paused", "completed", "cancelled"):
        with pytest.raises(Refused, match=f"course 1 is {current}"):
            status_after_session(1, current, 3, 6)


def test_a_kit_going_out_makes_the_course_active_unless_it_is_paused_or_over():
    assert status_after_handover(2, "scheduled") == "active"
    assert status_after_handover(2, "active") == "active"
    with pytest.raises(Refused, match="resume it first"):
        status_after_handover(2, "paused")
    with pytest.raises(Refused, match="course 2 is cancelled"):
        status_after_handover(2, "cancelled")


def test_a_kit_back_opened_pauses_a_running_course_with_the_reason():
    assert pause_for_opened_return("active", 2) == ("paused", "kit 2 returned opened")
    assert pause_for_opened_return("scheduled", 1) == ("paused", "kit 1 returned opened")
    assert pause_for_opened_return("paused", 1) is None
    assert pause_for_opened_return("completed", 1) is None
    assert status_after_resume(True) is CourseStatus.ACTIVE
    assert status_after_resume(False) is CourseStatus.SCHEDULED


def test_moved_applications_restart_on_the_new_day_and_weekdays():
    before = course_calendar(HOME, START, (MON, THU), "Europe/London")
    moved = course_calendar(
        HOME, START, (MON, THU), "Europe/London", moves=((5, date(2027, 2, 2), (TUE, FRI)),)
    )
    assert moved.application_dates[:4] == before.application_dates[:4]
    assert moved.application_dates[4:7] == (date(2027, 2, 2), date(2027, 2, 5), date(2027, 2, 9))
    assert len(moved.applications) == HOME.applications == 12
    assert moved.last_application == date(2027, 2, 26)  # 8 more: tue,fri from 2 Feb
    assert moved.applications[4].hour == 9
    assert str(moved.applications[4].tzinfo) == "Europe/London"
    # the week-3 check-in falls on the first application of the course's third week
    assert moved.checkins[0].date() == moved.application_dates[4]
    assert moved.followups[0].date() == date(2027, 5, 26)
    # a later move overrides from its own application on
    twice = course_calendar(HOME, START, (MON, THU), "UTC",
                            moves=((5, date(2027, 2, 2), (TUE, FRI)), (7, date(2027, 3, 1),
                                                                       (MON, THU))))  # fmt: skip
    assert twice.application_dates[4:7] == (date(2027, 2, 2), date(2027, 2, 5), date(2027, 3, 1))
    # the old call is unchanged
    assert course_calendar(HOME, START, (MON, THU), "Europe/London") == before


def test_kit_needs_follow_the_moved_dates():
    moved = course_calendar(HOME, START, (MON, THU), "UTC",
                            moves=((5, date(2027, 3, 2), (TUE, FRI)),))  # fmt: skip
    [need] = kit_needs(HOME, moved, 5000, 6, 0)
    assert need.first_use == START
    assert need.last_needed == moved.last_application


def test_segments_round_trip_and_a_new_move_overtakes_later_ones():
    one = Segment(5, date(2027, 2, 2), (TUE, FRI))
    text = dump_segments((one,))
    assert text == '[{"from": 5, "start": "2027-02-02", "weekdays": "tue,fri"}]'
    assert load_segments(text) == (one,)
    assert moves_of(text) == ((5, date(2027, 2, 2), (TUE, FRI)),)
    assert load_segments(None) == ()
    assert dump_segments(()) is None
    later = Segment(8, date(2027, 3, 1), (MON, THU))
    earlier = Segment(3, date(2027, 2, 1), (MON, THU))
    assert with_segment((one, later), earlier) == (earlier,)
    assert with_segment((one,), later) == (one, later)


def test_what_stays_where_it_is_when_the_rest_moves():
    calendar = course_calendar(HOME, START, (MON, THU), "UTC")
    # at home: the applications dated before the day
    assert applications_kept(calendar, sessions_done=None, before=date(2027, 1, 14)) == 3
    # in the clinic: the sessions recorded
    assert applications_kept(calendar, sessions_done=2, before=date(2027, 3, 1)) == 2
    assert remaining_after(calendar, date(2027, 1, 14)) == 8
    check_move(1, calendar, 3, date(2027, 1, 18), date(2027, 1, 14))
    with pytest.raises(Refused, match="no applications left to move"):
        check_move(1, calendar, 12, date(2027, 3, 1), date(2027, 2, 20))
    with pytest.raises(InvalidInput, match="in the past"):
        check_move(1, calendar, 3, date(2027, 1, 13), date(2027, 1, 14))
    with pytest.raises(InvalidInput, match="after application 3 on 2027-01-11"):
        check_move(1, calendar, 3, date(2027, 1, 11), date(2027, 1, 10))


def test_overlapping_dates():
    assert overlaps(date(2027, 1, 1), date(2027, 2, 1), date(2027, 2, 1), date(2027, 3, 1))
    assert not overlaps(date(2027, 1, 1), date(2027, 2, 1), date(2027, 2, 2), date(2027, 3, 1))


def test_a_refused_transition_names_the_status_in_the_language_in_force():
    from kitops.i18n import use_locale

    with use_locale("de"), pytest.raises(Refused) as caught:
        check_transition(7, "ended_early", CourseStatus.COMPLETED)
    assert "vorzeitig beendet" in str(caught.value)
    assert "ended_early" not in str(caught.value)
