"""The login the test process runs as, and binding a kitops user to it (tests may change
the database directly): the CLI acts as the user bound to the login that runs it
(kitops.services.identity), so a test that acts as another user from the command line
binds that user first, as an admin would with `kitops user bind NAME --login LOGIN`."""

from __future__ import annotations

import os
import pwd

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine


def os_login() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def identity_of(conn: Connection) -> str:
    """SQLite: the account of the process; PostgreSQL: the connection's session_user."""
    if conn.dialect.name == "sqlite":
        return os_login()
    return str(conn.execute(text("SELECT session_user")).scalar_one())


def bind_identity(engine: Engine, name: str) -> str:
    """Bind user ``name`` to this process's login (unbinding whoever was); returns it."""
    with engine.begin() as conn:
        login = identity_of(conn)
        conn.execute(text("UPDATE users SET login = NULL WHERE login = :l"), {"l": login})
        done = conn.execute(
            text("UPDATE users SET login = :l WHERE name = :n"), {"l": login, "n": name}
        )
        assert done.rowcount == 1, f"no user {name}"
    return login


def bind_identity_url(url: str, name: str) -> str:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        return bind_identity(engine, name)
    finally:
        engine.dispose()


def identity_of_url(url: str) -> str:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return identity_of(conn)
    finally:
        engine.dispose()
