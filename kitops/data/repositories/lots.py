"""Lots of a product: find, add and lock them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import ARRAY, String, any_, bindparam, select
from sqlalchemy.orm import Session

from kitops.data.repositories.catalog import Products
from kitops.data.schema import KitRow, LotRow, ProductRow
from kitops.domain.catalog import parse_sku
from kitops.domain.ledger import UNTRACKED_LOT_CODE, parse_lot_code
from kitops.errors import InvalidInput
from kitops.i18n import _


class LotKey(NamedTuple):
    """What a bulk operation needs of a lot, read as a plain row (no ORM object): thousands
    of these load in a fraction of the time the mapped rows take."""

    id: int
    product_id: int
    code: str


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
        """Every lot with one of these codes (of any product), in id order. On PostgreSQL
        the codes go as one array parameter; SQLite takes them in lists of 500."""
        wanted = sorted(set(codes))
        if not wanted:
            return []
        if self.session.get_bind().dialect.name == "postgresql":
            param = bindparam("codes", wanted, type_=ARRAY(String))
            stmt = select(LotRow).where(LotRow.code == any_(param)).order_by(LotRow.id)
            return list(self.session.scalars(stmt))
        found: list[LotRow] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.extend(self.session.scalars(select(LotRow).where(LotRow.code.in_(chunk))))
        return sorted(found, key=lambda lot: lot.id)

    def keys_with_codes(self, codes: Iterable[str]) -> list[LotKey]:
        """Every lot with one of these codes, as plain rows. On PostgreSQL the codes go
        as one array parameter; SQLite takes them in lists of 500."""
        wanted = sorted(set(codes))
        if not wanted:
            return []
        columns = select(LotRow.id, LotRow.product_id, LotRow.code)
        if self.session.get_bind().dialect.name == "postgresql":
            param = bindparam("codes", wanted, type_=ARRAY(String))
            rows = list(self.session.execute(columns.where(LotRow.code == any_(param))))
        else:
            rows = []
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows.extend(self.session.execute(columns.where(LotRow.code.in_(chunk))))
        return [LotKey(lot_id, product_id, code) for lot_id, product_id, code in rows]

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
        return self.lock_all(lot_ids, share=True)

    def lock_all(self, lot_ids: Iterable[int], *, share: bool = False) -> list[LotRow]:
        """Re-read several lot rows under the lock :meth:`lock` takes of one, in id order
        (in statements of 500 lots: each id is a parameter of its own)."""
        ids = sorted(set(lot_ids))
        locked: list[LotRow] = []
        for start in range(0, len(ids), 500):
            stmt = select(LotRow).where(LotRow.id.in_(ids[start : start + 500]))
            stmt = stmt.order_by(LotRow.id).execution_options(populate_existing=True)
            stmt = stmt.with_for_update(read=share, key_share=not share)
            locked.extend(self.session.scalars(stmt))
        return locked

    def of_kit(self, kit: KitRow) -> LotRow:
        """The kit's own lot (its serial is the lot code)."""
        assert kit.lot_id is not None
        lot = self.session.get(LotRow, kit.lot_id)
        assert lot is not None
        return lot

    def named(self, product: ProductRow, code: str | None) -> LotRow:
        """The lot a command names; untracked products use their single lot."""
        if not product.lot_tracked:
            if code not in (None, "", UNTRACKED_LOT_CODE):
                raise InvalidInput(
                    "lot", code, _("{sku} is not lot-tracked").format(sku=product.sku)
                )
            lot = self.find(product.id, UNTRACKED_LOT_CODE)
        else:
            if not code:
                raise InvalidInput(
                    "lot",
                    None,
                    _("{sku} is lot-tracked; name the lot (--lot)").format(sku=product.sku),
                )
            lot = self.find(product.id, parse_lot_code(code))
            if lot is None:
                raise InvalidInput(
                    "lot", code, _("no lot of {sku} has this code").format(sku=product.sku)
                )
        assert lot is not None
        return lot

    def resolve(self, code: str, sku: str | None = None, *, lock: bool = False) -> LotRow:
        """The lot with this code; ``sku`` settles a code that two products share."""
        # "-" names the single lot of a product that is not lot-tracked (with --sku)
        lot_code = (
            UNTRACKED_LOT_CODE if code.strip() == UNTRACKED_LOT_CODE else parse_lot_code(code)
        )
        candidates = list(self.with_code(lot_code, lock=lock))
        if sku:
            product = Products(self.session).get(parse_sku(sku))
            candidates = [lot for lot in candidates if lot.product_id == product.id]
        if not candidates:
            if sku:
                raise InvalidInput("lot", code, _("no lot has this code for {sku}").format(sku=sku))
            raise InvalidInput("lot", code, _("no lot has this code"))
        if len(candidates) > 1:
            skus = sorted(lot.product.sku for lot in candidates)
            raise InvalidInput(
                "lot",
                code,
                _("is a lot of {skus}; add --sku to choose").format(skus=", ".join(skus)),
            )
        return candidates[0]
