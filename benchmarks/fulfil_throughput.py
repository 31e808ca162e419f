"""Single-course ``fulfil`` throughput on PostgreSQL with 8 workers, beside one SQL statement.

Target: "Single-course `fulfil` throughput on PostgreSQL with 8 workers, beside the
throughput of one hand-written SQL statement doing the same reservation with
`FOR UPDATE SKIP LOCKED` in the same run; kitops should reach at least 0.6 of it, in each
of 3 runs on a quiet machine" (it was half before issue #22).
This script measures and prints; it never asserts a target.

The data set: a PostgreSQL database of its own (created under ``--pg-admin-url`` and
dropped at the end), the demo data as of 2026-11-22, then, with COPY, ``--kits`` (4,000)
available KIT-HOME-6W kits and as many scheduled home-6w courses starting 1-14 days out,
split between the clinics' fridges and the clinics alike (LON 50 %, ESX 30 %, VIE 20 %).
Every kit's six vials share one lot expiring 90-300 days out (a serum lot per expiry day,
recorded in ``kit_components`` with one stamp of the demo's DS05-2402, which every kit
shares: fulfil share-locks and re-checks these lots), so any kit fits any of
these courses and "fits" is exactly ``expiry >= the day the 6th vial is needed until``:
the hand-written statement below and kitops must reserve the same way, and every course
can be served (one kit each) until the kits run out.

Each side runs on a fresh copy of that database (``CREATE DATABASE ... TEMPLATE``) with
``--workers`` (8) processes (multiprocessing, spawn), each with its own connection and
its own share of the courses (dealt round-robin, so disjoint), all released at once by a
barrier after connecting, for ``--seconds`` or until their courses run out:

* kitops: ``fulfil_course(UnitOfWork(db, f"w{i}"), course_id, today=2026-11-22)``;
* SQL: one statement per course in autocommit, on psycopg directly, the course's
  product, clinic locations and need date worked out beforehand (outside the clock):
  ``UPDATE kits SET status = 'reserved', course_id = %s, course_part = 1 WHERE id =
  (SELECT id FROM kits WHERE status = 'available' AND product_id = %s AND location_id =
  ANY(%s) AND NOT recalled AND expiry >= %s ORDER BY expiry, id LIMIT 1 FOR UPDATE SKIP
  LOCKED) RETURNING id``. It locks no course and writes no audit row, as kitops does;
* SQL + course lock, audit: the same in one statement that also checks and locks the
  course and writes the audit row;
* SQL like for like: that, and the kit's component lots share-locked (``FOR SHARE SKIP
  LOCKED``) and re-checked as released, the recall-safety kitops promises.

Beside throughput each side prints the server's CPU per course tried: user + system time
of the workers' PostgreSQL server processes (``/proc/<pid>/stat``; the server on this
machine), a figure a loaded machine disturbs far less than the throughput; and the
client's: the worker processes' own CPU time (both share the machine's cores, so both
bound the throughput).

Throughput = kit reservations / (last worker's end - barrier release). Afterwards each
copy is checked: no kit reported to two courses, no (course, part) held by two kits,
reservations reported = kits reserved for these courses in the database, and for every
refused course whether a kit that fits it was still available at its clinic at the end.

Usage: python benchmarks/fulfil_throughput.py
           [--pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres]
           [--kits 4000] [--workers 8] [--seconds 60] [--rounds 1] [--keep]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from kitops.data import migrate
from kitops.data.engine import open_database
from kitops.data.schema import CourseRow
from kitops.errors import KitopsError, Refused
from kitops.services import courses, demo, users
from kitops.services.fulfilment import _Context, fulfil_course
from kitops.services.unit_of_work import UnitOfWork

AS_OF = date(2026, 11, 22)
ACTOR = "bench"
SEED = 20261122
KIT_SKU = "KIT-HOME-6W"
PLAN = "home-6w"
VIALS_PER_KIT = 6
CLINICS = {"LON": 0.5, "ESX": 0.3, "VIE": 0.2}
WEEKDAYS = ("mon,thu", "tue,fri", "wed,sat")
TARGET_RATIO = 0.6
BARRIER_TIMEOUT_S = 120.0

SQL_RESERVE = """
    UPDATE kits SET status = 'reserved', course_id = %s, course_part = 1
    WHERE id = (
        SELECT id FROM kits
        WHERE status = 'available' AND product_id = %s AND location_id = ANY(%s)
          AND NOT recalled AND expiry >= %s
        ORDER BY expiry, id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id
"""

# The same reservation as kitops makes it, still in one hand-written statement: the course
# is checked (scheduled, no kit yet) and locked, and the audit row is written with it.
SQL_RESERVE_AUDITED = """
    WITH course AS (
        SELECT id FROM courses
        WHERE id = %(course)s AND status = 'scheduled'
          AND NOT EXISTS (SELECT 1 FROM kits WHERE course_id = %(course)s)
        FOR NO KEY UPDATE
    ),
    pick AS (
        SELECT id FROM kits
        WHERE status = 'available' AND product_id = %(product)s
          AND location_id = ANY(%(places)s) AND NOT recalled AND expiry >= %(until)s
          AND EXISTS (SELECT 1 FROM course)
        ORDER BY expiry, id
        LIMIT 1
        FOR NO KEY UPDATE SKIP LOCKED
    ),
    taken AS (
        UPDATE kits SET status = 'reserved', course_id = %(course)s, course_part = 1
        FROM pick WHERE kits.id = pick.id
        RETURNING kits.id, kits.serial
    ),
    logged AS (
        INSERT INTO audit_log (at, actor, action, entity, entity_key, after)
        SELECT now(), %(actor)s, 'course.fulfil', 'course', %(course)s::text,
               json_build_object('kits', json_build_object('1', serial))
        FROM taken
    )
    SELECT id FROM taken
"""
# Like for like: what kitops promises on top of that, still in one hand-written statement:
# the kit's component lots share-locked (a recall of one of them waits, or has committed
# and is seen) and re-checked as released; the kit is taken only when every one is.
SQL_RESERVE_SAFE = SQL_RESERVE_AUDITED.replace(
    """    taken AS (
        UPDATE kits SET status = 'reserved', course_id = %(course)s, course_part = 1
        FROM pick WHERE kits.id = pick.id
""",
    """    parts AS (
        SELECT lot_id FROM kit_components WHERE kit_id = (SELECT id FROM pick)
    ),
    usable AS MATERIALIZED (
        SELECT lot.id FROM lots AS lot
        WHERE lot.id IN (SELECT lot_id FROM parts) AND lot.status = 'released'
        ORDER BY lot.id
        FOR SHARE OF lot SKIP LOCKED
    ),
    taken AS (
        UPDATE kits SET status = 'reserved', course_id = %(course)s, course_part = 1
        FROM pick WHERE kits.id = pick.id
          AND (SELECT count(*) FROM usable) = (SELECT count(*) FROM parts)
""",
)
SIDES = {
    "kitops": "kitops fulfil_course",
    "sql": "one SQL statement: the kit only",
    "sql_audited": "one SQL statement: + course lock, audit",
    "sql_safe": "one SQL statement: + lot locks (like for like)",
}


@dataclass(frozen=True)
class Job:
    """One course as each side sees it: kitops takes the id, SQL the precomputed rest."""

    course_id: int
    clinic: str
    product_id: int
    places: tuple[int, ...]  # the clinic's locations
    needed_until: date  # the 6th vial's need, margin included


@dataclass
class Tally:
    worker: str
    started: float = 0.0  # time.monotonic() (one clock for all processes on Linux)
    ended: float = 0.0
    served: list[tuple[int, int, str]] = field(default_factory=list)  # course, part, kit
    refused: list[tuple[int, str]] = field(default_factory=list)  # course, reason
    errors: list[tuple[int, str]] = field(default_factory=list)
    statements: int = 0  # kitops only: statements sent through SQLAlchemy (BEGIN, COMMIT
    # and the pool's ping of a connection idle for over a second are not among them)
    server_cpu: float | None = None  # CPU seconds of the worker's server process (None:
    # unknown: the server is on another machine, or the worker used another connection)
    client_cpu: float = 0.0  # CPU seconds of the worker process itself, over the same span


def backend_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a PostgreSQL server process on this machine so far."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_spent(pid: int, before: float | None, pid_after: int) -> float | None:
    after = backend_cpu(pid_after)
    if before is None or after is None or pid != pid_after:
        return None
    return after - before


# --- the workers (run in spawned processes) ------------------------------------------

_barrier: Any = None


def _init(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def kitops_worker(url: str, actor: str, jobs: list[Job], seconds: float) -> Tally:
    db = open_database(url)
    tally = Tally(actor)
    try:
        with db.read_sessions() as session:  # connect (and import everything) first
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()

        def count(*_: Any) -> None:
            tally.statements += 1

        event.listen(db.engine, "before_cursor_execute", count)
        _barrier.wait(BARRIER_TIMEOUT_S)
        cpu = backend_cpu(pid)
        tally.started, own = time.monotonic(), time.process_time()
        deadline = tally.started + seconds
        for job in jobs:
            if time.monotonic() >= deadline:
                break
            try:
                report = fulfil_course(UnitOfWork(db, actor), job.course_id, today=AS_OF)
                tally.served += [
                    (job.course_id, line.part, line.kit or "") for line in report.served
                ]
            except Refused as refusal:
                tally.refused.append((job.course_id, str(refusal)))
            except KitopsError as error:
                tally.errors.append((job.course_id, f"{type(error).__name__}: {error}"))
        tally.ended, tally.client_cpu = time.monotonic(), time.process_time() - own
        event.remove(db.engine, "before_cursor_execute", count)
        with db.read_sessions() as session:  # the one pooled connection it used throughout?
            pid_after = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        tally.server_cpu = cpu_spent(pid, cpu, pid_after)
    finally:
        db.dispose()
    return tally


def sql_worker(conninfo: str, actor: str, jobs: list[Job], seconds: float) -> Tally:
    return _sql_worker(conninfo, actor, jobs, seconds, audited=False)


def sql_audited_worker(conninfo: str, actor: str, jobs: list[Job], seconds: float) -> Tally:
    return _sql_worker(conninfo, actor, jobs, seconds, audited=SQL_RESERVE_AUDITED)


def sql_safe_worker(conninfo: str, actor: str, jobs: list[Job], seconds: float) -> Tally:
    return _sql_worker(conninfo, actor, jobs, seconds, audited=SQL_RESERVE_SAFE)


def _sql_worker(
    conninfo: str, actor: str, jobs: list[Job], seconds: float, *, audited: str | None = None
) -> Tally:
    tally = Tally(actor)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT 1")
        pid = conn.info.backend_pid
        _barrier.wait(BARRIER_TIMEOUT_S)
        cpu = backend_cpu(pid)
        tally.started, own = time.monotonic(), time.process_time()
        deadline = tally.started + seconds
        for job in jobs:
            if time.monotonic() >= deadline:
                break
            try:
                if audited:
                    row = conn.execute(
                        audited,
                        {"course": job.course_id, "product": job.product_id,
                         "places": list(job.places), "until": job.needed_until, "actor": actor},
                    ).fetchone()  # fmt: skip
                else:
                    row = conn.execute(
                        SQL_RESERVE,
                        (job.course_id, job.product_id, list(job.places), job.needed_until),
                    ).fetchone()
            except psycopg.Error as error:
                tally.errors.append((job.course_id, f"{type(error).__name__}: {error}"))
                continue
            if row is None:
                tally.refused.append((job.course_id, "no available kit fits"))
            else:
                tally.served.append((job.course_id, 1, str(row[0])))
        tally.ended, tally.client_cpu = time.monotonic(), time.process_time() - own
        tally.server_cpu = cpu_spent(pid, cpu, pid)
    return tally


# --- the data set ----------------------------------------------------------------------


def split(total: int, shares: list[float]) -> list[int]:
    counts = [int(total * share) for share in shares]
    counts[0] += total - sum(counts)
    return counts


def generate(url: str, kits: int) -> dict[str, float]:
    """Migrate, load the demo data through kitops, then COPY the kits and the courses."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    db = open_database(url)
    try:
        migrate.upgrade(db)
        demo.load(UnitOfWork(db, ACTOR), AS_OF)  # ACTOR becomes an admin (no users yet)
        for i in range(64):  # the workers act as w0, w1, ...: stockroom staff
            users.add_user(UnitOfWork(db, ACTOR), f"w{i}", "stockroom")
    finally:
        db.dispose()
    seconds["migrate + demo"] = time.perf_counter() - start

    start = time.perf_counter()
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    with psycopg.connect(conninfo_of(url)) as conn:
        places: dict[str, int] = dict(conn.execute("SELECT code, id FROM locations").fetchall())
        product_id = conn.execute("SELECT id FROM products WHERE sku = %s", (KIT_SKU,)).fetchone()
        plan_id = conn.execute("SELECT id FROM plans WHERE code = %s", (PLAN,)).fetchone()
        assert product_id is not None
        assert plan_id is not None
        audit_id = conn.execute(
            "INSERT INTO audit_log (at, actor, action, entity, entity_key, after) "
            "VALUES (%s, %s, 'bench.generate', 'database', 'fulfil_throughput', %s) "
            "RETURNING id",
            (now, ACTOR, f'{{"kits": {kits}, "courses": {kits}}}'),
        ).fetchone()[0]  # type: ignore[index]
        kit_rows: list[tuple[str, int, date]] = []  # serial, location, expiry
        course_rows = []
        for clinic, count in zip(CLINICS, split(kits, list(CLINICS.values())), strict=True):
            for n in range(count):
                expiry = AS_OF + timedelta(days=rng.randint(90, 300))
                kit_rows.append((f"TK{len(kit_rows) + 1:07d}", places[f"{clinic}-FRIDGE"], expiry))
                weekdays = rng.choice(WEEKDAYS)
                names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                allowed = {names.index(day) for day in weekdays.split(",")}
                days = [AS_OF + timedelta(days=d) for d in range(1, 15)]
                start_day = rng.choice([d for d in days if d.weekday() in allowed])
                course_rows.append(
                    (f"T-{clinic}-{n + 1:05d}", plan_id[0], places[clinic], start_day, weekdays,
                     "scheduled", now)
                )  # fmt: skip
        rng.shuffle(course_rows)
        with conn.cursor() as cursor:
            with cursor.copy(
                "COPY lots (product_id, code, expiry, status, receipt_ref, created_at) FROM STDIN"
            ) as copy:
                for serial, _, expiry in kit_rows:
                    copy.write_row(
                        (product_id[0], serial, expiry, "released", f"assembly:{audit_id}", now)
                    )
            lot_of: dict[str, int] = dict(
                cursor.execute(
                    "SELECT code, id FROM lots WHERE product_id = %s AND code LIKE 'TK%%'",
                    (product_id[0],),
                ).fetchall()
            )
            with cursor.copy(
                "COPY kits (serial, product_id, lot_id, location_id, expiry, vial_expiries, "
                "status, recalled, assembled_at) FROM STDIN"
            ) as copy:
                for serial, loc, expiry in kit_rows:
                    vials = ",".join([expiry.isoformat()] * VIALS_PER_KIT)
                    copy.write_row((serial, product_id[0], lot_of[serial], loc, expiry, vials,
                                    "available", False, now))  # fmt: skip
            # moves and balances go in as one, without the balance trigger (a superuser's right);
            # so do the kits' components and their lots
            cursor.execute("SET session_replication_role = replica")
            # what each kit holds (fulfil share-locks and re-checks these lots): six
            # vials of a serum lot expiring with the kit, one per expiry day, and one
            # stamp of the demo's DS05-2402, shared by every kit
            serum = cursor.execute("SELECT id FROM products WHERE sku = 'SERUM-5ML'").fetchone()
            stamp = cursor.execute(
                "SELECT id, product_id FROM lots WHERE code = 'DS05-2402'"
            ).fetchone()
            assert serum is not None
            assert stamp is not None
            expiries = sorted({expiry for _, _, expiry in kit_rows})
            with cursor.copy(
                "COPY lots (product_id, code, expiry, status, receipt_ref, created_at) FROM STDIN"
            ) as copy:
                for expiry in expiries:
                    copy.write_row((serum[0], f"BS-{expiry:%Y%m%d}", expiry, "released",
                                    "bench", now))  # fmt: skip
            serum_lot: dict[str, int] = dict(
                cursor.execute("SELECT code, id FROM lots WHERE code LIKE 'BS-%%'").fetchall()
            )
            kit_id: dict[str, int] = dict(
                cursor.execute("SELECT serial, id FROM kits WHERE serial LIKE 'TK%%'").fetchall()
            )
            with cursor.copy(
                "COPY kit_components (kit_id, lot_id, product_id, quantity, position) FROM STDIN"
            ) as copy:
                for serial, _, expiry in kit_rows:
                    lot = serum_lot[f"BS-{expiry:%Y%m%d}"]
                    copy.write_row((kit_id[serial], lot, serum[0], VIALS_PER_KIT, 0))
                    copy.write_row((kit_id[serial], stamp[0], stamp[1], 1, 1))
            with cursor.copy(
                "COPY stock_moves (product_id, lot_id, from_location_id, to_location_id, "
                "quantity, reason, actor, created_at, reference, audit_id) FROM STDIN"
            ) as copy:
                for serial, loc, _ in kit_rows:
                    copy.write_row((product_id[0], lot_of[serial], places["ASSEMBLY"], loc, 1,
                                    "kit_assembly", ACTOR, now, f"assembly:{audit_id}",
                                    audit_id))  # fmt: skip
            with cursor.copy(
                "COPY stock_balances (lot_id, location_id, product_id, quantity) FROM STDIN"
            ) as copy:
                for serial, loc, _ in kit_rows:
                    copy.write_row((lot_of[serial], loc, product_id[0], 1))
            cursor.execute("SET session_replication_role = DEFAULT")
            with cursor.copy(
                "COPY courses (patient_ref, plan_id, clinic_id, start_date, weekdays, status, "
                "created_at) FROM STDIN"
            ) as copy:
                for row in course_rows:
                    copy.write_row(row)
        conn.commit()
        seconds["COPY kits and courses"] = time.perf_counter() - start
    start = time.perf_counter()
    db = open_database(url)
    try:  # what `kitops course create` stores for each course
        courses.store_missing_kit_needs(UnitOfWork(db, ACTOR))
    finally:
        db.dispose()
    seconds["course need dates"] = time.perf_counter() - start
    with psycopg.connect(conninfo_of(url)) as conn:
        start = time.perf_counter()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        seconds["VACUUM ANALYZE"] = time.perf_counter() - start
    return seconds


def jobs_of(url: str) -> list[Job]:
    """The benchmark's courses with what the SQL side needs, worked out with kitops."""
    db = open_database(url)
    jobs = []
    try:
        uow = UnitOfWork(db, ACTOR, readonly=True)
        with uow:
            ctx = _Context(uow)
            rows = uow.session.execute(
                select(CourseRow.id, CourseRow.clinic_id, CourseRow.plan_id, CourseRow.start_date,
                       CourseRow.weekdays)
                .where(CourseRow.patient_ref.like("T-%"))
                .order_by(CourseRow.id)
            ).all()  # fmt: skip
            for course_id, clinic_id, plan_id, start, weekdays in rows:
                (need,) = ctx.needs(plan_id, start, weekdays, clinic_id)
                product_id = ctx.plans[plan_id][1]
                assert product_id is not None
                jobs.append(
                    Job(course_id, ctx.code(clinic_id), product_id,
                        tuple(sorted(ctx.clinic_locations(clinic_id))), need.last_needed)
                )  # fmt: skip
    finally:
        db.dispose()
    return jobs


# --- runs and checks ------------------------------------------------------------------


def conninfo_of(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Outcome:
    side: str
    reservations: int
    seconds: float
    refused: int
    errors: int
    courses_tried: int
    statements: int
    server_cpu: float | None  # the workers' server processes, CPU seconds in all
    client_cpu: float  # the worker processes themselves, CPU seconds in all
    problems: list[str]
    notes: list[str]

    @property
    def per_second(self) -> float:
        return self.reservations / self.seconds if self.seconds > 0 else 0.0

    @property
    def server_us(self) -> float | None:
        """Server CPU per course tried, µs."""
        if self.server_cpu is None or not self.courses_tried:
            return None
        return 1e6 * self.server_cpu / self.courses_tried

    @property
    def client_us(self) -> float:
        """Client (worker process) CPU per course tried, µs."""
        return 1e6 * self.client_cpu / self.courses_tried if self.courses_tried else 0.0


def run_side(side: str, url: str, jobs: list[Job], workers: int, seconds: float) -> Outcome:
    shares = [jobs[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    fn: Callable[[str, str, list[Job], float], Tally] = kitops_worker
    target = url
    if side == "sql":
        fn, target = sql_worker, conninfo_of(url)
    elif side == "sql_audited":
        fn, target = sql_audited_worker, conninfo_of(url)
    elif side == "sql_safe":
        fn, target = sql_safe_worker, conninfo_of(url)
    with context.Pool(workers, initializer=_init, initargs=(barrier,)) as pool:
        tallies: list[Tally] = pool.starmap(
            fn, [(target, f"w{i}", share, seconds) for i, share in enumerate(shares)]
        )
    began = min(t.started for t in tallies)
    ended = max(t.ended for t in tallies)
    reservations = sum(len(t.served) for t in tallies)
    problems, notes = check_side(side, url, jobs, tallies)
    spent = [t.server_cpu for t in tallies]
    return Outcome(
        side, reservations, ended - began, sum(len(t.refused) for t in tallies),
        sum(len(t.errors) for t in tallies),
        sum(len(t.served) + len(t.refused) + len(t.errors) for t in tallies),
        sum(t.statements for t in tallies),
        None if any(s is None for s in spent) else sum(s for s in spent if s is not None),
        sum(t.client_cpu for t in tallies), problems, notes,
    )  # fmt: skip


def check_side(
    side: str, url: str, jobs: list[Job], tallies: list[Tally]
) -> tuple[list[str], list[str]]:
    """Double reservations, counts, and refusals while a fitting kit was left."""
    problems: list[str] = []
    notes: list[str] = []
    served = [s for t in tallies for s in t.served]
    kits = Counter(kit for _, _, kit in served)
    parts = Counter((course, part) for course, part, _ in served)
    twice = [kit for kit, n in kits.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} kits reported reserved for two courses, e.g. {twice[:3]}")
    doubled = [key for key, n in parts.items() if n > 1]
    if doubled:
        problems.append(f"{len(doubled)} course parts reported served twice, e.g. {doubled[:3]}")
    ids = [job.course_id for job in jobs]
    key = "serial" if side == "kitops" else "id::text"
    with psycopg.connect(conninfo_of(url)) as conn:
        in_db = {
            (course, part, kit)
            for course, part, kit in conn.execute(
                f"SELECT course_id, course_part, {key} FROM kits "
                "WHERE course_id = ANY(%s) AND status = 'reserved'",
                (ids,),
            )
        }
        held_twice = conn.execute(
            "SELECT count(*) FROM (SELECT course_id, course_part FROM kits "
            "WHERE course_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) AS t"
        ).fetchone()[0]  # type: ignore[index]
        if held_twice:
            problems.append(f"{held_twice} (course, part) pairs held by two kits in the database")
        if in_db != set(served):
            problems.append(
                f"reported {len(served)} reservations, database holds {len(in_db)} for these "
                f"courses ({len(set(served) - in_db)} reported but not in the database, "
                f"{len(in_db - set(served))} in the database but not reported)"
            )
        if side != "sql":
            audits = conn.execute(
                "SELECT count(*) FROM audit_log WHERE action = 'course.fulfil' AND actor LIKE 'w%%'"
            ).fetchone()[0]  # type: ignore[index]
            courses_served = len({course for course, _, _ in served})
            if audits != courses_served:
                problems.append(f"{audits} course.fulfil audit rows for {courses_served} courses")
        refused = [(course, reason) for t in tallies for course, reason in t.refused]
        by_id = {job.course_id: job for job in jobs}
        spurious = []
        for course, reason in refused:
            job = by_id[course]
            left = conn.execute(
                "SELECT count(*) FROM kits WHERE status = 'available' AND NOT recalled "
                "AND product_id = %s AND location_id = ANY(%s) AND expiry >= %s",
                (job.product_id, list(job.places), job.needed_until),
            ).fetchone()[0]  # type: ignore[index]
            if left:
                spurious.append((course, job.clinic, left, reason))
        available: dict[str, int] = dict(
            conn.execute(
                "SELECT l.code, count(*) FROM kits k JOIN locations l ON l.id = k.location_id "
                "WHERE k.status = 'available' GROUP BY l.code ORDER BY l.code"
            ).fetchall()
        )
    notes.append(f"kits still available at the end: {available or 'none'}")
    if refused:
        notes.append(
            f"{len(refused)} courses refused; {len(spurious)} of them while a kit that fits "
            f"was still available at their clinic at the end"
        )
    if spurious:
        course, clinic, left, reason = spurious[0]
        notes.append(f"e.g. course {course} ({clinic}), {left} fitting kits left: {reason}")
    errors = [e for t in tallies for e in t.errors]
    if errors:
        problems.append(f"{len(errors)} errors, e.g. {errors[0]}")
    return problems, notes


# --- main ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--pg-admin-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="create and drop the PostgreSQL databases there",
    )
    parser.add_argument("--kits", type=int, default=4_000, help="kits, and as many courses")
    parser.add_argument("--workers", type=int, default=8, help="worker processes per side")
    parser.add_argument("--seconds", type=float, default=60.0, help="at most this long a side")
    parser.add_argument("--rounds", type=int, default=1, help="kitops + SQL rounds, alternating")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    if args.kits < args.workers or args.workers < 1 or args.rounds < 1 or args.seconds <= 0:
        parser.error("need --kits ≥ --workers ≥ 1, --rounds ≥ 1 and --seconds > 0")

    admin = conninfo_of(args.pg_admin_url)
    base = f"kitops_bench_fulfil_{os.getpid()}"
    created: list[str] = []

    def url_for(name: str) -> str:
        return make_url(args.pg_admin_url).set(database=name).render_as_string(hide_password=False)

    def create(name: str, template: str | None = None) -> str:
        clause = f" TEMPLATE {template}" if template else ""
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}{clause}")
        created.append(name)
        return url_for(name)

    outcomes: dict[str, list[Outcome]] = {side: [] for side in SIDES}
    try:
        url = create(base)
        print(f"database: {make_url(url).render_as_string(hide_password=True)} (postgresql)")
        start = time.perf_counter()
        for step, seconds in generate(url, args.kits).items():
            print(f"  {step:<24} {seconds:7.1f} s")
        jobs = jobs_of(url)
        print(
            f"generated in {time.perf_counter() - start:.1f} s: {args.kits:,} available "
            f"{KIT_SKU} kits and {len(jobs):,} {PLAN} courses "
            f"({', '.join(f'{c} {n}' for c, n in Counter(j.clinic for j in jobs).items())}); "
            f"{args.workers} workers a side, at most {args.seconds:.0f} s"
        )
        print()
        for round_ in range(args.rounds):
            order = tuple(SIDES) if round_ % 2 == 0 else tuple(reversed(SIDES))
            for side in order:
                name = f"{base}_{side}_{round_}"
                copy = create(name, template=base)
                outcome = run_side(side, copy, jobs, args.workers, args.seconds)
                outcomes[side].append(outcome)
                per_course = (
                    f", {outcome.statements / outcome.courses_tried:.1f} SQLAlchemy statements a "
                    "course (+ BEGIN, COMMIT)"
                    if outcome.statements
                    else ""
                )
                server = (
                    f"; server CPU {outcome.server_us:,.0f} µs a course"
                    if outcome.server_us is not None
                    else ""
                ) + f"; client CPU {outcome.client_us:,.0f} µs a course"
                print(
                    f"{side:<6} round {round_ + 1}: {outcome.reservations:,} reservations in "
                    f"{outcome.seconds:.2f} s = {outcome.per_second:,.0f}/s; "
                    f"{outcome.courses_tried:,} courses tried, {outcome.refused} refused, "
                    f"{outcome.errors} errors{per_course}{server}"
                )
                for note in outcome.notes:
                    print(f"    {note}")
                print(
                    "    checks: "
                    + ("; ".join(outcome.problems) if outcome.problems else "ok (no kit twice, "
                       "no course part twice, reported = reserved in the database)")
                )  # fmt: skip
                if not args.keep:
                    drop(admin, name)
                    created.remove(name)
        rate = {side: statistics.median(o.per_second for o in outcomes[side]) for side in SIDES}
        print()
        print(f"{'what (' + str(args.workers) + ' workers)':<48} | {'reservations/s':>14} | "
              f"kitops/it | server CPU µs a course | client CPU µs | rounds")  # fmt: skip
        print(f"{'-' * 48}-+-{'-' * 14}-+-----------+------------------------+"
              f"---------------+-------")  # fmt: skip
        for side, label in SIDES.items():
            ratio = rate["kitops"] / rate[side] if rate[side] else 0.0
            known = [o.server_us for o in outcomes[side] if o.server_us is not None]
            server = f"{statistics.median(known):22,.0f}" if known else f"{'?':>22}"
            client = statistics.median(o.client_us for o in outcomes[side])
            print(f"{label:<48} | {rate[side]:14,.0f} | {ratio:9.2f} | {server} | "
                  f"{client:13,.0f} | {len(outcomes[side]):6}")  # fmt: skip
        failed = any(o.problems for v in outcomes.values() for o in v)
        for side in ("sql", "sql_audited", "sql_safe"):
            ratio = rate["kitops"] / rate[side] if rate[side] else 0.0
            met = "met" if ratio >= TARGET_RATIO else "MISSED"
            rounds = ", ".join(
                f"{k.per_second / o.per_second:.2f}" if o.per_second else "-"
                for k, o in zip(outcomes["kitops"], outcomes[side], strict=True)
            )
            print(f"ratio kitops / {SIDES[side]}: {ratio:.2f} (target ≥ {TARGET_RATIO}: {met}); "
                  f"by round {rounds}")  # fmt: skip
        print(f"medians over rounds; checks {'FAILED' if failed else 'ok'}")
    finally:
        if args.keep:
            print(f"kept PostgreSQL databases {created}")
        else:
            for name in reversed(created):
                drop(admin, name)


def drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
