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
import subprocess
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).with_name("clock")))
import pinned_clock
from identity_support import identity_of

from kitops.data import migrate
from kitops.data.engine import Database, open_database, resolve_url
from kitops.data.schema import UserRow
from kitops.services import demo as demo_data
from kitops.services.unit_of_work import UnitOfWork

# The suite speaks English whatever the machine's language: LANG is pinned to C.UTF-8 and
# the variables that outrank it are gone, for this process and every one it starts (tests
# of another language set their own, kitops.i18n.locale_from_environment reads them).
os.environ["LANG"] = "C.UTF-8"
for _name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)

# Property tests draw the same examples on every run (seeded from each test's name), so
# a run can fail only because of the code; `pytest --hypothesis-profile=explore` draws
# new ones, to look for more.
settings.register_profile("kitops", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None)
settings.load_profile("kitops")

PG_URL = os.environ.get("KITOPS_TEST_PG_URL", "")
REQUIRE_PG = os.environ.get("KITOPS_TEST_REQUIRE_PG") == "1"
RUN_ID = f"kitops_t{os.getpid()}_{uuid.uuid4().hex[:8]}"

_pg_passed = 0

# The demo data's fixed day, and the instant the clock stands at while it loads.
DEMO_DAY = date(2026, 11, 22)
DEMO_LOADED_AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
# Fixtures that start their test from the demo data, with the day it is loaded as of
# (None: today, by the suite's clock).
DEMO_FIXTURES: dict[str, date | None] = {
    "loaded": DEMO_DAY,  # tests/integration
    "demo_cli": DEMO_DAY,  # tests/e2e/test_cli_reports.py
    "scratch": DEMO_DAY,  # tests/faults
    "demo": None,  # tests/e2e
}
_PIN = pytest.StashKey[str]()
_TRAVELLER = pytest.StashKey[object]()
_CLUSTER = pytest.StashKey[Any]()

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
    """The test users; "tester" is bound to the login running the tests (the OS account on
    SQLite, the session_user of the test URL on PostgreSQL), so the CLI acts as it."""
    with db.engine.begin() as conn:
        login = identity_of(conn)
        conn.execute(
            UserRow.__table__.insert(),
            [
                {"name": name, "role": role, "created_by": "tests",
                 "login": login if name == "tester" else None}
                for name, role in users.items()
            ],
        )  # fmt: skip


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--today",
        metavar="WHEN",
        default=None,
        help="pin the suite's clock (and its child processes'): YYYY-MM-DD, or an ISO date "
        "and time with an offset or a [Zone/Name], e.g. 2027-03-28T23:30[Europe/London]",
    )


def _private_cluster(config: pytest.Config) -> None:
    """With ``KITOPS_TEST_PG=private`` and no ``KITOPS_TEST_PG_URL``, the run starts a
    throwaway PostgreSQL cluster of its own (tests/pg_private.py) and every worker uses it:
    started here in the controlling process, before pytest-xdist's workers (which inherit
    the URL), and stopped when the run ends."""
    global PG_URL
    if PG_URL or os.environ.get("KITOPS_TEST_PG") != "private" or hasattr(config, "workerinput"):
        return
    import pg_private

    cluster = pg_private.start()
    config.stash[_CLUSTER] = cluster
    PG_URL = os.environ["KITOPS_TEST_PG_URL"] = cluster.url


def pytest_configure(config: pytest.Config) -> None:
    _private_cluster(config)
    if REQUIRE_PG and not PG_URL:
        raise pytest.UsageError("KITOPS_TEST_REQUIRE_PG=1 but KITOPS_TEST_PG_URL is not set")
    spec = config.getoption("--today")
    if spec:
        try:
            pinned_clock.parse(spec)
        except ValueError as error:
            raise pytest.UsageError(str(error)) from None
        # from here on (collection included: modules that read the day at import)
        config.stash[_PIN] = spec
        config.stash[_TRAVELLER] = pinned_clock.travel(spec)
        pinned_clock.export(spec)


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = config.stash.get(_CLUSTER, None)
    if cluster is not None:
        cluster.stop()
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    spec = config.stash.get(_PIN, None)
    return f"clock pinned to {pinned_clock.parse(spec).isoformat()} ({spec})" if spec else None


@pytest.fixture(autouse=True)
def _no_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables printed to a pipe are 100 columns wide unless COLUMNS says otherwise; the
    terminal pytest runs in (or pytest-xdist, which sets COLUMNS for its workers) must not
    change what the tests see."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.fixture(autouse=True)
def _pinned_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """With ``--today``, every test starts at the pinned instant (the clock runs on)."""
    spec = request.config.stash.get(_PIN, None)
    if spec is None:
        yield
        return
    traveller = pinned_clock.travel(spec)
    try:
        yield
    finally:
        traveller.stop()


# The tests that take tens of seconds each: the fault tests (killed and racing kitops
# processes, on real databases) and the benchmarks' miniatures. Marked ``slow`` (``-m "not
# slow"`` leaves them out of a quick local run; `make test` runs them all) and run first:
# pytest-xdist's workers then end the run on short tests, taking them from each other,
# instead of one worker finishing a long one while the other has nothing left.
SLOW = ("faults/", "benchmark")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(part in item.nodeid.split("::")[0] for part in SLOW):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable


class _NoSnapshotReport:
    lines: tuple[str, ...] = ()


def _end_worker_quickly(session: pytest.Session) -> None:
    """A worker's session end took over 5 s after its last test, until xdist's gateway
    interrupted it (a KeyboardInterrupt in the middle of pytest's own clean-up, on every
    run). Two things took it:

    - the snapshot plugin's report of unused snapshots, which a worker's terminal never
      shows (and syrupy does not act on under xdist): it compared every test the worker
      ran with every snapshot location;
    - pytest's own search for late unraisable exceptions: five full collections of the
      worker's heap. One collection is made here, so whatever it finds is still reported,
      and what is left is frozen, so pytest's five walk nothing more."""
    import gc

    if hasattr(session.config, "_syrupy"):
        session.config._syrupy.report = _NoSnapshotReport()
    gc.collect()
    gc.freeze()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _pg_passed
    if report.when == "call" and report.passed and "postgresql" in report.keywords:
        _pg_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _end_worker_quickly(session)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"PostgreSQL tests passed: {_pg_passed}")
    if REQUIRE_PG and _pg_passed == 0 and exitstatus == 0:
        if reporter is not None:
            reporter.write_line("FAILED: KITOPS_TEST_REQUIRE_PG=1 but no PostgreSQL test passed")
        session.exitstatus = 1


class _PgAdmin:
    """Creates and drops this run's PostgreSQL databases.

    ``CREATE DATABASE ... TEMPLATE`` waits on the server's disk (it copies and syncs some
    8 MB of catalogs), so the per-test clones are made one test ahead in a background
    thread (``clone``) and dropped behind in another (``drop_later``): the wait overlaps
    the test that runs meanwhile instead of adding to it. On a server that does not sync
    (the throwaway cluster, tests/pg_private.py) a clone copies the template's files
    (``STRATEGY FILE_COPY``) instead of writing every block of it to the write-ahead log
    (PostgreSQL 15's default): the checkpoints that copy takes cost no disk wait there,
    and a clone and its drop took 40-60 % less wall time (30 of each, interleaved).
    """

    def __init__(self, url: str) -> None:
        self.url = make_url(resolve_url(url))
        self.engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as conn:
            version = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
            syncs = conn.exec_driver_sql("SHOW fsync").scalar_one() == "on"
        self._strategy = " STRATEGY FILE_COPY" if version >= 150000 and not syncs else ""
        self.created: list[str] = []
        self._lock = threading.Lock()
        self._maker = ThreadPoolExecutor(1, thread_name_prefix="pg-clone")
        self._dropper = ThreadPoolExecutor(1, thread_name_prefix="pg-drop")
        self._ahead: dict[str, deque[Future[str]]] = {}

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        clause = f' TEMPLATE "{template}"{self._strategy}' if template else ""
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        with self._lock:
            self.created.append(name)
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        with self._lock:
            if name in self.created:
                self.created.remove(name)

    def clone(self, template: str) -> tuple[str, str]:
        """(name, URL) of a new database copied from ``template``; the next clone of the
        same template is started at once, for the next test."""
        ahead = self._ahead.setdefault(template, deque())
        made = ahead.popleft() if ahead else self._maker.submit(self._clone, template)
        ahead.append(self._maker.submit(self._clone, template))
        name = made.result()
        return name, self.url_for(name)

    def _clone(self, template: str) -> str:
        name = f"{RUN_ID}_{uuid.uuid4().hex[:10]}"
        self.create(name, template=template)
        return name

    def drop_later(self, name: str) -> None:
        self._dropper.submit(self.drop, name)

    def close(self) -> None:
        """The databases still there are dropped by a process of their own that outlives
        the run: a backlog of drops (each waits on the server's disk) no longer keeps the
        last worker of `make test` waiting."""
        self._maker.shutdown(wait=True)
        self._dropper.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            left = list(reversed(self.created))
        self.engine.dispose()
        if left:
            subprocess.Popen(
                [sys.executable, "-c", _DROP_SCRIPT, self.url.render_as_string(hide_password=False),
                 *left],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip


_DROP_SCRIPT = """
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    for name in sys.argv[2:]:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
"""


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
    _checkpoint(db)
    db.dispose()
    return path


def _checkpoint(db: Database) -> None:
    """Fold SQLite's write-ahead log into the file, so a plain copy of it is whole."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def load_demo(url: str, as_of: date) -> None:
    """The demo data as ``kitops demo --as-of`` loads it, acting as ``tester``. On the
    fixed demo day the clock stands still at ``DEMO_LOADED_AT`` while it loads, so audit
    times and screenshots are the same on every run."""
    db = open_database(url)
    try:
        if as_of == DEMO_DAY:
            with time_machine.travel(DEMO_LOADED_AT, tick=False):
                demo_data.load(UnitOfWork(db, "tester"), as_of)
        else:
            demo_data.load(UnitOfWork(db, "tester"), as_of)
        if db.engine.dialect.name == "sqlite":
            _checkpoint(db)
    finally:
        db.dispose()


def uow_factory(db: Database) -> Callable[..., UnitOfWork]:
    """``uow()`` → a fresh unit of work on ``db`` acting as ``tester`` (the ``uow`` fixture)."""

    def make(*, readonly: bool = False, actor: str = "tester") -> UnitOfWork:
        return UnitOfWork(db, actor, readonly=readonly)

    return make


@pytest.fixture
def cheap_pin_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with small costs (one pass over 1 MiB): the same hashes, checks, locks and
    audit rows in milliseconds instead of over half a second per PIN, for tests about
    logging in rather than about the hash's cost (tests/integration and tests/security
    use it for every test; kitops' own profile is checked in
    tests/integration/test_users.py)."""
    from argon2 import PasswordHasher

    from kitops.services import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                          parallelism=1))  # fmt: skip
    monkeypatch.setattr(users._DUMMY, "value", None)


Builder = Callable[[Callable[..., UnitOfWork]], None]


def built_by(request: pytest.FixtureRequest) -> tuple[str, Builder] | None:
    """The builder of a test's starting data, when the test asks for a fixture its module
    names in ``TEMPLATE_FIXTURES`` (fixture name → ``build(uow)``): the data is built once
    per run, backend and day on a template and the test's database is a clone of it, as
    for the demo data. For data that only services write (no files, no monkeypatching):
    the fixture itself then only returns ``db``."""
    for name, build in getattr(request.module, "TEMPLATE_FIXTURES", {}).items():
        if name in request.fixturenames:
            return f"{request.module.__name__}.{name}", build
    return None


class DemoTemplates:
    """Databases holding the demo data, loaded once per run and day and cloned per test
    (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), and those a
    module's ``TEMPLATE_FIXTURES`` build (``built_by``) on top of the demo data or of an
    empty database."""

    def __init__(self, request: pytest.FixtureRequest, folder: Path) -> None:
        self._request = request
        self._folder = folder
        self._built: dict[tuple[str, date], str] = {}
        self._made: dict[tuple[str, date | None, str], str] = {}

    def built(self, backend: str, day: date | None, key: str, build: Builder) -> str:
        """The template (a file path on SQLite, a database name on PostgreSQL) holding
        what ``build`` made on top of the demo data as of ``day`` (None: an empty one)."""
        made = (backend, day, key)
        if made not in self._made:
            n = len(self._made)
            if backend == "sqlite":
                base = (
                    self.sqlite(day)
                    if day is not None
                    else self._request.getfixturevalue("sqlite_template")
                )
                path = self._folder / f"built-{n}.db"
                shutil.copyfile(base, path)
                url, where = f"sqlite:///{path}", str(path)
            else:
                admin: _PgAdmin = self._request.getfixturevalue("pg_admin")
                empty: str = self._request.getfixturevalue("pg_template")
                where = f"{RUN_ID}_built_{n}"
                url = admin.create(where, template=self.postgresql(day) if day else empty)
            db = open_database(url)
            try:
                build(uow_factory(db))
                if backend == "sqlite":
                    _checkpoint(db)
            finally:
                db.dispose()
            self._made[made] = where
        return self._made[made]

    def sqlite(self, as_of: date) -> Path:
        key = ("sqlite", as_of)
        if key not in self._built:
            template: Path = self._request.getfixturevalue("sqlite_template")
            path = self._folder / f"demo-{as_of.isoformat()}.db"
            shutil.copyfile(template, path)
            load_demo(f"sqlite:///{path}", as_of)
            self._built[key] = str(path)
        return Path(self._built[key])

    def postgresql(self, as_of: date) -> str:
        key = ("postgresql", as_of)
        if key not in self._built:
            admin: _PgAdmin = self._request.getfixturevalue("pg_admin")
            empty: str = self._request.getfixturevalue("pg_template")
            name = f"{RUN_ID}_demo_{as_of:%Y%m%d}"
            load_demo(admin.create(name, template=empty), as_of)
            self._built[key] = name
        return self._built[key]


@pytest.fixture(scope="session")
def demo_templates(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DemoTemplates:
    return DemoTemplates(request, tmp_path_factory.mktemp("demo"))


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def demo_day_of(request: pytest.FixtureRequest) -> date | None:
    """The day a test's database holds the demo data as of, or None for an empty one: set
    by ``@pytest.mark.demo_data(day)`` (default ``DEMO_DAY``) or by asking for one of the
    fixtures in ``DEMO_FIXTURES``."""
    marker = request.node.get_closest_marker("demo_data")
    if marker is not None:
        return marker.args[0] if marker.args else DEMO_DAY
    for name, day in DEMO_FIXTURES.items():
        if name in request.fixturenames:
            return day or date.today()
    return None


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own for one test: empty, or holding the demo data (see
    ``demo_day_of``), and what its module's ``TEMPLATE_FIXTURES`` build (``built_by``)."""
    day = demo_day_of(request)
    built = built_by(request)
    templates: DemoTemplates | None = (
        request.getfixturevalue("demo_templates") if day is not None or built else None
    )
    if backend == "sqlite":
        template: Path = (
            Path(templates.built(backend, day, *built))
            if templates is not None and built is not None
            else templates.sqlite(day)
            if templates is not None and day is not None
            else request.getfixturevalue("sqlite_template")
        )
        target = tmp_path / "kitops.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    admin: _PgAdmin = request.getfixturevalue("pg_admin")
    template_name: str = (
        templates.built(backend, day, *built)
        if templates is not None and built is not None
        else templates.postgresql(day)
        if templates is not None and day is not None
        else request.getfixturevalue("pg_template")
    )
    name, url = admin.clone(template_name)
    yield url
    admin.drop_later(name)


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
    return uow_factory(db)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def kitops(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Result]]:
    """Run a ``kitops`` command in-process against this test's database.

    The engine a command opens is kept for the test's next command on the same database
    with the same ``KITOPS_*`` environment (``_EnginesKept``), so SQLAlchemy compiles each
    statement once per test instead of once per command (in a real process it is once per
    command, which is one per process). Each command ends its transactions as at its
    process's exit; on SQLite every connection it opened is closed too, while on
    PostgreSQL its connections go back to the engine's pool (rolled back, holding no lock,
    as in the web server's pool) and the next command takes them, instead of each
    command starting server processes whose catalogue caches are cold: about a quarter of
    the PostgreSQL end-to-end tests' time. What a command does with the database is the
    same."""
    from kitops.cli import run

    engines = _EnginesKept(monkeypatch)
    import kitops.bootstrap

    monkeypatch.setattr(kitops.bootstrap, "close_databases", engines.end_command)

    def invoke(*args: str, db: str | None = None, user: str | None = "tester") -> Result:
        """``user=None``: no ``--user``, so the command acts as the user bound to the login
        (``tests/identity_support.py``)."""
        capsys.readouterr()
        claim = ["--user", user] if user is not None else []
        code = run(["--db", db or db_url, *claim, *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield invoke
    engines.close()


def _kitops_environment() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("KITOPS_")))


class _EnginesKept:
    """While a test runs commands in-process: ``open_database`` answers the engine an
    earlier command opened on the same URL with the same ``KITOPS_*`` environment (its
    connections closed when that command ended on SQLite, back in its pool on
    PostgreSQL: ``end_command``), else a new one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import kitops.data.engine as engine_module

        self._open = engine_module.open_database
        self._kept: dict[tuple[str | None, tuple[tuple[str, str], ...]], Database] = {}
        monkeypatch.setattr(engine_module, "open_database", self.open)

    def open(self, url: str | None = None, *args: Any, **kwargs: Any) -> Database:
        if args or kwargs:
            return self._open(url, *args, **kwargs)
        key = (url, _kitops_environment())
        found = self._kept.get(key)
        if found is None:
            found = self._kept[key] = self._open(url)
        return found

    def end_command(self) -> None:
        """What ``kitops.bootstrap.close_databases`` does at a command's end, except that a
        PostgreSQL engine's connections stay in its pool for the next command."""
        import kitops.bootstrap

        while kitops.bootstrap._OPEN:
            _, database = kitops.bootstrap._OPEN.popitem()
            if database.engine.dialect.name != "postgresql" or database not in self._kept.values():
                database.dispose()

    def close(self) -> None:
        while self._kept:
            _, database = self._kept.popitem()
            database.dispose()
