"""Database administration: migrations, the ledger check and backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import func, select

from kitops.data import migrate
from kitops.data.engine import Database
from kitops.data.schema import LocationRow, LotRow, ProductRow, StockMoveRow
from kitops.domain.ledger import compare_balances
from kitops.errors import InvalidInput, Refused
from kitops.services import dto
from kitops.services.unit_of_work import UnitOfWork


def upgrade(db: Database) -> tuple[str | None, str | None]:
    """Migrate to head; returns the revisions before and after."""
    before = migrate.current_revision(db)
    migrate.upgrade(db)
    return before, migrate.current_revision(db)


def current(db: Database) -> tuple[str | None, str]:
    return migrate.current_revision(db), migrate.HEAD_REVISION


def check(uow: UnitOfWork) -> dto.CheckReport:
    """Every balance must equal the sum of its moves and none may be negative."""
    with uow:
        physical = uow.locations.physical_ids()
        recorded = uow.ledger.balances()
        expected = uow.ledger.sums_by_balance_key(physical)
        differences = compare_balances(recorded, expected)
        moves = uow.session.scalar(select(func.count()).select_from(StockMoveRow)) or 0
        problems = []
        if differences:
            lots = {
                lot_id: (sku, code)
                for lot_id, sku, code in uow.session.execute(
                    select(LotRow.id, ProductRow.sku, LotRow.code).join(ProductRow)
                )
            }
            codes = dict(uow.session.execute(select(LocationRow.id, LocationRow.code)).all())
            for diff in differences:
                sku, code = lots.get(diff.lot_id, ("?", f"#{diff.lot_id}"))
                problems.append(
                    dto.BalanceProblem(
                        sku=sku,
                        lot=code,
                        location=codes.get(diff.location_id, f"#{diff.location_id}"),
                        recorded=diff.recorded,
                        from_moves=diff.from_moves,
                        problem=diff.problem,
                    )
                )
    return dto.CheckReport(
        ok=not problems,
        balances_checked=len(set(recorded) | set(expected)),
        moves=moves,
        problems=tuple(problems),
    )


def pg_dump_command(db: Database) -> str:
    url = db.engine.url
    parts = ["pg_dump", "--format=custom", "--file=PATH"]
    if url.host:
        parts.append(f"--host={url.host}")
    if url.port:
        parts.append(f"--port={url.port}")
    if url.username:
        parts.append(f"--username={url.username}")
    parts.append(url.database or "")
    return " ".join(parts)


def backup(db: Database, path: str) -> Path:
    """A consistent copy of a SQLite database via its online backup API."""
    target = Path(path).expanduser()
    if not db.is_sqlite:
        command = pg_dump_command(db).replace("PATH", str(target))
        raise Refused(f"PostgreSQL is backed up with pg_dump: {command}")
    if target.exists():
        raise Refused(f"{target} already exists; choose a new file for the backup")
    if not target.parent.is_dir():
        raise InvalidInput("path", path, "its folder does not exist")
    raw = db.engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        with sqlite3.connect(target) as destination:
            source.backup(destination)
        destination.close()
    finally:
        raw.close()
    return target
