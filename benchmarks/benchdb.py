"""The scratch database a benchmark builds and removes: a SQLite file in a temporary
folder, or a PostgreSQL database of its own created through an administrative URL."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.engine import make_url


def compile_bytecode() -> None:
    """Write the bytecode (.pyc) of kitops and tui as an installed wheel carries it, so a
    start-up time never includes compiling the sources (a fresh checkout, or
    ``PYTHONDONTWRITEBYTECODE`` set, would otherwise compile them on every start)."""
    import compileall
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for package in ("kitops", "tui"):
        compileall.compile_dir(root / package, quiet=1)


@dataclass
class BenchDatabase:
    url: str
    tmpdir: str | None = None
    pg_admin: str | None = None  # libpq URL of the administrative database
    pg_name: str | None = None

    def where(self) -> str:
        return self.tmpdir or f"PostgreSQL database {self.pg_name}"

    def drop(self) -> None:
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        if self.pg_admin and self.pg_name:
            with psycopg.connect(self.pg_admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")


def create(pg_admin_url: str | None, pg_name: str, sqlite_file: str) -> BenchDatabase:
    """A new empty database: on PostgreSQL when ``pg_admin_url`` is given, else SQLite."""
    if not pg_admin_url:
        tmpdir = tempfile.mkdtemp(prefix="kitops-bench-")
        return BenchDatabase(f"sqlite:///{tmpdir}/{sqlite_file}", tmpdir=tmpdir)
    admin = make_url(pg_admin_url).set(drivername="postgresql")
    admin_url = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {pg_name}")
    url = make_url(pg_admin_url).set(database=pg_name).render_as_string(hide_password=False)
    return BenchDatabase(url, pg_admin=admin_url, pg_name=pg_name)


# The triggers of migration 0017 that keep stock_balances in step with stock_moves: a bulk
# load that writes both tables itself (already consistent, as `db check` proves after) goes
# in with them off, as a restore would.
SQLITE_LEDGER_TRIGGERS = (
    "stock_moves_apply_to",
    "stock_moves_apply_from",
    "stock_balances_follow_ledger_insert",
    "stock_balances_follow_ledger_update",
    "stock_balances_no_delete",
)


def drop_sqlite_ledger_triggers(conn: Any) -> list[str]:
    """Drop the SQLite balance triggers; returns their SQL for ``restore_sqlite_triggers``."""
    marks = ", ".join("?" * len(SQLITE_LEDGER_TRIGGERS))
    saved = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
        SQLITE_LEDGER_TRIGGERS,
    ).fetchall()
    for name, _ in saved:
        conn.execute(f"DROP TRIGGER {name}")
    return [sql for _, sql in saved]


def restore_sqlite_triggers(conn: Any, saved: list[str]) -> None:
    for sql in saved:
        conn.execute(sql)


@contextmanager
def ledger_triggers_off(conn: Any, *, sqlite: bool) -> Iterator[None]:
    """Bulk-load moves and balances on ``conn`` (a DB-API connection) without the
    balance triggers: on SQLite they are dropped and created again afterwards, on
    PostgreSQL the session runs as a replica (triggers do not fire; a superuser's right)."""
    if sqlite:
        saved = drop_sqlite_ledger_triggers(conn)
        try:
            yield
        finally:
            restore_sqlite_triggers(conn, saved)
        return
    conn.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        conn.execute("SET session_replication_role = DEFAULT")


def store_course_dates(url: str, actor: str) -> tuple[int, int]:
    """What creating a course stores, for courses the benchmark inserted as plain rows:
    a home course's kit need dates (``course_kit_needs``) and a clinic course's booked
    sessions (``course_appointments``, on the calendar's days: the benchmark books no
    course off a full day). Returns (courses given need dates, appointments booked)."""
    from datetime import time

    from sqlalchemy import exists, select

    from kitops.data.engine import open_database
    from kitops.data.schema import CourseAppointmentRow, CourseRow
    from kitops.domain.courses import Administered
    from kitops.services.courses import store_missing_kit_needs
    from kitops.services.plans import calendar_of
    from kitops.services.unit_of_work import UnitOfWork

    db = open_database(url)
    try:
        needs = store_missing_kit_needs(UnitOfWork(db, actor))
        booked = 0
        with db.write_sessions() as session:
            courses = session.scalars(
                select(CourseRow).where(
                    ~exists().where(CourseAppointmentRow.course_id == CourseRow.id)
                )
            ).all()
            for course in courses:
                plan, calendar = calendar_of(course)
                if plan.administered is not Administered.CLINIC:
                    continue
                for number, day in enumerate(calendar.application_dates, start=1):
                    session.add(
                        CourseAppointmentRow(
                            course_id=course.id, kind="application", number=number,
                            clinic_id=course.clinic_id, planned_day=day, day=day,
                            at=time(9, 0),
                        )
                    )  # fmt: skip
                    booked += 1
            session.commit()
    finally:
        db.dispose()
    return needs, booked
