"""PostgreSQL: each person and the cron job connect with a login role of their own, a member
of the README's application role; kitops acts as the user bound to the role
(``session_user``), whatever ``--user`` or ``KITOPS_USER`` claim."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from kitops.data.schema import AuditRow, UserRow

README = Path(__file__).resolve().parents[2] / "README.md"
DEMO_DAY = date(2026, 11, 22)  # the demo data's day (tests/conftest.py)

pytestmark = pytest.mark.postgresql


def _block(marker: str) -> list[str]:
    found = re.search(rf"<!-- {marker}[^>]*-->\s*```sql\n(.*?)```", README.read_text(), re.S)
    assert found, f"the README lost its {marker} block"
    return [line for line in found.group(1).splitlines() if line.strip()]


@pytest.fixture
def people(pg_admin, demo_templates):
    """A demo database, the README's application role and its per-person roles on it:
    (owner url, {"alice": url, "kitops_cron": url})."""
    suffix = uuid.uuid4().hex[:8]
    name = f"kitops_t_people_{suffix}"
    owner_url = pg_admin.create(name, template=demo_templates.postgresql(DEMO_DAY))
    renamed = {"kitops_app": f"kitops_app_{suffix}", "alice": f"alice_{suffix}",
               "kitops_cron": f"kitops_cron_{suffix}"}  # fmt: skip
    owner = create_engine(owner_url, isolation_level="AUTOCOMMIT")

    def named(statement: str) -> str:
        for old, new in renamed.items():
            statement = re.sub(rf"\b{old}\b", new, statement)
        return statement.replace("DATABASE kitops ", f'DATABASE "{name}" ')

    try:
        with owner.connect() as conn:
            for statement in _block("app-role-grants") + _block("person-roles"):
                conn.execute(text(named(statement)))
        urls = {
            person: make_url(owner_url).set(username=renamed[person], password="x")
            .render_as_string(hide_password=False)
            for person in ("alice", "kitops_cron")
        }  # fmt: skip
        yield owner_url, urls, renamed
    finally:
        owner.dispose()
        pg_admin.drop(name)
        with pg_admin.engine.connect() as conn:
            for role in ("alice", "kitops_cron", "kitops_app"):
                conn.execute(text(f'DROP ROLE IF EXISTS "{renamed[role]}"'))


@pytest.fixture
def as_url(capsys, monkeypatch, tmp_path):
    from kitops.cli import run

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def invoke(url: str, *args: str, env: dict[str, str] | None = None, stdin: str = ""):
        monkeypatch.delenv("KITOPS_USER", raising=False)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = run(["--db", url, *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return code, out, err

    return invoke


def test_each_login_role_acts_as_its_bound_user_and_no_one_else(people, as_url):
    owner_url, urls, roles = people
    alice, cron = roles["alice"], roles["kitops_cron"]
    # unbound: the role runs nothing
    code, _, err = as_url(urls["alice"], "stock")
    assert code == 1
    assert f"login {alice} is bound to no kitops user" in err
    # the owner's login is bound to tester (an admin), who binds the roles
    assert as_url(owner_url, "user", "bind", "manager", "--login", alice)[0] == 0
    assert as_url(owner_url, "user", "bind", "cron", "--login", cron)[0] == 0
    found = json.loads(as_url(urls["alice"], "whoami", "--json")[1])
    assert (found["login"], found["acting_user"]) == (alice, "manager")
    assert as_url(urls["alice"], "report", "stock")[0] == 0
    # the crontab's role: its jobs, nothing else, whatever it claims
    assert as_url(urls["kitops_cron"], "jobs", "run", "expiry-sweep")[0] == 0
    code, _, err = as_url(
        urls["kitops_cron"], "user", "set-role", "cron", "admin", env={"KITOPS_USER": "admin"}
    )
    assert code == 1
    assert f"login {cron} is bound to the job user cron" in err
    code, _, err = as_url(urls["kitops_cron"], "--user", "admin", "--pin-stdin", "user",
                          "set-role", "cron", "admin", stdin="1111\n")  # fmt: skip
    assert code == 1
    engine = create_engine(owner_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(UserRow.role).where(UserRow.name == "cron")).scalar() == (
                "job"
            )
            refusals = conn.execute(
                select(AuditRow.actor, AuditRow.db_role)
                .where(AuditRow.action == "access.refused")
                .order_by(AuditRow.id)
            ).all()
    finally:
        engine.dispose()
    # refused as the login's own user, and stamped by the database with the login role
    assert [tuple(r) for r in refusals] == [(alice, alice), ("cron", cron), ("cron", cron)]
