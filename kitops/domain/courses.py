"""Treatment plans and the calendar of a course: when each application, check-in and
follow-up falls, and until when each vial of each kit must still be in date.

Dates are the clinic's local calendar; times are aware datetimes in the clinic's time
zone, so a course across a daylight-saving change keeps its local hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import WEEKLY, rrule, weekday

from kitops.domain.catalog import format_mm, mm_to_um
from kitops.domain.numbers import parse_id
from kitops.errors import InvalidInput
from kitops.i18n import _

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_EXPIRY_MARGIN_DAYS = 7
DEFAULT_APPLICATION_TIME = time(9, 0)


class Administered(StrEnum):
    HOME = "home"
    CLINIC = "clinic"


class CourseStatus(StrEnum):
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ENDED_EARLY = "ended_early"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    applications_per_week: int
    weeks: int
    serum_ul_per_application: int
    administered: Administered
    kit_sku: str | None = None
    kits_per_course: int = 0
    default_weekdays: tuple[int, ...] | None = None  # None: derived from the start day
    checkin_weeks: tuple[int, ...] = ()
    followup_months: tuple[int, ...] = (3, 6)
    # the needle lengths (µm) a clinic session's derma stamp may have: seed 000's clinic
    # goes 1.2 to 3 mm deep, seed 002's 2 mm; None: the plan names none
    needle_min_um: int | None = None
    needle_max_um: int | None = None
    # weeks from one application week to the next: 1 for a course, 4 for maintenance
    # applications once every four weeks
    interval_weeks: int = 1

    @property
    def applications(self) -> int:
        return self.applications_per_week * self.weeks

    @property
    def uses_kits(self) -> bool:
        return self.kit_sku is not None and self.kits_per_course > 0


def check_plan(plan: Plan) -> None:
    if not 1 <= plan.applications_per_week <= 7:
        raise InvalidInput("applications_per_week", plan.applications_per_week, _("must be 1-7"))
    if not 1 <= plan.weeks <= 104:
        raise InvalidInput("weeks", plan.weeks, _("must be 1-104"))
    if plan.serum_ul_per_application <= 0:
        raise InvalidInput("ml", plan.serum_ul_per_application / 1000, _("must be more than 0"))
    if plan.administered is Administered.HOME and not plan.uses_kits:
        raise InvalidInput("kit", None, _("a home plan needs a kit recipe and kits per course"))
    if plan.uses_kits and plan.applications % plan.kits_per_course:
        raise InvalidInput(
            "kits_per_course", plan.kits_per_course,
            _("{applications} applications do not split evenly into kits").format(
                applications=plan.applications,
            ),
        )  # fmt: skip
    if (
        plan.default_weekdays is not None
        and len(plan.default_weekdays) != plan.applications_per_week
    ):
        raise InvalidInput(
            "weekdays", format_weekdays(plan.default_weekdays),
            _("the plan has {applications_per_week} applications a week").format(
                applications_per_week=plan.applications_per_week,
            ),
        )  # fmt: skip
    if plan.default_weekdays is not None:
        check_weekday_spacing(plan, plan.default_weekdays)
    for week in plan.checkin_weeks:
        if not 1 <= week <= plan.weeks:
            raise InvalidInput(
                "checkin_weeks",
                week,
                _("must be within the {weeks} weeks").format(weeks=plan.weeks),
            )
    if not 1 <= plan.interval_weeks <= MAX_INTERVAL_WEEKS:
        raise InvalidInput(
            "every_weeks",
            plan.interval_weeks,
            _("must be 1-{max_interval_weeks}").format(max_interval_weeks=MAX_INTERVAL_WEEKS),
        )
    if plan.weeks * plan.interval_weeks > MAX_COURSE_WEEKS:
        # a course spans at most two years, as everything that looks back for courses
        # still running assumes (the demand forecast's window)
        raise InvalidInput(
            "every_weeks", plan.interval_weeks,
            _(
                "{weeks} application weeks {interval_weeks} weeks "
                "apart span more than {max_course_weeks} weeks"
            ).format(
                weeks=plan.weeks,
                interval_weeks=plan.interval_weeks,
                max_course_weeks=MAX_COURSE_WEEKS,
            ),
        )  # fmt: skip
    if plan.uses_kits and plan.interval_weeks > 1:
        # a kit's share of a course is counted in consecutive weeks (kit_share_days, and
        # the vial dates every kit is matched against); applications weeks apart would
        # leave a kit opened at home for months, which no source describes
        raise InvalidInput(
            "every_weeks", plan.interval_weeks,
            _("a plan with kits applies every week; applications weeks apart are given in clinic"),
        )  # fmt: skip
    check_needle_range(plan)


MAX_INTERVAL_WEEKS = 52
MAX_COURSE_WEEKS = 104


def check_needle_range(plan: Plan) -> None:
    """A clinic plan's needle range is a positive range; a home plan names none (its kit
    recipe's stamp, within the at-home maximum, is what it uses)."""
    low, high = plan.needle_min_um, plan.needle_max_um
    if low is None and high is None:
        return
    if low is None or high is None or not 0 < low <= high:
        raise InvalidInput(
            "needle", format_needles(low, high), _("must be a length or a range such as 1.2-3 (mm)")
        )
    if plan.administered is not Administered.CLINIC:
        raise InvalidInput(
            "needle", format_needles(low, high),
            _("is for plans given in the clinic; a home plan uses its kit's stamp"),
        )  # fmt: skip


def parse_needle_range(text: str, field: str = "needle") -> tuple[int, int]:
    """``"1.2-3"`` → ``(1200, 3000)``; ``"2"`` → ``(2000, 2000)`` (millimetres in, µm out)."""
    low_text, dash, high_text = text.strip().removesuffix("mm").strip().partition("-")
    try:
        low = mm_to_um(low_text.strip(), field)
        high = mm_to_um(high_text.strip(), field) if dash else low
    except InvalidInput:
        raise InvalidInput(field, text, _(
            "must be a needle length in mm such as 2, or a range such as "
            "1.2-3"
        )) from None  # fmt: skip
    if high < low:
        raise InvalidInput(field, text, _("the shortest needle comes first (1.2-3)"))
    return low, high


def format_needles(low: int | None, high: int | None) -> str | None:
    """``(1200, 3000)`` → ``"1.2-3 mm"``; ``(2000, 2000)`` → ``"2 mm"``; None without one."""
    if low is None or high is None:
        return None
    if low == high:
        return f"{format_mm(low)} mm"
    return f"{format_mm(low)}-{format_mm(high)} mm"


def check_session_stamp(plan: Plan, sku: str, needle_um: int | None) -> None:
    """A derma stamp among a plan's session supplies must have a needle within the plan's
    range (when the plan names one)."""
    if plan.needle_min_um is None or plan.needle_max_um is None:
        return
    if needle_um is None or not plan.needle_min_um <= needle_um <= plan.needle_max_um:
        if needle_um:
            needle = _("{needle} mm needle").format(needle=format_mm(needle_um))
        else:
            needle = _("no needle length")
        raise InvalidInput(
            "supply", sku,
            _("has a {needle}, outside {plan}'s {needles}").format(
                needle=needle,
                plan=plan.code,
                needles=format_needles(plan.needle_min_um, plan.needle_max_um),
            ),
        )  # fmt: skip


def parse_weekdays(text: str, field: str = "weekdays") -> tuple[int, ...]:
    """``"mon,thu"`` → ``(0, 3)``."""
    days = []
    for part in text.lower().replace(" ", "").split(","):
        if part not in WEEKDAY_NAMES:
            raise InvalidInput(field, text, _("must be weekday names such as mon,thu"))
        days.append(WEEKDAY_NAMES.index(part))
    if len(set(days)) != len(days):
        raise InvalidInput(field, text, _("names a day twice"))
    return tuple(sorted(days))


def format_weekdays(days: tuple[int, ...]) -> str:
    return ",".join(WEEKDAY_NAMES[d] for d in days)


VIAL_HALVES_DAYS_APART = (3, 4)


def check_weekday_spacing(plan: Plan, days: tuple[int, ...]) -> None:
    """Twice a week, one vial serves both applications of the week (half a vial each,
    seed 000), so its two halves must be used 3-4 days apart: mon,thu, tue,fri or mon,fri
    are right, mon,tue is not. The sources give no spacing for plans with another number
    of applications a week, so their days are not judged here."""
    if plan.applications_per_week != 2 or len(days) != 2:
        return
    if (days[1] - days[0]) % 7 not in VIAL_HALVES_DAYS_APART:
        raise InvalidInput(
            "weekdays", format_weekdays(days),
            _(
                "the two applications of a week must be 3 or 4 days apart, "
                "the two halves of one vial (mon,thu or tue,fri)"
            ),
        )  # fmt: skip


def weekdays_for(plan: Plan, start: date, chosen: tuple[int, ...] | None) -> tuple[int, ...]:
    """The course's application weekdays; the start day is always one of them.

    Without a choice: the plan's default, else the start day and, for twice a week, the
    day 3 days later (Monday → Monday and Thursday), spreading the applications evenly.
    Chosen days twice a week must be 3-4 days apart (``check_weekday_spacing``; a plan's
    default days were checked when the plan was made).
    """
    days = chosen or plan.default_weekdays
    if days is None:
        step = 7 / plan.applications_per_week
        days = tuple(sorted({(start.weekday() + int(i * step)) % 7
                             for i in range(plan.applications_per_week)}))  # fmt: skip
    if len(days) != plan.applications_per_week:
        raise InvalidInput(
            "weekdays", format_weekdays(days),
            _("{plan} has {applications_per_week} applications a week").format(
                plan=plan.code,
                applications_per_week=plan.applications_per_week,
            ),
        )  # fmt: skip
    if chosen:
        check_weekday_spacing(plan, days)
    if start.weekday() not in days:
        raise InvalidInput(
            "start", start.isoformat(),
            _("is a {weekday}, not one of {days}").format(
                weekday=WEEKDAY_NAMES[start.weekday()],
                days=format_weekdays(days),
            ),
        )  # fmt: skip
    return days


@dataclass(frozen=True)
class Calendar:
    applications: tuple[datetime, ...]
    checkins: tuple[datetime, ...]
    followups: tuple[datetime, ...]

    @property
    def application_dates(self) -> tuple[date, ...]:
        return tuple(a.date() for a in self.applications)

    @property
    def last_application(self) -> date:
        return self.applications[-1].date()


def course_calendar(
    plan: Plan,
    start: date,
    days: tuple[int, ...],
    timezone: str,
    at: time = DEFAULT_APPLICATION_TIME,
    moves: tuple[tuple[int, date, tuple[int, ...]], ...] = (),
) -> Calendar:
    """Applications by rrule on the chosen weekdays from the start day, every
    ``plan.interval_weeks`` weeks, in the clinic's zone; check-ins on the first application
    day of their (application) week; follow-ups a number of months after the last
    application.

    ``moves`` (a rescheduled course, in order): from application number ``first`` on,
    the applications restart on a day on other weekdays; check-ins then fall on the first
    application of their week of the course."""
    if moves:
        return _moved_calendar(plan, start, days, timezone, at, moves)
    zone = ZoneInfo(timezone)
    first = datetime.combine(start, at, tzinfo=zone)
    rule = rrule(
        WEEKLY, dtstart=first.replace(tzinfo=None), byweekday=[weekday(d) for d in days],
        count=plan.applications, interval=plan.interval_weeks,
    )  # fmt: skip
    applications = tuple(moment.replace(tzinfo=zone) for moment in rule)
    checkins = tuple(
        datetime.combine(
            start + relativedelta(weeks=(week - 1) * plan.interval_weeks), at, tzinfo=zone
        )
        for week in plan.checkin_weeks
    )
    last = applications[-1].date()
    followups = tuple(
        datetime.combine(last + relativedelta(months=months), at, tzinfo=zone)
        for months in plan.followup_months
    )
    return Calendar(applications, checkins, followups)


def _moved_calendar(
    plan: Plan,
    start: date,
    days: tuple[int, ...],
    timezone: str,
    at: time,
    moves: tuple[tuple[int, date, tuple[int, ...]], ...],
) -> Calendar:
    applications = list(course_calendar(plan, start, days, timezone, at).applications)
    for first, day, weekdays in sorted(moves):
        if not 1 <= first <= len(applications):
            raise InvalidInput(
                "from", first, _("must be an application 1-{n}").format(n=len(applications))
            )
        again = course_calendar(plan, day, weekdays, timezone, at).applications
        applications[first - 1 :] = again[: len(applications) - first + 1]
    zone = ZoneInfo(timezone)
    checkins = tuple(
        datetime.combine(applications[(week - 1) * plan.applications_per_week].date(), at,
                         tzinfo=zone)
        for week in plan.checkin_weeks
    )  # fmt: skip
    last = applications[-1].date()
    followups = tuple(
        datetime.combine(last + relativedelta(months=months), at, tzinfo=zone)
        for months in plan.followup_months
    )
    return Calendar(tuple(applications), checkins, followups)


def applications_per_vial(vial_ul: int, plan: Plan) -> int:
    """How many applications one vial serves (2 for 2.5 ml plans, 1 for 5 ml plans)."""
    per_vial = vial_ul // plan.serum_ul_per_application
    if per_vial < 1:
        raise InvalidInput("ml", plan.serum_ul_per_application / 1000, _("is more than one vial"))
    return per_vial


def session_vials(plan: Plan, vial_ul: int, number: int) -> tuple[int, int | None]:
    """What clinic session ``number`` (from 1) of a course on ``plan`` takes of the serum:
    (vials it opens, the earlier session whose opened vial it finishes, or None).

    Half a 5 ml vial per treatment (seed 000): like the two halves of a kit's vial, a
    vial opened at one session serves the next one of its pair (the two of a week, 3-4
    days apart), so sessions 1, 3, 5... open a vial and 2, 4, 6... finish it. A plan whose
    application takes a vial or more opens its vials at every session."""
    per_vial = vial_ul // plan.serum_ul_per_application
    if per_vial <= 1:
        return -(-plan.serum_ul_per_application // vial_ul), None
    first = number - (number - 1) % per_vial
    return (1, None) if first == number else (0, first)


def opened_vial_lasts(opened_on: date, day: date) -> bool:
    """Whether a vial opened on ``opened_on`` may still be used on ``day``: within the
    days the two halves of one vial may be apart (``VIAL_HALVES_DAYS_APART``)."""
    return 0 <= (day - opened_on).days <= max(VIAL_HALVES_DAYS_APART)


def kit_and_vial_numbers(plan: Plan, vial_ul: int | None) -> tuple[tuple[int, int] | None, ...]:
    """For each application of a course on ``plan``, in calendar order: the kit (its
    course part) and the vial within it that serve it, both numbered from 1. Kit p
    serves its share of the applications; within it, vial k serves applications
    (k−1)·a+1 … k·a of that share (as ``kit_needs`` counts them). None for every
    application when the plan uses no kits (or ``vial_ul`` is None: no kit recipe)."""
    per_kit = plan.applications // plan.kits_per_course if plan.uses_kits else 0
    if not per_kit or vial_ul is None:
        return (None,) * plan.applications
    per_vial = applications_per_vial(vial_ul, plan)
    return tuple(
        ((index // per_kit) + 1, ((index % per_kit) // per_vial) + 1)
        for index in range(plan.applications)
    )


@dataclass(frozen=True)
class KitNeed:
    """What one kit of a course must be: in date, vial by vial, until these days."""

    part: int  # 1 for the first kit of the course, 2 for the second...
    first_use: date  # the kit must reach the patient by this day
    vial_needed_until: tuple[date, ...]  # vial k (earliest-expiring first) in date until

    @property
    def last_needed(self) -> date:
        return max(self.vial_needed_until)


def kit_needs(
    plan: Plan,
    calendar: Calendar,
    vial_ul: int,
    vials_per_kit: int,
    margin_days: int = DEFAULT_EXPIRY_MARGIN_DAYS,
) -> list[KitNeed]:
    """Kit p serves its share of the applications; within it vials are used earliest
    expiry first, vial k serving applications (k−1)·a+1 … k·a of that share. Each vial
    must be in date on the last day it is used, plus the safety margin."""
    if not plan.uses_kits:
        return []
    per_kit = plan.applications // plan.kits_per_course
    per_vial = applications_per_vial(vial_ul, plan)
    if vials_per_kit * per_vial < per_kit:
        raise InvalidInput(
            "recipe", plan.kit_sku,
            _(
                "{vials_per_kit} vials serve {applications} "
                "applications; a kit of {plan} must serve {per_kit}"
            ).format(
                vials_per_kit=vials_per_kit,
                applications=vials_per_kit * per_vial,
                plan=plan.code,
                per_kit=per_kit,
            ),
        )  # fmt: skip
    dates = calendar.application_dates
    margin = timedelta(days=margin_days)
    needs = []
    for part in range(plan.kits_per_course):
        share = dates[part * per_kit : (part + 1) * per_kit]
        until = []
        for k in range(vials_per_kit):
            served = share[k * per_vial : (k + 1) * per_vial]
            # a spare vial beyond the course's needs must only last as long as the last one
            until.append((served[-1] if served else share[-1]) + margin)
        needs.append(KitNeed(part + 1, share[0], tuple(until)))
    return needs


def fits(vial_expiries: tuple[date, ...], need: KitNeed) -> bool:
    """Vials sorted earliest first; vial k must not expire before it is last used."""
    ordered = sorted(vial_expiries)
    if len(ordered) < len(need.vial_needed_until):
        return False
    return all(e >= n for e, n in zip(ordered, need.vial_needed_until, strict=False))


def first_failing_vial(vial_expiries: tuple[date, ...], need: KitNeed) -> int | None:
    """1-based index of the first vial that would be out of date, or None if it fits."""
    ordered = sorted(vial_expiries)
    for index, (e, n) in enumerate(zip(ordered, need.vial_needed_until, strict=False)):
        if e < n:
            return index + 1
    if len(ordered) < len(need.vial_needed_until):
        return len(ordered) + 1  # the kit has too few vials: the first missing one fails
    return None


def kit_share_days(plan: Plan) -> int:
    """The days one kit of ``plan`` serves: the plan's weeks shared out among its kits,
    rounded up (a 12-week plan of two kits: 42 days a kit). 0 for a plan without kits.
    Weeks are consecutive: ``check_plan`` refuses kit plans with applications weeks apart."""
    if not plan.uses_kits:
        return 0
    return -(-plan.weeks * 7 // plan.kits_per_course)


@lru_cache(maxsize=1024)
def kit_needs_from(
    plan: Plan, vial_ul: int, vials_per_kit: int, margin_days: int, first_use: date
) -> tuple[KitNeed, ...]:
    """The needs of each kit of ``plan``, every one moved to begin on ``first_use``: what
    a kit handed out that day for any part of a course would have to last. The course
    starts on the plan's first default weekday on or after the day (or on the day)."""
    if not plan.uses_kits:
        return ()
    start = first_use
    if plan.default_weekdays:
        while start.weekday() not in plan.default_weekdays:
            start += timedelta(days=1)
    days = weekdays_for(plan, start, None)
    calendar = course_calendar(plan, start, days, "UTC")
    try:
        needs = kit_needs(plan, calendar, vial_ul, vials_per_kit, margin_days)
    except InvalidInput:  # the kit holds too few vials for this plan: it serves none
        return ()
    moved = []
    for need in needs:
        shift = first_use - need.first_use
        moved.append(
            KitNeed(need.part, first_use, tuple(day + shift for day in need.vial_needed_until))
        )
    return tuple(moved)


def can_serve(
    vial_expiries: tuple[date, ...],
    plan: Plan,
    vial_ul: int,
    vials_per_kit: int,
    margin_days: int,
    today: date,
) -> bool:
    """Whether a kit with these vial dates could still serve a kit of ``plan`` handed out
    today (each vial in date on its last day of use plus the margin, as fulfilment judges
    it): a kit that cannot, cannot serve that plan on any later day either."""
    needs = kit_needs_from(plan, vial_ul, vials_per_kit, margin_days, today)
    return any(fits(vial_expiries, need) for need in needs)


_PATIENT_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)


def parse_patient_ref(value: str) -> str:
    """A pseudonymous reference such as ``P-2026-0412``: no spaces, so no names."""
    ref = value.strip()
    if not _PATIENT_REF.fullmatch(ref):
        raise InvalidInput(
            "patient", value,
            _("must be a pseudonymous reference: 1-64 letters, digits, '.', '_' or '-', no spaces"),
        )  # fmt: skip
    return ref


def parse_course_id(course_id: int | str) -> int:
    return parse_id(course_id, "course", _("a course number"))
