"""PostgreSQL at chain scale: 10,000,000 ledger moves over 50 clinics, every everyday
command as typed, beside hand-written SQL.

Builds (or takes, ``--db URL --built``) a PostgreSQL database holding a chain of
``--clinics`` clinics (default 50: the demo's LON, ESX and VIE plus ``C004``...), each
with its stockroom, serum fridge, shelf and quarantine and two users limited to it (a
stockroom user and a manager), and a ledger of ``--rows`` moves (default 10,000,000)
over two years before 2026-11-22:

- serum and stamp lots in proportion to the ledger (one serum lot per 180 moves, one
  stamp lot per 1,600), each received at a home clinic and, for a third of them, at a
  neighbour too, and played forward by ``ledger_scale.LedgerBuilder``: receipts,
  transfers between fridge and shelf, sessions and dispatches to patients, write-offs,
  count corrections; clinics differ in size (LON the biggest);
- the hot lot ``HOT-0001`` with ``--hot-moves`` moves (default 30,000, the hot lot of
  ``ledger_scale.py`` at 1,000,000 moves: a manufacturer's batch does not grow with the
  chain) dispatched in kits at the first ten clinics;
- kits at chain scale (one per 500 moves): assembled at each clinic's fridge from a serum
  lot it holds (six vials, reason ``kit_assembly``), some available, some reserved for a
  course, most shipped to the patient (``dispatch``), a few returned sealed (``return``,
  in quarantine); courses (one per kit and a third more without one) at every clinic.

The rows go in with COPY on a connection of their own, the balance triggers off and the
ledger's secondary indexes built after the load, as ``pg_restore`` does; the balances are
computed in Python and never negative, and ``kitops db check`` proves them consistent
(its time is printed). Then it times, each a median of ``--runs`` runs after a warm-up
(warm cache), in a subprocess as a person types them: ``kitops stock``, ``stock
--location LON``, ``stock --location C026`` (a clinic of middling size), ``trace
HOT-0001``, ``receive``, ``move`` (there and back), ``kit list``, beside the
interpreter's floor; then in process the trace and stock services beside hand-written
SQL (``ledger_scale``'s), the sizes of the tables and indexes and their growth per
million moves, with ``--explain`` EXPLAIN (ANALYZE, BUFFERS) of every statement on the
ledger or the balances the trace and the stock services send, and last ``db check`` (the
service, then the command). It prints the target beside each figure; it never asserts
one. With ``--runs 1`` (the smoke test's) each command runs once, without the floor.

Usage: python benchmarks/chain_scale.py --pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres
           [--rows 10000000] [--clinics 50] [--hot-moves 30000] [--runs 5] [--keep] [--explain]
       python benchmarks/chain_scale.py --db URL --built [--runs 5] [--explain]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import benchdb
import cli_startup
import ledger_scale as ls
import stock_command
from sqlalchemy import event

from kitops.data import migrate
from kitops.data.engine import Database, open_database
from kitops.services import admin, demo
from kitops.services.lots import trace
from kitops.services.stock import stock_on_hand
from kitops.services.unit_of_work import UnitOfWork
from kitops.web.memory import settle_memory

ACTOR = ls.ACTOR
AS_OF = ls.AS_OF
HOT_LOT = ls.HOT_LOT
DEMO_CLINICS = ("LON", "ESX", "VIE")
HOT_CLINICS = 10
MOVES_PER_SERUM_LOT = 180
MOVES_PER_STAMP_LOT = 1_600
MOVES_PER_KIT = 500
KIT_SKU = "KIT-HOME-6W"
KIT_VIALS = 6
COMMAND_TARGET_S = 1.0
EXPLAIN_LINES = 40  # a plan longer than this shows its head and its timings
TRACE_TARGET_MS = 100.0
PG_ONLY = "chain_scale.py measures PostgreSQL: give --pg-admin-url or --db postgresql://..."


# --- building the chain --------------------------------------------------------------


def clinic_codes(clinics: int) -> list[str]:
    return list(DEMO_CLINICS[:clinics]) + [f"C{i:03d}" for i in range(4, clinics + 1)]


def add_clinics(sql: ls.Sql, codes: list[str]) -> int:
    """The clinics the demo lacks, each with the demo's places under it, and two users
    limited to each clinic (the demo's clinics too). Returns the users added."""
    now = sql.timestamp(datetime.now(UTC).replace(tzinfo=None))

    def place(code: str, name: str, kind: str, parent: int | None, zone: str | None) -> int:
        return int(
            sql.rows(
                "INSERT INTO locations (code, name, kind, parent_id, timezone, currency, active) "
                "VALUES (?, ?, ?, ?, ?, ?, TRUE) RETURNING id",
                (code, name, kind, parent, zone, "GBP" if zone else None),
            )[0][0]
        )

    for code in codes:
        if code in DEMO_CLINICS:
            continue
        clinic = place(code, f"Clinic {code}", "clinic", None, "Europe/London")
        store = place(f"{code}-STORE", f"Clinic {code} stockroom", "stockroom", clinic, None)
        for suffix, kind in (("FRIDGE", "fridge"), ("SHELF", "shelf"), ("QUAR", "quarantine")):
            place(f"{code}-{suffix}", f"Clinic {code} {kind}", kind, store, None)
    ids = dict((code, id_) for id_, code in sql.rows("SELECT id, code FROM locations"))
    users = 0
    for code in codes:
        for role in ("stockroom", "manager"):
            user = sql.rows(
                "INSERT INTO users (name, role, active, failed_logins, created_at, created_by) "
                "VALUES (?, ?, TRUE, 0, ?, ?) RETURNING id",
                (f"{code.lower()}-{role}", role, now, ACTOR),
            )[0][0]
            sql.rows(
                "INSERT INTO user_clinics (user_id, location_id) VALUES (?, ?) RETURNING id",
                (user, ids[code]),
            )
            users += 1
    return users


def plan_chain_lots(
    rng: random.Random, budget: int, hot_moves: int, products: dict[str, int], codes: list[str]
) -> list[ls.LotPlan]:
    """The hot lot, then serum and stamp lots at clinics of different sizes."""
    weights = [3.0 if code == "LON" else 0.5 + rng.random() for code in codes]
    stamp_moves = round(budget * ls.STAMP_SHARE)
    serum_moves = budget - hot_moves - stamp_moves
    serum_lots = max(4 * len(codes), serum_moves // MOVES_PER_SERUM_LOT)
    stamp_lots = max(len(codes), stamp_moves // MOVES_PER_STAMP_LOT)

    def clinics_of() -> tuple[str, ...]:
        home = rng.choices(codes, weights)[0]
        if rng.random() < 0.33 and len(codes) > 1:
            other = rng.choice([code for code in codes if code != home])
            return home, other
        return (home,)

    plans = [
        ls.LotPlan(HOT_LOT, products[ls.SERUM_SKU], tuple(codes[:HOT_CLINICS]), hot_moves, 0,
                   "FRIDGE", "SHELF", (300, 600), 60, hot=True)
    ]  # fmt: skip
    for i, n in enumerate(ls.split(serum_moves, serum_lots), start=1):
        plans.append(
            ls.LotPlan(f"B-{i:06d}", products[ls.SERUM_SKU], clinics_of(), n,
                       int(rng.random() * 0.75 * ls.WINDOW_US), "FRIDGE", "SHELF", (24, 96), 6)
        )  # fmt: skip
    for i, n in enumerate(ls.split(stamp_moves, stamp_lots), start=1):
        plans.append(
            ls.LotPlan(f"S-{i:06d}", products[rng.choice(ls.STAMP_SKUS)], clinics_of(), n,
                       int(rng.random() * 0.75 * ls.WINDOW_US), "SHELF", None, (10, 50), 4)
        )  # fmt: skip
    return plans


@dataclass
class KitPlan:
    serial: str
    clinic: str
    status: str  # available, reserved, handed_over, quarantine
    at_us: int  # when assembled, into the window


def plan_kits(rng: random.Random, codes: list[str], kits: int) -> list[KitPlan]:
    """Kits assembled over the window's last 90 days: 20 % available, 15 % reserved for
    a course, 60 % handed over to the patient, 5 % returned sealed into quarantine."""
    plans = []
    for n in range(1, kits + 1):
        r = rng.random()
        status = ("available" if r < 0.20 else "reserved" if r < 0.35
                  else "handed_over" if r < 0.95 else "quarantine")  # fmt: skip
        at = ls.WINDOW_US - int(rng.random() * 90 * 86_400 * 1_000_000)
        plans.append(KitPlan(f"CK{n:07d}", codes[n % len(codes)], status, at))
    return plans


@dataclass(frozen=True)
class Built:
    seconds: dict[str, float]
    moves: int
    lots: int
    kits: int
    courses: int
    users: int
    hot_moves: int


def generate(db: Database, rows: int, clinics: int, hot_moves: int) -> Built:
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    migrate.upgrade(db)
    demo.load(UnitOfWork(db, ACTOR), AS_OF)
    seconds["migrate + demo"] = time.perf_counter() - start

    start = time.perf_counter()
    rng = random.Random(ls.SEED)
    codes = clinic_codes(clinics)
    sql = ls.loader_connection(db)
    try:
        sql.conn.execute("SET maintenance_work_mem = '512MB'")
        users = add_clinics(sql, codes)
        sql.commit()
        places = ls.places_of(sql)
        products = dict((sku, id_) for id_, sku in sql.rows("SELECT id, sku FROM products"))
        supplier_id = sql.rows("SELECT id FROM suppliers WHERE code = ?", ("CALECIM-UK",))[0][0]
        plan_id = sql.rows("SELECT id FROM plans WHERE code = ?", ("home-6w",))[0][0]
        demo_moves = sql.rows("SELECT COUNT(*) FROM stock_moves")[0][0]
        kit_plans = plan_kits(rng, codes, max(len(codes), rows // MOVES_PER_KIT))
        kit_moves = sum(
            2 + (k.status in ("handed_over", "quarantine")) + (k.status == "quarantine")
            for k in kit_plans
        )
        plans = plan_chain_lots(rng, rows - demo_moves - kit_moves, hot_moves, products, codes)
        audit_id = ls.bench_audit(sql, "chain_scale", f'{{"rows": {rows}, "clinics": {clinics}}}')
        lot_ids = ls.insert_lots(sql, plans, rng, supplier_id)
        seconds["clinics, users, lots"] = time.perf_counter() - start

        start = time.perf_counter()
        builder = ls.LedgerBuilder(rng, places)
        for plan in plans:
            builder.play(plan, lot_ids[plan.code])
        seconds["simulate moves (Python)"] = time.perf_counter() - start

        start = time.perf_counter()
        kits, courses = add_kits(sql, builder, kit_plans, lot_ids, plans, products, plan_id,
                                 places, audit_id)  # fmt: skip
        builder.moves.sort(key=itemgetter(0))
        seconds["kits and courses"] = time.perf_counter() - start

        start = time.perf_counter()
        indexes = [
            (name, ddl)
            for name, ddl in sql.rows(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'stock_moves' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        ]
        for name, _ in indexes:
            sql.conn.execute(f"DROP INDEX {name}")
        product_of = dict(sql.rows("SELECT id, product_id FROM lots"))
        ls.write_ledger(sql, builder.moves, builder.balances, product_of, audit_id)
        seconds["COPY moves + balances"] = time.perf_counter() - start
        start = time.perf_counter()
        for _, ddl in indexes:
            sql.conn.execute(ddl)
        sql.commit()
        seconds[f"build {len(indexes)} ledger indexes"] = time.perf_counter() - start

        start = time.perf_counter()
        sql.conn.autocommit = True
        sql.conn.execute("VACUUM ANALYZE")
        seconds["VACUUM ANALYZE (all)"] = time.perf_counter() - start
        total = sql.rows("SELECT COUNT(*) FROM stock_moves")[0][0]
    finally:
        sql.conn.close()
    return Built(seconds, total, len(plans) + kits, kits, courses, users, hot_moves)


def add_kits(
    sql: ls.Sql,
    builder: ls.LedgerBuilder,
    kit_plans: list[KitPlan],
    lot_ids: dict[str, int],
    plans: list[ls.LotPlan],
    products: dict[str, int],
    plan_id: int,
    places: ls.Places,
    audit_id: int,
) -> tuple[int, int]:
    """Kits from the serum each clinic's fridge holds at the end of the simulation, their
    own lots, components and moves, and the courses they serve (one per kit that went to
    a course, and a third as many without a kit: clinic courses, done ones)."""
    bal = builder.balances
    serum = products[ls.SERUM_SKU]
    kit_product = products[KIT_SKU]
    expiry_of = dict(
        (id_, expiry) for id_, expiry in sql.rows("SELECT id, expiry FROM lots WHERE status = "
                                                   "'released' AND expiry > ?", (AS_OF,))
    )  # fmt: skip
    serum_lots = {lot_ids[p.code] for p in plans if p.product_id == serum and not p.hot}
    fridge_stock: dict[int, list[int]] = {}
    for (lot, loc), qty in bal.items():
        if lot in serum_lots and lot in expiry_of and qty >= KIT_VIALS:
            fridge_stock.setdefault(loc, []).append(lot)
    assembly, patient = places["ASSEMBLY"], places["PATIENT"]
    made: list[tuple[KitPlan, int, int]] = []  # (plan, component lot, where)
    for kit in kit_plans:
        fridge = places[f"{kit.clinic}-FRIDGE"]
        held = fridge_stock.get(fridge, [])
        while held and bal[(held[-1], fridge)] < KIT_VIALS:
            held.pop()
        if not held:
            continue
        lot = held[-1]
        bal[(lot, fridge)] -= KIT_VIALS
        made.append((kit, lot, fridge))
    clinic_ids = {code: places[code] for code in {k.clinic for k, _, _ in made}}
    course_rows = []
    for n, (kit, _, _) in enumerate(made, start=1):
        if kit.status == "available":
            continue
        status = "scheduled" if kit.status == "reserved" else "active"
        start = (AS_OF + timedelta(days=7 if kit.status == "reserved" else -20)).isoformat()
        course_rows.append((f"P-{kit.clinic}-{n:07d}", plan_id, clinic_ids[kit.clinic],
                            start, "mon,thu", status, sql.timestamp(ls.WINDOW_START)))  # fmt: skip
    for n in range(len(course_rows) // 3):
        clinic = made[n % len(made)][0].clinic
        course_rows.append((f"P-{clinic}-D{n:06d}", plan_id, clinic_ids[clinic],
                            (AS_OF - timedelta(days=120)).isoformat(), "mon,thu", "completed",
                            sql.timestamp(ls.WINDOW_START)))  # fmt: skip
    sql.insert("courses", ("patient_ref", "plan_id", "clinic_id", "start_date", "weekdays",
                           "status", "created_at"), course_rows)  # fmt: skip
    course_of = dict(
        sql.rows("SELECT patient_ref, id FROM courses WHERE status <> ?", ("completed",))
    )  # fmt: skip
    sql.insert(
        "lots",
        ("product_id", "code", "expiry", "status", "supplier_id", "receipt_ref", "currency",
         "created_at"),
        ((kit_product, kit.serial, expiry_of[lot], "released", None, f"assembly:{audit_id}",
          "GBP", sql.timestamp(ls.WINDOW_START + timedelta(microseconds=kit.at_us)))
         for kit, lot, _ in made),
    )  # fmt: skip
    kit_lot = dict(sql.rows("SELECT code, id FROM lots WHERE code LIKE ?", ("CK%",)))
    kit_rows = []
    out = builder.moves.append
    for n, (kit, lot, fridge) in enumerate(made, start=1):
        own = kit_lot[kit.serial]
        t = kit.at_us
        out((t, serum, lot, fridge, assembly, KIT_VIALS, "kit_assembly", f"assembly:{n}", None))
        out((t, kit_product, own, assembly, fridge, 1, "kit_assembly", f"assembly:{n}", None))
        where, course = fridge, course_of.get(f"P-{kit.clinic}-{n:07d}")
        bal[(own, fridge)] = 1
        if kit.status in ("handed_over", "quarantine"):
            out((t + 1, kit_product, own, fridge, patient, 1, "dispatch", f"course-{course}", None))
            where, bal[(own, fridge)] = patient, 0
        if kit.status == "quarantine":
            where = places[f"{kit.clinic}-QUAR"]
            out((t + 2, kit_product, own, patient, where, 1, "return", f"course-{course}", None))
            course, bal[(own, where)] = None, 1
        expiry = expiry_of[lot]
        assembled = sql.timestamp(ls.WINDOW_START + timedelta(microseconds=kit.at_us))
        kit_rows.append((kit.serial, kit_product, own, where, expiry,
                         ",".join([expiry.isoformat()] * KIT_VIALS), kit.status, course,
                         None if course is None else 1, False, assembled))  # fmt: skip
    sql.insert("kits", ("serial", "product_id", "lot_id", "location_id", "expiry",
                        "vial_expiries", "status", "course_id", "course_part", "recalled",
                        "assembled_at"), kit_rows)  # fmt: skip
    kit_id = dict(sql.rows("SELECT serial, id FROM kits WHERE serial LIKE ?", ("CK%",)))
    sql.insert(
        "kit_components",
        ("kit_id", "lot_id", "product_id", "quantity", "position"),
        ((kit_id[kit.serial], lot, serum, KIT_VIALS, 0) for kit, lot, _ in made),
    )
    return len(made), len(course_rows)


# --- measuring -----------------------------------------------------------------------


def everyday(env: dict[str, str], sql: ls.Sql) -> dict[str, list[list[str]]]:
    """The everyday commands as a person types them (``move`` goes there and back)."""
    sku, lot, expiry = sql.read(
        "SELECT p.sku, l.code, l.expiry FROM stock_balances b JOIN lots l ON l.id = b.lot_id "
        "JOIN products p ON p.id = b.product_id JOIN locations lo ON lo.id = b.location_id "
        "WHERE lo.code = 'LON-SHELF' AND p.sku LIKE ? AND l.status = 'released' "
        "AND l.expiry > ? AND b.quantity >= 5 ORDER BY l.code LIMIT 1",
        ("STAMP-%", AS_OF + timedelta(days=60)),
    )[0]
    clinics = [code for (code,) in sql.read("SELECT code FROM locations WHERE kind = 'clinic' "
                                            "ORDER BY id")]  # fmt: skip
    mid = clinics[len(clinics) // 2]  # a clinic of middling size (LON is the biggest)
    kitops = cli_startup.KITOPS
    typed = {
        "kitops stock": ["stock"],
        "kitops stock --location LON": ["stock --location LON"],
        f"kitops stock --location {mid}": [f"stock --location {mid}"],
        f"kitops trace {HOT_LOT}": [f"trace {HOT_LOT}"],
        f"kitops receive {sku} ...": [
            f"receive {sku} --lot {lot} --expiry {expiry.isoformat()} --qty 1 --location LON-SHELF"
        ],
        f"kitops move {sku} ...": [
            f"move {sku} --lot {lot} --qty 1 --from LON-SHELF --to LON-STORE",
            f"move {sku} --lot {lot} --qty 1 --from LON-STORE --to LON-SHELF",
        ],
        "kitops kit list": ["kit list"],
    }
    return {name: [[kitops, *line.split()] for line in lines] for name, lines in typed.items()}


def report_commands(samples: dict[str, tuple[list[float], list[float]]]) -> None:
    print(f"\n{'command':<40} | {'median s':>8} | {'max s':>6} | {'CPU s':>6} | target")
    print(f"{'-' * 40}-+-{'-' * 8}-+-{'-' * 6}-+-{'-' * 6}-+-{'-' * 16}")
    for name, (walls, cpus) in samples.items():
        median = statistics.median(walls)
        target = ""
        if name.startswith("kitops"):
            met = "met" if median < COMMAND_TARGET_S else "MISSED"
            target = f"< {COMMAND_TARGET_S:.0f} s: {met}"
        print(
            f"{name:<40} | {median:8.3f} | {max(walls):6.3f} | "
            f"{statistics.median(cpus):6.3f} | {target}"
        )
    print("(wall-clock median and worst, median CPU user + system of the process)")


def db_check_command(env: dict[str, str]) -> None:
    wall, cpu = cli_startup.run_once([cli_startup.KITOPS, "db", "check"], env)
    print(f"kitops db check (whole command, once): {wall:.1f} s wall, {cpu:.1f} s CPU in kitops")


SIZED = ("stock_moves", "stock_balances", "lots", "kits", "kit_components", "courses",
         "audit_log")  # fmt: skip


def sizes(sql: ls.Sql, moves: int) -> None:
    per_million = 1_000_000 / max(moves, 1)
    print(f"\n{'table / index':<40} | {'MiB':>9} | {'MiB per 1M moves':>16}")
    print(f"{'-' * 40}-+-{'-' * 9}-+-{'-' * 16}")
    rows = [
        (f"{table} (total, with indexes)", size)
        for table, size in sql.read(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relname = ANY(?) AND relkind = 'r' ORDER BY 2 DESC",
            (list(SIZED),),
        )
    ]
    rows += [
        (f"  {name}", size)
        for name, size in sql.read(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relname = 'stock_moves' ORDER BY 2 DESC"
        )
    ]
    rows.append(("  stock_moves heap", sql.read("SELECT pg_relation_size('stock_moves')")[0][0]))
    rows.append(("database", sql.read("SELECT pg_database_size(current_database())")[0][0]))
    for name, size in rows:
        mib = size / 2**20
        print(f"{name:<40} | {mib:9.1f} | {mib * per_million:16.1f}")
    print(f"({moves:,} moves; shared_buffers {sql.read('SHOW shared_buffers')[0][0]})")


def explain(db: Database, sql: ls.Sql) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT on the ledger or the balances that kitops
    sends for ``trace HOT-0001`` and ``stock --location LON`` (the others read a few rows
    of small tables)."""
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and (
            "stock_moves" in statement or "stock_balances" in statement
        ):
            captured.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        trace(UnitOfWork(db, ACTOR, readonly=True), HOT_LOT, references=3)
        traced = len(captured)
        stock_on_hand(UnitOfWork(db, ACTOR, readonly=True), location="LON", today=AS_OF)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    for n, (statement, params) in enumerate(captured):
        what = "trace" if n < traced else "stock --location LON"
        cursor = sql.conn.cursor()
        try:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = [row[0] for row in cursor.fetchall()]
        finally:
            cursor.close()
            sql.conn.rollback()
        print(f"\n--- {what}, statement {n + 1}:")
        print(" ".join(statement.split())[:600])
        shown = plan if len(plan) <= EXPLAIN_LINES else [
            *plan[: EXPLAIN_LINES - 6], f"  ... {len(plan) - EXPLAIN_LINES + 1} lines more ...",
            *plan[-5:],
        ]  # fmt: skip
        print("\n".join(shown))


def measure(db: Database, url: str, runs: int, with_explain: bool) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    env["KITOPS_DATABASE_URL"] = url
    env["COLUMNS"] = "100"
    print(f"login {stock_command.bind_login(db)} acts as {ACTOR}")
    # what the process holds now lives as long as it: out of the collector's sight, as
    # kitops' own processes put it (the command line after its imports, the web server
    # and the terminal UI once started), so a full collection walks only what a run makes
    settle_memory()
    raw = db.engine.raw_connection()  # from kitops's pool: the settings kitops uses
    try:
        sql = ls.Sql(raw.driver_connection, sqlite=False)
        moves = sql.read("SELECT COUNT(*) FROM stock_moves")[0][0]
        clinics = sql.read("SELECT COUNT(*) FROM locations WHERE kind = 'clinic'")[0][0]
        print(f"{moves:,} moves, {clinics} clinics; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores")  # fmt: skip
        if runs > 1:
            cases = {**cli_startup.FLOOR, **everyday(env, sql)}
            report_commands(cli_startup.measure(cases, env, runs))
        else:  # a smoke run: each command once, cold, without the floor
            once = {name: cli_startup.run_once(lines[0], env)
                    for name, lines in everyday(env, sql).items()}  # fmt: skip
            report_commands({name: ([wall], [cpu]) for name, (wall, cpu) in once.items()})

        results = [ls.bench_stock(db, sql, runs)]
        trace_result, trace_refs = ls.bench_trace(db, sql, runs)
        results += [trace_result, trace_refs]
        ls.table(results)
        sizes(sql, moves)
        if with_explain:
            explain(db, sql)
    finally:
        raw.close()
    start = time.perf_counter()
    checked = admin.check(UnitOfWork(db, ACTOR, readonly=True))
    print(
        f"\ndb check: ok={checked.ok}, {checked.balances_checked:,} balances, "
        f"{checked.moves:,} moves, {len(checked.problems)} problems, "
        f"{time.perf_counter() - start:.1f} s (the service, in process)"
    )
    db_check_command(env)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000, help="ledger rows to build")
    parser.add_argument("--clinics", type=int, default=50, help="clinics in the chain")
    parser.add_argument("--hot-moves", type=int, default=30_000, help=f"moves of {HOT_LOT}")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (median)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", help="a PostgreSQL database URL (empty, or --built)")
    where.add_argument("--pg-admin-url", help="create (and drop) a PostgreSQL database there")
    parser.add_argument("--built", action="store_true", help="--db holds an earlier build")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the services")
    args = parser.parse_args()
    if args.built and not args.db:
        parser.error("--built needs --db (the database an earlier run kept)")
    if (args.db or args.pg_admin_url).startswith("sqlite"):
        parser.error(PG_ONLY)
    if not args.built and (args.clinics < 2 or args.rows < 20_000 * args.clinics // 10):
        parser.error("--clinics must be at least 2 and --rows at least 2,000 per clinic")
    if not args.built and args.hot_moves > args.rows // 10:
        parser.error("--hot-moves must be at most a tenth of --rows")

    benchdb.compile_bytecode()
    scratch = None
    if args.db:
        url = args.db
    else:
        scratch = benchdb.create(args.pg_admin_url, f"kitops_chain_{os.getpid()}", "")
        url = scratch.url
    db = open_database(url)
    try:
        print(f"database: {db.display_url}")
        if not args.built:
            start = time.perf_counter()
            cpu = time.process_time()
            built = generate(db, args.rows, args.clinics, args.hot_moves)
            for step, seconds in built.seconds.items():
                print(f"  {step:<30} {seconds:7.1f} s")
            print(
                f"built in {time.perf_counter() - start:.1f} s ({time.process_time() - cpu:.1f} s "
                f"CPU in Python): {built.moves:,} moves, {args.clinics} clinics, "
                f"{built.users} clinic users, {built.lots:,} lots, {built.kits:,} kits, "
                f"{built.courses:,} courses, {HOT_LOT} with {built.hot_moves:,} moves"
            )
        measure(db, url, args.runs, args.explain)
    finally:
        db.dispose()
        if scratch and args.keep:
            print(f"kept {scratch.where()}: {url}")
        elif scratch:
            scratch.drop()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
