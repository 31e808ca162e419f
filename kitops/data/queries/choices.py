"""What the forms offer from the catalogue: active kit recipes and active plans."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kitops.data.schema import PlanRow, ProductRow
from kitops.domain.catalog import ProductKind


def active_kit_recipes(session: Session) -> Sequence[ProductRow]:
    """Active kit products, by SKU."""
    return session.scalars(
        select(ProductRow)
        .where(ProductRow.kind == ProductKind.KIT.value, ProductRow.active)
        .order_by(ProductRow.sku)
    ).all()


def active_plans(session: Session) -> Sequence[Any]:
    """(code, name) of the active plans, by code."""
    return session.execute(
        select(PlanRow.code, PlanRow.name).where(PlanRow.active).order_by(PlanRow.code)
    ).all()
