"""Suppliers and purchase orders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kitops.data.schema import (
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ReorderPolicyRow,
    SupplierItemRow,
    SupplierRow,
)
from kitops.domain.purchasing import parse_po, parse_supplier_code
from kitops.errors import InvalidInput
from kitops.i18n import _


class Suppliers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> SupplierRow | None:
        return self.session.scalar(select(SupplierRow).where(SupplierRow.code == code))

    def add(self, row: SupplierRow, items: Iterable[SupplierItemRow] = ()) -> SupplierRow:
        self.session.add(row)
        self.session.flush()
        for item in items:
            item.supplier_id = row.id
            self.session.add(item)
        self.session.flush()
        return row

    def all(self) -> Sequence[SupplierRow]:
        return self.session.scalars(select(SupplierRow).order_by(SupplierRow.code)).all()

    def item(self, supplier_id: int, product_id: int) -> SupplierItemRow | None:
        """What a supplier sells of one product, if it sells it."""
        return self.session.get(SupplierItemRow, (supplier_id, product_id))

    def policy(self, product_id: int, clinic_id: int) -> ReorderPolicyRow | None:
        """The reorder policy of a product at a clinic, active or not."""
        return self.session.scalar(
            select(ReorderPolicyRow).where(
                ReorderPolicyRow.product_id == product_id,
                ReorderPolicyRow.clinic_id == clinic_id,
            )
        )

    def get(self, code: str, field: str = "supplier") -> SupplierRow:
        row = self.by_code(parse_supplier_code(code, field))
        if row is None:
            raise InvalidInput(field, code, _("no supplier has this code (`kitops supplier list`)"))
        return row

    def of_policy(self, row: ReorderPolicyRow) -> SupplierRow:
        """The supplier a reorder policy buys from."""
        supplier = self.session.get(SupplierRow, row.supplier_id)
        assert supplier is not None
        return supplier


class PurchaseOrders:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, number: str | int, *, lock: bool = False) -> PurchaseOrderRow:
        """A purchase order with its lines and their products (``lock``: ``FOR UPDATE``
        of the order row on PostgreSQL)."""
        stmt = (
            select(PurchaseOrderRow)
            .where(PurchaseOrderRow.id == parse_po(number))
            .options(selectinload(PurchaseOrderRow.lines).joinedload(PurchaseOrderLineRow.product))
        )
        if lock:
            stmt = stmt.with_for_update(of=PurchaseOrderRow)
        row = self.session.scalar(stmt)
        if row is None:
            raise InvalidInput(
                "po", number, _("no purchase order has this number (`kitops po list`)")
            )
        return row
