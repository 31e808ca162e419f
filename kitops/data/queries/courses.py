"""Courses, soonest start first, filtered and paged in the query."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kitops.data.queries.paging import filters, matching, page
from kitops.data.schema import CourseRow, KitRow, LocationRow, PlanRow


def course_list(
    session: Session,
    *,
    clinic_id: int | None,
    status: str | None,
    search: str,
    offset: int,
    limit: int,
    within: Collection[int] | None = None,
    course_id: int | None = None,
) -> tuple[int, Sequence[Any]]:
    """(courses in all, this page's rows of id, patient reference, plan code, clinic
    code, start date, weekdays, status, kits per course, kits held). ``search`` matches
    the patient reference, the plan and a course number; ``within`` narrows to those
    clinics (a user limited to clinics); ``course_id`` to that one course (by its key)."""
    conditions = filters(
        CourseRow.id == course_id if course_id is not None else None,
        CourseRow.clinic_id == clinic_id if clinic_id is not None else None,
        CourseRow.clinic_id.in_(within) if within is not None else None,
        CourseRow.status == status if status else None,
        matching(search, CourseRow.patient_ref, PlanRow.code, numbers=[CourseRow.id]),
    )
    held = (
        select(func.count())
        .select_from(KitRow)
        .where(KitRow.course_id == CourseRow.id)
        .scalar_subquery()
    )
    counted = (
        select(func.count())
        .select_from(CourseRow)
        .join(PlanRow, PlanRow.id == CourseRow.plan_id)
        .join(LocationRow, LocationRow.id == CourseRow.clinic_id)
        .where(*conditions)
    )
    columns = (
        CourseRow.id,
        CourseRow.patient_ref,
        PlanRow.code,
        LocationRow.code,
        CourseRow.start_date,
        CourseRow.weekdays,
        CourseRow.status,
        PlanRow.kits_per_course,
        held,
    )
    order = (CourseRow.start_date, CourseRow.id)
    return page(session, counted, columns, order, offset, limit)
