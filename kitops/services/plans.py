"""Treatment plans: data, pre-loaded with the protocols of the source documents."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import select

from kitops.data.schema import CourseRow, PlanRow, PlanSessionItemRow, ProductRow
from kitops.domain.catalog import ml_to_ul, parse_positive_int, parse_sku, ul_to_ml
from kitops.domain.course_lifecycle import moves_of
from kitops.domain.courses import (
    Administered,
    Calendar,
    Plan,
    check_plan,
    course_calendar,
    format_needles,
    format_weekdays,
    parse_needle_range,
    parse_weekdays,
)
from kitops.domain.text import no_control
from kitops.errors import Conflict, InvalidInput
from kitops.i18n import _
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    # the DTOs only where a plan is shown: `kit list` reads plans without them
    from kitops.services.dto import courses as courses_dto

# DOMAIN.md: seeds 000/001 (home), 002 (clinic), 004 (PTT-6 case series), 000 (clinic).
DEFAULT_PLANS = [
    dict(code="home-6w", name="At-home 6 weeks, twice a week", per_week=2, weeks=6, ml="2.5",
         administered="home", kit="KIT-HOME-6W", kits=1, followups="3,6"),
    dict(code="home-12w", name="At-home 12 weeks, twice a week (two kits)", per_week=2,
         weeks=12, ml="2.5", administered="home", kit="KIT-HOME-6W", kits=2, followups="3,6"),
    dict(code="clinic-weekly-6", name="Clinic, weekly, 6 treatments", per_week=1, weeks=6,
         ml="5", administered="clinic", needle="2", followups="3,6"),
    dict(code="ptt6-weekly-12", name="PTT-6 weekly for 12 weeks at home", per_week=1, weeks=12,
         ml="5", administered="home", kit="KIT-HOME-PTT6", kits=1, checkins="4,6,7,10,12",
         followups="3,6"),
    # seed 000: twice a week for 6 weeks in the clinic, half a vial (2.5 ml) each time,
    # "longer microneedles" of 1.2 to 3 mm; after a 6-week course "occasional maintenance":
    # one clinic application every 4 weeks, 3 times (the seeds give no number: a default)
    dict(code="clinic-2w-6", name="Clinic, twice a week for 6 weeks", per_week=2, weeks=6,
         ml="2.5", administered="clinic", needle="1.2-3", followups="3,6"),
    dict(code="clinic-maint-4w", name="Clinic maintenance, every 4 weeks, 3 applications",
         per_week=1, weeks=3, every_weeks=4, ml="2.5", administered="clinic", needle="1.2-3",
         followups=""),
]  # fmt: skip


def plan_numbers(text: str, field: str) -> tuple[int, ...]:
    if not text.strip():
        return ()
    return tuple(sorted({parse_positive_int(part, field) for part in text.split(",")}))


@lru_cache(maxsize=256)
def plan_of(
    code: str, name: str, per_week: int, weeks: int, serum_ul: int, administered: str,
    kit_sku: str | None, kits_per_course: int, default_weekdays: str | None,
    checkin_weeks: str, followup_months: str, needle_min_um: int | None = None,
    needle_max_um: int | None = None, interval_weeks: int = 1,
) -> Plan:  # fmt: skip
    """The domain plan of a ``plans`` row's columns (in the table's order), memoised."""
    return Plan(
        code=code,
        name=name,
        applications_per_week=per_week,
        weeks=weeks,
        serum_ul_per_application=serum_ul,
        administered=Administered(administered),
        kit_sku=kit_sku,
        kits_per_course=kits_per_course,
        default_weekdays=parse_weekdays(default_weekdays) if default_weekdays else None,
        checkin_weeks=plan_numbers(checkin_weeks, "checkin_weeks"),
        followup_months=plan_numbers(followup_months, "followup_months"),
        needle_min_um=needle_min_um,
        needle_max_um=needle_max_um,
        interval_weeks=interval_weeks or 1,
    )


def to_domain(row: PlanRow) -> Plan:
    return plan_of(
        row.code, row.name, row.applications_per_week, row.weeks, row.serum_ul_per_application,
        row.administered, row.kit_product.sku if row.kit_product else None, row.kits_per_course,
        row.default_weekdays, row.checkin_weeks, row.followup_months, row.needle_min_um,
        row.needle_max_um, row.interval_weeks,
    )  # fmt: skip


def calendar_of(course: CourseRow) -> tuple[Plan, Calendar]:
    """A course's plan and calendar, with its remaining applications where a reschedule
    moved them (the clinic visits' booked days are apart: ``kitops.services.clinic_calendar``)."""
    plan = to_domain(course.plan)
    zone = course.clinic.timezone
    assert zone is not None
    moves = moves_of(course.reschedules)
    days = parse_weekdays(course.weekdays)
    return plan, course_calendar(plan, course.start_date, days, zone, moves=moves)


def plan_dto(plan: Plan, supplies: tuple[tuple[str, int], ...] = ()) -> courses_dto.Plan:
    from kitops.services.dto import courses as courses_dto

    ml = ul_to_ml(plan.serum_ul_per_application)
    assert ml is not None
    return courses_dto.Plan(
        code=plan.code,
        name=plan.name,
        applications_per_week=plan.applications_per_week,
        weeks=plan.weeks,
        applications=plan.applications,
        ml_per_application=ml,
        administered=plan.administered.value,
        kit_sku=plan.kit_sku,
        kits_per_course=plan.kits_per_course,
        default_weekdays=format_weekdays(plan.default_weekdays) if plan.default_weekdays else None,
        checkin_weeks=plan.checkin_weeks,
        followup_months=plan.followup_months,
        needle=format_needles(plan.needle_min_um, plan.needle_max_um),
        every_weeks=plan.interval_weeks,
        session_supplies=supplies,
    )


def create_plan(
    uow: UnitOfWork,
    code: str,
    name: str,
    *,
    per_week: int | str,
    weeks: int | str,
    ml: str,
    administered: str,
    kit: str | None = None,
    kits: int | str = 0,
    weekdays: str | None = None,
    checkins: str = "",
    followups: str = "3,6",
    needle: str | None = None,
    every_weeks: int | str = 1,
) -> courses_dto.Plan:
    code = code.strip().lower()
    if not code or len(code) > 32 or not all(c.isalnum() or c in "-_." for c in code):
        raise InvalidInput("code", code, _("must be 1-32 letters, digits, '-', '_' or '.'"))
    if not name.strip() or len(name) > 200:
        raise InvalidInput("name", name, _("must be 1-200 characters"))
    no_control(name, "name")
    try:
        where = Administered(administered.strip().lower())
    except ValueError:
        raise InvalidInput("administered", administered, _("must be home or clinic")) from None
    kit_row = uow.products.get(parse_sku(kit, "kit"), "kit") if kit else None
    if kit_row is not None and kit_row.kind != "kit":
        raise InvalidInput(
            "kit", kit_row.sku, _("is a {kind}, not a kit").format(kind=kit_row.kind)
        )
    needles = parse_needle_range(needle) if needle else (None, None)
    plan = Plan(
        code=code,
        name=name.strip(),
        applications_per_week=parse_positive_int(per_week, "per_week"),
        weeks=parse_positive_int(weeks, "weeks"),
        serum_ul_per_application=ml_to_ul(ml),
        administered=where,
        kit_sku=kit_row.sku if kit_row else None,
        kits_per_course=int(kits) if kit_row else 0,
        default_weekdays=parse_weekdays(weekdays) if weekdays else None,
        checkin_weeks=plan_numbers(checkins, "checkins"),
        followup_months=plan_numbers(followups, "followups"),
        needle_min_um=needles[0],
        needle_max_um=needles[1],
        interval_weeks=parse_positive_int(every_weeks, "every_weeks"),
    )
    check_plan(plan)
    if uow.session.scalar(select(PlanRow.id).where(PlanRow.code == code)) is not None:
        raise Conflict(_("plan {plan} already exists").format(plan=code))
    row = PlanRow(
        code=plan.code,
        name=plan.name,
        applications_per_week=plan.applications_per_week,
        weeks=plan.weeks,
        serum_ul_per_application=plan.serum_ul_per_application,
        administered=plan.administered.value,
        kit_product_id=kit_row.id if kit_row else None,
        kits_per_course=plan.kits_per_course,
        default_weekdays=format_weekdays(plan.default_weekdays) if plan.default_weekdays else None,
        checkin_weeks=",".join(map(str, plan.checkin_weeks)),
        followup_months=",".join(map(str, plan.followup_months)),
        needle_min_um=plan.needle_min_um,
        needle_max_um=plan.needle_max_um,
        interval_weeks=plan.interval_weeks,
        active=True,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.record("plan.add", "plan", code, after={"name": plan.name, "kit": plan.kit_sku,
                                               "kits": plan.kits_per_course,
                                               "needle": format_needles(plan.needle_min_um,
                                                                        plan.needle_max_um),
                                               "every_weeks": plan.interval_weeks})  # fmt: skip
    return plan_dto(to_domain(row))


def add_plan(
    uow: UnitOfWork, code: str, name: str, **options: str | int | None
) -> courses_dto.Plan:
    with uow:
        uow.require("plan.edit")
        result = create_plan(uow, code, name, **options)  # type: ignore[arg-type]
        uow.commit()
    return result


def session_supplies(uow: UnitOfWork) -> dict[int, tuple[tuple[str, int], ...]]:
    """Every plan's session supplies, (SKU, quantity) by SKU, by plan id."""
    found: dict[int, list[tuple[str, int]]] = {}
    for plan_id, sku, quantity in uow.session.execute(
        select(PlanSessionItemRow.plan_id, ProductRow.sku, PlanSessionItemRow.quantity)
        .join(ProductRow, ProductRow.id == PlanSessionItemRow.product_id)
        .order_by(PlanSessionItemRow.plan_id, ProductRow.sku)
    ):
        found.setdefault(plan_id, []).append((sku, quantity))
    return {plan_id: tuple(items) for plan_id, items in found.items()}


def list_plans(uow: UnitOfWork) -> list[courses_dto.Plan]:
    with uow:
        rows = uow.plans.all()
        supplies = session_supplies(uow)
        return [plan_dto(to_domain(row), supplies.get(row.id, ())) for row in rows]


def show_plan(uow: UnitOfWork, code: str) -> courses_dto.Plan:
    with uow:
        row = uow.plans.get(code)
        return plan_dto(to_domain(row), session_supplies(uow).get(row.id, ()))
