"""Shared by the integration tests: the fixed demo day and a footprint of the ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from kitops.data.schema import AuditRow, StockMoveRow

AS_OF = date(2026, 11, 22)


def writes(db) -> tuple[int, int]:
    """(ledger moves, audit rows): equal before and after means nothing was written."""
    with db.read_sessions() as session:
        moves = session.scalar(select(func.count()).select_from(StockMoveRow)) or 0
        audits = session.scalar(select(func.count()).select_from(AuditRow)) or 0
    return moves, audits
