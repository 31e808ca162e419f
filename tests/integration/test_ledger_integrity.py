"""The ledger is append-only, balances follow it, refusals write nothing."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from tamper_support import drop_balance_guard

from kitops.data.repositories import PostedMove
from kitops.data.schema import AuditRow, LotReceiptRow, LotRow, StockBalanceRow, StockMoveRow
from kitops.domain.ledger import LotStatus, Move
from kitops.errors import Conflict, DatabaseUnavailable, Refused
from kitops.services import admin, catalog, locations, users
from kitops.services.unit_of_work import UnitOfWork


def _count(db, table) -> int:
    with db.read_sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


# a text column of each append-only table: the ledger, the audit log, the lots' receipts
# (the unit costs `report valuation` values stock from)
_TEXT = {StockMoveRow: StockMoveRow.reason, AuditRow: AuditRow.action,
         LotReceiptRow: LotReceiptRow.reference}  # fmt: skip


@pytest.mark.parametrize("table", list(_TEXT))
def test_ledger_and_audit_rows_cannot_be_updated(loaded, table):
    assert _count(loaded, table) > 0
    column = _TEXT[table]
    with pytest.raises(DBAPIError, match="append-only"), loaded.write_sessions() as session:
        session.execute(update(table).values({column: "tampered"}))
        session.commit()
    with loaded.read_sessions() as session:
        assert session.scalar(select(func.count()).where(column == "tampered")) == 0


def test_a_receipts_unit_cost_cannot_be_changed_after_the_fact(loaded):
    with loaded.read_sessions() as session:
        costs = session.execute(select(LotReceiptRow.id, LotReceiptRow.unit_cost_minor)).all()
    assert any(cost is not None for _, cost in costs)
    with pytest.raises(DBAPIError, match="append-only"), loaded.write_sessions() as session:
        session.execute(update(LotReceiptRow).values(unit_cost_minor=0))
        session.commit()
    with loaded.read_sessions() as session:
        assert (
            session.execute(select(LotReceiptRow.id, LotReceiptRow.unit_cost_minor)).all() == costs
        )


@pytest.mark.parametrize("table", list(_TEXT))
def test_ledger_and_audit_rows_cannot_be_deleted(loaded, table):
    before = _count(loaded, table)
    assert before > 0
    with pytest.raises(DBAPIError, match="append-only"), loaded.write_sessions() as session:
        session.execute(delete(table))
        session.commit()
    assert _count(loaded, table) == before


def test_demo_balances_equal_the_sum_of_moves(loaded, uow):
    report = admin.check(uow(readonly=True))
    assert report.ok
    assert report.moves == _count(loaded, StockMoveRow) > 0


def test_check_lists_a_balance_that_drifted_from_its_moves(loaded, uow):
    with loaded.write_sessions() as session:
        drop_balance_guard(session.connection())
        session.execute(
            text("UPDATE stock_balances SET quantity = quantity + 2 WHERE location_id = "
                 "(SELECT id FROM locations WHERE code = 'VIE-FRIDGE')")
        )  # fmt: skip
        session.commit()
    report = admin.check(uow(readonly=True))
    assert not report.ok
    assert {p.location for p in report.problems} == {"VIE-FRIDGE"}
    drifted = [p for p in report.problems if not p.problem.startswith("kit ")]
    assert drifted
    assert all(p.recorded == p.from_moves + 2 for p in drifted)
    # the kits kept there now hold three units each, which a kit never does
    kits = [p for p in report.problems if p.problem.startswith("kit ")]
    assert kits
    assert all("holds 3 units" in p.problem for p in kits)


def test_balance_can_never_be_negative_in_the_database(loaded):
    with pytest.raises(DBAPIError), loaded.write_sessions() as session:
        session.execute(update(StockBalanceRow).values(quantity=-1))
        session.commit()


def _lot_and_places(uow_):
    with uow_ as u:
        product = u.products.get("SERUM-5ML")
        lot = u.lots.find(product.id, "PTT6-B0902")
        assert lot is not None
        return product.id, lot.id, u.locations.get("LON-FRIDGE").id, u.locations.get("SCRAP").id


def test_moving_more_than_on_hand_is_refused_and_writes_nothing(loaded, uow):
    product_id, lot_id, fridge, scrap = _lot_and_places(uow())
    moves_before, audit_before = _count(loaded, StockMoveRow), _count(loaded, AuditRow)
    with pytest.raises(Refused, match="not enough stock"), uow() as u:
        audit_id = u.record("write_off", "lot", "PTT6-B0902")
        u.ledger.post(
            [PostedMove(Move(lot_id, fridge, scrap, 10_000), product_id)],
            reason="write_off", actor=u.actor, audit_id=audit_id,
        )  # fmt: skip
        u.commit()
    assert (_count(loaded, StockMoveRow), _count(loaded, AuditRow)) == (moves_before, audit_before)
    assert admin.check(uow(readonly=True)).ok


def test_a_failed_unit_of_work_rolls_back_everything(loaded, uow):
    products_before = len(catalog.list_products(uow(readonly=True)))
    with pytest.raises(RuntimeError), uow() as u:
        catalog.create_product(u, catalog.parse_product("CHX-2", "Chlorhexidine 2%", "consumable"))
        raise RuntimeError("power cut")
    assert len(catalog.list_products(uow(readonly=True))) == products_before


def test_duplicate_location_is_a_conflict(loaded, uow):
    with pytest.raises(Conflict):
        locations.add_location(uow(), "LON", "London again", timezone="Europe/London")


def test_moves_record_the_actor_and_link_to_their_audit_row(loaded):
    with loaded.read_sessions() as session:
        rows = session.execute(
            select(StockMoveRow.actor, AuditRow.actor, AuditRow.action).join(
                AuditRow, AuditRow.id == StockMoveRow.audit_id
            )
        ).all()
    assert rows
    assert {r[0] for r in rows} == {"tester"}
    assert {r[2] for r in rows} == {"demo.load", "stock.move", "kit.assemble"}


def test_timestamps_come_back_timezone_aware_utc(loaded):
    with loaded.read_sessions() as session:
        created = session.scalar(select(StockMoveRow.created_at).limit(1))
    assert created is not None
    offset = created.utcoffset()
    assert offset is not None
    assert offset.total_seconds() == 0


def test_lot_code_is_unique_per_product(loaded):
    with pytest.raises(DBAPIError), loaded.write_sessions() as session:
        product_id = session.scalar(select(LotRow.product_id).where(LotRow.code == "PTT6-B0902"))
        session.add(LotRow(product_id=product_id, code="PTT6-B0902", status=LotStatus.RELEASED))
        session.commit()


def test_sqlite_second_writer_waits_then_fails_cleanly(tmp_path, monkeypatch):
    """A writer that cannot get the lock within the busy timeout gets a clear error."""
    from kitops.data import migrate
    from kitops.data.engine import open_database

    monkeypatch.setenv("KITOPS_BUSY_TIMEOUT_MS", "200")
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    db = open_database(url)
    migrate.upgrade(db)
    holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        spec = catalog.parse_product("CHX-1", "Chlorhexidine 1%", "consumable")
        with pytest.raises(DatabaseUnavailable, match="busy"):
            catalog.add_product(UnitOfWork(db, "tester"), spec)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert catalog.list_products(UnitOfWork(db, "tester", readonly=True)) == []
    db.dispose()


def test_sqlite_writers_queue_instead_of_failing(tmp_path):
    """Write transactions begin immediately, so concurrent writers serialise cleanly."""
    from kitops.data import migrate
    from kitops.data.engine import open_database

    db = open_database(f"sqlite:///{tmp_path / 'queue.db'}")
    migrate.upgrade(db)
    users.add_user(UnitOfWork(db, "tester"), "tester", "admin")  # the first admin
    for index in range(8):
        users.add_user(UnitOfWork(db, "tester"), f"user{index}", "admin")
    errors: list[BaseException] = []

    def add(index: int) -> None:
        try:
            spec = catalog.parse_product(f"CHX-{index}", f"Chlorhexidine {index}", "consumable")
            catalog.add_product(UnitOfWork(db, f"user{index}"), spec)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(catalog.list_products(UnitOfWork(db, "tester", readonly=True))) == 8
    db.dispose()
