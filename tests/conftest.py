"""Test databases: SQLite always, PostgreSQL when ``KITOPS_TEST_PG_URL`` is set.

Each test gets its own database, cloned from a template migrated once per run: a
copied file on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL. Database names
carry the process id and a random part, so concurrent runs never see each other.
With ``KITOPS_TEST_REQUIRE_PG=1`` (CI) a missing PostgreSQL is an error, and a run in
which no PostgreSQL test passed fails.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kitops.data import migrate
from kitops.data.engine import Database, open_database, resolve_url
from kitops.data.schema import UserRow
from kitops.services.unit_of_work import UnitOfWork

PG_URL = os.environ.get("KITOPS_TEST_PG_URL", "")
REQUIRE_PG = os.environ.get("KITOPS_TEST_REQUIRE_PG") == "1"
RUN_ID = f"kitops_t{os.getpid()}_{uuid.uuid4().hex[:8]}"

_pg_passed = 0

# The users every test database starts with (no PIN): the `uow()` and `kitops` fixtures act
# as "tester", an admin, who may do everything (admins hold the manager's and the stockroom's
# permissions); "checker" reads for the TUI tests, "fault" drives the fault tests; "stripe",
# "stripe-batch" and "webhook" apply payment events as job users. Tests of roles add their
# own users.
TEST_USERS = {
    "tester": "admin", "checker": "admin", "fault": "admin",
    "stripe": "job", "stripe-batch": "job", "webhook": "job",
}  # fmt: skip


def seed_users(db: Database, users: dict[str, str] = TEST_USERS) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            UserRow.__table__.insert(),
            [{"name": name, "role": role, "created_by": "tests"} for name, role in users.items()],
        )


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_PG and not PG_URL:
        raise pytest.UsageError("KITOPS_TEST_REQUIRE_PG=1 but KITOPS_TEST_PG_URL is not set")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _pg_passed
    if report.when == "call" and report.passed and "postgresql" in report.keywords:
        _pg_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"PostgreSQL tests passed: {_pg_passed}")
    if REQUIRE_PG and _pg_passed == 0 and exitstatus == 0:
        if reporter is not None:
            reporter.write_line("FAILED: KITOPS_TEST_REQUIRE_PG=1 but no PostgreSQL test passed")
        session.exitstatus = 1


class _PgAdmin:
    """Creates and drops this run's PostgreSQL databases."""

    def __init__(self, url: str) -> None:
        self.url = make_url(resolve_url(url))
        self.engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(reversed(self.created)):
            self.drop(name)
        self.engine.dispose()


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[_PgAdmin]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need KITOPS_TEST_PG_URL")
    admin = _PgAdmin(PG_URL)
    yield admin
    admin.close()


@pytest.fixture(scope="session")
def pg_template(pg_admin: _PgAdmin) -> str:
    name = f"{RUN_ID}_tpl"
    url = pg_admin.create(name)
    db = open_database(url)
    migrate.upgrade(db)
    seed_users(db)
    db.dispose()
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "kitops.db"
    db = open_database(f"sqlite:///{path}")
    migrate.upgrade(db)
    seed_users(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of its own for one test."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "kitops.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    admin: _PgAdmin = request.getfixturevalue("pg_admin")
    template_name: str = request.getfixturevalue("pg_template")
    name = f"{RUN_ID}_{uuid.uuid4().hex[:10]}"
    url = admin.create(name, template=template_name)
    yield url
    admin.drop(name)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, for migration tests."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin: _PgAdmin = request.getfixturevalue("pg_admin")
    name = f"{RUN_ID}_{uuid.uuid4().hex[:10]}"
    url = admin.create(name)
    yield url
    admin.drop(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def uow(db: Database) -> Callable[..., UnitOfWork]:
    """``uow()`` → a fresh unit of work acting as ``tester``."""

    def make(*, readonly: bool = False, actor: str = "tester") -> UnitOfWork:
        return UnitOfWork(db, actor, readonly=readonly)

    return make


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def kitops(db_url: str, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run a ``kitops`` command in-process against this test's database."""
    from kitops.cli import run

    def invoke(*args: str, db: str | None = None) -> Result:
        capsys.readouterr()
        code = run(["--db", db or db_url, "--user", "tester", *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
