"""The manager reports at scale: 3 clinics, 200 products, 500,000 ledger moves, 5,000
scheduled courses.

Builds the database (the demo data, then 191 more products, about 6,000 lots, 500,000
moves played forward so no balance goes negative, 2,000 assembled kits with their
component lots, and 5,000 scheduled courses over the four plans, a fifth of the home
ones already holding their kit), then times every ``kitops report`` (the service that
builds the report, as the command line and the TUI call it) beside a hand-written SQL
query answering the same question on the same database in the same run, and prints the
ratio. It also times rendering the largest report in each format. It measures and
prints; it never asserts a target.

The bulk load reuses ``ledger_scale``'s helpers: plain SQL on a connection of its own
(executemany on SQLite, COPY on PostgreSQL) and its ledger simulator.

Usage: python benchmarks/reports_scale.py [--moves 500000] [--courses 5000] [--runs 5]
           [--db URL | --pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

import benchdb
from ledger_scale import (
    WINDOW_START,
    LedgerBuilder,
    LotPlan,
    Places,
    Result,
    Sql,
    loader_connection,
    side_by_side,
    split,
)

from kitops.data import migrate
from kitops.data.engine import Database, open_database
from kitops.documents.report_files import render
from kitops.domain.courses import format_weekdays, weekdays_for
from kitops.domain.locations import VIRTUAL_KINDS
from kitops.reports.registry import run_report
from kitops.services import catalog, demo
from kitops.services.dto.reports import Report, ReportRequest
from kitops.services.plans import to_domain
from kitops.services.unit_of_work import UnitOfWork
from kitops.web.memory import settle_memory

AS_OF = date(2026, 11, 22)
ACTOR = "bench"
SEED = 20261123
PRODUCTS = 200
SERUM_LOTS = 2_400
OTHER_LOTS_PER_PRODUCT = 18
KITS = 2_000
TARGET_MS = 500.0
CLINICS = ("LON", "ESX", "VIE")
# the reports this benchmark covers (the registry may hold more, e.g. payments)
NAMES = ("stock", "expiring", "kits", "demand", "cover", "wastage", "valuation", "movements")


# --- building the data -----------------------------------------------------------------


def add_products(db: Database) -> None:
    """191 more products through kitops: stamps of many needle lengths and consumables."""
    with UnitOfWork(db, ACTOR) as uow:
        have = len(uow.products.all())
        for n in range(PRODUCTS - have):
            if n % 3 == 0:
                needle = f"{0.2 + (n % 28) * 0.1:.1f}"
                spec = catalog.parse_product(
                    f"STAMP-B{n:03d}", f"Bench stamp {needle} mm ({n})", "derma_stamp",
                    needle_mm=needle, lot_tracked=True,
                )  # fmt: skip
            else:
                spec = catalog.parse_product(
                    f"CONS-{n:03d}", f"Bench consumable {n}", "consumable", lot_tracked=True
                )
            catalog.create_product(uow, spec)
        uow.commit()


def generate(db: Database, moves: int, courses: int) -> dict[str, float]:
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    migrate.upgrade(db)
    demo.load(UnitOfWork(db, ACTOR), AS_OF)
    add_products(db)
    seconds["migrate + demo + products"] = time.perf_counter() - start

    rng = random.Random(SEED)
    sql = loader_connection(db)
    try:
        start = time.perf_counter()
        locations = sql.read("SELECT id, code, kind FROM locations")
        virtual = {kind.value for kind in VIRTUAL_KINDS}
        places = Places(
            {code: id_ for id_, code, _ in locations},
            frozenset(id_ for id_, _, kind in locations if kind not in virtual),
        )
        products = sql.read("SELECT id, sku, kind FROM products ORDER BY id")
        serum = next(id_ for id_, sku, _ in products if sku == "SERUM-5ML")
        stamp = next(id_ for id_, sku, _ in products if sku == "STAMP-0.5")
        others = [id_ for id_, _, kind in products if kind in ("derma_stamp", "consumable")]
        others = [p for p in others if p != stamp][: PRODUCTS - 9]
        suppliers = dict(sql.read("SELECT code, id FROM suppliers"))
        demo_moves = sql.read("SELECT COUNT(*) FROM stock_moves")[0][0]
        budget = moves - demo_moves - KITS
        lots = lot_plans(rng, budget, serum, stamp, others)

        sql.begin()
        now = sql.timestamp(datetime.now(UTC).replace(tzinfo=None))
        audit_id = sql.rows(
            "INSERT INTO audit_log (at, actor, action, entity, entity_key, after) "
            "VALUES (?, ?, 'bench.generate', 'database', 'reports_scale', '{}') RETURNING id",
            (now, ACTOR),
        )[0][0]
        expiries: dict[str, date] = {}
        lot_rows = []
        for plan in lots:
            expiry = AS_OF + timedelta(days=rng.randint(-120, 720))
            expiries[plan.code] = expiry
            status = "released"
            if expiry < AS_OF and rng.random() < 0.5:
                status = "expired"
            elif rng.random() < 0.03:
                status = "quarantine"
            currency = "EUR" if plan.clinics == ("VIE",) else "GBP"
            cost = 3500 if plan.product_id == serum else rng.randint(80, 1500)
            supplier = suppliers["CALECIM-EU" if currency == "EUR" else "CALECIM-UK"]
            lot_rows.append(
                (plan.product_id, plan.code, expiry.isoformat(), status, supplier,
                 f"PO-BENCH-{plan.code}", cost, currency, now)
            )  # fmt: skip
        sql.insert(
            "lots",
            ("product_id", "code", "expiry", "status", "supplier_id", "receipt_ref",
             "unit_cost_minor", "currency", "created_at"),
            lot_rows,
        )  # fmt: skip
        codes = {plan.code for plan in lots}
        lot_ids = {
            code: id_ for id_, code in sql.rows("SELECT id, code FROM lots") if code in codes
        }
        builder = LedgerBuilder(rng, places)
        for plan in lots:
            builder.play(plan, lot_ids[plan.code])
        builder.moves.sort(key=itemgetter(0))
        suffix = "" if sql.sqlite else "+00"

        def move_rows() -> Any:
            for t, pid, lot, src, dst, qty, reason, ref, detail in builder.moves:
                at = (WINDOW_START + timedelta(microseconds=t)).isoformat(" ", "microseconds")
                yield (pid, lot, src, dst, qty, reason, ACTOR, at + suffix, ref, detail, audit_id)

        columns = ("product_id", "lot_id", "from_location_id", "to_location_id", "quantity",
                   "reason", "actor", "created_at", "reference", "detail", "audit_id")  # fmt: skip
        with benchdb.ledger_triggers_off(sql.conn, sqlite=sql.sqlite):
            sql.insert("stock_moves", columns, move_rows())
            product_of = {lot_ids[plan.code]: plan.product_id for plan in lots}
            sql.insert(
                "stock_balances",
                ("lot_id", "location_id", "product_id", "quantity"),
                ((lot, loc, product_of[lot], qty) for (lot, loc), qty in builder.balances.items()),
            )
        seconds["lots + moves + balances"] = time.perf_counter() - start

        start = time.perf_counter()
        kit_ids = add_kits(sql, rng, places, lot_ids, expiries, serum, stamp, audit_id, now)
        course_count = add_courses(sql, db, rng, places, kit_ids, courses, now)
        sql.commit()
        # what creating each course stores: its kit need dates, its clinic sessions booked
        benchdb.store_course_dates(db.engine.url.render_as_string(hide_password=False), ACTOR)
        seconds[f"{len(kit_ids):,} kits + {course_count:,} courses"] = time.perf_counter() - start

        start = time.perf_counter()
        if sql.sqlite:
            sql.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            sql.conn.execute("ANALYZE")
        else:
            sql.conn.autocommit = True
            sql.conn.execute("VACUUM ANALYZE")
        seconds["checkpoint / analyze"] = time.perf_counter() - start
        total = sql.read("SELECT COUNT(*) FROM stock_moves")[0][0]
        print(f"ledger: {total:,} moves, {len(lots):,} bench lots, {len(products)} products")
    finally:
        sql.conn.close()
    return seconds


def lot_plans(
    rng: random.Random, budget: int, serum: int, stamp: int, others: list[int]
) -> list[LotPlan]:
    plans: list[LotPlan] = []
    other_lots = len(others) * OTHER_LOTS_PER_PRODUCT + 40
    per_lot = split(budget, SERUM_LOTS + other_lots)
    window = 730 * 86_400 * 1_000_000
    n = 0
    for i in range(SERUM_LOTS):
        clinics = tuple(c for c in CLINICS if rng.random() < 0.5) or (rng.choice(CLINICS),)
        plans.append(
            LotPlan(f"RS-{i:05d}", serum, clinics, per_lot[n], int(rng.random() * 0.8 * window),
                    "FRIDGE", "SHELF", (24, 96), 6)
        )  # fmt: skip
        n += 1
    for i in range(40):  # stamps for kits
        plans.append(
            LotPlan(f"RK-{i:05d}", stamp, CLINICS, per_lot[n], int(rng.random() * 0.8 * window),
                    "SHELF", None, (40, 120), 10)
        )  # fmt: skip
        n += 1
    for product in others:
        for j in range(OTHER_LOTS_PER_PRODUCT):
            clinics = tuple(c for c in CLINICS if rng.random() < 0.6) or ("LON",)
            plans.append(
                LotPlan(f"RO-{product}-{j:02d}", product, clinics, per_lot[n],
                        int(rng.random() * 0.8 * window), "SHELF", None, (10, 50), 4)
            )  # fmt: skip
            n += 1
    return plans


def add_kits(
    sql: Sql, rng: random.Random, places: Places, lot_ids: dict[str, int],
    expiries: dict[str, date], serum: int, stamp: int, audit_id: int, now: Any,
) -> list[tuple[int, int, int]]:  # fmt: skip
    """Available kits at each clinic's fridge: (kit id, clinic location id, product id)."""
    kit_product = sql.rows("SELECT id FROM products WHERE sku = 'KIT-HOME-6W'")[0][0]
    serum_lots = [c for c in lot_ids if c.startswith("RS-") and expiries[c] > AS_OF + timedelta(60)]
    stamp_lots = [c for c in lot_ids if c.startswith("RK-") and expiries[c] > AS_OF + timedelta(60)]
    assembly = places["ASSEMBLY"]
    first_serial = sql.rows("SELECT COALESCE(MAX(id), 0) FROM kits")[0][0] + 1
    kit_lots, kits, components, balances, moves = [], [], [], [], []
    made: list[tuple[str, int, int, date, str]] = []
    for n in range(KITS):
        clinic = CLINICS[n % 3]
        serial = f"KB{first_serial + n:07d}"
        vial_lot, stamp_lot = rng.choice(serum_lots), rng.choice(stamp_lots)
        expiry = min(expiries[vial_lot], expiries[stamp_lot])
        vials = ",".join([min(expiries[vial_lot], expiries[stamp_lot]).isoformat()] * 6)
        made.append((serial, places[f"{clinic}-FRIDGE"], lot_ids[vial_lot], expiry, vials))
        kit_lots.append((kit_product, serial, expiry.isoformat(), "released", f"bench:{n}", now))
        components.append((serial, lot_ids[vial_lot], lot_ids[stamp_lot]))
    sql.insert(
        "lots", ("product_id", "code", "expiry", "status", "receipt_ref", "created_at"), kit_lots
    )
    ids = dict(sql.rows("SELECT code, id FROM lots WHERE product_id = ?", (kit_product,)))
    for serial, location, _, expiry, vials in made:
        kits.append((serial, kit_product, ids[serial], location, expiry.isoformat(), vials,
                     "available", False, now))  # fmt: skip
        balances.append((ids[serial], location, kit_product, 1))
        moves.append((kit_product, ids[serial], assembly, location, 1, "kit_assembly", ACTOR, now,
                      f"assembly:{serial}", None, audit_id))  # fmt: skip
    sql.insert(
        "kits",
        ("serial", "product_id", "lot_id", "location_id", "expiry", "vial_expiries", "status",
         "recalled", "assembled_at"),
        kits,
    )  # fmt: skip
    kit_rows = sql.rows("SELECT id, serial, location_id FROM kits WHERE serial LIKE ?", ("KB%",))
    kit_of = {serial: (id_, loc) for id_, serial, loc in kit_rows}
    sql.insert(
        "kit_components",
        ("kit_id", "lot_id", "product_id", "quantity", "position"),
        [row for serial, vial_lot, stamp_lot in components
         for row in ((kit_of[serial][0], vial_lot, serum, 6, 0),
                     (kit_of[serial][0], stamp_lot, stamp, 1, 1))],
    )  # fmt: skip
    with benchdb.ledger_triggers_off(sql.conn, sqlite=sql.sqlite):
        sql.insert("stock_balances", ("lot_id", "location_id", "product_id", "quantity"), balances)
        sql.insert(
            "stock_moves",
            ("product_id", "lot_id", "from_location_id", "to_location_id", "quantity", "reason",
             "actor", "created_at", "reference", "detail", "audit_id"),
            moves,
        )  # fmt: skip
    return [(id_, loc, kit_product) for id_, _, loc in kit_rows]


def add_courses(
    sql: Sql, db: Database, rng: random.Random, places: Places,
    kits: list[tuple[int, int, int]], count: int, now: Any,
) -> int:  # fmt: skip
    """Scheduled courses starting from 80 days ago to 120 days ahead; a fifth of the home
    courses starting within two weeks hold a kit of their clinic."""
    with UnitOfWork(db, ACTOR, readonly=True) as uow:
        from kitops.data.schema import PlanRow

        plans = {row.code: (row.id, to_domain(row)) for row in uow.session.query(PlanRow)}
    mix = [("home-6w", 50), ("home-12w", 15), ("clinic-weekly-6", 25), ("ptt6-weekly-12", 10)]
    codes = [code for code, weight in mix for _ in range(weight)]
    rows = []
    for n in range(count):
        code = rng.choice(codes)
        plan_id, plan = plans[code]
        clinic = CLINICS[n % 3]
        start = AS_OF + timedelta(days=rng.randint(-80, 120))
        days = format_weekdays(weekdays_for(plan, start, None))
        rows.append((f"B-{n:06d}", plan_id, places[clinic], start.isoformat(), days,
                     "scheduled", now))  # fmt: skip
    sql.insert(
        "courses",
        ("patient_ref", "plan_id", "clinic_id", "start_date", "weekdays", "status", "created_at"),
        rows,
    )  # fmt: skip
    home = {plans["home-6w"][0], plans["home-12w"][0]}
    soon = [
        (id_, clinic)
        for id_, plan_id, clinic, start in sql.rows(
            "SELECT id, plan_id, clinic_id, start_date FROM courses WHERE patient_ref LIKE ?",
            ("B-%",),
        )
        if plan_id in home and AS_OF <= date.fromisoformat(str(start)) <= AS_OF + timedelta(14)
    ]
    free: dict[int, list[int]] = {}
    for kit_id, location, _ in kits:
        clinic_id = places[next(c for c in CLINICS if places[f"{c}-FRIDGE"] == location)]
        free.setdefault(clinic_id, []).append(kit_id)
    updates = []
    for course_id, clinic in soon[: len(soon) // 5]:
        if free.get(clinic):
            updates.append((course_id, free[clinic].pop()))
    sql.many("UPDATE kits SET status = 'reserved', course_id = ?, course_part = 1 WHERE id = ?",
             updates)  # fmt: skip
    return count


# --- the hand-written SQL, one per report ----------------------------------------------


def baselines(sql: Sql, places: dict[str, Any]) -> dict[str, Callable[[], object]]:
    day = AS_OF.isoformat() if sql.sqlite else AS_OF
    later = (AS_OF + timedelta(days=90)).isoformat() if sql.sqlite else AS_OF + timedelta(90)
    end = AS_OF + timedelta(days=7 * 12)
    d = (lambda v: v.isoformat()) if sql.sqlite else (lambda v: v)
    scrap = places["SCRAP"]
    physical = ", ".join(str(i) for i in sorted(places["__physical__"]))
    day_sql = f"'{day}'" if sql.sqlite else f"DATE '{AS_OF.isoformat()}'"
    month = "substr(m.created_at, 1, 7)" if sql.sqlite else "to_char(m.created_at, 'YYYY-MM')"
    utc_day = "substr(m.created_at, 1, 10)" if sql.sqlite else "CAST(m.created_at AS DATE)"
    first_month = date(AS_OF.year - 1, AS_OF.month, 1) + timedelta(days=31)
    first_month = first_month.replace(day=1)
    start_ts = sql.timestamp(datetime.combine(first_month, datetime.min.time()))
    end_ts = sql.timestamp(datetime.combine(AS_OF + timedelta(1), datetime.min.time()))
    from_ts = sql.timestamp(datetime.combine(AS_OF - timedelta(29), datetime.min.time()))
    stock = f"""
        SELECT lo.code, p.sku, p.name, l.code, l.expiry, l.status, b.quantity,
               b.quantity * l.unit_cost_minor, l.currency
        FROM stock_balances b JOIN lots l ON l.id = b.lot_id
        JOIN products p ON p.id = b.product_id JOIN locations lo ON lo.id = b.location_id
        WHERE b.quantity > 0 AND b.location_id IN ({physical})"""
    expiring = f"""
        SELECT b.location_id, p.sku, l.code, l.expiry, l.status, b.quantity,
               b.quantity * l.unit_cost_minor, l.currency, k.status, k.course_id
        FROM stock_balances b JOIN lots l ON l.id = b.lot_id
        JOIN products p ON p.id = b.product_id LEFT JOIN kits k ON k.lot_id = l.id
        WHERE b.quantity > 0 AND b.location_id IN ({physical})
          AND l.expiry IS NOT NULL AND l.expiry <= ?"""
    kits = """
        SELECT location_id, status, CASE WHEN expiry < ? THEN 0 ELSE 1 END, COUNT(*)
        FROM kits WHERE status IN ('available', 'reserved') AND NOT recalled
        GROUP BY 1, 2, 3"""
    courses = """
        SELECT clinic_id, plan_id, start_date, COUNT(*) FROM courses
        WHERE status = 'scheduled' AND start_date <= ? AND start_date >= ?
        GROUP BY clinic_id, plan_id, start_date"""
    usable = f"""
        SELECT b.location_id, l.product_id, l.expiry, SUM(b.quantity)
        FROM stock_balances b JOIN lots l ON l.id = b.lot_id
        WHERE b.quantity > 0 AND l.status = 'released' AND (l.expiry IS NULL OR l.expiry >= ?)
          AND b.location_id IN ({physical})
        GROUP BY b.location_id, l.product_id, l.expiry"""
    written_off = f"""
        SELECT m.from_location_id, m.lot_id, m.detail, {month}, SUM(m.quantity),
               l.unit_cost_minor, l.currency
        FROM stock_moves m JOIN lots l ON l.id = m.lot_id
        WHERE m.to_location_id = ? AND m.created_at >= ? AND m.created_at < ?
          AND (l.expiry IS NULL OR {utc_day} <= l.expiry)
        GROUP BY m.from_location_id, m.lot_id, m.detail, {month}, l.unit_cost_minor, l.currency"""
    on_hand_at_expiry = f"""
        SELECT l.id, m.to_location_id, m.from_location_id, SUM(m.quantity)
        FROM lots l JOIN stock_moves m ON m.lot_id = l.id
        WHERE l.expiry >= ? AND l.expiry < ? AND {utc_day} <= l.expiry
        GROUP BY l.id, m.to_location_id, m.from_location_id"""
    # like for like: the report's lot lines (units summed per clinic and lot, each lot's
    # cost from its receipts, a kit's from its component lots, the value rounded once),
    # then its totals per clinic and currency and per clinic, product and currency
    valuation = f"""
        WITH RECURSIVE tree(id, clinic) AS (
            SELECT id, code FROM locations WHERE kind = 'clinic'
            UNION ALL
            SELECT l.id, t.clinic FROM locations l JOIN tree t ON l.parent_id = t.id
        ),
        received AS (
            SELECT lot_id, currency, CAST(SUM(quantity * unit_cost_minor) AS BIGINT) AS total,
                   CAST(SUM(quantity) AS BIGINT) AS units
            FROM lot_receipts WHERE unit_cost_minor IS NOT NULL GROUP BY lot_id, currency
        ),
        kit_cost AS (
            SELECT k.lot_id, MIN(c.currency) AS currency,
                   CAST(SUM(kc.quantity * c.unit_cost_minor) AS BIGINT) AS unit
            FROM kits k JOIN kit_components kc ON kc.kit_id = k.id
            JOIN lots c ON c.id = kc.lot_id
            WHERE k.status IN ('available', 'reserved', 'recalled', 'expired')
            GROUP BY k.lot_id
            HAVING COUNT(DISTINCT c.currency) = 1 AND COUNT(c.unit_cost_minor) = COUNT(*)
        ),
        held AS (
            SELECT COALESCE(t.clinic, '-') AS clinic, p.sku, l.id AS lot_id, l.code,
                   l.expiry, l.status, CAST(SUM(b.quantity) AS BIGINT) AS qty,
                   COALESCE(l.unit_cost_minor, k.unit) AS unit,
                   CASE WHEN l.unit_cost_minor IS NOT NULL THEN l.currency
                        ELSE COALESCE(k.currency, '-') END AS currency
            FROM stock_balances b JOIN lots l ON l.id = b.lot_id
            JOIN products p ON p.id = b.product_id
            LEFT JOIN tree t ON t.id = b.location_id
            LEFT JOIN kit_cost k ON k.lot_id = l.id
            WHERE b.quantity > 0 AND b.location_id IN ({physical})
            GROUP BY COALESCE(t.clinic, '-'), p.sku, l.id, l.code, l.expiry, l.status,
                     l.unit_cost_minor, l.currency, k.unit, k.currency
        ),
        valued AS (
            SELECT h.clinic, h.sku, h.code, h.expiry, h.status, h.qty, h.unit, h.currency,
                   CASE WHEN r.units > 0 THEN (2 * h.qty * r.total + r.units) / (2 * r.units)
                        ELSE h.unit * h.qty END AS value,
                   CASE WHEN h.status = 'released' AND (h.expiry IS NULL OR h.expiry >= {day_sql})
                        THEN 1 ELSE 0 END AS usable
            FROM held h LEFT JOIN received r ON r.lot_id = h.lot_id AND r.currency = h.currency
        )
        SELECT 'lot', clinic, sku, code, expiry, status, qty, unit, currency, value, 0
        FROM valued
        UNION ALL
        SELECT 'total', clinic, NULL, NULL, NULL, NULL, SUM(qty), SUM(usable * qty), currency,
               SUM(value), SUM(usable * value)
        FROM valued GROUP BY clinic, currency
        UNION ALL
        SELECT 'product', clinic, sku, NULL, NULL, NULL, SUM(qty), NULL, currency,
               SUM(value), 0
        FROM valued GROUP BY clinic, sku, currency
        ORDER BY 1, 2, 3, 5, 4"""
    movements = """
        SELECT m.id, m.created_at, p.sku, l.code, m.from_location_id, m.to_location_id,
               m.quantity, m.reason, m.detail, m.reference, m.actor
        FROM stock_moves m JOIN lots l ON l.id = m.lot_id JOIN products p ON p.id = m.product_id
        WHERE m.created_at >= ? AND m.created_at < ? ORDER BY m.created_at, m.id"""
    return {
        "stock": lambda: sql.read(stock),
        "expiring": lambda: sql.read(expiring, (later,)),
        "kits": lambda: (sql.read(kits, (day,)),
                         sql.read(courses, (d(end), d(AS_OF - timedelta(days=84)))),
                         sql.read(usable, (day,))),
        "demand": lambda: (sql.read(courses, (d(end), d(AS_OF - timedelta(days=728)))),
                           sql.read(usable, (day,))),
        "cover": lambda: (sql.read(courses, (d(AS_OF + timedelta(179)),
                                             d(AS_OF - timedelta(days=728)))),
                          sql.read(usable, (day,))),
        "wastage": lambda: (sql.read(written_off, (scrap, start_ts, end_ts)),
                            sql.read(on_hand_at_expiry, (d(first_month - timedelta(1)), day))),
        "valuation": lambda: sql.read(valuation),
        "movements": lambda: sql.read(movements, (from_ts, end_ts)),
    }  # fmt: skip


WHAT = {
    "stock": "SELECT balances x lots x products, physical places",
    "expiring": "the same within 90 days, LEFT JOIN kits",
    "kits": "kits by place/status/expired; courses by start day; usable stock",
    "demand": "courses by clinic/plan/start day; usable stock by expiry",
    "cover": "the same over 180 days",
    "wastage": "write-offs by month/detail; on hand at each expiry",
    "valuation": "lot lines per clinic valued from receipts/kit components, with the totals",
    "movements": "30 days of moves with SKU and lot",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--moves", type=int, default=500_000)
    parser.add_argument("--courses", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="an empty database URL (default: SQLite in a temp dir)")
    where.add_argument("--pg-admin-url", help="create and drop a PostgreSQL database there")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.db:
        bench = benchdb.BenchDatabase(args.db)
    else:
        bench = benchdb.create(args.pg_admin_url, f"kitops_reports_{os.getpid()}", "reports.db")
    db = open_database(bench.url)
    try:
        for step, seconds in generate(db, args.moves, args.courses).items():
            print(f"  built {step}: {seconds:.1f} s")
        run(db, args.runs)
    finally:
        db.dispose()
        if args.keep:
            print(f"database kept: {bench.where()}")
        else:
            bench.drop()


def run(db: Database, runs: int) -> None:
    # what the process holds now lives as long as it: out of the collector's sight, as
    # kitops' own processes put it (the command line after its imports, the web server
    # and the terminal UI once started), so a full collection walks only what a run makes
    settle_memory()
    sql = loader_connection(db)
    try:
        rows = sql.read("SELECT id, code, kind FROM locations")
        places: dict[str, Any] = {code: id_ for id_, code, _ in rows}
        virtual = {kind.value for kind in VIRTUAL_KINDS}
        places["__physical__"] = {id_ for id_, _, kind in rows if kind not in virtual}
        queries = baselines(sql, places)
        results: list[Result] = []
        sizes: dict[str, str] = {}
        for name in NAMES:

            def with_kitops(name: str = name) -> Report:
                uow = UnitOfWork(db, ACTOR, readonly=True)
                return run_report(uow, name, ReportRequest(as_of=AS_OF))

            built = with_kitops()
            sizes[name] = ", ".join(f"{len(s.rows):,} {s.key}" for s in built.sections)
            k, s = side_by_side(with_kitops, queries[name], runs)
            results.append(Result(f"report {name}", k, s, TARGET_MS))
            print(f"report {name}: {sizes[name]}")
            print(results[-1].line())
        report_table(results, sizes)
        for name in ("stock", "expiring", "demand"):
            big = run_report(UnitOfWork(db, ACTOR, readonly=True), name, ReportRequest(as_of=AS_OF))
            lines = sum(len(s.rows) for s in big.sections)
            shown = []
            for fmt in ("table", "csv", "json", "html"):
                samples = [timed_render(big, fmt) for _ in range(3)]
                shown.append(f"{fmt} {statistics.median(samples) * 1000:.0f} ms")
            print(f"rendering `report {name}` ({lines:,} rows): {', '.join(shown)}")
    finally:
        sql.conn.close()


def timed_render(report: Any, fmt: str) -> float:
    start = time.perf_counter()
    render(report, fmt)
    return time.perf_counter() - start


def report_table(results: Sequence[Result], sizes: dict[str, str]) -> None:
    print()
    print(f"{'what':<20} | {'kitops ms':>9} | {'SQL ms':>8} | {'ratio':>6} | target 500 ms")
    print(f"{'-' * 20}-+-{'-' * 9}-+-{'-' * 8}-+-{'-' * 6}-+-{'-' * 14}")
    for result in results:
        k_med = statistics.median(result.kitops) * 1000
        s_med = statistics.median(result.sql) * 1000
        met = "met" if k_med < TARGET_MS else "MISSED"
        print(f"{result.what:<20} | {k_med:9.1f} | {s_med:8.1f} | {k_med / s_med:5.1f}x | {met}")
    print("(medians; ratio = kitops / hand-written SQL on the same database in the same run)")
    for result in results:
        name = result.what.split()[-1]
        print(f"  {name}: SQL = {WHAT[name]}")


if __name__ == "__main__":
    main()
