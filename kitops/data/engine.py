"""The database handle: one engine and its session factories per URL.

SQLite connections get WAL, foreign keys and a busy timeout. Write transactions on
SQLite start with ``BEGIN IMMEDIATE`` so two writers queue at the start instead of
failing half-way; read-only units of work use a plain deferred ``BEGIN``.

PostgreSQL: what SQLAlchemy learns about the server on the first connection comes from
what the server reports when the session starts, plus one query (``_learn_from_startup``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from kitops.errors import InvalidInput
from kitops.filemodes import create_empty
from kitops.i18n import _
from kitops.secrets import from_env as secret_from_env
from kitops.secrets import mask_url

DEFAULT_BUSY_TIMEOUT_MS = 5_000
MAX_BUSY_TIMEOUT_MS = 600_000
# PostgreSQL: a pooled connection idle for longer than this is pinged before it is handed
# out again (see _ping_when_idle)
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "kitops_idle_since"


def busy_timeout_ms() -> int:
    """``KITOPS_BUSY_TIMEOUT_MS`` (how long a SQLite connection waits for a lock), or the
    default; a malformed value is bad input naming the variable."""
    text = os.environ.get("KITOPS_BUSY_TIMEOUT_MS", "").strip()
    if not text:
        return DEFAULT_BUSY_TIMEOUT_MS
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_BUSY_TIMEOUT_MS:
        raise InvalidInput(
            "KITOPS_BUSY_TIMEOUT_MS", text[:40],
            _(
                "must be a whole number of milliseconds from 0 to "
                "{maximum}"
            ).format(maximum=MAX_BUSY_TIMEOUT_MS),
        )  # fmt: skip
    return int(text)


def default_sqlite_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("kitops", appauthor=False)) / "kitops.db"


def resolve_url(url: str | None = None) -> str:
    """``--db`` wins, then ``KITOPS_DATABASE_URL`` (or the 0600 file named by
    ``KITOPS_DATABASE_URL_FILE``), then the SQLite file in the data dir."""
    chosen = url or secret_from_env("KITOPS_DATABASE_URL") or ""
    if not chosen:
        return f"sqlite:///{default_sqlite_path()}"
    try:
        parsed = make_url(chosen)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise InvalidInput("database URL", mask_url(chosen), _("is not a database URL")) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidInput(
            "database URL", mask_url(chosen), _("kitops runs on SQLite or PostgreSQL")
        )
    return parsed.render_as_string(hide_password=False)


@dataclass(frozen=True)
class Database:
    url: str
    engine: Engine
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL with its password and any credential in its query shown as ``***``."""
        return mask_url(self.engine.url)

    def dispose(self) -> None:
        self.engine.dispose()


@cache
def _hinted_sqlite_compiler() -> type[Any]:
    """SQLAlchemy's SQLite compiler, writing a table's hint after its name: a query asks
    SQLite for an index with ``with_hint(table, "INDEXED BY ix_...", dialect_name="sqlite")``
    (SQLAlchemy's SQLite dialect leaves table hints out). Made when a SQLite engine is, so
    a PostgreSQL command never imports the SQLite dialect."""
    from sqlalchemy.dialects.sqlite.base import SQLiteCompiler

    class HintedSQLiteCompiler(SQLiteCompiler):
        def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
            return text

    return HintedSQLiteCompiler


def _sqlite_setup(engine: Engine, path: Path | None = None) -> None:
    busy_ms = busy_timeout_ms()
    engine.dialect.statement_compiler = _hinted_sqlite_compiler()

    if path is not None:

        @event.listens_for(engine, "do_connect")
        def _create(*_args: Any) -> None:
            # SQLite would create a new database file 0644 less the umask; kitops creates it
            # first, empty, 0600 or 0660 (kitops.filemodes), and SQLite gives its -wal and
            # -shm the same mode
            if not path.exists():
                create_empty(path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("kitops_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _ping_when_idle(engine: Engine, after_s: float = PING_AFTER_IDLE_S) -> None:
    """Before a pooled PostgreSQL connection is handed out, ping it if it has sat idle in
    the pool for more than ``after_s`` seconds; a dead one is replaced by a new connection
    (SQLAlchemy's ``pool_pre_ping``, except for connections just used or just opened).

    What leaves a stale connection in the pool is time passing while it idles: a server
    restart or fail-over, an idle timeout, a network device dropping the session. For a
    connection given back a moment ago that is unlikely (and a ping never guaranteed the
    next statement a live connection either), while the ping costs a round trip on every
    check-out, which the busiest path, a single-course ``fulfil`` reserving in one
    statement, would otherwise pay beside its one statement. A statement on a connection
    that died anyway fails with the usual "connection lost" line, and the pool is emptied
    of that server's connections."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= after_s:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError(str(error)) from error  # the pool reconnects
            raise


def _version_from_number(number: int) -> tuple[int, ...]:
    """The server's version as SQLAlchemy spells it, from libpq's number: 150020 is
    (15, 20), 90624 is (9, 6, 24)."""
    major = number // 10_000
    if major >= 10:
        return (major, number % 10_000)
    return (major, number // 100 % 100, number % 100)


# the default schema and isolation level of a new session, in one statement
_SESSION_DEFAULTS = "SELECT current_schema(), current_setting('transaction_isolation')"


def _learn_from_startup(dialect: Any) -> None:
    """SQLAlchemy's PostgreSQL dialect asks a new server four things on its first
    connection, one statement each, inside a transaction: the version, the default schema,
    the isolation level and ``standard_conforming_strings``. The server reports the first
    and the last when the session starts (libpq's parameter status), so they are read from
    there; the schema and the isolation level come from one statement run outside a
    transaction. Every answer is the server's own, as before, in one round trip instead
    of a transaction of four statements. A server (or pooler) that reports nothing is
    asked the usual way."""
    learned: dict[str, Any] = {}
    ask_version = dialect._get_server_version_info
    ask_schema = dialect._get_default_schema_name
    ask_isolation = dialect.get_default_isolation_level
    ask_escapes = dialect._set_backslash_escapes

    def driver(connection: Connection) -> Any:
        return connection.connection.driver_connection

    def server_version_info(connection: Connection) -> tuple[int, ...]:
        number = driver(connection).info.server_version
        return _version_from_number(number) if number else ask_version(connection)

    def default_schema_name(connection: Connection) -> str | None:
        from psycopg.pq import TransactionStatus  # loaded with the driver already

        pg = driver(connection)
        if pg.info.transaction_status != TransactionStatus.IDLE:
            return ask_schema(connection)  # type: ignore[no-any-return]
        autocommit = pg.autocommit
        pg.autocommit = True
        try:
            schema, isolation = pg.execute(_SESSION_DEFAULTS).fetchone()
        finally:
            pg.autocommit = autocommit
        learned["isolation"] = str(isolation).upper()
        return schema  # type: ignore[no-any-return]

    def default_isolation_level(dbapi_connection: Any) -> str:
        return str(learned.pop("isolation", None) or ask_isolation(dbapi_connection))

    def set_backslash_escapes(connection: Connection) -> None:
        reported = driver(connection).info.parameter_status("standard_conforming_strings")
        if reported is None:
            ask_escapes(connection)
        else:
            dialect._backslash_escapes = reported == "off"

    dialect._get_server_version_info = server_version_info
    dialect._get_default_schema_name = default_schema_name
    dialect.get_default_isolation_level = default_isolation_level
    dialect._set_backslash_escapes = set_backslash_escapes


def open_database(url: str | None = None) -> Database:
    resolved = resolve_url(url)
    parsed = make_url(resolved)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["creates"] = Path(database).expanduser()
    psycopg = parsed.drivername == "postgresql+psycopg"  # kitops' driver (resolve_url)
    if psycopg:
        # kitops has no HSTORE column: no lookup of the hstore type on the first connection
        kwargs["use_native_hstore"] = False
    creates = kwargs.pop("creates", None)
    engine = create_engine(resolved, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine, creates)
    else:
        if psycopg:
            _learn_from_startup(engine.dialect)
        _ping_when_idle(engine)
    write_engine = engine.execution_options(kitops_write=True)
    return Database(
        url=resolved,
        engine=engine,
        read_sessions=sessionmaker(bind=engine, expire_on_commit=False),
        write_sessions=sessionmaker(bind=write_engine, expire_on_commit=False),
    )
