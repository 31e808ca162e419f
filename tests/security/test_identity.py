"""Who acts is proven, not claimed (issue 15, Identity): the command line acts as the kitops
user bound to the login that runs it (the operating-system account on SQLite, the
connection's session_user on PostgreSQL) or as the user of a `kitops login` session;
`--user`/`KITOPS_USER` naming anybody else needs that user's PIN, and a job user is never
assumed. Every refusal exits 1 with one line, writes nothing but its audit row."""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from identity_support import bind_identity, identity_of
from sqlalchemy import select, text

from kitops.data.schema import AuditRow, UserRow, UserSessionRow

pytestmark = pytest.mark.demo_data()


@pytest.fixture
def run_cli_on(capsys, monkeypatch, tmp_path):
    """``run_cli_on(url, *args, stdin="", env={})`` → (code, out, err) of
    ``kitops --db URL ARGS``, with no --user unless ``args`` say so; session files under
    ``tmp_path``."""
    from kitops.cli import run

    monkeypatch.delenv("KITOPS_USER", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def invoke(db_url: str, *args: str, stdin: str = "", env: dict[str, str] | None = None):
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            code = run(["--db", db_url, *args])
        finally:
            for key in env or {}:
                monkeypatch.delenv(key)
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return code, out, err

    return invoke


@pytest.fixture
def run_cli(db_url, run_cli_on):
    """``run_cli(*args, ...)``: ``run_cli_on`` this test's database."""

    def invoke(*args: str, **options):
        return run_cli_on(db_url, *args, **options)

    return invoke


def one_line_refusal(result, *needles: str) -> None:
    code, _, err = result
    assert code == 1, result
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def role_of(db, name: str) -> str:
    with db.engine.connect() as conn:
        return str(conn.execute(select(UserRow.role).where(UserRow.name == name)).scalar_one())


def audit_after(db, mark: int) -> list[tuple[str, str, str, dict | None]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(AuditRow.actor, AuditRow.action, AuditRow.entity_key, AuditRow.after)
            .where(AuditRow.id > mark)
            .order_by(AuditRow.id)
        )
        return [(r.actor, r.action, r.entity_key, r.after) for r in rows]


def last_id(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(AuditRow.id).order_by(AuditRow.id.desc())).scalar() or 0


def login_of(db) -> str:
    with db.engine.connect() as conn:
        return identity_of(conn)


def unbind_everyone(db) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET login = NULL"))


# --- the attack of the issue --------------------------------------------------------------


def test_the_crontabs_credentials_cannot_make_cron_an_admin(db, run_cli):
    """With only what cron runs as, `KITOPS_USER=admin kitops user set-role cron admin` is
    refused, and the audit names the job user the login is bound to, not admin."""
    login = bind_identity(db.engine, "cron")
    mark = last_id(db)
    refused = run_cli("user", "set-role", "cron", "admin", env={"KITOPS_USER": "admin"})
    one_line_refusal(refused, f"login {login} is bound to the job user cron")
    assert role_of(db, "cron") == "job"
    [(actor, action, key, after)] = audit_after(db, mark)
    assert (actor, action, key) == ("cron", "access.refused", "user.identity")
    assert after is not None
    assert (after["login"], after["claimed"]) == (login, "admin")
    # even with admin's PIN
    one_line_refusal(
        run_cli("--user", "admin", "--pin-stdin", "user", "set-role", "cron", "admin",
                stdin="1111\n"),
        "bound to the job user cron",
    )  # fmt: skip
    assert role_of(db, "cron") == "job"
    # and what cron may do, it does as cron
    code, _, err = run_cli("jobs", "run", "expiry-sweep")
    assert code == 0, err


def test_a_login_bound_to_nobody_runs_nothing(db, run_cli):
    unbind_everyone(db)
    login = login_of(db)
    mark = last_id(db)
    one_line_refusal(
        run_cli("stock"),
        f"login {login} is bound to no kitops user",
        f"kitops user bind NAME --login {login}",
    )
    one_line_refusal(run_cli("--user", "tester", "stock"), "needs tester's PIN")
    assert [(a, b, c) for a, b, c, _ in audit_after(db, mark)] == [
        (login, "access.refused", "user.identity"),
        (login, "access.refused", "user.identity"),
    ]


def test_another_user_needs_its_pin_and_is_audited_as_itself(db, run_cli):
    login = login_of(db)  # bound to tester (tests/conftest.py)
    mark = last_id(db)
    one_line_refusal(
        run_cli("--user", "admin", "user", "set-role", "stock", "manager"),
        "acting as admin needs admin's PIN",
        f"login {login} is bound to tester",
    )
    assert role_of(db, "stock") == "stockroom"
    code, _out, err = run_cli(
        "--user", "admin", "--pin-stdin", "user", "set-role", "stock", "manager", stdin="1111\n"
    )
    assert code == 0, err
    assert role_of(db, "stock") == "manager"
    assert [(a, b, c) for a, b, c, _ in audit_after(db, mark)] == [
        ("tester", "access.refused", "user.identity"),
        ("admin", "user.login", "admin"),
        ("admin", "user.set_role", "stock"),
    ]
    # the bound user needs no PIN, named or not
    assert run_cli("--user", "tester", "user", "list")[0] == 0
    assert run_cli("user", "list")[0] == 0


def test_a_wrong_pin_counts_towards_the_lock(db, run_cli):
    assert run_cli("setting", "set", "login_max_failures", "3")[0] == 0
    mark = last_id(db)
    for _ in range(2):
        one_line_refusal(
            run_cli("--user", "manager", "--pin-stdin", "report", "stock", stdin="9999\n"),
            "wrong user name or PIN",
        )
    one_line_refusal(
        run_cli("--user", "manager", "--pin-stdin", "report", "stock", stdin="9999\n"),
        "manager is locked until",
    )
    one_line_refusal(
        run_cli("--user", "manager", "--pin-stdin", "report", "stock", stdin="2222\n"),
        "manager is locked until",
    )
    assert [b for _, b, _, _ in audit_after(db, mark)] == [
        "user.login_failed", "user.login_failed", "user.locked", "user.login_failed",
    ]  # fmt: skip


def test_a_job_user_is_never_assumed(db, run_cli):
    mark = last_id(db)
    for stdin in ("", "1111\n"):
        one_line_refusal(
            run_cli("--user", "cron", "--pin-stdin", "jobs", "run", "reorder", stdin=stdin),
            "cron is a job user: only the login bound to it acts as it",
        )
    one_line_refusal(
        run_cli("jobs", "run", "reorder", env={"KITOPS_USER": "cron"}), "cron is a job user"
    )
    assert {(a, b) for a, b, _, _ in audit_after(db, mark)} == {("tester", "access.refused")}


def test_unknown_claimed_user_is_refused_by_the_real_login(db, run_cli):
    mark = last_id(db)
    one_line_refusal(run_cli("--user", "mallory", "stock"), "'mallory' is not a kitops user")
    [(actor, action, _, after)] = audit_after(db, mark)
    assert (actor, action) == ("tester", "access.refused")
    assert after is not None
    assert after["claimed"] == "mallory"


def test_logname_and_user_do_not_change_the_login(db, run_cli, backend):
    login = login_of(db)
    code, out, err = run_cli(
        "whoami", "--json", env={"LOGNAME": "admin", "USER": "admin", "LNAME": "admin"}
    )
    assert code == 0, err
    found = json.loads(out)
    assert found == {
        "login": login, "bound_user": "tester", "session_user": None, "acting_user": "tester",
    }  # fmt: skip
    if backend == "sqlite":
        import pwd

        assert login == pwd.getpwuid(os.geteuid()).pw_name


# --- kitops login / logout ---------------------------------------------------------------


def test_a_login_session_acts_until_logout_or_the_idle_timeout(db, run_cli, tmp_path):
    start = datetime.now(UTC).replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        code, out, err = run_cli("login", "manager", "--pin-stdin", stdin="2222\n")
        assert code == 0, err
        assert "logged in as manager (manager)" in out
        [path] = (tmp_path / "state").rglob("*.token")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(run_cli("whoami", "--json")[1])["acting_user"] == "manager"
        # commands act as the session's user: a manager may not list users
        one_line_refusal(run_cli("user", "list"), "manager (manager) may not list users")
        clock.move_to(start + timedelta(minutes=14))
        assert json.loads(run_cli("whoami", "--json")[1])["session_user"] == "manager"
        clock.move_to(start + timedelta(minutes=28))  # 14 idle minutes since the last use
        assert json.loads(run_cli("whoami", "--json")[1])["session_user"] == "manager"
        clock.move_to(start + timedelta(minutes=44))  # 16 idle minutes: expired
        found = json.loads(run_cli("whoami", "--json")[1])
        assert (found["session_user"], found["acting_user"]) == (None, "tester")
        assert run_cli("user", "list")[0] == 0
        code, out, err = run_cli("logout")
        assert code == 0, err
        assert not path.exists()
    with db.engine.connect() as conn:
        assert conn.execute(select(UserSessionRow.id)).first() is None


def test_a_wrong_pin_opens_no_session(db, run_cli, tmp_path):
    one_line_refusal(
        run_cli("login", "manager", "--pin-stdin", stdin="9999\n"), "wrong user name or PIN"
    )
    assert not list((tmp_path / "state").rglob("*.token"))


def test_a_login_bound_to_a_job_user_cannot_log_in(db, run_cli, tmp_path):
    bind_identity(db.engine, "cron")
    one_line_refusal(
        run_cli("login", "manager", "--pin-stdin", stdin="2222\n"), "bound to the job user cron"
    )
    assert not list((tmp_path / "state").rglob("*.token"))


# --- binding -----------------------------------------------------------------------------


def test_admins_bind_and_unbind_users_and_it_is_audited(db, run_cli):
    mark = last_id(db)
    code, out, err = run_cli("user", "bind", "stock", "--login", "sam")
    assert code == 0, err
    assert "bound to login sam" in out
    one_line_refusal(run_cli("user", "bind", "manager", "--login", "sam"), "already bound to stock")
    assert run_cli("user", "unbind", "stock")[0] == 0
    code, out, err = run_cli("user", "add", "newbie", "--role", "stockroom", "--no-pin",
                             "--login", "newbie-os")  # fmt: skip
    assert code == 0, err
    assert [(a, b, c) for a, b, c, _ in audit_after(db, mark)] == [
        ("tester", "user.bind", "stock"),
        ("tester", "user.unbind", "stock"),
        ("tester", "user.add", "newbie"),
    ]


# --- upgrading a database that has users -------------------------------------------------


def test_upgrading_binds_the_upgrader_to_the_user_it_acted_as(empty_db_url, run_cli_on):
    """A database from before logins were bound: `db upgrade` binds the login running it
    to the user it acted as until then (--user), and to nobody else."""
    from kitops.data import migrate
    from kitops.data.engine import open_database

    db = open_database(empty_db_url)
    try:
        migrate.upgrade(db, "0017")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (name, role, active, failed_logins, created_at, created_by) "
                "VALUES ('boss', 'admin', :t, 0, :now, 'tests'), "
                "('sam', 'stockroom', :t, 0, :now, 'tests')"
            ), {"t": True, "now": datetime.now(UTC)})  # fmt: skip
        code, out, err = run_cli_on(empty_db_url, "--user", "boss", "db", "upgrade")
        assert code == 0, err
        assert "bound user boss to your login" in out
        assert json.loads(run_cli_on(empty_db_url, "whoami", "--json")[1])["acting_user"] == "boss"
        one_line_refusal(run_cli_on(empty_db_url, "--user", "sam", "stock"), "needs sam's PIN")
    finally:
        db.dispose()
