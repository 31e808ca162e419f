"""The stock ledger: moves posted in the caller's transaction, and the balances they keep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from kitops.data.repositories.locations import Locations
from kitops.data.repositories.lots import LotKey
from kitops.data.schema import LocationRow, LotRow, StockBalanceRow, StockMoveRow, utcnow
from kitops.domain.ledger import (
    BalanceKey,
    LotStatus,
    Move,
    Shortage,
    apply_changes,
    balance_changes,
)
from kitops.i18n import _


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
        locked: Mapping[BalanceKey, int] | None = None,
    ) -> None:
        """Record ``moves``; the database applies them to the balances (migration 0017).
        Refuses, naming the lot and place, a move that would take a balance below zero,
        after locking the balances it touches (PostgreSQL, in key order).

        ``locked``: every balance the moves touch, already locked and read in this
        transaction (``lock_and_read_location``); a key missing from it holds nothing. They
        are not read again."""
        if not moves:
            return
        if physical is None:
            physical = Locations(self.session).physical_ids()
        changes = balance_changes((m.move for m in moves), physical)
        current = self._current(list(changes)) if locked is None else locked
        try:
            apply_changes(current, changes)
        except Shortage as shortage:
            lot = self.session.get(LotRow, shortage.key[0])
            place = self.session.get(LocationRow, shortage.key[1])
            if lot:
                what = _("{sku} lot {lot}").format(sku=lot.product.sku, lot=lot.code)
            else:
                what = _("lot #{lot}").format(lot=shortage.key[0])
            where = place.code if place else shortage.key[1]
            raise shortage.named(_("{what} at {where}").format(what=what, where=where)) from None
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

    def lock_and_read_location(self, location_id: int) -> list[tuple[LotKey, int]]:
        """Every balance row at one location with its lot as a plain row, locked as
        ``lock_location`` locks them (PostgreSQL ``FOR UPDATE`` of the balances, in lot
        order) and read by the same statement, so the quantities are those the changes
        will apply to. Zero balances included: their rows are locked too."""
        stmt = (
            select(LotRow.id, LotRow.product_id, LotRow.code, StockBalanceRow.quantity)
            .join(StockBalanceRow, StockBalanceRow.lot_id == LotRow.id)
            .where(StockBalanceRow.location_id == location_id)
            .order_by(StockBalanceRow.lot_id)
            .with_for_update(of=StockBalanceRow)
        )
        return [
            (LotKey(lot_id, product_id, code), qty)
            for lot_id, product_id, code, qty in self.session.execute(stmt)
        ]

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

    def lot_keys_on_hand(self, *, location_id: int) -> list[tuple[LotKey, int]]:
        """Lots with stock at one location, with their quantities, as plain rows (a count
        of thousands of lines reads them in a fraction of the time of ``on_hand``)."""
        stmt = (
            select(LotRow.id, LotRow.product_id, LotRow.code, StockBalanceRow.quantity)
            .join(StockBalanceRow, StockBalanceRow.lot_id == LotRow.id)
            .where(StockBalanceRow.location_id == location_id, StockBalanceRow.quantity > 0)
        )
        return [
            (LotKey(lot_id, product_id, code), qty)
            for lot_id, product_id, code, qty in self.session.execute(stmt)
        ]

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
