"""Every kit the kit list shows, with its components, as column rows: two statements
whatever the number of kits (no mapped objects, no statement a kit)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select

from kitops.data.schema import (
    CourseRow,
    KitComponentRow,
    KitRow,
    LotRow,
    PlanRow,
    ProductRow,
    RecipeLineRow,
)
from kitops.domain.catalog import ProductKind


def kit_conditions(
    *,
    status: str | None = None,
    product_id: int | None = None,
    places: Collection[int] | None = None,
    within: tuple[Collection[int], Collection[int]] | None = None,
) -> list[ColumnElement[bool]]:
    """The kits in ``status``, of one kit product, held at ``places`` and, with
    ``within`` (places, clinics: a user limited to clinics), held at those places or
    made for a course of those clinics. ``within`` needs ``courses`` joined."""
    conditions: list[ColumnElement[bool]] = []
    if status:
        conditions.append(KitRow.status == status)
    if product_id is not None:
        conditions.append(KitRow.product_id == product_id)
    if places is not None:
        conditions.append(KitRow.location_id.in_(sorted(places)))
    if within is not None:
        held, clinics = within
        conditions.append(
            or_(
                KitRow.location_id.in_(sorted(held)),
                and_(KitRow.course_id.is_not(None), CourseRow.clinic_id.in_(sorted(clinics))),
            )
        )
    return conditions


def listed_kits(
    conditions: list[ColumnElement[bool]], limit: int | None = None
) -> Select[*tuple[Any, ...]]:
    """One row a kit, earliest expiry first, then by serial (the first ``limit`` of
    them): the kit's id, serial, kit product id, place id, expiry, vial expiries (ISO
    text), status, recalled, course id, course part, the course's patient reference and
    the tracking reference."""
    stmt = (
        select(
            KitRow.id,
            KitRow.serial,
            KitRow.product_id,
            KitRow.location_id,
            KitRow.expiry,
            KitRow.vial_expiries,
            KitRow.status,
            KitRow.recalled,
            KitRow.course_id,
            KitRow.course_part,
            CourseRow.patient_ref,
            KitRow.tracking,
        )
        .outerjoin(CourseRow, CourseRow.id == KitRow.course_id)
        .where(*conditions)
        .order_by(KitRow.expiry, KitRow.serial)
    )
    return stmt if limit is None else stmt.limit(limit)


def listed_components(
    conditions: list[ColumnElement[bool]], *, scoped: bool, limit: int | None = None
) -> Select[*tuple[Any, ...]]:
    """The components of the kits ``conditions`` keep (the same as ``listed_kits``'),
    kit by kit in the kit's order of them: the kit's id, the lot's product id, the lot's
    code and expiry and the quantity. ``scoped``: the conditions name the courses;
    ``limit``: only the components of the kits ``listed_kits`` keeps with it."""
    stmt = select(
        KitComponentRow.kit_id,
        LotRow.product_id,
        LotRow.code,
        LotRow.expiry,
        KitComponentRow.quantity,
    ).join(LotRow, LotRow.id == KitComponentRow.lot_id)
    if limit is not None:
        first = listed_kits(conditions, limit).with_only_columns(KitRow.id)
        return stmt.where(KitComponentRow.kit_id.in_(first)).order_by(
            KitComponentRow.kit_id, KitComponentRow.position
        )
    if conditions:
        stmt = stmt.join(KitRow, KitRow.id == KitComponentRow.kit_id)
        if scoped:
            stmt = stmt.outerjoin(CourseRow, CourseRow.id == KitRow.course_id)
        stmt = stmt.where(*conditions)
    return stmt.order_by(KitComponentRow.kit_id, KitComponentRow.position)


def serum_lines(kit_product_ids: Collection[int]) -> Select[*tuple[Any, ...]]:
    """The recipe lines of these kit products that hold serum vials of a known volume,
    each product's in the recipe's order (its first is the one its kits are judged by):
    the kit product's id, the vial's volume (µl) and the vials a kit holds."""
    return (
        select(RecipeLineRow.kit_product_id, ProductRow.volume_ul, RecipeLineRow.quantity)
        .join(ProductRow, ProductRow.id == RecipeLineRow.component_product_id)
        .where(
            RecipeLineRow.kit_product_id.in_(sorted(kit_product_ids)),
            ProductRow.kind == ProductKind.SERUM_VIAL.value,
            ProductRow.volume_ul.is_not(None),
            ProductRow.volume_ul != 0,
        )
        .order_by(RecipeLineRow.kit_product_id, RecipeLineRow.position)
    )


def active_plans(kit_product_ids: Collection[int]) -> Select[*tuple[Any, ...]]:
    """The active plans using these kit products, by code: the kit product's id, then the
    columns ``kitops.services.plans.plan_of`` takes (the kit's SKU in place of its id)."""
    return (
        select(
            PlanRow.kit_product_id,
            PlanRow.code,
            PlanRow.name,
            PlanRow.applications_per_week,
            PlanRow.weeks,
            PlanRow.serum_ul_per_application,
            PlanRow.administered,
            ProductRow.sku,
            PlanRow.kits_per_course,
            PlanRow.default_weekdays,
            PlanRow.checkin_weeks,
            PlanRow.followup_months,
            PlanRow.needle_min_um,
            PlanRow.needle_max_um,
            PlanRow.interval_weeks,
        )
        .join(ProductRow, ProductRow.id == PlanRow.kit_product_id)
        .where(PlanRow.kit_product_id.in_(sorted(kit_product_ids)), PlanRow.active)
        .order_by(PlanRow.code)
    )
