"""Plans as data: the needle length a clinic plan's sessions use, the weeks between
application weeks (maintenance), and what the calendar makes of them."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from kitops.domain.courses import (
    Administered,
    Plan,
    check_plan,
    check_session_stamp,
    course_calendar,
    format_needles,
    kit_needs,
    kit_share_days,
    parse_needle_range,
)
from kitops.errors import InvalidInput

MON, THU = 0, 3
# seed 000: twice a week for 6 weeks in the clinic, 1.2 to 3 mm; maintenance every 4 weeks
CLINIC_2W = Plan("clinic-2w-6", "twice a week", 2, 6, 2500, Administered.CLINIC,
                 needle_min_um=1200, needle_max_um=3000)  # fmt: skip
MAINTENANCE = Plan("clinic-maint-4w", "maintenance", 1, 3, 2500, Administered.CLINIC,
                   needle_min_um=1200, needle_max_um=3000, interval_weeks=4)  # fmt: skip
HOME_6W = Plan("home-6w", "at home", 2, 6, 2500, Administered.HOME, "KIT-HOME-6W", 1)
START = date(2027, 3, 1)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2", (2000, 2000)), ("1.2-3", (1200, 3000)), ("1.2 - 3 mm", (1200, 3000)),
     ("0.5", (500, 500))],
)  # fmt: skip
def test_a_needle_is_a_length_or_a_range_in_mm(text, expected):
    assert parse_needle_range(text) == expected


@pytest.mark.parametrize("text", ["", "two", "3-1.2", "0", "1.2-", "6", "1-2-3"])
def test_a_needle_that_is_no_length_is_refused_naming_it(text):
    with pytest.raises(InvalidInput) as bad:
        parse_needle_range(text)
    assert (bad.value.field, bad.value.value) == ("needle", text)


def test_needles_read_back_as_given():
    assert format_needles(1200, 3000) == "1.2-3 mm"
    assert format_needles(2000, 2000) == "2 mm"
    assert format_needles(None, None) is None


def test_the_seed_plans_pass_and_a_needle_belongs_to_a_clinic_plan():
    check_plan(CLINIC_2W)
    check_plan(MAINTENANCE)
    with pytest.raises(InvalidInput, match="given in the clinic") as bad:
        check_plan(replace(HOME_6W, needle_min_um=500, needle_max_um=500))
    assert bad.value.field == "needle"
    with pytest.raises(InvalidInput):
        check_plan(replace(CLINIC_2W, needle_min_um=3000, needle_max_um=1200))


def test_a_kit_plan_applies_every_week():
    """Kit maths (a kit's share of consecutive weeks) stays simple: no interval for kits."""
    with pytest.raises(InvalidInput) as bad:
        check_plan(replace(HOME_6W, interval_weeks=2))
    assert (bad.value.field, bad.value.value) == ("every_weeks", 2)
    with pytest.raises(InvalidInput):
        check_plan(replace(MAINTENANCE, interval_weeks=0))
    with pytest.raises(InvalidInput):
        check_plan(replace(MAINTENANCE, interval_weeks=53))
    with pytest.raises(InvalidInput, match="more than 104 weeks"):  # two years at most
        check_plan(replace(MAINTENANCE, weeks=27, interval_weeks=4))
    check_plan(replace(MAINTENANCE, weeks=26, interval_weeks=4))
    assert kit_share_days(HOME_6W) == 42


def test_maintenance_applications_fall_every_fourth_week():
    cal = course_calendar(MAINTENANCE, START, (MON,), "Europe/London")
    assert cal.application_dates == (START, START + timedelta(weeks=4), START + timedelta(weeks=8))
    assert cal.followups[0].date() == date(2027, 7, 26)  # 3 months after the last


def test_check_in_weeks_count_application_weeks():
    plan = replace(MAINTENANCE, checkin_weeks=(2,))
    cal = course_calendar(plan, START, (MON,), "Europe/London")
    assert [c.date() for c in cal.checkins] == [START + timedelta(weeks=4)]


def test_a_weekly_plan_is_unchanged_by_the_interval_default():
    cal = course_calendar(CLINIC_2W, START, (MON, THU), "Europe/London")
    assert len(cal.applications) == 12
    assert cal.last_application == date(2027, 4, 8)
    home = course_calendar(HOME_6W, START, (MON, THU), "Europe/London")
    assert kit_needs(HOME_6W, home, 5000, 6)[0].first_use == START


@pytest.mark.parametrize(("needle_um", "ok"), [(1200, True), (2000, True), (3000, True),
                                                (600, False), (None, False)])  # fmt: skip
def test_a_session_stamp_must_be_within_the_plans_needle(needle_um, ok):
    if ok:
        check_session_stamp(CLINIC_2W, "STAMP", needle_um)
        return
    with pytest.raises(InvalidInput, match=r"outside clinic-2w-6's 1\.2-3 mm") as bad:
        check_session_stamp(CLINIC_2W, "STAMP", needle_um)
    assert (bad.value.field, bad.value.value) == ("supply", "STAMP")


def test_a_plan_without_a_needle_takes_any_stamp():
    check_session_stamp(replace(CLINIC_2W, needle_min_um=None, needle_max_um=None), "S", 600)
