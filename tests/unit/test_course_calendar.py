"""The calendar of a course and what it asks of its kits: application dates in the clinic's
zone, check-ins, follow-ups, until when each vial must be in date, and whether a kit fits."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kitops.domain.catalog import ml_to_ul
from kitops.domain.courses import (
    Administered,
    KitNeed,
    Plan,
    applications_per_vial,
    check_plan,
    course_calendar,
    first_failing_vial,
    fits,
    format_weekdays,
    kit_and_vial_numbers,
    kit_needs,
    opened_vial_lasts,
    parse_weekdays,
    session_vials,
    weekdays_for,
)
from kitops.errors import InvalidInput
from kitops.services.plans import DEFAULT_PLANS

VIAL_UL = 5000  # every serum vial of the source documents holds 5 ml
HOME_VIALS = 6  # KIT-HOME-6W: 6 vials + 1 stamp
PTT6_VIALS = 12  # KIT-HOME-PTT6: 12 vials + 1 stamp
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def default_plan(code: str) -> Plan:
    """The domain plan for one of the pre-loaded protocols, as ``services.plans`` seeds it."""
    row = next(p for p in DEFAULT_PLANS if p["code"] == code)

    def numbers(text: str) -> tuple[int, ...]:
        return tuple(int(part) for part in text.split(",")) if text else ()

    return Plan(
        code=row["code"],
        name=row["name"],
        applications_per_week=row["per_week"],
        weeks=row["weeks"],
        serum_ul_per_application=ml_to_ul(row["ml"]),
        administered=Administered(row["administered"]),
        kit_sku=row.get("kit"),
        kits_per_course=row.get("kits", 0),
        default_weekdays=parse_weekdays(row["weekdays"]) if row.get("weekdays") else None,
        checkin_weeks=numbers(row.get("checkins", "")),
        followup_months=numbers(row.get("followups", "")),
    )


HOME_6W = default_plan("home-6w")
HOME_12W = default_plan("home-12w")
CLINIC_6 = default_plan("clinic-weekly-6")
PTT6 = default_plan("ptt6-weekly-12")


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(*texts: str) -> tuple[date, ...]:
    return tuple(d(t) for t in texts)


def calendar(plan: Plan, start: str, zone: str = "Europe/London", weekdays=None):
    first = d(start)
    return course_calendar(plan, first, weekdays_for(plan, first, weekdays), zone)


# 12 applications from Monday 1 March 2027, Mondays and Thursdays.
HOME_6W_MARCH_2027 = days(
    "2027-03-01", "2027-03-04", "2027-03-08", "2027-03-11", "2027-03-15", "2027-03-18",
    "2027-03-22", "2027-03-25", "2027-03-29", "2027-04-01", "2027-04-05", "2027-04-08",
)  # fmt: skip


# --- the four pre-loaded plans --------------------------------------------------------------


def test_the_four_preloaded_plans_pass_the_plan_checks_with_their_documented_shapes():
    for plan in (HOME_6W, HOME_12W, CLINIC_6, PTT6):
        check_plan(plan)
    assert (HOME_6W.applications, HOME_6W.kits_per_course, HOME_6W.serum_ul_per_application) == (
        12,
        1,
        2500,
    )
    assert (HOME_12W.applications, HOME_12W.kits_per_course) == (24, 2)
    assert (CLINIC_6.applications, CLINIC_6.uses_kits) == (6, False)
    assert (PTT6.applications, PTT6.serum_ul_per_application, PTT6.checkin_weeks) == (
        12,
        5000,
        (4, 6, 7, 10, 12),
    )
    assert {p.followup_months for p in (HOME_6W, HOME_12W, CLINIC_6, PTT6)} == {(3, 6)}


def test_a_home_plan_without_a_kit_is_refused():
    plan = Plan("home-x", "x", 2, 6, 2500, Administered.HOME)
    with pytest.raises(InvalidInput) as caught:
        check_plan(plan)
    assert caught.value.field == "kit"


def test_a_plan_whose_applications_do_not_split_evenly_into_its_kits_is_refused():
    plan = Plan("home-x", "x", 2, 6, 2500, Administered.HOME, "KIT-HOME-6W", kits_per_course=5)
    with pytest.raises(InvalidInput) as caught:
        check_plan(plan)
    assert (caught.value.field, caught.value.value) == ("kits_per_course", 5)


def test_a_checkin_week_outside_the_course_is_refused():
    plan = Plan("ptt-x", "x", 1, 12, 5000, Administered.CLINIC, checkin_weeks=(4, 13))
    with pytest.raises(InvalidInput) as caught:
        check_plan(plan)
    assert (caught.value.field, caught.value.value) == ("checkin_weeks", 13)


# --- weekdays -----------------------------------------------------------------------------


def test_weekday_names_parse_to_sorted_day_numbers_whatever_their_case_and_spacing():
    assert parse_weekdays("mon,thu") == (MON, THU)
    assert parse_weekdays("Thu, MON") == (MON, THU)
    assert format_weekdays((MON, THU)) == "mon,thu"


@pytest.mark.parametrize("text", ["mon,mon", "monday,thu", "mon;thu", ""])
def test_unknown_or_repeated_weekday_names_are_invalid_input(text):
    with pytest.raises(InvalidInput) as caught:
        parse_weekdays(text)
    assert (caught.value.field, caught.value.value) == ("weekdays", text)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2027-03-01", (MON, THU)),  # Monday → mon,thu
        ("2027-03-03", (WED, SAT)),  # Wednesday → wed,sat
        ("2027-03-06", (TUE, SAT)),  # Saturday → sat and, 3 days later, tue
    ],
)
def test_twice_a_week_without_a_choice_uses_the_start_day_and_three_days_later(start, expected):
    assert weekdays_for(HOME_6W, d(start), None) == expected


def test_a_weekly_plan_without_a_choice_uses_the_start_day():
    assert weekdays_for(PTT6, d("2027-03-03"), None) == (WED,)


def test_chosen_weekdays_that_include_the_start_day_are_kept():
    assert weekdays_for(HOME_6W, d("2027-03-01"), (MON, FRI)) == (MON, FRI)


def test_a_start_day_that_is_not_one_of_the_chosen_weekdays_is_invalid_input():
    with pytest.raises(InvalidInput) as caught:
        weekdays_for(HOME_6W, d("2027-03-02"), (MON, THU))  # a Tuesday
    assert (caught.value.field, caught.value.value) == ("start", "2027-03-02")
    assert "tue" in caught.value.reason


@pytest.mark.parametrize("chosen", [(MON,), (MON, WED, FRI)])
def test_the_wrong_number_of_weekdays_for_the_plan_is_invalid_input(chosen):
    with pytest.raises(InvalidInput) as caught:
        weekdays_for(HOME_6W, d("2027-03-01"), chosen)
    assert (caught.value.field, caught.value.value) == ("weekdays", format_weekdays(chosen))


@pytest.mark.parametrize(
    ("start", "chosen"),
    [
        ("2027-03-01", (MON, THU)),  # 3 and 4 days apart
        ("2027-03-02", (TUE, FRI)),
        ("2027-03-01", (MON, FRI)),  # 4 and 3
        ("2027-03-04", (THU, SUN)),
        ("2027-03-06", (TUE, SAT)),  # across the weekend: sat → tue is 3 days
    ],
)
def test_twice_a_week_days_three_or_four_days_apart_are_kept(start, chosen):
    assert weekdays_for(HOME_6W, d(start), chosen) == chosen
    assert weekdays_for(HOME_12W, d(start), chosen) == chosen


@pytest.mark.parametrize(
    ("start", "chosen"),
    [
        ("2027-03-01", (MON, TUE)),  # 1 day, then 6
        ("2027-03-01", (MON, WED)),  # 2 days, then 5
        ("2027-03-01", (MON, SAT)),  # 5 days, then 2
        ("2027-03-01", (MON, SUN)),  # 6 days, then 1
    ],
)
def test_twice_a_week_days_not_three_or_four_days_apart_are_invalid_input(start, chosen):
    with pytest.raises(InvalidInput) as caught:
        weekdays_for(HOME_6W, d(start), chosen)
    assert (caught.value.field, caught.value.value) == ("weekdays", format_weekdays(chosen))
    assert "3 or 4 days apart" in caught.value.reason
    assert "mon,thu" in caught.value.reason


def test_days_too_close_are_refused_even_when_the_start_day_is_not_one_of_them():
    with pytest.raises(InvalidInput) as caught:
        weekdays_for(HOME_6W, d("2027-03-03"), (MON, TUE))  # a Wednesday
    assert (caught.value.field, caught.value.value) == ("weekdays", "mon,tue")


def test_the_spacing_rule_is_only_for_twice_a_week_plans():
    thrice = replace(HOME_6W, code="t3", applications_per_week=3)
    assert weekdays_for(thrice, d("2027-03-01"), (MON, TUE, WED)) == (MON, TUE, WED)
    assert weekdays_for(PTT6, d("2027-03-02"), (TUE,)) == (TUE,)
    assert weekdays_for(CLINIC_6, d("2027-03-02"), (TUE,)) == (TUE,)


def test_a_twice_a_week_plan_with_default_days_too_close_is_invalid_input():
    with pytest.raises(InvalidInput) as caught:
        check_plan(replace(HOME_6W, default_weekdays=(MON, TUE)))
    assert (caught.value.field, caught.value.value) == ("weekdays", "mon,tue")
    check_plan(replace(HOME_6W, default_weekdays=(TUE, FRI)))


# --- the calendar -------------------------------------------------------------------------


def test_home_6w_from_monday_1_march_2027_gives_12_applications_on_mondays_and_thursdays():
    cal = calendar(HOME_6W, "2027-03-01")
    assert cal.application_dates == HOME_6W_MARCH_2027
    assert {a.weekday() for a in cal.application_dates} == {MON, THU}
    # six weeks of Monday + Thursday: the 12th application is the Thursday of week 6
    assert cal.last_application == d("2027-04-08")
    assert cal.checkins == ()


def test_applications_are_aware_datetimes_at_09_00_in_the_clinic_zone():
    cal = calendar(HOME_6W, "2027-03-01", zone="Europe/Vienna")
    assert all(a.tzinfo == ZoneInfo("Europe/Vienna") for a in cal.applications)
    assert {a.time() for a in cal.applications} == {time(9, 0)}


def test_another_time_of_day_is_kept_on_every_application():
    first = d("2027-03-01")
    cal = course_calendar(HOME_6W, first, (MON, THU), "Europe/London", at=time(14, 30))
    assert {a.time() for a in cal.applications} == {time(14, 30)}
    assert cal.followups[0] == datetime(2027, 7, 8, 14, 30, tzinfo=ZoneInfo("Europe/London"))


def test_a_course_from_a_wednesday_runs_on_wednesdays_and_saturdays():
    cal = calendar(HOME_6W, "2027-03-03")
    assert cal.application_dates[:4] == days("2027-03-03", "2027-03-06", "2027-03-10", "2027-03-13")
    assert cal.last_application == d("2027-04-10")


def test_a_course_starting_on_the_second_weekday_of_its_pair_begins_on_the_start_day():
    cal = calendar(HOME_6W, "2027-03-04", weekdays=(MON, THU))  # a Thursday
    assert cal.application_dates[:3] == days("2027-03-04", "2027-03-08", "2027-03-11")
    assert cal.last_application == d("2027-04-08") + timedelta(days=4)  # Monday 12 April


def test_follow_ups_fall_3_and_6_months_after_the_last_application():
    cal = calendar(HOME_6W, "2027-03-01")
    zone = ZoneInfo("Europe/London")
    assert cal.followups == (
        datetime(2027, 7, 8, 9, 0, tzinfo=zone),
        datetime(2027, 10, 8, 9, 0, tzinfo=zone),
    )


def test_ptt6_checkins_fall_on_the_start_weekday_of_weeks_4_6_7_10_and_12():
    cal = calendar(PTT6, "2027-03-01")
    assert tuple(c.date() for c in cal.checkins) == days(
        "2027-03-22", "2027-04-05", "2027-04-12", "2027-05-03", "2027-05-17"
    )
    assert {c.weekday() for c in cal.checkins} == {MON}
    # each check-in is at the same moment as that week's application
    assert set(cal.checkins) <= set(cal.applications)
    assert cal.application_dates[-1] == d("2027-05-17")


def test_ptt6_checkins_from_a_wednesday_start_are_on_wednesdays():
    cal = calendar(PTT6, "2027-03-03")
    assert tuple(c.date() for c in cal.checkins) == days(
        "2027-03-24", "2027-04-07", "2027-04-14", "2027-05-05", "2027-05-19"
    )


# --- daylight saving, New Year, leap years -----------------------------------------------


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [("Europe/London", 0, 1), ("Europe/Vienna", 1, 2)],
)
def test_a_course_across_the_march_clock_change_keeps_09_00_local_time(zone, before, after):
    # clocks go forward on Sunday 28 March 2027; applications 9-12 are after it
    cal = calendar(HOME_6W, "2027-03-01", zone=zone)
    assert cal.application_dates == HOME_6W_MARCH_2027
    assert {a.time() for a in cal.applications} == {time(9, 0)}
    assert [a.utcoffset() for a in cal.applications] == [timedelta(hours=before)] * 8 + [
        timedelta(hours=after)
    ] * 4
    assert cal.applications[8].astimezone(UTC) == datetime(2027, 3, 29, 9 - after, 0, tzinfo=UTC)
    assert cal.applications[7].astimezone(UTC) == datetime(2027, 3, 25, 9 - before, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "summer", "winter"),
    [("Europe/London", 1, 0), ("Europe/Vienna", 2, 1)],
)
def test_a_course_across_the_october_clock_change_keeps_09_00_local_time(zone, summer, winter):
    # clocks go back on Sunday 31 October 2027; applications 5-12 are after it
    cal = calendar(HOME_6W, "2027-10-18", zone=zone)
    assert cal.application_dates == days(
        "2027-10-18", "2027-10-21", "2027-10-25", "2027-10-28", "2027-11-01", "2027-11-04",
        "2027-11-08", "2027-11-11", "2027-11-15", "2027-11-18", "2027-11-22", "2027-11-25",
    )  # fmt: skip
    assert {a.time() for a in cal.applications} == {time(9, 0)}
    assert [a.utcoffset() for a in cal.applications] == [timedelta(hours=summer)] * 4 + [
        timedelta(hours=winter)
    ] * 8


def test_a_weekly_course_in_vienna_keeps_its_local_hour_across_the_march_change():
    cal = calendar(PTT6, "2027-03-01", zone="Europe/Vienna")
    offsets = [a.utcoffset() for a in cal.applications]
    assert offsets == [timedelta(hours=1)] * 4 + [timedelta(hours=2)] * 8
    assert {a.time() for a in cal.applications} == {time(9, 0)}
    assert cal.checkins[0].utcoffset() == timedelta(hours=1)  # 22 March
    assert cal.checkins[1].utcoffset() == timedelta(hours=2)  # 5 April


def test_a_course_across_new_year_has_the_right_dates_in_both_years():
    cal = calendar(HOME_6W, "2026-12-21")
    assert cal.application_dates == days(
        "2026-12-21", "2026-12-24", "2026-12-28", "2026-12-31", "2027-01-04", "2027-01-07",
        "2027-01-11", "2027-01-14", "2027-01-18", "2027-01-21", "2027-01-25", "2027-01-28",
    )  # fmt: skip
    assert tuple(f.date() for f in cal.followups) == days("2027-04-28", "2027-07-28")


def test_a_course_in_february_of_a_leap_year_includes_29_february():
    cal = calendar(HOME_6W, "2028-02-22")  # a Tuesday: Tuesdays and Fridays
    assert cal.application_dates[:5] == days(
        "2028-02-22", "2028-02-25", "2028-02-29", "2028-03-03", "2028-03-07"
    )
    assert cal.last_application == d("2028-03-31")


def test_a_course_ending_on_29_february_has_follow_ups_on_the_29th_three_and_six_months_on():
    cal = calendar(HOME_6W, "2028-01-21", weekdays=(TUE, FRI))  # a Friday
    assert cal.application_dates[-3:] == days("2028-02-22", "2028-02-25", "2028-02-29")
    assert tuple(f.date() for f in cal.followups) == days("2028-05-29", "2028-08-29")


def test_follow_ups_from_the_end_of_a_month_land_on_the_end_of_shorter_months():
    # weekly clinic course ending Tuesday 30 November 2027: +3 months is 29 February 2028
    cal = calendar(CLINIC_6, "2027-10-26")
    assert cal.last_application == d("2027-11-30")
    assert tuple(f.date() for f in cal.followups) == days("2028-02-29", "2028-05-30")
    # the same in a year that is not a leap year: 28 February
    cal = calendar(CLINIC_6, "2026-10-26")
    assert cal.last_application == d("2026-11-30")
    assert tuple(f.date() for f in cal.followups) == days("2027-02-28", "2027-05-30")


# --- kit needs ----------------------------------------------------------------------------


def test_applications_per_vial_are_2_for_the_2_5_ml_plans_and_1_for_the_5_ml_plans():
    assert applications_per_vial(VIAL_UL, HOME_6W) == 2
    assert applications_per_vial(VIAL_UL, HOME_12W) == 2
    assert applications_per_vial(VIAL_UL, PTT6) == 1


def test_a_clinic_session_of_half_a_vial_finishes_the_vial_its_pair_opened():
    twice = replace(HOME_6W, administered=Administered.CLINIC, kit_sku=None, kits_per_course=0)
    assert [session_vials(twice, VIAL_UL, n) for n in range(1, 7)] == [
        (1, None), (0, 1), (1, None), (0, 3), (1, None), (0, 5),
    ]  # fmt: skip
    assert [session_vials(PTT6, VIAL_UL, n) for n in (1, 2)] == [(1, None), (1, None)]
    big = replace(PTT6, serum_ul_per_application=7500)  # a vial and a half: two opened
    assert session_vials(big, VIAL_UL, 2) == (2, None)
    monday = date(2026, 11, 30)
    assert [opened_vial_lasts(monday, monday + timedelta(days=d)) for d in (0, 3, 4, 5, -1)] == [
        True, True, True, False, False,
    ]  # fmt: skip


def test_a_vial_smaller_than_one_application_is_invalid_input():
    with pytest.raises(InvalidInput) as caught:
        applications_per_vial(2500, PTT6)
    assert caught.value.field == "ml"


def test_home_6w_vial_k_is_needed_until_application_2k_plus_the_7_day_margin():
    cal = calendar(HOME_6W, "2027-03-01")
    (need,) = kit_needs(HOME_6W, cal, VIAL_UL, HOME_VIALS)
    assert need.part == 1
    assert need.first_use == d("2027-03-01")
    assert need.vial_needed_until == days(
        "2027-03-11", "2027-03-18", "2027-03-25", "2027-04-01", "2027-04-08", "2027-04-15"
    )
    assert need.vial_needed_until == tuple(
        HOME_6W_MARCH_2027[2 * k - 1] + timedelta(days=7) for k in range(1, 7)
    )
    assert need.last_needed == d("2027-04-15")


def test_home_6w_with_no_margin_needs_each_vial_until_its_last_application_only():
    cal = calendar(HOME_6W, "2027-03-01")
    (need,) = kit_needs(HOME_6W, cal, VIAL_UL, HOME_VIALS, margin_days=0)
    assert need.vial_needed_until == days(
        "2027-03-04", "2027-03-11", "2027-03-18", "2027-03-25", "2027-04-01", "2027-04-08"
    )


def test_home_12w_second_kit_serves_applications_13_to_24():
    cal = calendar(HOME_12W, "2027-03-01")
    assert len(cal.applications) == 24
    first, second = kit_needs(HOME_12W, cal, VIAL_UL, HOME_VIALS)
    assert first == KitNeed(
        1,
        d("2027-03-01"),
        days("2027-03-11", "2027-03-18", "2027-03-25", "2027-04-01", "2027-04-08", "2027-04-15"),
    )
    assert cal.application_dates[12:14] == days("2027-04-12", "2027-04-15")  # applications 13, 14
    assert second.part == 2
    assert second.first_use == d("2027-04-12")  # application 13
    assert second.vial_needed_until[0] == d("2027-04-22")  # application 14 + 7 days
    assert second.vial_needed_until == days(
        "2027-04-22", "2027-04-29", "2027-05-06", "2027-05-13", "2027-05-20", "2027-05-27"
    )
    assert cal.last_application == d("2027-05-20")


def test_ptt6_vial_k_is_needed_until_application_k_plus_the_margin():
    cal = calendar(PTT6, "2027-03-01", zone="Europe/Vienna")
    (need,) = kit_needs(PTT6, cal, VIAL_UL, PTT6_VIALS)
    assert need.first_use == d("2027-03-01")
    assert len(need.vial_needed_until) == 12
    assert need.vial_needed_until == tuple(day + timedelta(days=7) for day in cal.application_dates)
    assert need.vial_needed_until[0] == d("2027-03-08")
    assert need.vial_needed_until[-1] == d("2027-05-24")


def test_a_spare_vial_beyond_the_course_must_last_only_as_long_as_the_last_application():
    cal = calendar(HOME_6W, "2027-03-01")
    (need,) = kit_needs(HOME_6W, cal, VIAL_UL, HOME_VIALS + 1)
    assert len(need.vial_needed_until) == 7
    assert need.vial_needed_until[5:] == days("2027-04-15", "2027-04-15")


@pytest.mark.parametrize(("plan", "vials"), [(HOME_6W, 5), (HOME_12W, 5), (PTT6, 11), (PTT6, 6)])
def test_a_recipe_with_too_few_vials_for_a_kit_share_is_invalid_input(plan, vials):
    cal = calendar(plan, "2027-03-01")
    with pytest.raises(InvalidInput) as caught:
        kit_needs(plan, cal, VIAL_UL, vials)
    assert (caught.value.field, caught.value.value) == ("recipe", plan.kit_sku)


def test_a_clinic_plan_needs_no_kits():
    assert kit_needs(CLINIC_6, calendar(CLINIC_6, "2027-03-01"), VIAL_UL, HOME_VIALS) == []


# --- fits / first failing vial ------------------------------------------------------------


def home_6w_need(start: str, margin_days: int = 7) -> KitNeed:
    (need,) = kit_needs(HOME_6W, calendar(HOME_6W, start), VIAL_UL, HOME_VIALS, margin_days)
    return need


def test_a_kit_that_expires_between_applications_8_and_9_does_not_fit_and_vial_5_fails():
    kit = (d("2027-03-27"),) * 6  # application 8 is 25 March, application 9 is 29 March
    need = home_6w_need("2027-03-01", margin_days=0)
    assert not fits(kit, need)
    assert first_failing_vial(kit, need) == 5  # vial 5 serves applications 9 and 10


def test_with_the_default_margin_the_same_kit_already_fails_at_vial_4():
    kit = (d("2027-03-27"),) * 6
    need = home_6w_need("2027-03-01")  # vial 4 is last used 25 March, needed until 1 April
    assert not fits(kit, need)
    assert first_failing_vial(kit, need) == 4


def test_the_same_kit_fits_a_course_starting_three_weeks_earlier():
    kit = (d("2027-03-27"),) * 6
    need = home_6w_need("2027-02-08")  # last application 18 March, + 7 days = 25 March
    assert need.last_needed == d("2027-03-25")
    assert fits(kit, need)
    assert first_failing_vial(kit, need) is None


def test_a_kit_expiring_on_the_last_needed_day_fits_and_one_day_earlier_does_not():
    need = home_6w_need("2027-03-01")
    assert fits((d("2027-04-15"),) * 6, need)
    assert not fits((d("2027-04-14"),) * 6, need)
    assert first_failing_vial((d("2027-04-14"),) * 6, need) == 6


def test_a_mixed_lot_kit_fits_when_its_early_expiring_vials_are_only_needed_early():
    # two vials from a lot expiring 20 March serve applications 1-4 (needed until 18 March)
    kit = (d("2027-03-20"),) * 2 + (d("2027-12-31"),) * 4
    need = home_6w_need("2027-03-01")
    assert fits(kit, need)
    assert first_failing_vial(kit, need) is None
    # a third early vial would have to last until 25 March
    kit3 = (d("2027-03-20"),) * 3 + (d("2027-12-31"),) * 3
    assert not fits(kit3, need)
    assert first_failing_vial(kit3, need) == 3


def test_the_order_in_which_a_kits_vial_dates_are_given_does_not_matter():
    kit = (d("2027-12-31"),) * 4 + (d("2027-03-20"),) * 2
    need = home_6w_need("2027-03-01")
    assert fits(kit, need)
    assert fits(tuple(reversed(kit)), need)
    assert first_failing_vial(kit, need) is None
    late_first = (d("2027-12-31"),) * 3 + (d("2027-03-20"),) * 3
    assert not fits(late_first, need)
    assert first_failing_vial(late_first, need) == 3


def test_a_kit_with_fewer_vials_than_the_course_needs_does_not_fit():
    need = home_6w_need("2027-03-01")
    assert not fits((d("2030-01-01"),) * 5, need)


def test_first_failing_vial_reports_the_missing_vial_of_a_short_kit():
    need = home_6w_need("2027-03-01")
    assert first_failing_vial((d("2030-01-01"),) * 5, need) == 6


# --- kit and vial numbers of a calendar ---------------------------------------------------


def test_home_6w_applications_use_kit_1_and_each_vial_for_two_applications():
    numbers = kit_and_vial_numbers(HOME_6W, VIAL_UL)
    assert numbers == tuple((1, (n - 1) // 2 + 1) for n in range(1, 13))
    assert numbers[:4] == ((1, 1), (1, 1), (1, 2), (1, 2))


def test_home_12w_applications_13_to_24_use_kit_2_from_its_first_vial():
    numbers = kit_and_vial_numbers(HOME_12W, VIAL_UL)
    assert len(numbers) == 24
    assert numbers[11:14] == ((1, 6), (2, 1), (2, 1))
    assert numbers[-1] == (2, 6)


def test_ptt6_uses_one_vial_per_application():
    assert kit_and_vial_numbers(PTT6, VIAL_UL) == tuple((1, n) for n in range(1, 13))


def test_a_clinic_plan_or_a_plan_without_a_vial_size_numbers_no_kits():
    assert kit_and_vial_numbers(CLINIC_6, VIAL_UL) == (None,) * CLINIC_6.applications
    assert kit_and_vial_numbers(HOME_6W, None) == (None,) * 12
