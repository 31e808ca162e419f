"""Several processes working the same lots can never oversell or lose a move."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select
from stock_worker import LOTS, PLACES, plan, work

from kitops.data.schema import LocationRow, LotRow, StockBalanceRow, StockMoveRow
from kitops.services import admin, users

WORKERS = 8
OPERATIONS = 15  # each worker's, all started at once


@pytest.mark.demo_data(date(2026, 11, 22))
def test_concurrent_receipts_moves_and_write_offs_keep_the_ledger_whole(db, db_url, uow, backend):
    workers = WORKERS if backend == "postgresql" else 4
    plans = [plan(1000 + i, OPERATIONS) for i in range(workers)]
    with db.read_sessions() as session:
        moves_before = session.scalar(select(func.count()).select_from(StockMoveRow))
        on_hand = dict(
            session.execute(
                select(LotRow.code, func.sum(StockBalanceRow.quantity))
                .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
                .join(LocationRow, LocationRow.id == StockBalanceRow.location_id)
                .where(LotRow.code.in_(LOTS), LocationRow.code.in_(PLACES))
                .group_by(LotRow.code)
            ).all()
        )
    # the workers ask to write off more of some lot than its places ever hold, whatever
    # order their operations run in: some must be refused (moves only shift stock
    # between the two places)
    wanted: Counter[str] = Counter()
    for steps in plans:
        for operation, lot, _place, _other, qty in steps:
            if operation == "write_off":
                wanted[lot] += qty
            elif operation == "receive":
                wanted[lot] -= qty
    assert any(wanted[lot] > (on_hand.get(lot) or 0) for lot in LOTS), (wanted, on_hand)
    for i in range(workers):  # managers: a write-off above the threshold is theirs
        users.add_user(uow(), f"worker{i}", "manager")
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(workers) as pool:
        start = manager.Barrier(workers)
        results = pool.starmap(
            work, [(db_url, f"worker{i}", OPERATIONS, 1000 + i, start) for i in range(workers)]
        )

    report = admin.check(uow(readonly=True))
    assert report.ok, report.problems
    with db.read_sessions() as session:
        negative = session.scalar(
            select(func.count()).select_from(StockBalanceRow).where(StockBalanceRow.quantity < 0)
        )
        per_actor = dict(
            session.execute(
                select(StockMoveRow.actor, func.count()).group_by(StockMoveRow.actor)
            ).all()
        )
        moves_after = session.scalar(select(func.count()).select_from(StockMoveRow))
    assert negative == 0
    for i, tally in enumerate(results):
        assert tally["ok"] + tally["refused"] == OPERATIONS  # none failed otherwise
        # every operation with an explicit lot writes exactly one ledger row
        assert per_actor.get(f"worker{i}", 0) == tally["ok"]
    assert moves_after - moves_before == sum(t["ok"] for t in results)
    assert sum(t["ok"] for t in results) > 0
    assert sum(t["refused"] for t in results) > 0  # the lots did run dry at times
