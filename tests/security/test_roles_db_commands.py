"""Roles as written: the README's role table and the code agree on `db backup` (an admin,
or the job user for the nightly backup) and `db upgrade` (an admin, or whoever owns the
database; anyone on a database with no users yet, as `make run` does on a new machine).
Every role's try at both is in the role matrix (tests/e2e/test_cli_users.py); here the
owner rule, on both backends with a real non-owner on PostgreSQL."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from e2e_support import assert_refused
from identity_support import bind_identity_url
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kitops.domain.roles import Role, allows

README = Path(__file__).resolve().parents[2] / "README.md"


def role_table() -> dict[str, str]:
    """The README's "Users, roles and audit" table: role → what it may."""
    section = README.read_text(encoding="utf-8").split("## Users, roles and audit", 1)[1]
    rows = re.findall(r"^\| `(\w+)` \| (.*) \|$", section.split("\n## ", 1)[0], re.M)
    table: dict[str, str] = {}
    for role, may in rows:  # the first table; the demo's users come after it
        table.setdefault(role, may)
    return table


def test_the_readme_role_table_says_what_the_code_allows():
    table = role_table()
    assert set(table) >= {"stockroom", "manager", "admin", "job"}
    assert allows(Role.JOB, "db.backup")
    assert "`db backup`" in table["job"]
    assert allows(Role.ADMIN, "db.upgrade")
    assert "`db upgrade`" in table["admin"]
    for role in (Role.STOCKROOM, Role.MANAGER, Role.JOB):
        assert not allows(role, "db.upgrade"), role
    for role in (Role.STOCKROOM, Role.MANAGER):
        assert not allows(role, "db.backup"), role


@pytest.fixture
def not_owner(db_url, backend, monkeypatch, request):
    """A URL of the test database that does not own it: on SQLite this process poses as
    another account than the file's owner; on PostgreSQL a login role with the README's
    application grants."""
    if backend == "sqlite":
        uid = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: uid + 1)
        yield db_url
        return
    admin = request.getfixturevalue("pg_admin")
    name = make_url(db_url).database
    role, password = f"kitops_app_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    owner = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as conn:
            for statement in (
                f"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
                f'GRANT CONNECT ON DATABASE "{name}" TO {role}',
                f"GRANT USAGE ON SCHEMA public TO {role}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
            ):
                conn.execute(text(statement))
        yield (
            make_url(db_url)
            .set(username=role, password=password)
            .render_as_string(hide_password=False)
        )
    finally:
        with owner.connect() as conn:  # its grants in this database, and on the database
            conn.execute(text(f'DROP OWNED BY "{role}"'))
        owner.dispose()
        with admin.engine.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def test_upgrade_needs_an_admin_unless_the_database_owner_runs_it(cli, db_url, not_owner):
    # the CLI acts as the user bound to its login (kitops.services.identity): bind each
    # user in turn to the login that does not own the database
    bind_identity_url(db_url, "tester")  # SQLite: this process poses as another account
    assert cli("user", "add", "sam", "--role", "stockroom", "--no-pin", db=db_url).code == 0
    assert cli("user", "add", "cron2", "--role", "job", "--no-pin", db=db_url).code == 0
    for who, role in (("sam", "stockroom"), ("cron2", "job")):
        bind_identity_url(not_owner, who)
        refused = cli("db", "upgrade", db=not_owner, user=None)
        assert_refused(refused, f"{who} ({role}) may not upgrade the database schema: an admin may")
    bind_identity_url(not_owner, "tester")  # an admin
    allowed = cli("db", "upgrade", db=not_owner, user=None)
    assert allowed.code == 0, allowed.err
    assert "already at revision" in allowed.out


def test_the_owner_upgrades_whoever_they_act_as(cli, db_url):
    assert cli("user", "add", "sam", "--role", "stockroom", "--no-pin", db=db_url).code == 0
    bind_identity_url(db_url, "sam")  # the owner's login, bound to a stockroom user
    done = cli("db", "upgrade", db=db_url, user=None)
    assert done.code == 0, done.err


def test_a_new_database_is_upgraded_by_anyone_so_make_run_works(cli, empty_db_url, monkeypatch):
    uid = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: uid + 1)  # not even the owner (SQLite)
    for _ in range(2):  # new; then the schema is there but no user yet
        done = cli("--user", "nobody-yet", "db", "upgrade", db=empty_db_url)
        assert done.code == 0, done.err
