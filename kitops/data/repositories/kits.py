"""Kits: the assembled kits, one per serial."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kitops.data.schema import KitRow
from kitops.errors import InvalidInput
from kitops.i18n import _


class Kits:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, serial: str, *, lock: bool = False) -> KitRow:
        stmt = select(KitRow).where(KitRow.serial == serial.strip().upper())
        if lock:
            stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
        row = self.session.scalar(stmt)
        if row is None:
            raise InvalidInput(
                "serial", serial, _("no kit has this serial (see `kitops kit list`)")
            )
        return row

    def of_lot(self, lot_id: int, *, lock: bool = False) -> KitRow | None:
        """The kit whose own lot this is (``lock``: ``FOR NO KEY UPDATE`` on PostgreSQL)."""
        stmt = select(KitRow).where(KitRow.lot_id == lot_id)
        if lock:
            stmt = stmt.with_for_update(key_share=True)
        return self.session.scalar(stmt)
