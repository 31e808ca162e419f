"""Helpers of the clinic-scope tests: a user of a role limited to some clinics, what the
database holds (nothing written by a refused request), and the refusals audited."""

from __future__ import annotations

from sqlalchemy import func, select

from kitops.data.engine import Database
from kitops.data.schema import AuditRow, StockMoveRow
from kitops.services import users
from kitops.services.unit_of_work import UnitOfWork

OTHER_CLINICS = ("LON", "VIE")


def limited(db: Database, name: str, role: str, clinics: list[str], pin: str) -> str:
    """A new user of ``role`` limited to ``clinics`` (made by the admin tester)."""
    users.add_user(UnitOfWork(db, "tester"), name, role, pin)
    users.set_clinics(UnitOfWork(db, "tester"), name, clinics)
    return name


def writes(db: Database) -> tuple[int, int]:
    """(ledger moves, audit rows): equal before and after means nothing was written."""
    with db.read_sessions() as session:
        moves = session.scalar(select(func.count()).select_from(StockMoveRow)) or 0
        audits = session.scalar(select(func.count()).select_from(AuditRow)) or 0
    return moves, audits


def scope_refusals(db: Database, actor: str) -> list[str]:
    """The reasons of the clinic-scope refusals audited for ``actor``."""
    with db.read_sessions() as session:
        rows = session.scalars(
            select(AuditRow.after)
            .where(AuditRow.actor == actor, AuditRow.action == "access.refused",
                   AuditRow.entity_key == "clinic.scope")
            .order_by(AuditRow.id)
        )  # fmt: skip
        return [str(after["reason"]) for after in rows]
