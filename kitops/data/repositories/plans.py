"""Treatment plans."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kitops.data.schema import PlanRow
from kitops.errors import InvalidInput
from kitops.i18n import _


class Plans:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str) -> PlanRow:
        row = self.session.scalar(select(PlanRow).where(PlanRow.code == code.strip().lower()))
        if row is None:
            raise InvalidInput("plan", code, _("no plan has this code (see `kitops plan list`)"))
        return row

    def all(self) -> Sequence[PlanRow]:
        return self.session.scalars(select(PlanRow).order_by(PlanRow.code)).all()

    def active_for_kit(self, kit_product_id: int) -> Sequence[PlanRow]:
        """The active plans a kit product serves, by code."""
        return self.session.scalars(
            select(PlanRow)
            .where(PlanRow.kit_product_id == kit_product_id, PlanRow.active)
            .order_by(PlanRow.code)
        ).all()
