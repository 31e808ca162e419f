"""SIGKILL in the middle of long operations: each one happened entirely or not at all.

For every operation: the child process kills itself at a named point inside the
transaction (``KITOPS_FAULT``, kitops/faults.py: its changes written, COMMIT not sent), so
the kill always interrupts; afterwards `kitops db check` passes and the database is exactly
as *before*. A run to completion then gives *after*. As a smoke test a few more runs are
killed from outside at seeded random times, which may land before or after the commit:
each leaves exactly *before* or *after*, never anything in between; one more run completes
it and the state is exactly *after*: the operation happened once, whatever was killed.
"""

from __future__ import annotations

import random

import pytest
from fault_support import (
    Scratch,
    all_or_nothing_under_kills,
    kitops_argv,
    ok,
    write_lines,
)

AS_OF = "2026-11-22"
KILLS = 2  # timed smoke kills per operation; the named point always interrupts


@pytest.fixture
def scratch(db_url, backend, request):
    """The demo data as of ``AS_OF`` (cloned: ``DEMO_FIXTURES`` in tests/conftest.py)."""
    pg_admin = request.getfixturevalue("pg_admin") if backend == "postgresql" else None
    return Scratch(db_url, backend, pg_admin)


def test_killed_kit_assembly_of_200_kits_is_all_or_nothing(scratch, tmp_path):
    url = scratch.url
    ok(url, "receive", "SERUM-5ML", "--lot", "FLT-S1", "--expiry", "2031-12-31", "--qty", "1300",
       "--location", "LON-STORE")  # fmt: skip
    ok(url, "lot", "release", "FLT-S1")
    ok(url, "receive", "STAMP-0.5", "--lot", "FLT-T1", "--expiry", "2031-12-31", "--qty", "220",
       "--location", "LON-STORE")  # fmt: skip
    scratch.save_baseline()
    argv = kitops_argv(url, "kit", "assemble", "KIT-HOME-6W", "--qty", "200",
                       "--location", "LON-STORE")  # fmt: skip
    report = all_or_nothing_under_kills(scratch, argv, point="kit.assemble:after_moves",
                                         seed=801, kills=KILLS, idempotent=False)  # fmt: skip
    assert report.interrupted + report.completed == KILLS


def test_killed_5000_line_count_is_all_or_nothing(scratch, tmp_path):
    url = scratch.url
    rng = random.Random(802)
    lots = [f"FC-{i:05d}" for i in range(5000)]
    stock = ["sku,lot,expiry,quantity,location"] + [
        f"SERUM-5ML,{lot},2031-12-31,10,ESX-STORE" for lot in lots
    ]
    ok(url, "import", "stock", write_lines(tmp_path / "stock.csv", stock))
    sheet = ["sku,lot,counted"] + [f"SERUM-5ML,{lot},{rng.randint(0, 20)}" for lot in lots]
    rng.shuffle(sheet[1:])
    scratch.save_baseline()
    # the report as JSON: the rendered table of ~4,800 differences took most of a run,
    # after the commit, where a timed kill proves nothing about the transaction
    argv = kitops_argv(url, "count", "--location", "ESX-STORE", "--json",
                       write_lines(tmp_path / "count.csv", sheet))  # fmt: skip
    report = all_or_nothing_under_kills(scratch, argv, point="stock.count:after_moves",
                                         seed=803, kills=KILLS, idempotent=True)  # fmt: skip
    assert report.interrupted + report.completed == KILLS


def test_killed_reorder_run_is_all_or_nothing(scratch, tmp_path):
    from kitops.data.engine import open_database
    from kitops.services.purchasing import set_policy, set_supplier_item
    from kitops.services.unit_of_work import UnitOfWork

    url = scratch.url
    products = ["sku,name,kind,lot_tracked"] + [
        f"RO-{i:04d},Reorder consumable {i},consumable,no" for i in range(300)
    ]
    ok(url, "import", "products", write_lines(tmp_path / "products.csv", products))
    db = open_database(url)
    try:
        with UnitOfWork(db, "tester") as uow:
            for i in range(300):
                sku = f"RO-{i:04d}"
                set_supplier_item(uow, "DERMASUPPLY", sku, pack_size=10, min_order=10,
                                  unit_cost="1.25")  # fmt: skip
                for clinic in ("LON", "ESX"):
                    set_policy(uow, sku, clinic, supplier="DERMASUPPLY", method="min_max",
                               min_qty=5 + i % 7, max_qty=40 + i % 13)  # fmt: skip
            uow.commit()
    finally:
        db.dispose()
    scratch.save_baseline()
    argv = kitops_argv(url, "reorder", "run", "--as-of", AS_OF)
    report = all_or_nothing_under_kills(scratch, argv, point="reorder.run:after_orders",
                                         seed=804, kills=KILLS, idempotent=True)  # fmt: skip
    assert report.interrupted + report.completed == KILLS


PAYMENTS = 40
HALF = 20


def _paid_and_handled(url):
    """(orders by status, order ids whose event is recorded as handled)."""
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.pool import NullPool

    from kitops.data.engine import resolve_url
    from kitops.data.schema import OrderRow, StripeEventRow

    engine = create_engine(resolve_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            statuses = dict(
                conn.execute(select(OrderRow.status, func.count()).group_by(OrderRow.status)).all()
            )
            paid = set(conn.scalars(select(OrderRow.id).where(OrderRow.status == "paid")))
            handled = set(conn.scalars(select(StripeEventRow.order_id)))
    finally:
        engine.dispose()
    return statuses, paid, handled


def test_killed_payment_event_batch_applies_every_event_exactly_once(scratch):
    """A batch of 40 payment confirmations through the one event handler (what `stripe
    sync` and `stripe listen` call), killed inside the 21st event's transaction and then
    at random times: each event is applied with its effects and its event id in one
    transaction, so after any kill an order is paid exactly when its event is recorded,
    and resuming the batch finishes the rest once."""
    import sys
    from datetime import date, timedelta
    from pathlib import Path

    from fault_support import (
        db_check_passes,
        effect,
        kill_at,
        kill_at_point,
        run_child,
        settle,
        snapshot,
        victim_url,
    )
    from payment_batch import StatelessStripe

    from kitops.data.engine import open_database
    from kitops.services.clinic_calendar import set_hours
    from kitops.services.courses import create_course
    from kitops.services.orders import create_order, pay_order
    from kitops.services.unit_of_work import UnitOfWork

    url = scratch.url
    db = open_database(url)
    orders = []
    try:
        set_hours(UnitOfWork(db, "tester"), "LON", days="every-day")  # Sundays too
        for i in range(PAYMENTS):
            course = create_course(UnitOfWork(db, "tester"), f"PF{i:03d}", "home-6w",
                                   date(2026, 12, 1) + timedelta(days=i % 10), "LON",
                                   today=date.fromisoformat(AS_OF))  # fmt: skip
            order = create_order(UnitOfWork(db, "tester"), course.id)
            pay_order(UnitOfWork(db, "tester"), StatelessStripe(), order.id,
                      payment_method="pm_card_visa", confirm=False)  # fmt: skip
            orders.append(order.id)
    finally:
        db.dispose()
    first, last = min(orders), max(orders)
    assert orders == list(range(first, last + 1))
    scratch.save_baseline()
    argv = [sys.executable, str(Path(__file__).with_name("payment_batch.py")), victim_url(url),
            str(first), str(last)]  # fmt: skip

    before = snapshot(url)
    statuses, paid, handled = _paid_and_handled(url)
    assert statuses.get("pending") == PAYMENTS
    assert not paid
    assert not handled

    # killed at a named point: twenty events committed, the twenty-first's effects written
    # but not committed
    kill_at_point(argv, f"payments.event:after_effects@{HALF + 1}")
    settle(url, scratch.admin_url)
    db_check_passes(url)
    statuses, paid, handled = _paid_and_handled(url)
    assert paid == handled == set(orders[:HALF]), "not exactly the committed events applied"
    elapsed, _ = run_child(argv)  # resume: the rest, once
    after = snapshot(url)
    statuses, paid, handled = _paid_and_handled(url)
    assert statuses.get("paid") == PAYMENTS
    assert paid == handled == set(orders)
    run_child(argv)  # every event again: all duplicates
    assert effect(snapshot(url)) == effect(after)
    scratch.reset()
    assert snapshot(url) == before

    # smoke: killed from outside at seeded random times, wherever that lands
    rng = random.Random(805)
    for _ in range(KILLS):
        kill_at(argv, rng.uniform(0.15, 0.95) * elapsed)
        settle(url, scratch.admin_url)
        db_check_passes(url)
        statuses, paid, handled = _paid_and_handled(url)
        assert set(statuses) <= {"pending", "paid"}, statuses
        assert paid == handled, "an order paid without its event, or an event without effect"
    run_child(argv)  # resume: the rest, once
    db_check_passes(url)
    assert snapshot(url) == after
