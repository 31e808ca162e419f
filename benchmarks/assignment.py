"""Batch assignment at scale: ``fulfil_due`` for 10,000 courses against 20,000 kits.

Target: "Batch assignment of 10,000 courses against 20,000 kits: under 2 s on SQLite,
printing served count and run time." This script measures and prints; it never asserts
a target.

The data set: the demo data as of 2026-11-22 (clinics LON, ESX, VIE), then, with plain
SQL on a connection of its own (executemany on SQLite, COPY on PostgreSQL):

* ``--kits`` (20,000) available KIT-HOME-6W kits in the three clinics' fridges (LON 50 %,
  ESX 30 %, VIE 20 %), each with its own kit lot, the ASSEMBLY → fridge move and a
  balance of 1, so ``kitops db check`` stays whole. Most kits have all six vials from
  one serum lot; ``--mixed-share`` of them (default 5 %: assembly takes one lot per kit
  whenever a lot still holds six vials, so mixing is the exception) mix two lots, the
  later vials expiring 15-120 days after the first. LON and ESX kits expire 25-300 days
  after 2026-11-22; Vienna's stock is short-dated (20-100 days; ``--vie-max-days``
  changes the 100), so Vienna runs short and the batch has unserved courses to explain;
* ``--courses`` (10,000) scheduled courses (70 % home-6w, 30 % home-12w; LON 45 %, ESX
  25 %, VIE 30 %) starting 1-14 days after 2026-11-22 on mon,thu / tue,fri / wed,sat.
  Within a 14-day window only a home-12w course's first kit is due.

Each timed run is ``fulfil_due(UnitOfWork(db, 'bench'), within_days=14,
today=date(2026, 11, 22))`` on a fresh copy of the loaded database (a copied file on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), after one read on the new
connection and with kitops's course-calendar cache cleared, as in a fresh process. The
pure ``assign()`` call is timed on the same data for comparison; the last copy ends with
``kitops db check``. The time inside ``assign()`` and inside ``_explain`` (the reasons
for the unserved) is shown beside each run.

Usage: python benchmarks/assignment.py [--kits 20000] [--courses 10000] [--runs 3]
           [--vie-max-days 100] [--mixed-share 0.05]
           [--pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import benchdb
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from kitops.data import migrate
from kitops.data.engine import Database, open_database
from kitops.data.schema import CourseRow, KitRow
from kitops.domain.assignment import KitOffer, NeedRequest, assign
from kitops.domain.courses import CourseStatus
from kitops.services import admin, demo, fulfilment, reservation
from kitops.services.unit_of_work import UnitOfWork

AS_OF = date(2026, 11, 22)
WITHIN_DAYS = 14
ACTOR = "bench"
SEED = 20261122
KIT_SKU = "KIT-HOME-6W"
VIALS_PER_KIT = 6
TARGET_S = 2.0
# clinic → (share of the kits, share of the courses, kit expiry range in days from AS_OF)
CLINICS = {
    "LON": (0.50, 0.45, (25, 300)),
    "ESX": (0.30, 0.25, (25, 300)),
    "VIE": (0.20, 0.30, (20, 100)),
}
MIXED_SHARE = 0.05  # kits whose later vials come from a second, later lot
PLANS = (("home-6w", 0.7), ("home-12w", 0.3))
WEEKDAYS = ("mon,thu", "tue,fri", "wed,sat")
SQLITE_BATCH = 20_000


# --- plain DB-API access -------------------------------------------------------------


class Sql:
    """A loader connection outside kitops's pool, SQL in qmark style (``?``)."""

    def __init__(self, db: Database) -> None:
        url = make_url(db.url)
        self.sqlite = db.is_sqlite
        if self.sqlite:
            self.conn: Any = sqlite3.connect(url.database or "", isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = psycopg.connect(conninfo)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql if self.sqlite else sql.replace("?", "%s"), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def value(self, value: Any) -> Any:
        """A date, boolean or naive-UTC timestamp as the column stores it."""
        if not self.sqlite:
            return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value
        if isinstance(value, datetime):
            return value.isoformat(" ", "microseconds")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        written = 0
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append([self.value(v) for v in row])
                if len(batch) == SQLITE_BATCH:
                    self.conn.executemany(sql, batch)
                    written += len(batch)
                    batch = []
            self.conn.executemany(sql, batch)
            return written + len(batch)
        with (
            self.conn.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([self.value(v) for v in row])
                written += 1
        return written

    def commit_and_close(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            self.conn.commit()
            self.conn.autocommit = True
            self.conn.execute("VACUUM ANALYZE")
        self.conn.close()


# --- the data set ----------------------------------------------------------------------


def split(total: int, shares: Sequence[float]) -> list[int]:
    counts = [int(total * share) for share in shares]
    counts[0] += total - sum(counts)
    return counts


def kit_vials(rng: random.Random, low: int, high: int, mixed_share: float) -> list[date]:
    first = AS_OF + timedelta(days=rng.randint(low, high))
    if rng.random() >= mixed_share:
        return [first] * VIALS_PER_KIT
    early = rng.randint(1, VIALS_PER_KIT - 1)
    later = first + timedelta(days=rng.randint(15, 120))
    return [first] * early + [later] * (VIALS_PER_KIT - early)


def start_day(rng: random.Random, weekdays: str) -> date:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    allowed = {names.index(day) for day in weekdays.split(",")}
    days = [AS_OF + timedelta(days=d) for d in range(1, WITHIN_DAYS + 1)]
    return rng.choice([day for day in days if day.weekday() in allowed])


@dataclass(frozen=True)
class Loaded:
    kits: int
    courses: int
    seconds: dict[str, float]


def generate(
    db: Database,
    kits: int,
    courses: int,
    vie_max_days: int = 100,
    mixed_share: float = MIXED_SHARE,
) -> Loaded:
    """Migrate, load the demo data through kitops, then bulk-insert kits and courses."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    migrate.upgrade(db)
    demo.load(UnitOfWork(db, ACTOR), AS_OF)
    seconds["migrate + demo"] = time.perf_counter() - start

    start = time.perf_counter()
    rng = random.Random(SEED)
    sql = Sql(db)
    try:
        places = dict((code, id_) for id_, code in sql.rows("SELECT id, code FROM locations"))
        product_id = sql.rows("SELECT id FROM products WHERE sku = ?", (KIT_SKU,))[0][0]
        plan_ids = dict((code, id_) for id_, code in sql.rows("SELECT id, code FROM plans"))
        now = datetime.now(UTC).replace(tzinfo=None)
        audit_id = sql.rows(
            "INSERT INTO audit_log (at, actor, action, entity, entity_key, after) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (sql.value(now), ACTOR, "bench.generate", "database", "assignment",
             f'{{"kits": {kits}, "courses": {courses}}}'),
        )[0][0]  # fmt: skip

        kit_rows: list[tuple[str, int, date, str]] = []  # serial, location, expiry, vials
        clinic_kits = split(kits, [share for share, _, _ in CLINICS.values()])
        for (clinic, (_, _, (low, high))), count in zip(CLINICS.items(), clinic_kits, strict=True):
            high = vie_max_days if clinic == "VIE" else high
            fridge = places[f"{clinic}-FRIDGE"]
            for _ in range(count):
                vials = kit_vials(rng, low, high, mixed_share)
                serial = f"BK{len(kit_rows) + 1:07d}"
                kit_rows.append((serial, fridge, vials[0], ",".join(v.isoformat() for v in vials)))
        sql.insert(
            "lots",
            ("product_id", "code", "expiry", "status", "receipt_ref", "created_at"),
            ((product_id, serial, expiry, "released", f"assembly:{audit_id}", now)
             for serial, _, expiry, _ in kit_rows),
        )  # fmt: skip
        lot_of = dict(
            sql.rows("SELECT code, id FROM lots WHERE product_id = ? AND code LIKE ?",
                     (product_id, "BK%"))
        )  # fmt: skip
        sql.insert(
            "kits",
            ("serial", "product_id", "lot_id", "location_id", "expiry", "vial_expiries",
             "status", "recalled", "assembled_at"),
            ((serial, product_id, lot_of[serial], loc, expiry, vials, "available", False, now)
             for serial, loc, expiry, vials in kit_rows),
        )  # fmt: skip
        with benchdb.ledger_triggers_off(sql.conn, sqlite=sql.sqlite):
            sql.insert(
                "stock_moves",
                ("product_id", "lot_id", "from_location_id", "to_location_id", "quantity",
                 "reason", "actor", "created_at", "reference", "audit_id"),
                ((product_id, lot_of[serial], places["ASSEMBLY"], loc, 1, "kit_assembly", ACTOR,
                  now, f"assembly:{audit_id}", audit_id) for serial, loc, _, _ in kit_rows),
            )  # fmt: skip
            sql.insert(
                "stock_balances",
                ("lot_id", "location_id", "product_id", "quantity"),
                ((lot_of[serial], loc, product_id, 1) for serial, loc, _, _ in kit_rows),
            )
        seconds["kits (lots, moves, balances)"] = time.perf_counter() - start

        start = time.perf_counter()
        course_rows = []
        clinic_courses = split(courses, [share for _, share, _ in CLINICS.values()])
        for clinic, count in zip(CLINICS, clinic_courses, strict=True):
            for n in range(count):
                plan = rng.choices([p for p, _ in PLANS], [w for _, w in PLANS])[0]
                weekdays = rng.choice(WEEKDAYS)
                course_rows.append(
                    (f"B-{clinic}-{n + 1:05d}", plan_ids[plan], places[clinic],
                     start_day(rng, weekdays), weekdays, "scheduled", now)
                )  # fmt: skip
        rng.shuffle(course_rows)  # ids do not follow the clinics
        sql.insert(
            "courses",
            ("patient_ref", "plan_id", "clinic_id", "start_date", "weekdays", "status",
             "created_at"),
            course_rows,
        )  # fmt: skip
        seconds["courses"] = time.perf_counter() - start
        start = time.perf_counter()
    except BaseException:
        sql.conn.close()
        raise
    sql.commit_and_close()
    seconds["commit + " + ("WAL checkpoint" if db.is_sqlite else "VACUUM ANALYZE")] = (
        time.perf_counter() - start
    )
    return Loaded(len(kit_rows), len(course_rows), seconds)


# --- fresh copies of the loaded database ---------------------------------------------


class Copies:
    """Fresh copies of the loaded database: a copied file or a PostgreSQL template."""

    def __init__(self, base_url: str, pg_admin: str | None) -> None:
        self.base_url = base_url
        self.pg_admin = pg_admin
        self.made: list[str] = []

    def make(self, n: int) -> str:
        url = make_url(self.base_url)
        if self.pg_admin is None:
            path = url.database or ""
            target = f"{path[: -len('.db')]}-run{n}.db"
            shutil.copyfile(path, target)
            self.made.append(target)
            return url.set(database=target).render_as_string(hide_password=False)
        name = f"{url.database}_run{n}"
        with psycopg.connect(self.pg_admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {url.database}")
        self.made.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    def drop(self, keep_last: bool = False) -> None:
        for item in self.made[:-1] if keep_last else self.made:
            if self.pg_admin is None:
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(item + suffix):
                        os.remove(item + suffix)
            else:
                with psycopg.connect(self.pg_admin, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {item} WITH (FORCE)")


# --- timing --------------------------------------------------------------------------


def reserved(db: Database) -> int:
    with db.read_sessions() as session:
        return session.scalar(
            select(func.count()).select_from(KitRow).where(KitRow.status == "reserved")
        ) or 0  # fmt: skip


@dataclass
class Run:
    seconds: float
    served: int
    unserved: int
    reserved_delta: int
    in_assign: float  # of ``seconds``: inside ``assign()``
    in_explain: float  # of ``seconds``: inside ``_Explainer.why`` (the unserved reasons)
    sample_reason: str | None


class Stopwatch:
    """Wraps a function of ``fulfilment`` (or a method of one of its classes, named
    ``Class.method``) to add up the time spent in it (the wrapper costs a microsecond a
    call; ``assign`` is called once, ``_Explainer.why`` once per unserved kit need)."""

    def __init__(self, name: str) -> None:
        owner_name, _, attribute = name.rpartition(".")
        self.owner: Any = getattr(fulfilment, owner_name) if owner_name else fulfilment
        self.name = attribute
        self.real = getattr(self.owner, attribute)
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return self.real(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        setattr(self.owner, self.name, wrapper)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.owner, self.name, self.real)


def run_fulfil_due(url: str) -> Run:
    db = open_database(url)
    try:
        before = reserved(db)  # also opens the connection before the clock starts
        reservation.course_kit_needs.cache_clear()  # as in a fresh `kitops fulfil --due` process
        with Stopwatch("assign") as in_assign, Stopwatch("_Explainer.why") as in_explain:
            start = time.perf_counter()
            report = fulfilment.fulfil_due(UnitOfWork(db, ACTOR), within_days=WITHIN_DAYS,
                                           today=AS_OF)  # fmt: skip
            took = time.perf_counter() - start
        after = reserved(db)
    finally:
        db.dispose()
    reason = report.unserved[0].reason if report.unserved else None
    return Run(took, len(report.served), len(report.unserved), after - before,
               in_assign.seconds, in_explain.seconds, reason)  # fmt: skip


def assign_inputs(db: Database) -> tuple[list[NeedRequest], list[KitOffer]]:
    """The requests and offers ``fulfil_due`` hands to ``assign`` (same queries, same
    filters, read-only, no locks)."""
    uow = UnitOfWork(db, ACTOR, readonly=True)
    with uow:
        ctx = fulfilment._Context(uow)
        horizon = AS_OF + timedelta(days=WITHIN_DAYS)
        kit_plans = [pid for pid, (plan, kit, _, _) in ctx.plans.items() if plan.uses_kits and kit]
        held = {
            (course_id, part)
            for course_id, part in uow.session.execute(
                select(KitRow.course_id, KitRow.course_part).where(KitRow.course_id.is_not(None))
            )
        }
        requests: list[NeedRequest] = []
        for course_id, clinic_id, plan_id, start, weekdays in uow.session.execute(
            select(CourseRow.id, CourseRow.clinic_id, CourseRow.plan_id, CourseRow.start_date,
                   CourseRow.weekdays)
            .where(CourseRow.status == CourseStatus.SCHEDULED.value,
                   CourseRow.plan_id.in_(kit_plans), CourseRow.start_date <= horizon)
            .order_by(CourseRow.id)
        ):  # fmt: skip
            product_id = ctx.plans[plan_id][1]
            for need in ctx.needs(plan_id, start, weekdays, clinic_id):
                if (course_id, need.part) not in held and need.first_use <= horizon:
                    key: Hashable = (course_id, need.part)
                    requests.append(NeedRequest(key, (clinic_id, product_id), need))
        products = {ctx.plans[p][1] for p in kit_plans}
        offers = []
        cache: dict[str, tuple[date, ...]] = {}
        for kit_id, location_id, product_id, vials in uow.session.execute(
            select(KitRow.id, KitRow.location_id, KitRow.product_id, KitRow.vial_expiries)
            .where(KitRow.status == "available", KitRow.product_id.in_(products),
                   ~KitRow.recalled)
        ):  # fmt: skip
            clinic = ctx.clinic_of_location.get(location_id)
            if clinic is not None:
                parsed = fulfilment._parse_expiries(vials, cache)
                offers.append(KitOffer(kit_id, (clinic, product_id), parsed))
    return requests, offers


def timed(fn: Callable[[], object], runs: int) -> tuple[list[float], Any]:
    """``runs`` timed calls of a pure function, no warm-up (nothing to warm)."""
    result = None
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return samples, result


# --- main ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kits", type=int, default=20_000, help="available kits to add")
    parser.add_argument("--courses", type=int, default=10_000, help="scheduled courses to add")
    parser.add_argument("--runs", type=int, default=3, help="timed fulfil_due runs")
    parser.add_argument(
        "--vie-max-days",
        type=int,
        default=100,
        help="Vienna's kits expire 20 to this many days out (default 100)",
    )
    parser.add_argument(
        "--mixed-share",
        type=float,
        default=MIXED_SHARE,
        help=f"share of the kits mixing two serum lots (default {MIXED_SHARE})",
    )
    parser.add_argument("--pg-admin-url", help="create and drop a PostgreSQL database there")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    if args.runs < 1 or args.kits < 10 or args.courses < 10 or args.vie_max_days < 20:
        parser.error("--runs ≥ 1, --kits ≥ 10, --courses ≥ 10 and --vie-max-days ≥ 20")
    if not 0 <= args.mixed_share <= 1:
        parser.error("--mixed-share is a fraction, 0-1")

    scratch = benchdb.create(
        args.pg_admin_url, f"kitops_bench_assign_{os.getpid()}", "assignment.db"
    )
    url = scratch.url
    copies = Copies(url, scratch.pg_admin)
    db = open_database(url)
    try:
        print(f"database: {db.display_url} ({db.engine.dialect.name})")
        start = time.perf_counter()
        loaded = generate(db, args.kits, args.courses, args.vie_max_days, args.mixed_share)
        for step, seconds in loaded.seconds.items():
            print(f"  {step:<32} {seconds:7.1f} s")
        print(
            f"generated in {time.perf_counter() - start:.1f} s: {loaded.kits:,} available "
            f"{KIT_SKU} kits ({args.mixed_share:.0%} mixing two lots, Vienna's expiring 20-"
            f"{args.vie_max_days} days out) and {loaded.courses:,} courses starting within "
            f"{WITHIN_DAYS} days (plus the demo's)"
        )

        requests, offers = assign_inputs(db)
        assign_samples, assignment = timed(lambda: assign(requests, offers), args.runs)
        db.dispose()  # a PostgreSQL template must have no connections
        print(
            f"assign() inputs: {len(requests):,} kit needs, {len(offers):,} kit offers; "
            f"assign() serves {len(assignment.served):,}, leaves {len(assignment.unserved):,}"
        )
        print()

        runs: list[Run] = []
        copy_url = url
        for n in range(1, args.runs + 1):
            copy_url = copies.make(n)
            run = run_fulfil_due(copy_url)
            runs.append(run)
            rest = run.seconds - run.in_assign - run.in_explain
            print(
                f"fulfil_due run {n} on a fresh copy: {run.seconds:6.2f} s, served "
                f"{run.served:,}, unserved {run.unserved:,} (kits newly reserved: "
                f"{run.reserved_delta:,}); in assign() {run.in_assign:.2f} s, explaining "
                f"the unserved {run.in_explain:.2f} s, the rest {rest:.2f} s"
            )
        if runs[-1].sample_reason:
            print(f"  e.g. unserved: {runs[-1].sample_reason}")

        last = open_database(copy_url)
        try:
            start = time.perf_counter()
            report = admin.check(UnitOfWork(last, ACTOR, readonly=True))
            took = time.perf_counter() - start
        finally:
            last.dispose()
        print(
            f"db check (last copy): ok={report.ok}, {report.balances_checked:,} balances, "
            f"{report.moves:,} moves, {len(report.problems)} problems, {took:.1f} s"
        )

        durations = [r.seconds for r in runs]
        median = statistics.median(durations)
        consistent = all(r.served == r.reserved_delta == len(assignment.served) for r in runs)
        print()
        print(f"{'what':<44} | {'median s':>8} | {'min s':>7} | runs | target")
        print(f"{'-' * 44}-+-{'-' * 8}-+-{'-' * 7}-+------+-{'-' * 22}")
        met = "met" if median < TARGET_S else "MISSED"
        print(
            f"{f'fulfil_due ({len(requests):,} needs, {len(offers):,} kits)':<44} | "
            f"{median:8.3f} | {min(durations):7.3f} | {len(durations):4} | "
            f"< {TARGET_S:.0f} s on {db.engine.dialect.name}: {met}"
        )
        print(
            f"{'  assign() alone, same inputs':<44} | {statistics.median(assign_samples):8.3f} | "
            f"{min(assign_samples):7.3f} | {len(assign_samples):4} | -"
        )
        print(
            f"served {runs[-1].served:,}, unserved {runs[-1].unserved:,}; fulfil_due served "
            f"= kits reserved = assign() served in every run: {consistent}"
        )
    finally:
        db.dispose()
        if args.keep:
            print(f"kept {scratch.where()} and its copies {copies.made}")
        else:
            copies.drop()
            scratch.drop()


if __name__ == "__main__":
    main()
