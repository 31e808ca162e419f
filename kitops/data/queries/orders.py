"""Orders, newest first, filtered and paged in the query."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kitops.data.queries.paging import filters, matching, page
from kitops.data.schema import CourseRow, LocationRow, OrderRow, PlanRow


def order_list(
    session: Session,
    *,
    clinic_id: int | None,
    status: str | None,
    search: str,
    offset: int,
    limit: int,
    within: Collection[int] | None = None,
) -> tuple[int, Sequence[Any]]:
    """(orders in all, this page's rows of id, course id, patient reference, plan code,
    clinic code, status, currency, total, paid and refunded in minor units, created at).
    ``search`` matches the patient reference, the plan, and an order or course number."""
    conditions = filters(
        OrderRow.clinic_id == clinic_id if clinic_id is not None else None,
        OrderRow.clinic_id.in_(within) if within is not None else None,
        OrderRow.status == status if status else None,
        matching(
            search, OrderRow.patient_ref, PlanRow.code, numbers=[OrderRow.id, OrderRow.course_id]
        ),
    )
    counted = (
        select(func.count())
        .select_from(OrderRow)
        .join(CourseRow, CourseRow.id == OrderRow.course_id)
        .join(PlanRow, PlanRow.id == CourseRow.plan_id)
        .join(LocationRow, LocationRow.id == OrderRow.clinic_id)
        .where(*conditions)
    )
    columns = (
        OrderRow.id,
        OrderRow.course_id,
        OrderRow.patient_ref,
        PlanRow.code,
        LocationRow.code,
        OrderRow.status,
        OrderRow.currency,
        OrderRow.total_minor,
        OrderRow.paid_minor,
        OrderRow.refunded_minor,
        OrderRow.created_at,
    )
    return page(session, counted, columns, [OrderRow.id.desc()], offset, limit)
