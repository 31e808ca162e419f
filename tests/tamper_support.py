"""Tampering with a database the way only its owner (or the file's owner) could: the tests
that prove ``kitops db check`` finds a balance changed behind the ledger first switch off the
database's guard (migration 0017), as such a person would."""

from __future__ import annotations

from sqlalchemy import Connection, text

SQLITE_BALANCE_GUARDS = (
    "stock_balances_follow_ledger_insert",
    "stock_balances_follow_ledger_update",
    "stock_balances_no_delete",
)


def drop_balance_guard(conn: Connection) -> None:
    """Let plain SQL change ``stock_balances`` on this connection's database (SQLite: the
    guard triggers are dropped for good; PostgreSQL: triggers are off until this transaction
    ends, which takes a superuser, as the tests' connection is)."""
    if conn.dialect.name == "sqlite":
        for name in SQLITE_BALANCE_GUARDS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    else:
        conn.execute(text("SET LOCAL session_replication_role = replica"))


def delete_every_user(conn: Connection) -> None:
    """Empty ``users`` (a database as it is before its first admin): the guard keeping the
    last active admin is switched off first, as only the database's owner could."""
    if conn.dialect.name == "sqlite":
        for event in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS users_keep_an_admin_{event}"))
    else:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
    conn.execute(text("DELETE FROM users"))
