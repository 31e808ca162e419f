"""Patient orders."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kitops.data.schema import OrderRow
from kitops.domain.orders import parse_order_id
from kitops.errors import InvalidInput
from kitops.i18n import _


class Orders:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, order_id: int | str, *, lock: bool = False) -> OrderRow:
        key = parse_order_id(order_id)
        stmt = select(OrderRow).where(OrderRow.id == key)
        if lock:
            stmt = stmt.with_for_update(of=OrderRow)
        row = self.session.scalar(stmt)
        if row is None:
            raise InvalidInput(
                "order", order_id, _("no order has this number (see `kitops order list`)")
            )
        return row
