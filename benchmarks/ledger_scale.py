"""The stock ledger at scale: stock, trace and a 5,000-line count on 1,000,000 moves.

Builds a database whose ``stock_moves`` holds ``--rows`` rows (default 1,000,000) with
consistent ``stock_balances``, then times three everyday questions through kitops, each
beside a hand-written SQL query answering the same question on the same database in the
same run, and ends with ``kitops db check`` over the whole ledger. It measures and
prints; it never asserts a target.

The data set: the demo data (clinics LON, ESX, VIE) plus 6,000 serum lots ``B-000001``...
(every one held in LON-FRIDGE, half also in Essex, 40 % in Vienna), 600 stamp lots
``S-000001``... and one hot serum lot ``HOT-0001`` carrying 3 % of the moves (30,000 of
1,000,000: a lot dispatched in about 10,000 kits). Receipts from SUPPLIER, transfers
between fridge and shelf, sessions and dispatches to PATIENT (``course-12345``),
write-offs to SCRAP and count corrections, interleaved in time over the two years before
2026-11-22. The rows go in with plain SQL (executemany on SQLite, COPY on PostgreSQL) on a
connection of their own; the balances are computed in Python and never negative.

Usage: python benchmarks/ledger_scale.py [--rows 1000000] [--runs 5]
           [--db URL | --pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
           [--only stock,trace,count,trigger]
       python benchmarks/ledger_scale.py --db URL --built [--only ...]   (measure a kept one)
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

import benchdb
import psycopg
from sqlalchemy.engine import make_url

from kitops.data import migrate
from kitops.data.engine import Database, open_database
from kitops.domain.locations import VIRTUAL_KINDS
from kitops.services import admin, demo
from kitops.services.lots import trace
from kitops.services.operations import CountedLine, count
from kitops.services.stock import stock_on_hand
from kitops.services.unit_of_work import UnitOfWork
from kitops.web.memory import settle_memory

AS_OF = date(2026, 11, 22)
ACTOR = "bench"
SEED = 20261122
HOT_LOT = "HOT-0001"
SERUM_SKU = "SERUM-5ML"
STAMP_SKUS = ("STAMP-0.4", "STAMP-0.5", "STAMP-0.6", "STAMP-1.2", "STAMP-2.0")
SERUM_LOTS = 6_000
STAMP_LOTS = 600
HOT_SHARE = 0.03  # of all ledger rows
STAMP_SHARE = 0.08
HOT_COURSES = 10_000  # distinct course references on the hot lot
STOCK_CLINIC = "LON"
COUNT_LOCATION = "LON-FRIDGE"
COUNT_LINES = 5_000
COUNT_CHANGED_EVERY = 10  # one count line in ten differs from the balance
TRACE_TARGET_MS = 100.0
COUNT_TARGET_MS = 2_000.0
WINDOW_START = datetime(2024, 11, 22)  # naive UTC; the moves span two years from here
WINDOW_US = 730 * 86_400 * 1_000_000
SQLITE_BATCH = 50_000
WRITE_OFF_DETAILS = ("damaged", "expired", "opened", "other")

# One generated move before it gets its row: (microseconds into the window, product id,
# lot id, from id, to id, quantity, reason, reference, detail).
GenMove = tuple[int, int, int, int, int, int, str, str | None, str | None]


# --- plain DB-API access -------------------------------------------------------------


class Sql:
    """A DB-API connection with the SQL written once, in qmark style (``?``).

    SQLite connections run in autocommit mode (kitops sets ``isolation_level = None``),
    so writes open their own ``BEGIN IMMEDIATE``; psycopg opens transactions itself and
    reads end theirs with a rollback so no snapshot stays open between runs.
    """

    def __init__(self, conn: Any, *, sqlite: bool) -> None:
        self.conn = conn
        self.sqlite = sqlite

    def q(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(self.q(sql), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read outside any write: runs and ends its transaction."""
        result = self.rows(sql, params)
        if not self.sqlite:
            self.conn.rollback()
        return result

    def many(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        cursor = self.conn.cursor()
        try:
            cursor.executemany(self.q(sql), params)
        finally:
            cursor.close()

    def begin(self) -> None:
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def rollback(self) -> None:
        if self.sqlite:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        else:
            self.conn.rollback()

    def settle(self) -> None:
        """SQLite: write the WAL back into the database now (untimed), so the next timed
        commit does not pay the automatic checkpoint, which falls on whichever commit takes
        the WAL past 1,000 pages (25-60 ms here: a count writes about 870)."""
        if self.sqlite:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def timestamp(self, value: datetime) -> Any:
        """A naive UTC datetime as the column stores it (SQLAlchemy's SQLite format)."""
        if self.sqlite:
            return value.isoformat(" ", "microseconds")
        return value.replace(tzinfo=UTC)

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk insert: executemany in big batches on SQLite, COPY on PostgreSQL."""
        written = 0
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) == SQLITE_BATCH:
                    self.many(sql, batch)
                    written += len(batch)
                    batch = []
            self.many(sql, batch)
            return written + len(batch)
        with (
            self.conn.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                written += 1
        return written


def loader_connection(db: Database) -> Sql:
    """A connection outside kitops's pool, so bulk-load settings never reach kitops."""
    url = make_url(db.url)
    if db.is_sqlite:
        conn = sqlite3.connect(url.database or "", isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB while the indexes fill
        return Sql(conn, sqlite=True)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return Sql(psycopg.connect(conninfo), sqlite=False)


# --- generating the ledger -----------------------------------------------------------


@dataclass(frozen=True)
class Places:
    ids: dict[str, int]  # location code → id
    physical: frozenset[int]

    def __getitem__(self, code: str) -> int:
        return self.ids[code]


@dataclass
class LotPlan:
    code: str
    product_id: int
    clinics: tuple[str, ...]
    moves: int
    start_us: int
    home: str  # FRIDGE or SHELF: where receipts land
    work: str | None  # SHELF for serum: transfers go there and back
    receipt: tuple[int, int]
    low: int  # reorder below this on hand
    hot: bool = False
    keep_at: str | None = None  # end with stock here (LON-FRIDGE for the count)


class LedgerBuilder:
    """Plays each lot's life forward, keeping its balances, so none goes negative."""

    def __init__(self, rng: random.Random, places: Places) -> None:
        self.rng = rng
        self.places = places
        self.moves: list[GenMove] = []
        self.balances: dict[tuple[int, int], int] = {}
        self.code_of = {v: k for k, v in places.ids.items()}

    def play(self, plan: LotPlan, lot_id: int) -> None:
        rng, bal, out = self.rng, self.balances, self.moves.append
        rand, randint = rng.random, rng.randint
        physical = self.places.physical
        supplier, patient = self.places["SUPPLIER"], self.places["PATIENT"]
        scrap, adjustment = self.places["SCRAP"], self.places["ADJUSTMENT"]
        pid = plan.product_id
        homes = [
            (self.places[f"{c}-{plan.home}"], self.places[f"{c}-{plan.work}"] if plan.work else 0)
            for c in plan.clinics
        ]
        keep = self.places[plan.keep_at] if plan.keep_at else 0
        step = max(1, (WINDOW_US - plan.start_us) // max(plan.moves, 1))  # a lot may get none
        for i in range(plan.moves):
            t = plan.start_us + i * step + int(rand() * step)
            home, work = homes[int(rand() * len(homes))]
            forced = False
            if keep and i == plan.moves - 1 and bal.get((lot_id, keep), 0) == 0:
                home, work, forced = keep, 0, True
            h = bal.get((lot_id, home), 0)
            w = bal.get((lot_id, work), 0) if work else 0
            r = rand()
            detail: str | None = None
            reference: str | None = None
            if forced or h + w == 0 or (h < plan.low and r < 0.25):
                src, dst, qty, reason = supplier, home, randint(*plan.receipt), "receipt"
                reference = f"PO-{randint(10_000, 99_999)}"
            elif work and r < 0.30 and h > 0:
                src, dst, qty, reason = home, work, randint(1, min(6, h)), "transfer"
            elif work and r < 0.34 and w > 0:
                src, dst, qty, reason = work, home, randint(1, min(3, w)), "transfer"
            elif r < 0.92:
                src, have = (work, w) if w > 0 else (home, h)
                dst = patient
                if plan.hot:  # one kit: six vials, dispatched for a course
                    qty, reason = min(6, have), "dispatch"
                    reference = f"course-{50_000 + randint(0, HOT_COURSES - 1)}"
                else:
                    qty = randint(1, min(3, have))
                    reason = "session" if r < 0.75 else "dispatch"
                    reference = f"course-{randint(10_000, 99_999)}"
            elif r < 0.97:
                src = home if h > 0 else work
                dst, qty, reason = scrap, 1, "write_off"
                detail = WRITE_OFF_DETAILS[int(rand() * len(WRITE_OFF_DETAILS))]
            elif r < 0.985 and h > 0:
                src, dst, qty, reason = home, adjustment, 1, "count"
                reference = f"count:{self.code_of[home]}"
            else:
                src, dst, qty, reason = adjustment, home, 1, "count"
                reference = f"count:{self.code_of[home]}"
            if src in physical:
                bal[(lot_id, src)] = bal.get((lot_id, src), 0) - qty
            if dst in physical:
                bal[(lot_id, dst)] = bal.get((lot_id, dst), 0) + qty
            out((t, pid, lot_id, src, dst, qty, reason, reference, detail))


def split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def plan_lots(
    rng: random.Random, budget: int, rows: int, products: dict[str, int]
) -> list[LotPlan]:
    hot_moves = round(rows * HOT_SHARE)
    stamp_moves = round(rows * STAMP_SHARE)
    serum_moves = budget - hot_moves - stamp_moves
    plans = [
        LotPlan(HOT_LOT, products[SERUM_SKU], ("LON", "ESX", "VIE"), hot_moves, 0,
                "FRIDGE", "SHELF", (300, 600), 60, hot=True, keep_at=COUNT_LOCATION)
    ]  # fmt: skip
    for i, n in enumerate(split(serum_moves, SERUM_LOTS), start=1):
        clinics = (
            ("LON",)
            + (("ESX",) if rng.random() < 0.5 else ())
            + (("VIE",) if rng.random() < 0.4 else ())
        )
        plans.append(
            LotPlan(f"B-{i:06d}", products[SERUM_SKU], clinics, n,
                    int(rng.random() * 0.75 * WINDOW_US), "FRIDGE", "SHELF", (24, 96), 6,
                    keep_at=COUNT_LOCATION)
        )  # fmt: skip
    for i, n in enumerate(split(stamp_moves, STAMP_LOTS), start=1):
        clinics = tuple(c for c in ("LON", "ESX", "VIE") if rng.random() < 0.6) or ("LON",)
        plans.append(
            LotPlan(f"S-{i:06d}", products[rng.choice(STAMP_SKUS)], clinics, n,
                    int(rng.random() * 0.75 * WINDOW_US), "SHELF", None, (10, 50), 4)
        )  # fmt: skip
    return plans


def lot_row(plan: LotPlan, rng: random.Random, supplier_id: int, sql: Sql) -> tuple[Any, ...]:
    if plan.hot:
        expiry, status = AS_OF + timedelta(days=200), "released"
    else:
        expiry = AS_OF + timedelta(days=rng.randint(-90, 720))
        status = "expired" if expiry < AS_OF and rng.random() < 0.5 else "released"
        if rng.random() < 0.01:
            status = "recalled"
    created = sql.timestamp(WINDOW_START + timedelta(microseconds=plan.start_us))
    reason = "bench: recalled" if status == "recalled" else None
    return (plan.product_id, plan.code, expiry.isoformat(), status, reason, supplier_id,
            f"PO-BENCH-{plan.code}", 3500, "GBP", created)  # fmt: skip


@dataclass(frozen=True)
class Generated:
    seconds: dict[str, float]
    moves: int
    lots: int
    hot_moves: int
    hot_courses: int


def places_of(sql: Sql) -> Places:
    locations = sql.read("SELECT id, code, kind FROM locations")
    virtual = {kind.value for kind in VIRTUAL_KINDS}
    return Places(
        {code: id_ for id_, code, _ in locations},
        frozenset(id_ for id_, _, kind in locations if kind not in virtual),
    )


def bench_audit(sql: Sql, entity_key: str, after: str) -> int:
    """The audit row the generated moves name (one for the whole load)."""
    return int(
        sql.rows(
            "INSERT INTO audit_log (at, actor, action, entity, entity_key, after) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (sql.timestamp(datetime.now(UTC).replace(tzinfo=None)), ACTOR, "bench.generate",
             "database", entity_key, after),
        )[0][0]
    )  # fmt: skip


def insert_lots(
    sql: Sql, plans: Sequence[LotPlan], rng: random.Random, supplier_id: int
) -> dict[str, int]:
    """The planned lots; returns their ids by code."""
    sql.insert(
        "lots",
        ("product_id", "code", "expiry", "status", "status_reason", "supplier_id",
         "receipt_ref", "unit_cost_minor", "currency", "created_at"),
        (lot_row(plan, rng, supplier_id, sql) for plan in plans),
    )  # fmt: skip
    codes = {plan.code for plan in plans}
    return {code: id_ for id_, code in sql.rows("SELECT id, code FROM lots") if code in codes}


def write_ledger(
    sql: Sql,
    moves: Sequence[GenMove],
    balances: dict[tuple[int, int], int],
    product_of: dict[int, int],
    audit_id: int,
) -> int:
    """The generated moves (in time order) and their balances, the balance triggers off,
    as a restore loads them; returns the moves written."""
    suffix = "" if sql.sqlite else "+00"

    def move_rows() -> Iterator[tuple[Any, ...]]:
        for t, pid, lot, src, dst, qty, reason, ref, detail in moves:
            at = (WINDOW_START + timedelta(microseconds=t)).isoformat(" ", "microseconds")
            yield (pid, lot, src, dst, qty, reason, ACTOR, at + suffix, ref, detail, audit_id)

    with benchdb.ledger_triggers_off(sql.conn, sqlite=sql.sqlite):
        written = sql.insert(
            "stock_moves",
            ("product_id", "lot_id", "from_location_id", "to_location_id", "quantity",
             "reason", "actor", "created_at", "reference", "detail", "audit_id"),
            move_rows(),
        )  # fmt: skip
        sql.insert(
            "stock_balances",
            ("lot_id", "location_id", "product_id", "quantity"),
            ((lot, loc, product_of[lot], qty) for (lot, loc), qty in balances.items()),
        )
    if written != len(moves):
        raise RuntimeError(f"wrote {written:,} of {len(moves):,} generated moves")
    return written


def generate(db: Database, rows: int) -> Generated:
    """Migrate, load the demo data through kitops, then bulk-insert up to ``rows`` moves."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    migrate.upgrade(db)
    demo.load(UnitOfWork(db, ACTOR), AS_OF)
    seconds["migrate + demo"] = time.perf_counter() - start

    start = time.perf_counter()
    rng = random.Random(SEED)
    sql = loader_connection(db)
    try:
        places = places_of(sql)
        products = dict((sku, id_) for id_, sku in sql.read("SELECT id, sku FROM products"))
        supplier_id = sql.read("SELECT id FROM suppliers WHERE code = ?", ("CALECIM-UK",))[0][0]
        demo_moves = sql.read("SELECT COUNT(*) FROM stock_moves")[0][0]
        plans = plan_lots(rng, rows - demo_moves, rows, products)

        sql.begin()
        audit_id = bench_audit(sql, "ledger_scale", f'{{"rows": {rows}}}')
        lot_ids = insert_lots(sql, plans, rng, supplier_id)
        seconds["lots"] = time.perf_counter() - start

        start = time.perf_counter()
        builder = LedgerBuilder(rng, places)
        for plan in plans:
            builder.play(plan, lot_ids[plan.code])
        builder.moves.sort(key=itemgetter(0))
        hot_id = lot_ids[HOT_LOT]
        hot_courses = len({m[7] for m in builder.moves if m[2] == hot_id and m[7]})
        seconds["simulate moves (Python)"] = time.perf_counter() - start

        start = time.perf_counter()
        product_of = {lot_ids[plan.code]: plan.product_id for plan in plans}
        write_ledger(sql, builder.moves, builder.balances, product_of, audit_id)
        sql.commit()
        seconds["insert moves + balances"] = time.perf_counter() - start

        start = time.perf_counter()
        if sql.sqlite:
            # Fold the big WAL back into the file, as a checkpoint would after a day's work.
            sql.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            seconds["WAL checkpoint"] = time.perf_counter() - start
        else:
            # Autovacuum would do this on its own a little later (and in the middle of
            # the timings); do it now so the planner has statistics and a visibility map.
            sql.conn.autocommit = True
            sql.conn.execute("VACUUM ANALYZE")
            seconds["VACUUM ANALYZE"] = time.perf_counter() - start
        total = sql.read("SELECT COUNT(*) FROM stock_moves")[0][0]
    finally:
        sql.conn.close()
    hot_moves = next(plan.moves for plan in plans if plan.hot)
    return Generated(seconds, total, len(plans), hot_moves, hot_courses)


# --- timing --------------------------------------------------------------------------


@dataclass
class Result:
    what: str
    kitops: list[float]
    sql: list[float]
    target_ms: float | None
    # CPU time of this process in the same runs (user + system; on SQLite it includes the
    # database's work, on PostgreSQL only the client's): what load disturbs least
    kitops_cpu: list[float] = field(default_factory=list)
    sql_cpu: list[float] = field(default_factory=list)

    @staticmethod
    def ms(samples: list[float]) -> tuple[float, float]:
        return statistics.median(samples) * 1000, min(samples) * 1000

    def line(self) -> str:
        (k_med, k_min), (s_med, s_min) = self.ms(self.kitops), self.ms(self.sql)
        return (
            f"  kitops median {k_med:9.1f} ms  min {k_min:9.1f} ms  |  "
            f"SQL median {s_med:8.1f} ms  min {s_min:8.1f} ms  |  "
            f"ratio {k_med / s_med:6.1f}x  ({len(self.kitops)} + {len(self.sql)} runs)"
        ) + self.cpu_line()

    def cpu_line(self) -> str:
        if not (self.kitops_cpu and self.sql_cpu):
            return ""
        k_cpu, s_cpu = self.ms(self.kitops_cpu)[0], self.ms(self.sql_cpu)[0]
        return (
            f"\n  CPU time, this process: kitops median {k_cpu:.1f} ms  |  "
            f"SQL median {s_cpu:.1f} ms  |  ratio {k_cpu / s_cpu:.2f}x"
        )


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(
    kitops_fn: Callable[[], object],
    sql_fn: Callable[[], object],
    runs: int,
    cpu: tuple[list[float], list[float]] | None = None,
) -> tuple[list[float], list[float]]:
    """One warm-up each, then ``runs`` of each, interleaved so background load hits both;
    with ``cpu``, each run's CPU time of this process goes into its two lists."""
    kitops_fn()
    sql_fn()
    kitops_samples, sql_samples = [], []
    for _ in range(runs):
        for fn, samples, cpu_samples in (
            (kitops_fn, kitops_samples, cpu[0] if cpu else None),
            (sql_fn, sql_samples, cpu[1] if cpu else None),
        ):
            start = time.process_time()
            samples.append(timed(fn))
            if cpu_samples is not None:
                cpu_samples.append(time.process_time() - start)
    return kitops_samples, sql_samples


# --- the three questions -------------------------------------------------------------


def subtree(root: int, locations: Sequence[tuple[Any, ...]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for id_, _, parent in locations:
        if parent is not None:
            children.setdefault(parent, []).append(id_)
    found, todo = [], [root]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return sorted(found)


def bench_stock(db: Database, sql: Sql, runs: int) -> Result:
    """``kitops stock --location LON`` (the service) beside the same question in SQL, like
    with like: one statement that resolves the place's code to its subtree (a recursive
    CTE) as the service resolves it on each call, the same filters (on hand, released, in
    date on AS_OF), the same rows in the same order (SKU, expiry with none last, lot code,
    location code), checked once before timing."""
    today = AS_OF.isoformat() if sql.sqlite else AS_OF
    query = """
        WITH RECURSIVE place(id) AS (
            SELECT id FROM locations WHERE code = ?
            UNION ALL SELECT l.id FROM locations l JOIN place ON l.parent_id = place.id
        )
        SELECT lo.code, p.sku, p.name, l.code, l.expiry, l.status, b.quantity
        FROM stock_balances b
        JOIN lots l ON l.id = b.lot_id
        JOIN products p ON p.id = b.product_id
        JOIN locations lo ON lo.id = b.location_id
        WHERE b.location_id IN (SELECT id FROM place) AND b.quantity > 0
          AND l.status = 'released' AND (l.expiry IS NULL OR l.expiry >= ?)
        ORDER BY p.sku, l.expiry NULLS LAST, l.code, lo.code
    """

    def with_kitops() -> int:
        uow = UnitOfWork(db, ACTOR, readonly=True)
        return len(stock_on_hand(uow, location=STOCK_CLINIC, today=AS_OF))

    def with_sql() -> int:
        return len(sql.read(query, (STOCK_CLINIC, today)))

    # the same lines in the same order (on PostgreSQL the SQL's order is the database's
    # collation, kitops' is by code point: equal under C and C.UTF-8)
    lines = stock_on_hand(UnitOfWork(db, ACTOR, readonly=True), location=STOCK_CLINIC, today=AS_OF)
    rows = sql.read(query, (STOCK_CLINIC, today))
    mine = [(x.location, x.sku, x.lot, x.expiry, x.quantity) for x in lines]
    theirs = [(r[0], r[1], r[3], date.fromisoformat(r[4]) if isinstance(r[4], str) else r[4], r[6])
              for r in rows]  # fmt: skip
    same = "the same lines in the same order" if mine == theirs else "NOTE: lines DIFFER"
    print(f"stock {STOCK_CLINIC}: kitops {len(lines):,} lines, SQL {len(rows):,} rows ({same})")
    cpu: tuple[list[float], list[float]] = ([], [])
    k, s = side_by_side(with_kitops, with_sql, runs, cpu)
    return Result(f"stock {STOCK_CLINIC} (kitops stock)", k, s, None, *cpu)


def first_references_sql(
    lot_id: int, flows: Sequence[tuple[Any, ...]], shown: int
) -> tuple[str, list[Any]]:
    """Each flow's first ``shown`` distinct references, stepping through the covering
    index from one reference to the next (``detail IS NULL`` spelt out where it is
    NULL, so PostgreSQL seeks rather than hashes): one statement for every flow."""
    parts, params = [], []
    for number, (src, dst, reason, detail) in enumerate(flows):
        flow = "lot_id = ? AND from_location_id = ? AND to_location_id = ? AND reason = ? AND " + (
            "detail IS NULL" if detail is None else "detail = ?"
        )
        keys = [src, dst, reason] + ([] if detail is None else [detail])
        parts.append(
            f"SELECT {number} AS flow, reference FROM (WITH RECURSIVE refs(n, reference) AS ("
            f"SELECT 1, (SELECT reference FROM stock_moves WHERE {flow} AND reference IS NOT "
            f"NULL ORDER BY detail, reference LIMIT 1) UNION ALL SELECT n + 1, (SELECT "
            f"reference FROM stock_moves WHERE {flow} AND reference > refs.reference "
            f"ORDER BY detail, reference LIMIT 1) FROM refs WHERE n < {shown} AND "
            f"refs.reference IS NOT NULL) SELECT reference FROM refs) AS first{number} "
            f"WHERE reference IS NOT NULL"
        )
        params += [lot_id, *keys, lot_id, *keys]
    return " UNION ALL ".join(parts), params


def bench_trace(db: Database, sql: Sql, runs: int) -> tuple[Result, Result]:
    """The trace as the command prints it, beside hand-written SQL giving the same
    content: the lot with its product and supplier, its on-hand, every flow with its
    totals and number of distinct references, each flow's first three references
    (``--json``: every reference), the kits built from it, its own kits out with
    patients, the clinic sessions that used it and its recalls."""
    lot_sql = (
        "SELECT l.id, l.code, l.expiry, l.status, l.status_reason, l.receipt_ref, p.sku, "
        "p.name, s.code FROM lots l JOIN products p ON p.id = l.product_id "
        "LEFT JOIN suppliers s ON s.id = l.supplier_id WHERE l.code = ?"
    )
    balances = (
        "SELECT location_id, quantity FROM stock_balances "
        "WHERE lot_id = ? AND quantity > 0 ORDER BY location_id"
    )
    flows = """
        SELECT from_location_id, to_location_id, reason, detail, SUM(quantity), COUNT(*),
               MIN(created_at), MAX(created_at), COUNT(DISTINCT reference)
        FROM stock_moves WHERE lot_id = ?
        GROUP BY from_location_id, to_location_id, reason, detail
    """
    references = """
        SELECT DISTINCT from_location_id, to_location_id, reason, detail, reference
        FROM stock_moves WHERE lot_id = ? AND reference IS NOT NULL
    """
    kits = (
        "SELECT k.serial, k.status, k.recalled, k.course_id, k.lot_id, c.quantity "
        "FROM kit_components c JOIN kits k ON k.id = c.kit_id WHERE c.lot_id = ? "
        "ORDER BY k.serial"
    )
    own_kits_out = (
        "SELECT serial, course_id, course_part, location_id, status, tracking FROM kits "
        "WHERE lot_id = ? AND status IN ('shipped', 'handed_over')"
    )
    sessions = (
        "SELECT s.course_id, c.patient_ref, s.session_no, s.session_date, c.clinic_id, "
        "s.quantity FROM course_sessions s JOIN courses c ON c.id = s.course_id "
        "WHERE s.lot_id = ? UNION ALL "
        "SELECT s.course_id, c.patient_ref, s.session_no, s.session_date, c.clinic_id, "
        "i.quantity FROM course_session_items i JOIN course_sessions s ON s.id = i.session_id "
        "JOIN courses c ON c.id = s.course_id WHERE i.lot_id = ?"
    )
    recalls = (
        "SELECT \"after\", at FROM audit_log WHERE entity = 'lot' AND entity_key = ? "
        "AND action = 'lot.recalled' ORDER BY id"
    )

    def with_kitops(references: int | None = 3) -> tuple[int, int, int, int]:
        # as `kitops trace` asks (three references a flow); None: as `trace --json` does
        result = trace(UnitOfWork(db, ACTOR, readonly=True), HOT_LOT, references=references)
        refs = sum(flow.reference_count for flow in result.flows)
        listed = sum(len(flow.references) for flow in result.flows)
        return len(result.flows), result.lot.total_on_hand, refs, listed

    def with_sql(every: bool = False) -> tuple[int, int, int, int]:
        lot = sql.rows(lot_sql, (HOT_LOT,))[0]
        lot_id = lot[0]
        on_hand = sql.rows(balances, (lot_id,))
        grouped = sql.rows(flows, (lot_id,))
        if every:
            listed = len(sql.rows(references, (lot_id,)))
        else:
            keyed = [row[:4] for row in grouped if row[8]]
            listed = len(sql.rows(*first_references_sql(lot_id, keyed, 3)))
        sql.rows(kits, (lot_id,))
        sql.rows(own_kits_out, (lot_id,))
        sql.rows(sessions, (lot_id, lot_id))
        sql.read(recalls, (f"{lot[6]}/{lot[1]}",))
        return len(grouped), sum(q for _, q in on_hand), sum(r[8] for r in grouped), listed

    n_flows, on_hand, refs, listed = with_kitops()
    s_flows, s_on_hand, s_refs, s_listed = with_sql()
    print(
        f"trace {HOT_LOT}: kitops {n_flows} flows, {on_hand:,} on hand, {refs:,} references "
        f"({listed} listed); SQL {s_flows} flows, {s_on_hand:,} on hand, {s_refs:,} "
        f"references ({s_listed} listed)"
    )
    k, s = side_by_side(with_kitops, with_sql, runs)
    # `trace --json` lists every reference: beside the SQL with its DISTINCT query instead.
    k2, s2 = side_by_side(lambda: with_kitops(None), lambda: with_sql(every=True), runs)
    return (
        Result(f"trace {HOT_LOT}", k, s, TRACE_TARGET_MS),
        Result("  --json (every reference)", k2, s2, None),
    )


def bench_count(db: Database, sql: Sql, runs: int) -> Result:
    """A 5,000-line count at LON-FRIDGE, one line in ten off by one unit.

    A count writes, so the runs alternate on one set of 5,000 lots: in one round kitops
    counts the "changed" sheet (500 differences) and the hand-written SQL counts the
    original balances back (the same 500 differences, reversed); the next round swaps the
    roles, so each side does both directions equally often and every run does exactly 500
    adjustment moves and 500 balance updates. The state returns to where it started after
    each round; the ledger grows by 1,000 count moves per round, which `db check` covers.
    On SQLite the WAL is checkpointed before each timed run (``Sql.settle``): otherwise
    the automatic checkpoint falls on the second run of every round, which with an odd
    number of runs is kitops' more often than the SQL's.
    """
    location_id = sql.read("SELECT id FROM locations WHERE code = ?", (COUNT_LOCATION,))[0][0]
    adjustment_id = sql.read("SELECT id FROM locations WHERE code = 'ADJUSTMENT'")[0][0]
    product_id = sql.read("SELECT id FROM products WHERE sku = ?", (SERUM_SKU,))[0][0]
    held = sql.read(
        "SELECT l.code, b.quantity FROM stock_balances b JOIN lots l ON l.id = b.lot_id "
        "WHERE b.location_id = ? AND b.quantity > 0 AND l.code LIKE ? ORDER BY l.code",
        (location_id, "B-%"),
    )
    if len(held) < COUNT_LINES:
        raise SystemExit(f"only {len(held)} lots have stock at {COUNT_LOCATION}")
    original = dict(held[:COUNT_LINES])
    changed = {
        code: qty + (1 if i % (2 * COUNT_CHANGED_EVERY) == 0 else -1)
        if i % COUNT_CHANGED_EVERY == 0
        else qty
        for i, (code, qty) in enumerate(original.items())
    }
    expected_differences = sum(1 for code in original if original[code] != changed[code])
    for_update = "" if sql.sqlite else " FOR UPDATE OF b"
    read_balances = (
        "SELECT l.code, l.id, b.quantity FROM stock_balances b JOIN lots l ON l.id = b.lot_id "
        f"WHERE b.location_id = ? AND b.product_id = ?{for_update}"
    )
    insert_move = (
        "INSERT INTO stock_moves (product_id, lot_id, from_location_id, to_location_id, "
        "quantity, reason, actor, created_at, reference, audit_id) "
        "VALUES (?, ?, ?, ?, ?, 'count', ?, ?, ?, ?)"
    )

    def with_kitops(sheet: dict[str, int]) -> int:
        lines = [
            CountedLine(n, SERUM_SKU, code, qty) for n, (code, qty) in enumerate(sheet.items(), 2)
        ]
        report = count(UnitOfWork(db, ACTOR), COUNT_LOCATION, lines, full=False)
        return len(report.differences)

    def with_sql(sheet: dict[str, int]) -> int:
        sql.begin()
        try:
            recorded = {
                code: (lot, qty)
                for code, lot, qty in sql.rows(read_balances, (location_id, product_id))
            }
            missing = [code for code in sheet if code not in recorded]
            if missing:  # lots on the sheet with no balance row here hold zero
                marks = ", ".join("?" * len(missing))
                for lot, code in sql.rows(
                    f"SELECT id, code FROM lots WHERE product_id = ? AND code IN ({marks})",
                    (product_id, *missing),
                ):
                    recorded[code] = (lot, 0)
            diffs = [(recorded[code][0], recorded[code][1], qty) for code, qty in sheet.items()
                     if recorded[code][1] != qty]  # fmt: skip
            now = sql.timestamp(datetime.now(UTC).replace(tzinfo=None))
            audit_id = sql.rows(
                "INSERT INTO audit_log (at, actor, action, entity, entity_key, after) "
                "VALUES (?, ?, 'stock.count', 'location', ?, ?) RETURNING id",
                (now, ACTOR, COUNT_LOCATION, f'{{"lines": {len(sheet)}, "sql": true}}'),
            )[0][0]
            reference = f"count:{COUNT_LOCATION}"
            sql.many(
                insert_move,
                [
                    (product_id, lot, *((adjustment_id, location_id) if new > old
                                        else (location_id, adjustment_id)),
                     abs(new - old), ACTOR, now, reference, audit_id)
                    for lot, old, new in diffs
                ],
            )  # fmt: skip
            # the balances follow the moves in the database (migration 0017's trigger), for
            # this hand-written SQL as for kitops
            sql.commit()
        except BaseException:
            sql.rollback()
            raise
        return len(diffs)

    kitops_samples: list[float] = []
    sql_samples: list[float] = []
    seen: set[int] = set()
    for round_ in range(runs + 1):  # round 0 is the warm-up
        first, second = (with_kitops, with_sql) if round_ % 2 == 0 else (with_sql, with_kitops)
        sql.settle()
        start = time.perf_counter()
        n1 = first(changed)
        one = time.perf_counter() - start
        sql.settle()
        start = time.perf_counter()
        n2 = second(original)
        two = time.perf_counter() - start
        seen.update((n1, n2))
        if round_:
            k, s = (one, two) if first is with_kitops else (two, one)
            kitops_samples.append(k)
            sql_samples.append(s)
    print(
        f"count {COUNT_LOCATION}: {COUNT_LINES:,} lines, {expected_differences} differences "
        f"expected per run, seen {sorted(seen)}"
    )
    return Result(
        f"count {COUNT_LINES:,} lines at {COUNT_LOCATION}",
        kitops_samples,
        sql_samples,
        COUNT_TARGET_MS,
    )


def bench_balance_trigger(sql: Sql, runs: int) -> Result:
    """What migration 0017's balance trigger costs: 5,000 moves out of LON-FRIDGE (one
    unit of each of 5,000 lots to ADJUSTMENT) with the balances following by the trigger,
    against the same moves with the trigger off and the 5,000 balances updated by
    hand-written SQL, as kitops did before 0017. Both sides send the moves the way kitops
    does (one multi-row INSERT on PostgreSQL, executemany on SQLite); every run is rolled
    back. In the table the "kitops" column is the trigger, the "SQL" column the old way."""
    location_id = sql.read("SELECT id FROM locations WHERE code = ?", (COUNT_LOCATION,))[0][0]
    adjustment_id = sql.read("SELECT id FROM locations WHERE code = 'ADJUSTMENT'")[0][0]
    product_id = sql.read("SELECT id FROM products WHERE sku = ?", (SERUM_SKU,))[0][0]
    lots = [
        lot
        for (lot,) in sql.read(
            "SELECT lot_id FROM stock_balances WHERE location_id = ? AND product_id = ? "
            "AND quantity > 0 ORDER BY lot_id LIMIT ?",
            (location_id, product_id, COUNT_LINES),
        )
    ]
    now = sql.timestamp(datetime.now(UTC).replace(tzinfo=None))
    columns = ("(product_id, lot_id, from_location_id, to_location_id, quantity, reason, "
               "actor, created_at, reference)")  # fmt: skip
    rows = [
        (product_id, lot, location_id, adjustment_id, 1, "count", ACTOR, now, "bench:trigger")
        for lot in lots
    ]

    def insert_moves() -> None:
        if sql.sqlite:
            sql.many(f"INSERT INTO stock_moves {columns} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            return
        marks = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
        sql.rows(f"INSERT INTO stock_moves {columns} VALUES {marks} RETURNING id",
                 [value for row in rows for value in row])  # fmt: skip

    def with_trigger() -> None:
        sql.begin()
        try:
            insert_moves()
        finally:
            sql.rollback()

    def by_hand() -> None:
        sql.begin()
        try:
            if sql.sqlite:
                for name in ("stock_moves_apply_to", "stock_moves_apply_from",
                             "stock_balances_follow_ledger_update"):  # fmt: skip
                    sql.conn.execute(f"DROP TRIGGER {name}")
            else:
                cursor = sql.conn.cursor()
                cursor.execute("ALTER TABLE stock_moves DISABLE TRIGGER stock_moves_apply")
                cursor.execute(
                    "ALTER TABLE stock_balances DISABLE TRIGGER stock_balances_follow_ledger"
                )
                cursor.close()
            insert_moves()
            sql.many(
                "UPDATE stock_balances SET quantity = quantity - 1 "
                "WHERE lot_id = ? AND location_id = ?",
                [(lot, location_id) for lot in lots],
            )
        finally:
            sql.rollback()

    trigger, hand = side_by_side(with_trigger, by_hand, runs)
    print(f"balance trigger: {len(lots):,} moves out of {COUNT_LOCATION} in one transaction")
    return Result(f"{len(lots):,} moves: trigger vs by hand", trigger, hand, None)


# --- main ----------------------------------------------------------------------------


def table(results: Sequence[Result]) -> None:
    print()
    print(f"{'what':<34} | {'kitops ms':>9} | {'SQL ms':>8} | {'ratio':>6} | target")
    print(f"{'-' * 34}-+-{'-' * 9}-+-{'-' * 8}-+-{'-' * 6}-+-{'-' * 20}")
    for result in results:
        k_med, s_med = statistics.median(result.kitops) * 1000, statistics.median(result.sql) * 1000
        if result.target_ms is None:
            target = "-"
        else:
            met = "met" if k_med < result.target_ms else "MISSED"
            target = f"< {result.target_ms:,.0f} ms: {met}"
        print(f"{result.what:<34} | {k_med:9.1f} | {s_med:8.1f} | {k_med / s_med:5.1f}x | {target}")
    print("(medians; ratio = kitops / hand-written SQL on the same database in the same run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="ledger rows to build")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per question")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="an empty database URL (default: SQLite in a temp dir)")
    where.add_argument("--pg-admin-url", help="create and drop a PostgreSQL database there")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--built",
        action="store_true",
        help="--db was built by an earlier run (--keep): measure only",
    )
    parser.add_argument("--only", help="comma-separated: stock,trace,count,trigger (default all)")
    args = parser.parse_args()
    if args.built and not args.db:
        parser.error("--built needs --db (the database an earlier run kept)")
    only = set((args.only or "stock,trace,count,trigger").split(","))
    if args.rows < 50_000:
        parser.error("--rows must be at least 50000 (6,600 lots need a few moves each)")

    scratch = None
    if args.db:
        url = args.db
    else:
        scratch = benchdb.create(args.pg_admin_url, f"kitops_bench_{os.getpid()}", "ledger.db")
        url = scratch.url

    db = open_database(url)
    try:
        print(
            f"database: {db.display_url} ({db.engine.dialect.name}), "
            f"target {args.rows:,} ledger rows"
        )
        start = time.perf_counter()
        if not args.built:
            generated = generate(db, args.rows)
            for step, seconds in generated.seconds.items():
                print(f"  {step:<26} {seconds:7.1f} s")
            print(
                f"generated in {time.perf_counter() - start:.1f} s: {generated.moves:,} moves, "
                f"{generated.lots:,} lots added, {HOT_LOT} with {generated.hot_moves:,} moves "
                f"and {generated.hot_courses:,} course references"
            )
        if db.is_sqlite:
            size = os.path.getsize(make_url(db.url).database or "")
            print(f"SQLite file: {size / 2**20:.0f} MiB")
        print()

        # what the process holds now lives as long as it: out of the collector's sight, as
        # kitops' own processes put it (the command line after its imports, the web server
        # and the terminal UI once started), so a full collection walks only what a run makes
        settle_memory()
        raw = db.engine.raw_connection()  # from kitops's pool: same PRAGMAs as kitops
        try:
            sql = Sql(raw.driver_connection, sqlite=db.is_sqlite)
            results: list[Result] = []
            if "stock" in only:
                results.append(bench_stock(db, sql, args.runs))
                print(results[-1].line())
            if "trace" in only:
                trace_result, trace_refs = bench_trace(db, sql, args.runs)
                print(trace_result.line())
                print(trace_refs.line())
                results += [trace_result, trace_refs]
            if "count" in only:
                results.append(bench_count(db, sql, args.runs))
                print(results[-1].line())
            if "trigger" in only:
                results.append(bench_balance_trigger(sql, args.runs))
                print(results[-1].line())
        finally:
            raw.close()

        start = time.perf_counter()
        report = admin.check(UnitOfWork(db, ACTOR, readonly=True))
        took = time.perf_counter() - start
        print()
        print(
            f"db check: ok={report.ok}, {report.balances_checked:,} balances, "
            f"{report.moves:,} moves, {len(report.problems)} problems, {took:.1f} s"
        )
        table(results)
    finally:
        db.dispose()
        if scratch and args.keep:
            print(f"kept {scratch.where()}")
        elif scratch:
            scratch.drop()


if __name__ == "__main__":
    main()
