"""Repositories: queries and writes over a session they are given, never one they open."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from kitops.data.schema import (
    AuditRow,
    LocationRow,
    LotRow,
    ProductRow,
    RecipeLineRow,
    SettingRow,
    StockBalanceRow,
    StockMoveRow,
    SupplierItemRow,
    SupplierRow,
    utcnow,
)
from kitops.domain.ledger import (
    BalanceKey,
    LotStatus,
    Move,
    Shortage,
    apply_changes,
    balance_changes,
)
from kitops.domain.locations import PHYSICAL_KINDS
from kitops.errors import InvalidInput


class Products:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_sku(self, sku: str) -> ProductRow | None:
        return self.session.scalar(select(ProductRow).where(ProductRow.sku == sku))

    def get(self, sku: str, field: str = "sku") -> ProductRow:
        row = self.by_sku(sku)
        if row is None:
            raise InvalidInput(field, sku, "no product has this SKU (see `kitops catalog list`)")
        return row

    def by_gtin(self, gtin: str) -> ProductRow | None:
        return self.session.scalar(select(ProductRow).where(ProductRow.gtin == gtin))

    def all(self) -> Sequence[ProductRow]:
        return self.session.scalars(select(ProductRow).order_by(ProductRow.sku)).all()

    def add(self, row: ProductRow) -> ProductRow:
        self.session.add(row)
        self.session.flush()
        return row

    def recipe(self, kit: ProductRow) -> Sequence[RecipeLineRow]:
        return self.session.scalars(
            select(RecipeLineRow)
            .where(RecipeLineRow.kit_product_id == kit.id)
            .order_by(RecipeLineRow.position)
        ).all()

    def replace_recipe(self, kit: ProductRow, lines: Iterable[tuple[ProductRow, int]]) -> None:
        for old in self.recipe(kit):
            self.session.delete(old)
        self.session.flush()
        for position, (component, quantity) in enumerate(lines):
            self.session.add(
                RecipeLineRow(
                    kit_product_id=kit.id,
                    component_product_id=component.id,
                    quantity=quantity,
                    position=position,
                )
            )
        self.session.flush()


class Locations:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> LocationRow | None:
        return self.session.scalar(select(LocationRow).where(LocationRow.code == code))

    def get(self, code: str, field: str = "location") -> LocationRow:
        row = self.by_code(code)
        if row is None:
            raise InvalidInput(
                field, code, "no location has this code (see `kitops location list`)"
            )
        return row

    def all(self) -> Sequence[LocationRow]:
        return self.session.scalars(select(LocationRow).order_by(LocationRow.id)).all()

    def physical_ids(self) -> set[int]:
        kinds = [k.value for k in PHYSICAL_KINDS]
        return set(self.session.scalars(select(LocationRow.id).where(LocationRow.kind.in_(kinds))))

    def add(self, row: LocationRow) -> LocationRow:
        self.session.add(row)
        self.session.flush()
        return row


class Lots:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, product_id: int, code: str) -> LotRow | None:
        return self.session.scalar(
            select(LotRow).where(LotRow.product_id == product_id, LotRow.code == code)
        )

    def add(self, row: LotRow) -> LotRow:
        self.session.add(row)
        self.session.flush()
        return row

    def with_code(self, code: str, *, lock: bool = False) -> Sequence[LotRow]:
        """Every lot with this code (codes are unique per product, not overall)."""
        stmt = select(LotRow).where(LotRow.code == code).order_by(LotRow.id)
        if lock:
            stmt = stmt.with_for_update(key_share=True)
        return self.session.scalars(stmt).all()

    def with_codes(self, codes: Iterable[str]) -> list[LotRow]:
        wanted = sorted(set(codes))
        found: list[LotRow] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.extend(self.session.scalars(select(LotRow).where(LotRow.code.in_(chunk))))
        return found

    def lock(self, lot: LotRow, *, share: bool = False) -> LotRow:
        """Re-read a lot row under a row lock (PostgreSQL), so its status cannot change
        under a running allocation (share) or two status changes cannot cross (update).

        The exclusive lock is ``FOR NO KEY UPDATE``: it must not conflict with the
        ``KEY SHARE`` locks that foreign-key checks take when moves of the lot are
        inserted, or a status change and a move could deadlock."""
        stmt = select(LotRow).where(LotRow.id == lot.id)
        stmt = stmt.with_for_update(read=True) if share else stmt.with_for_update(key_share=True)
        locked = self.session.scalars(stmt.execution_options(populate_existing=True)).one()
        return locked

    def share_lock_all(self, lot_ids: Iterable[int]) -> list[LotRow]:
        """Re-read several lot rows under a share lock (PostgreSQL ``FOR SHARE``), in id
        order so that two callers never take them crosswise: a release, quarantine or
        recall of any of them waits until this transaction ends, or has committed and is
        seen here."""
        return list(
            self.session.scalars(
                select(LotRow)
                .where(LotRow.id.in_(sorted(set(lot_ids))))
                .order_by(LotRow.id)
                .with_for_update(read=True)
                .execution_options(populate_existing=True)
            )
        )


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


class Settings:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str, default: str) -> str:
        value = self.session.scalar(select(SettingRow.value).where(SettingRow.key == key))
        return default if value is None else value


@dataclass(frozen=True)
class PostedMove:
    move: Move
    product_id: int


class Ledger:
    """Writes moves in the caller's transaction; ``stock_balances`` follows them by trigger."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _current(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, int]:
        """Current balances of ``keys``, locked on PostgreSQL in a fixed order."""
        found: dict[BalanceKey, int] = {}
        if not keys:
            return found
        ordered = sorted(keys)
        for chunk_start in range(0, len(ordered), 500):
            chunk = ordered[chunk_start : chunk_start + 500]
            lot_ids = {lot for lot, _ in chunk}
            loc_ids = {loc for _, loc in chunk}
            stmt = (
                select(
                    StockBalanceRow.lot_id, StockBalanceRow.location_id, StockBalanceRow.quantity
                )
                .where(StockBalanceRow.lot_id.in_(lot_ids))
                .where(StockBalanceRow.location_id.in_(loc_ids))
                .order_by(StockBalanceRow.lot_id, StockBalanceRow.location_id)
                .with_for_update()
            )
            wanted = set(chunk)
            for lot_id, loc_id, qty in self.session.execute(stmt):
                if (lot_id, loc_id) in wanted:
                    found[(lot_id, loc_id)] = qty
        return found

    def post(
        self,
        moves: Sequence[PostedMove],
        *,
        reason: str,
        actor: str,
        reference: str | None = None,
        audit_id: int | None = None,
        physical: set[int] | None = None,
        detail: str | None = None,
    ) -> None:
        """Record ``moves``; the database applies them to the balances (migration 0017).
        Refuses, naming the lot and place, a move that would take a balance below zero,
        after locking the balances it touches (PostgreSQL, in key order)."""
        if not moves:
            return
        if physical is None:
            physical = Locations(self.session).physical_ids()
        changes = balance_changes((m.move for m in moves), physical)
        current = self._current(list(changes))
        try:
            apply_changes(current, changes)
        except Shortage as shortage:
            lot = self.session.get(LotRow, shortage.key[0])
            place = self.session.get(LocationRow, shortage.key[1])
            what = f"{lot.product.sku} lot {lot.code}" if lot else f"lot #{shortage.key[0]}"
            raise shortage.named(f"{what} at {place.code if place else shortage.key[1]}") from None
        now = utcnow()
        self.session.execute(
            insert(StockMoveRow),
            [
                {
                    "product_id": m.product_id,
                    "lot_id": m.move.lot_id,
                    "from_location_id": m.move.from_location_id,
                    "to_location_id": m.move.to_location_id,
                    "quantity": m.move.quantity,
                    "reason": reason,
                    "actor": actor,
                    "created_at": now,
                    "reference": reference,
                    "detail": detail,
                    "audit_id": audit_id,
                }
                for m in moves
            ],
        )
        # the balances follow in the database: the trigger on stock_moves (migration 0017)
        # applies the moves to the rows locked above, so the two cannot differ

    def sums_by_balance_key(self, physical: set[int]) -> dict[BalanceKey, int]:
        """What the ledger says each (lot, physical location) should hold."""
        sums: dict[BalanceKey, int] = {}
        incoming = select(
            StockMoveRow.lot_id, StockMoveRow.to_location_id, func.sum(StockMoveRow.quantity)
        ).group_by(StockMoveRow.lot_id, StockMoveRow.to_location_id)
        outgoing = select(
            StockMoveRow.lot_id, StockMoveRow.from_location_id, func.sum(StockMoveRow.quantity)
        ).group_by(StockMoveRow.lot_id, StockMoveRow.from_location_id)
        for sign, stmt in ((1, incoming), (-1, outgoing)):
            for lot_id, loc_id, qty in self.session.execute(stmt):
                if loc_id in physical:
                    sums[(lot_id, loc_id)] = sums.get((lot_id, loc_id), 0) + sign * int(qty)
        return sums

    def lock_location(self, location_id: int) -> None:
        """Lock every balance row at one location (PostgreSQL ``FOR UPDATE``, in lot
        order) until the transaction ends: what is read next is what the changes apply
        to. SQLite's writer lock already holds the whole database."""
        self.session.execute(
            select(StockBalanceRow.lot_id)
            .where(StockBalanceRow.location_id == location_id)
            .order_by(StockBalanceRow.lot_id)
            .with_for_update()
        ).all()

    def on_hand(
        self, *, location_id: int, product_id: int | None = None
    ) -> list[tuple[LotRow, int]]:
        """Lots with stock at one location, with their quantities."""
        stmt = (
            select(LotRow, StockBalanceRow.quantity)
            .join(StockBalanceRow, StockBalanceRow.lot_id == LotRow.id)
            .where(StockBalanceRow.location_id == location_id, StockBalanceRow.quantity > 0)
        )
        if product_id is not None:
            stmt = stmt.where(StockBalanceRow.product_id == product_id)
        return [(lot, qty) for lot, qty in self.session.execute(stmt)]

    def usable_on_hand(
        self, *, location_id: int, product_id: int, lasting_until: date
    ) -> list[tuple[int, date | None, int]]:
        """(lot id, expiry, quantity) of released lots at one location still in date on
        ``lasting_until`` (``kitops.domain.ledger.is_usable``, filtered in SQL: only the
        lots that qualify leave the database)."""
        stmt = (
            select(LotRow.id, LotRow.expiry, StockBalanceRow.quantity)
            .join(StockBalanceRow, StockBalanceRow.lot_id == LotRow.id)
            .where(
                StockBalanceRow.location_id == location_id,
                StockBalanceRow.product_id == product_id,
                StockBalanceRow.quantity > 0,
                LotRow.status == LotStatus.RELEASED.value,
                or_(LotRow.expiry.is_(None), LotRow.expiry >= lasting_until),
            )
        )
        return [(lot, expiry, qty) for lot, expiry, qty in self.session.execute(stmt)]

    def quantity(self, lot_id: int, location_id: int) -> int:
        qty = self.session.scalar(
            select(StockBalanceRow.quantity).where(
                StockBalanceRow.lot_id == lot_id, StockBalanceRow.location_id == location_id
            )
        )
        return qty or 0

    def balances(self) -> dict[BalanceKey, int]:
        rows = self.session.execute(
            select(StockBalanceRow.lot_id, StockBalanceRow.location_id, StockBalanceRow.quantity)
        )
        return {(lot, loc): qty for lot, loc, qty in rows}


class Audit:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        actor: str,
        action: str,
        entity: str,
        entity_key: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditRow:
        row = AuditRow(
            actor=actor,
            action=action,
            entity=entity,
            entity_key=entity_key,
            before=before,
            after=after,
            at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        return row
