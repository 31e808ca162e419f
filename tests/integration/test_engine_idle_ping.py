"""PostgreSQL: a pooled connection is pinged before reuse only after it sat idle, and one
found dead then is replaced, so the next statement works (kitops.data.engine)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kitops.data import engine as engine_module
from kitops.data.engine import open_database

pytestmark = pytest.mark.postgresql


@pytest.fixture
def backend() -> str:
    return "postgresql"


def _backend_pid(db) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _pings(monkeypatch: pytest.MonkeyPatch, db) -> list[int]:
    calls: list[int] = []
    dialect = db.engine.dialect
    real = dialect.do_ping

    def counting(dbapi_connection):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return calls


def _age_idle_connections(db, seconds: float) -> None:
    """Make the pool's idle connections look ``seconds`` older (no sleeping)."""
    for record in list(db.engine.pool._pool.queue):  # type: ignore[attr-defined]
        record.info[engine_module._IDLE_SINCE] -= seconds


def test_a_connection_just_given_back_is_reused_without_a_ping(db_url, monkeypatch):
    db = open_database(db_url)
    try:
        pings = _pings(monkeypatch, db)
        first = _backend_pid(db)  # a new connection: no ping either
        assert _backend_pid(db) == first
        raw = db.engine.raw_connection()  # the one-statement path checks out this way
        raw.close()
        assert pings == []
        _age_idle_connections(db, engine_module.PING_AFTER_IDLE_S + 1)
        assert _backend_pid(db) == first
        assert pings == [1]
    finally:
        db.dispose()


def test_a_connection_that_died_while_idle_is_replaced_before_use(db_url):
    db = open_database(db_url)
    try:
        victim = _backend_pid(db)
        admin = make_url(db_url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(admin, autocommit=True) as other:
            assert other.execute("SELECT pg_terminate_backend(%s)", (victim,)).fetchone()
        _age_idle_connections(db, engine_module.PING_AFTER_IDLE_S + 1)
        replaced = _backend_pid(db)  # no error: the ping found it dead, the pool reconnected
        assert replaced != victim
    finally:
        db.dispose()
