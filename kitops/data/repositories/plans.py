"""Treatment plans."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kitops.data.schema import PlanRow
from kitops.errors import InvalidInput


class Plans:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str) -> PlanRow:
        row = self.session.scalar(select(PlanRow).where(PlanRow.code == code.strip().lower()))
        if row is None:
            raise InvalidInput("plan", code, "no plan has this code (see `kitops plan list`)")
        return row
