"""The scratch database a benchmark builds and removes: a SQLite file in a temporary
folder, or a PostgreSQL database of its own created through an administrative URL."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import make_url


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
