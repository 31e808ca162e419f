"""The database goes away or stays locked in the middle of a command: one clear line,
exit 1, nothing written, and the next command works."""

from __future__ import annotations

import sqlite3
import subprocess
import time

import psycopg
import pytest
from fault_support import (
    VICTIM,
    child_env,
    db_check_passes,
    kitops_argv,
    ok,
    snapshot,
)
from sqlalchemy.engine import make_url

AS_OF = "2026-11-22"
MOVE = ("move", "SERUM-5ML", "--qty", "2", "--from", "LON-FRIDGE", "--to", "LON-SHELF",
        "--lot", "PTT6-B0902")  # fmt: skip
postgresql_only = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("kitops: "), err
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    return lines[0]


def _psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _terminate_when_waiting(url: str, child: subprocess.Popen[str]) -> None:
    """Wait until the child's session waits on our lock, then end it from another session."""
    with psycopg.connect(_psycopg_url(url), autocommit=True) as watcher:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = %s AND wait_event_type = 'Lock'",
                (VICTIM,),
            ).fetchone()
            if row is not None:
                assert watcher.execute("SELECT pg_terminate_backend(%s)", (row[0],)).fetchone()
                return
            time.sleep(0.05)
    raise AssertionError("the command never waited on the lock")


def _run_while_locked(url: str, lock_sql: str, *args: str) -> subprocess.CompletedProcess[str]:
    locker = psycopg.connect(_psycopg_url(url))
    try:
        locker.execute(lock_sql)  # inside a transaction: the lock is held until rollback
        child = subprocess.Popen(kitops_argv(url, *args), env=child_env(), text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        _terminate_when_waiting(url, child)
    finally:
        locker.rollback()
        locker.close()
    out, err = child.communicate(timeout=60)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


@postgresql_only
def test_connection_dropped_mid_transaction_fails_cleanly_and_changes_nothing(db_url):
    ok(db_url, "demo", "--as-of", AS_OF)
    before = snapshot(db_url)
    # the move has begun (it has read the product and lot) and waits for the balances
    done = _run_while_locked(db_url, "LOCK TABLE stock_balances IN ACCESS EXCLUSIVE MODE", *MOVE)
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert "connection to the database was lost" in line, line
    assert "nothing was changed" in line, line
    assert done.stdout == ""
    assert snapshot(db_url) == before
    db_check_passes(db_url)
    ok(db_url, *MOVE)  # the next command works
    assert snapshot(db_url)["stock_moves"] == before["stock_moves"] + 1


@postgresql_only
def test_connection_dropped_during_one_statement_fulfil_fails_cleanly(db_url):
    """`kitops fulfil COURSE` on PostgreSQL is one statement in autocommit
    (UnitOfWork.run_atomic); its connection dropping gives the same clear line."""
    ok(db_url, "demo", "--as-of", AS_OF)
    before = snapshot(db_url)
    done = _run_while_locked(db_url, "LOCK TABLE kits IN ACCESS EXCLUSIVE MODE", "fulfil", "2")
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert "connection to the database was lost" in line, line
    assert "nothing was changed" in line, line
    assert snapshot(db_url) == before
    db_check_passes(db_url)
    code = subprocess.run(kitops_argv(db_url, "fulfil", "2"), env=child_env(), text=True,
                          capture_output=True, check=False)  # fmt: skip
    assert code.returncode in (0, 1), code.stderr  # served, or refused with its reason
    if code.returncode:
        one_line(code.stderr)
    db_check_passes(db_url)


@sqlite_only
def test_second_writer_waits_for_the_busy_timeout_then_fails_cleanly(db_url):
    ok(db_url, "demo", "--as-of", AS_OF)
    before = snapshot(db_url)
    path = make_url(db_url).database
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        holder.execute("INSERT INTO settings (key, value) VALUES ('fault-test', 'held')")
        done = subprocess.run(kitops_argv(db_url, *MOVE), text=True, capture_output=True,
                              env=child_env(KITOPS_BUSY_TIMEOUT_MS="400"), check=False)  # fmt: skip
        # readers are not held up by a writer (WAL)
        reader = subprocess.run(kitops_argv(db_url, "stock", "--json"), env=child_env(),
                                text=True, capture_output=True, check=False)  # fmt: skip
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert "busy" in line, line
    assert "nothing was changed" in line, line
    assert reader.returncode == 0, reader.stderr
    assert snapshot(db_url) == before
    db_check_passes(db_url)

    # a writer released within the timeout: the waiting command goes through
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    child = subprocess.Popen(kitops_argv(db_url, *MOVE), text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             env=child_env(KITOPS_BUSY_TIMEOUT_MS="60000"))  # fmt: skip
    time.sleep(0.5)
    holder.execute("COMMIT")
    holder.close()
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert snapshot(db_url)["stock_moves"] == before["stock_moves"] + 1
    db_check_passes(db_url)
