"""The reorder job at scale, on SQLite.

Two databases, each timed through kitops beside a hand-written SQL query on the same
database in the same run, with the ratio. It measures and prints; it never asserts.

1. ``reorder run``: the demo's 3 clinics with 200 products (the demo's 9 and 191
   lot-tracked consumables), 600 product-and-clinic policies (two in three calendar, one
   in three min/max), 4,000 lots with staggered expiries, 500,000 ledger moves consistent
   with the balances, and 5,000 scheduled courses (the four plans, starting from 12 weeks
   ago to 16 weeks ahead, so kits, kit components and clinic sessions all count).
2. 50,000 policies: 50 clinics × 1,000 products, one lot or two per clinic and product,
   the same 5,000 courses spread over the clinics.

For each: the first run (drafts written), then runs with nothing changed (the everyday
cron case: everything read and computed, nothing written), and a dry run; every run with
the course calendars computed afresh, as in a new cron process. The SQL
baseline answers the part of the question SQL can answer: every policy's stock position
(released stock in date in the clinic's subtree, and what approved or sent orders still
bring) and the min/max order rounded to packs and the minimum order. The calendar's
expiry-aware matching of course calendars against lots has no SQL equivalent.

The rows go in with plain SQL (executemany) on a connection of their own; then each
course gets what creating it stores (its kit need dates, its clinic sessions booked).

Usage: python benchmarks/reorder_scale.py [--runs 5] [--moves 500000] [--keep]
           [--courses 5000] [--lots 4000] [--products 1000]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import benchdb

from kitops.data import migrate
from kitops.data.engine import open_database
from kitops.domain.courses import Plan, format_weekdays, weekdays_for
from kitops.services import demo
from kitops.services.reorder import run
from kitops.services.unit_of_work import UnitOfWork
from kitops.web.memory import settle_memory

AS_OF = date(2026, 11, 22)
ACTOR = "bench"
SEED = 20261122
COURSES = 5_000  # --courses
LOTS = 4_000  # of the three clinics (--lots)
FIFTY_PRODUCTS = 1_000  # per clinic of the fifty (--products)
NOW = "2026-11-01 00:00:00.000000"

BASELINE_SQL = """
WITH RECURSIVE tree(id, clinic_id) AS (
    SELECT id, id FROM locations WHERE kind = 'clinic'
    UNION ALL
    SELECT l.id, t.clinic_id FROM locations l JOIN tree t ON l.parent_id = t.id
),
stock AS (
    SELECT t.clinic_id, b.product_id, SUM(b.quantity) AS q
    FROM stock_balances b
    JOIN lots o ON o.id = b.lot_id
    JOIN tree t ON t.id = b.location_id
    WHERE b.quantity > 0 AND o.status = 'released' AND (o.expiry IS NULL OR o.expiry >= ?)
    GROUP BY t.clinic_id, b.product_id
),
coming AS (
    SELECT po.clinic_id, l.product_id, SUM(l.quantity - l.received_qty) AS q
    FROM purchase_order_lines l JOIN purchase_orders po ON po.id = l.order_id
    WHERE po.status IN ('approved', 'sent', 'partial') AND NOT l.closed
    GROUP BY po.clinic_id, l.product_id
)
SELECT p.id, COALESCE(s.q, 0) AS on_hand, COALESCE(c.q, 0) AS on_order,
    CASE WHEN p.method = 'min_max' AND COALESCE(s.q, 0) + COALESCE(c.q, 0) < p.min_qty
         THEN ((MAX(p.max_qty - COALESCE(s.q, 0) - COALESCE(c.q, 0), i.min_order_qty)
                + i.pack_size - 1) / i.pack_size) * i.pack_size
         ELSE 0 END AS quantity
FROM reorder_policies p
JOIN supplier_items i ON i.supplier_id = p.supplier_id AND i.product_id = p.product_id
JOIN suppliers su ON su.id = p.supplier_id
LEFT JOIN stock s ON s.clinic_id = p.clinic_id AND s.product_id = p.product_id
LEFT JOIN coming c ON c.clinic_id = p.clinic_id AND c.product_id = p.product_id
WHERE p.active AND su.active
"""

# what SQL can add now that courses store their dates: the window's demand per clinic,
# product and day (kit needs no kit is reserved for yet, and clinic sessions still to come
# on the day they are booked)
DEMAND_SQL = """
SELECT c.clinic_id, pl.kit_product_id, n.first_use, n.last_use, COUNT(*)
FROM course_kit_needs n JOIN courses c ON c.id = n.course_id JOIN plans pl ON pl.id = c.plan_id
WHERE c.status IN ('scheduled', 'active') AND n.first_use BETWEEN ? AND ?
  AND NOT EXISTS (SELECT 1 FROM kits k WHERE k.course_id = c.id AND k.course_part = n.part)
GROUP BY 1, 2, 3, 4
UNION ALL
SELECT c.clinic_id, c.plan_id, a.day, a.day, COUNT(*)
FROM course_appointments a JOIN courses c ON c.id = a.course_id
WHERE a.kind = 'application' AND c.status IN ('scheduled', 'active')
  AND a.day BETWEEN ? AND ?
  AND a.number > (SELECT COUNT(*) FROM course_sessions s WHERE s.course_id = c.id)
GROUP BY 1, 2, 3, 4
"""


def window_end(db: Any) -> date:
    """The last day of the demand a run reads (as ``reorder.run`` works it out)."""
    from kitops.services import reorder

    with UnitOfWork(db, ACTOR, readonly=True) as uow:
        _, period = reorder._window(uow)
    return AS_OF + timedelta(days=period)


CPU: dict[int, float] = {}  # id of a timed result → its median CPU seconds


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall seconds and the last result; the median CPU seconds of this process
    go in ``CPU`` (wall time on a loaded machine measures the queue for a core)."""
    fn()  # warm-up
    times, cpu, result = [], [], None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    wall = statistics.median(times)
    CPU[id(fn)] = statistics.median(cpu)
    return wall, result


def cpu_of(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """(median wall s, median CPU s, last result)."""
    wall, result = timed(fn, runs)
    return wall, CPU.pop(id(fn)), result


def ids(conn: sqlite3.Connection, sql: str) -> dict[str, int]:
    return {code: i for code, i in conn.execute(sql)}


def add_products(conn: sqlite3.Connection, count: int, prefix: str) -> list[int]:
    conn.executemany(
        "INSERT INTO products (sku, name, kind, unit, at_home_allowed, lot_tracked, "
        "requires_release, expiry_alert_days, min_shelf_life_on_receipt_days, active, "
        "created_at) VALUES (?, ?, 'consumable', 'each', 0, 1, 0, 90, 30, 1, ?)",
        [(f"{prefix}{n:05d}", f"Bench item {n}", NOW) for n in range(1, count + 1)],
    )
    return [i for (i,) in conn.execute("SELECT id FROM products WHERE sku LIKE ?", (prefix + "%",))]


def add_supplier(conn: sqlite3.Connection, products: list[int]) -> int:
    conn.execute(
        "INSERT INTO suppliers (code, name, lead_time_days, currency, contact, active) "
        "VALUES ('BENCH', 'Bench supplies', 7, 'GBP', 'bench@example', 1)"
    )
    (supplier,) = conn.execute("SELECT id FROM suppliers WHERE code = 'BENCH'").fetchone()
    conn.executemany(
        "INSERT INTO supplier_items (supplier_id, product_id, pack_size, min_order_qty, "
        "unit_cost_minor, currency) VALUES (?, ?, ?, ?, ?, 'GBP')",
        [(supplier, p, (5, 6, 10, 12)[p % 4], (5, 12, 10, 24)[p % 4], 100 + p % 900)
         for p in products],
    )  # fmt: skip
    return int(supplier)


def add_policies(
    conn: sqlite3.Connection, pairs: Iterator[tuple[int, int, int]], rng: random.Random
) -> int:
    rows = []
    for product, clinic, supplier in pairs:
        if rng.random() < 2 / 3:
            rows.append((product, clinic, supplier, "calendar", None, None, 7,
                         rng.choice((0, 3, 7))))  # fmt: skip
        else:
            low = rng.randint(2, 20)
            rows.append((product, clinic, supplier, "min_max", low, low * 3, 7, 0))
    conn.executemany(
        "INSERT INTO reorder_policies (product_id, clinic_id, supplier_id, method, min_qty, "
        "max_qty, review_period_days, safety_days, lead_time_days, active, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 1, ?)",
        [(*row, NOW) for row in rows],
    )
    return len(rows)


def add_lots(
    conn: sqlite3.Connection,
    holdings: list[tuple[int, int, int, int]],  # product, location, quantity, expiry days
    supplier: int | None,
) -> list[tuple[int, int, int, int]]:
    """Lots and balances; returns (lot, location, product, quantity)."""
    conn.executemany(
        "INSERT INTO lots (product_id, code, expiry, status, supplier_id, created_at) "
        "VALUES (?, ?, ?, 'released', ?, ?)",
        [(p, f"L{n:07d}", (AS_OF + timedelta(days=days)).isoformat(), supplier, NOW)
         for n, (p, _, _, days) in enumerate(holdings)],
    )  # fmt: skip
    lot_ids = ids(conn, "SELECT code, id FROM lots WHERE code LIKE 'L%'")
    balances = [(lot_ids[f"L{n:07d}"], loc, p, q) for n, (p, loc, q, _) in enumerate(holdings)]
    conn.executemany(
        "INSERT INTO stock_balances (lot_id, location_id, product_id, quantity) "
        "VALUES (?, ?, ?, ?)",
        balances,
    )
    return balances


def add_moves(
    conn: sqlite3.Connection,
    balances: list[tuple[int, int, int, int]],
    total: int,
    places: dict[str, int],
    shelf_of: dict[int, int],
    rng: random.Random,
) -> int:
    """Receipts, write-offs and fridge ⇄ shelf round trips that net out to the balances."""
    rows: list[tuple[Any, ...]] = []
    for lot, loc, product, quantity in balances:
        extra = rng.randint(0, 3)
        rows.append((product, lot, places["SUPPLIER"], loc, quantity + extra, "receipt"))
        if extra:
            rows.append((product, lot, loc, places["SCRAP"], extra, "write_off"))
    while len(rows) < total:
        lot, loc, product, _ = balances[rng.randrange(len(balances))]
        shelf = shelf_of.get(loc)
        if shelf is None or shelf == loc:
            continue
        rows.append((product, lot, loc, shelf, 1, "transfer"))
        rows.append((product, lot, shelf, loc, 1, "transfer"))
    conn.executemany(
        "INSERT INTO stock_moves (product_id, lot_id, from_location_id, to_location_id, "
        "quantity, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, 'bench', ?)",
        [(*row, NOW) for row in rows],
    )
    return len(rows)


def add_courses(
    db_url: str, conn: sqlite3.Connection, clinics: list[int], rng: random.Random
) -> int:
    from sqlalchemy import select

    from kitops.data.schema import PlanRow
    from kitops.services.plans import to_domain

    db = open_database(db_url)
    with db.read_sessions() as session:
        plans: list[tuple[int, Plan]] = [
            (row.id, to_domain(row)) for row in session.scalars(select(PlanRow))
        ]
    db.dispose()
    rows = []
    for n in range(COURSES):
        plan_id, plan = plans[n % len(plans)]
        start = AS_OF + timedelta(days=rng.randint(-84, 112))
        days = weekdays_for(plan, start, None)
        rows.append((f"B-{n:06d}", plan_id, clinics[n % len(clinics)], start.isoformat(),
                     format_weekdays(days), "scheduled", NOW))  # fmt: skip
    conn.executemany(
        "INSERT INTO courses (patient_ref, plan_id, clinic_id, start_date, weekdays, status, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def build_three_clinics(url: str, path: str, moves: int) -> None:
    db = open_database(url)
    migrate.upgrade(db)
    demo.load(UnitOfWork(db, ACTOR), AS_OF)
    db.dispose()
    rng = random.Random(SEED)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    triggers = benchdb.drop_sqlite_ledger_triggers(conn)  # moves and balances go in as one
    places = ids(conn, "SELECT code, id FROM locations")
    clinics = [places[c] for c in ("LON", "ESX", "VIE")]
    fridges = [places[f"{c}-FRIDGE"] for c in ("LON", "ESX", "VIE")]
    shelf_of = {places[f"{c}-FRIDGE"]: places[f"{c}-SHELF"] for c in ("LON", "ESX", "VIE")}
    products = add_products(conn, 191, "BX-")
    supplier = add_supplier(conn, products)
    demo_products = [i for (i,) in conn.execute(
        "SELECT id FROM products WHERE sku NOT LIKE 'BX-%' AND kind <> 'kit'")]  # fmt: skip
    conn.execute("DELETE FROM reorder_policies")  # the demo's: replaced by the bench set
    pairs = []
    for product in products:
        pairs += [(product, clinic, supplier) for clinic in clinics]
    demo_supplier = ids(conn, "SELECT code, id FROM suppliers")
    sells = {p: s for s, p in conn.execute("SELECT supplier_id, product_id FROM supplier_items "
                                           "WHERE supplier_id <> ?", (supplier,))}  # fmt: skip
    for product in demo_products:
        if product in sells:
            pairs += [(product, clinic, sells[product]) for clinic in clinics]
    del demo_supplier
    policies = add_policies(conn, iter(pairs), rng)
    holdings = []
    for _ in range(LOTS):
        product = rng.choice(products)
        holdings.append((product, rng.choice(fridges), rng.randint(1, 40), rng.randint(-30, 400)))
    balances = add_lots(conn, holdings, supplier)
    written = add_moves(conn, balances, moves - 25, places, shelf_of, rng)
    courses = add_courses(url, conn, clinics, rng)
    benchdb.restore_sqlite_triggers(conn, triggers)
    conn.commit()
    conn.close()
    benchdb.store_course_dates(url, ACTOR)  # as creating each course would have
    print(f"3 clinics, {len(products) + 9} products, {policies} policies, {len(balances)} "
          f"lots, {written + 25:,} ledger moves, {courses:,} courses")  # fmt: skip


def build_fifty_clinics(url: str, path: str) -> None:
    db = open_database(url)
    migrate.upgrade(db)
    demo.load(UnitOfWork(db, ACTOR), AS_OF)  # plans, the serum and kits for the courses
    db.dispose()
    rng = random.Random(SEED + 1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    triggers = benchdb.drop_sqlite_ledger_triggers(conn)  # moves and balances go in as one
    conn.execute("DELETE FROM reorder_policies")
    conn.executemany(
        "INSERT INTO locations (code, name, kind, parent_id, timezone, currency, active) "
        "VALUES (?, ?, 'clinic', NULL, 'Europe/London', 'GBP', 1)",
        [(f"C{n:02d}", f"Clinic {n}") for n in range(1, 48)],
    )
    places = ids(conn, "SELECT code, id FROM locations")
    clinic_codes = ["LON", "ESX", "VIE"] + [f"C{n:02d}" for n in range(1, 48)]
    conn.executemany(
        "INSERT INTO locations (code, name, kind, parent_id, timezone, currency, active) "
        "VALUES (?, ?, 'fridge', ?, NULL, NULL, 1)",
        [(f"{c}-F2", f"{c} bench fridge", places[c]) for c in clinic_codes],
    )
    places = ids(conn, "SELECT code, id FROM locations")
    clinics = [places[c] for c in clinic_codes]
    fridge_of = {places[c]: places[f"{c}-F2"] for c in clinic_codes}
    products = add_products(conn, FIFTY_PRODUCTS, "BY-")
    supplier = add_supplier(conn, products)
    policies = add_policies(conn, ((p, c, supplier) for c in clinics for p in products), rng)
    holdings = []
    for clinic in clinics:
        for product in products:
            for _ in range(rng.choice((1, 1, 2))):
                holdings.append((product, fridge_of[clinic], rng.randint(0, 30),
                                 rng.randint(-10, 300)))  # fmt: skip
    balances = add_lots(conn, holdings, supplier)
    courses = add_courses(url, conn, clinics, rng)
    benchdb.restore_sqlite_triggers(conn, triggers)
    conn.commit()
    conn.close()
    benchdb.store_course_dates(url, ACTOR)  # as creating each course would have
    print(f"50 clinics, {len(products):,} products, {policies:,} policies, {len(balances):,} lots, "
          f"{courses:,} courses")  # fmt: skip


def cold_run(db: Any, *, dry_run: bool = False) -> Any:
    """One run as a fresh cron process would make it: no course calendar cached."""
    from kitops.services import demand, reorder

    demand._application_dates.cache_clear()
    demand._kit_needs.cache_clear()
    demand._with_margin.cache_clear()
    reorder._terms.cache_clear()
    return run(UnitOfWork(db, ACTOR), as_of=AS_OF, dry_run=dry_run)


def measure(url: str, path: str, runs: int, title: str) -> None:
    db = open_database(url)
    # what the process holds now lives as long as it: out of the collector's sight, as
    # kitops' own processes put it (the command line after its imports, the web server
    # and the terminal UI once started), so a full collection walks only what a run makes
    settle_memory()
    start = time.perf_counter()
    first = cold_run(db)
    first_s = time.perf_counter() - start
    lines = sum(1 for _ in first.suggestions)
    again_s, again_cpu, again = cpu_of(lambda: cold_run(db), runs)
    dry_s, _ = timed(lambda: cold_run(db, dry_run=True), runs)
    if again.orders_created or again.orders_changed:
        print("  NOTE: a run with nothing changed changed something")
    conn = sqlite3.connect(path)
    sql_s, sql_cpu, rows = cpu_of(
        lambda: conn.execute(BASELINE_SQL, (AS_OF.isoformat(),)).fetchall(), runs
    )
    since, until = AS_OF.isoformat(), window_end(db).isoformat()

    def with_demand() -> int:
        conn.execute(BASELINE_SQL, (since,)).fetchall()
        return len(conn.execute(DEMAND_SQL, (since, until, since, until)).fetchall())

    both_s, both_cpu, demand_rows = cpu_of(with_demand, runs)
    conn.close()
    db.dispose()
    print(f"\n{title}: {first.policies:,} policies, {lines:,} lines to order, "
          f"{len(first.orders_created)} draft orders")  # fmt: skip
    print(f"  first run (drafts written)      {first_s * 1000:8.1f} ms")
    print(f"  run, nothing changed (median)   {again_s * 1000:8.1f} ms   "
          f"SQL stock position + min/max of {len(rows):,} policies {sql_s * 1000:6.1f} ms   "
          f"ratio {again_s / sql_s:5.1f}×")  # fmt: skip
    print(
        f"  the same beside SQL that also sums the window's demand from the stored dates "
        f"({demand_rows:,} rows) {both_s * 1000:6.1f} ms   ratio {again_s / both_s:5.1f}×"
    )
    print(f"  CPU of this process (medians): run {again_cpu * 1000:.1f} ms, "
          f"SQL {sql_cpu * 1000:.1f} ms "
          f"(ratio {again_cpu / sql_cpu:.1f}×), SQL with the demand {both_cpu * 1000:.1f} ms "
          f"(ratio {again_cpu / both_cpu:.1f}×)")  # fmt: skip
    print(f"  dry run (median)                {dry_s * 1000:8.1f} ms")


def main() -> None:
    global COURSES, LOTS, FIFTY_PRODUCTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--moves", type=int, default=500_000)
    parser.add_argument("--courses", type=int, default=COURSES, help="scheduled courses")
    parser.add_argument("--lots", type=int, default=LOTS, help="lots of the three clinics")
    parser.add_argument("--products", type=int, default=FIFTY_PRODUCTS,
                        help="products of each of the fifty clinics")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="Keep the databases.")
    args = parser.parse_args()
    COURSES, LOTS, FIFTY_PRODUCTS = args.courses, args.lots, args.products
    for name, build, title in (
        ("three", lambda u, p: build_three_clinics(u, p, args.moves), "reorder run, 3 clinics"),
        ("fifty", build_fifty_clinics, f"reorder run, 50 clinics x {args.products:,} products"),
    ):
        bench = benchdb.create(None, f"kitops_bench_reorder_{name}", f"{name}.db")
        path = bench.url.removeprefix("sqlite:///")
        try:
            started = time.perf_counter()
            build(bench.url, path)
            print(f"  built in {time.perf_counter() - started:.1f} s at {bench.where()}")
            measure(bench.url, path, args.runs, title)
        finally:
            if args.keep:
                print(f"  kept {path}")
            else:
                bench.drop()


if __name__ == "__main__":
    main()
