"""Kits, earliest expiry first, filtered and paged in the query."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kitops.data.queries.paging import filters, matching, page
from kitops.data.schema import CourseRow, KitRow, LocationRow, ProductRow


def kit_list(
    session: Session,
    *,
    places: set[int] | None,
    status: str | None,
    search: str,
    offset: int,
    limit: int,
    within: tuple[Collection[int], Collection[int]] | None = None,
) -> tuple[int, Sequence[Any]]:
    """(kits in all, this page's rows of serial, SKU, location id, expiry, status,
    recalled, course id, course part, patient reference, tracking). ``search`` matches
    the serial, the SKU, the patient reference and the location code. ``within`` (places,
    clinics) narrows to kits held at those places or serving a course of those clinics
    (a user limited to clinics)."""
    conditions = filters(
        KitRow.location_id.in_(places) if places is not None else None,
        KitRow.status == status if status else None,
        or_(KitRow.location_id.in_(within[0]), CourseRow.clinic_id.in_(within[1]))
        if within is not None
        else None,
        matching(search, KitRow.serial, ProductRow.sku, CourseRow.patient_ref, LocationRow.code),
    )
    counted = (
        select(func.count())
        .select_from(KitRow)
        .join(ProductRow, ProductRow.id == KitRow.product_id)
        .join(LocationRow, LocationRow.id == KitRow.location_id)
        .outerjoin(CourseRow, CourseRow.id == KitRow.course_id)
        .where(*conditions)
    )
    columns = (
        KitRow.serial,
        ProductRow.sku,
        KitRow.location_id,
        KitRow.expiry,
        KitRow.status,
        KitRow.recalled,
        KitRow.course_id,
        KitRow.course_part,
        CourseRow.patient_ref,
        KitRow.tracking,
    )
    order = (KitRow.expiry, KitRow.serial)
    return page(session, counted, columns, order, offset, limit)
