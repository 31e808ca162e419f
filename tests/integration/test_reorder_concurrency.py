"""Reorder runs started at the same moment in separate processes: one drafts the order,
the others find a run in progress or nothing left to do; never a second draft."""

from __future__ import annotations

import multiprocessing

from reorder_worker import build_world, calendar_policy, init, run_once
from sqlalchemy import func, select

from kitops.data.schema import AuditRow, PurchaseOrderLineRow, PurchaseOrderRow
from kitops.services import users

WORKERS = 4


def test_concurrent_reorder_runs_draft_each_order_once(db, db_url, uow):
    build_world(uow)
    calendar_policy(uow)
    for i in range(WORKERS):
        users.add_user(uow(), f"cron{i}", "job")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    with context.Pool(WORKERS, initializer=init, initargs=(barrier,)) as processes:
        results = processes.starmap(run_once, [(db_url, f"cron{i}") for i in range(WORKERS)])

    creators = [r for r in results if r["created"]]
    assert len(creators) == 1, results
    assert creators[0]["created"] == ["PO-000001"]
    others = [r for r in results if not r["created"]]
    assert all(r["in_progress"] or not r["changed"] for r in others), results
    with db.read_sessions() as session:
        orders = session.execute(select(PurchaseOrderRow.status)).scalars().all()
        lines = session.execute(select(PurchaseOrderLineRow.quantity)).scalars().all()
        drafted = session.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.action == "po.draft")
        )
    assert orders == ["draft"]
    assert lines == [12]
    assert drafted == 1
