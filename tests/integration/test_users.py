"""Users and logging in, through the service API the TUI's login screen uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update
from tamper_support import delete_every_user

from kitops.data.schema import AuditRow, UserRow
from kitops.errors import Conflict, InvalidInput, NotAllowed, Refused
from kitops.services import users
from kitops.services.users import WRONG_LOGIN


def audit_actions(db, actor=None):
    with db.engine.connect() as conn:
        query = select(AuditRow.action).order_by(AuditRow.id)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        return list(conn.execute(query).scalars())


def audit_count(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditRow)).scalar_one()


@pytest.fixture
def alice(uow):
    return users.add_user(uow(), "alice", "stockroom", "4711")


def test_the_right_pin_logs_in_and_is_audited(db, uow, alice):
    user = users.authenticate(uow(actor="login"), "alice", "4711")
    assert (user.name, user.role, user.active) == ("alice", "stockroom", True)
    assert user.last_login_at is not None
    assert "stock.receive" in user.permissions
    assert "lot.recall" not in user.permissions
    assert audit_actions(db, "alice") == ["user.login"]


def test_an_unknown_name_and_a_wrong_pin_read_the_same(db, uow, alice):
    with pytest.raises(Refused) as unknown:
        users.authenticate(uow(), "mallory", "4711")
    with pytest.raises(Refused) as wrong:
        users.authenticate(uow(), "alice", "0000")
    assert str(unknown.value) == str(wrong.value) == WRONG_LOGIN
    assert audit_actions(db, "mallory") == ["user.login_failed"]
    assert audit_actions(db, "alice") == ["user.login_failed"]


def test_five_wrong_pins_lock_the_user_for_fifteen_minutes(db, uow, alice):
    start = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(4):
            with pytest.raises(Refused, match=WRONG_LOGIN):
                users.authenticate(uow(), "alice", "9999")
        with pytest.raises(Refused, match=r"alice is locked until \d\d:\d\d after 5 failed"):
            users.authenticate(uow(), "alice", "9999")
        # the right PIN does not help while locked; it is not even checked
        with pytest.raises(Refused, match=r"^alice is locked until \d\d:\d\d$"):
            users.authenticate(uow(), "alice", "4711")
    with time_machine.travel(start + timedelta(minutes=14), tick=False), pytest.raises(Refused):
        users.authenticate(uow(), "alice", "4711")
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert users.authenticate(uow(), "alice", "4711").name == "alice"
    assert audit_actions(db, "alice") == [
        *["user.login_failed"] * 4, "user.locked", "user.login_failed", "user.login_failed",
        "user.login",
    ]  # fmt: skip


def test_the_lock_follows_the_settings(uow, alice):
    users.set_setting(uow(), "login_max_failures", "2")
    with pytest.raises(Refused, match=WRONG_LOGIN):
        users.authenticate(uow(), "alice", "9999")
    with pytest.raises(Refused, match="locked until"):
        users.authenticate(uow(), "alice", "9999")
    users.set_active(uow(), "alice", False)
    users.set_active(uow(), "alice", True)  # enabling again lifts the lock
    assert users.authenticate(uow(), "alice", "4711").locked_until is None


def test_a_right_pin_resets_the_count_of_failures(uow, alice):
    for _ in range(4):
        with pytest.raises(Refused):
            users.authenticate(uow(), "alice", "9999")
    users.authenticate(uow(), "alice", "4711")
    for _ in range(4):
        with pytest.raises(Refused, match=WRONG_LOGIN):
            users.authenticate(uow(), "alice", "9999")


def test_a_disabled_user_cannot_log_in_nor_act(db, uow, alice):
    users.set_active(uow(), "alice", False)
    with pytest.raises(Refused, match=WRONG_LOGIN):
        users.authenticate(uow(), "alice", "4711")
    with pytest.raises(NotAllowed, match="user alice is disabled"):
        users.get_user(uow(actor="alice"), "alice")
    assert audit_actions(db, "alice")[-2:] == ["user.login_failed", "access.refused"]


def test_job_users_and_users_without_a_pin_do_not_log_in(uow):
    users.add_user(uow(), "cron", "job", "123456")
    users.add_user(uow(), "bob", "manager")
    with pytest.raises(Refused, match="cron is a job user"):
        users.authenticate(uow(), "cron", "123456")
    with pytest.raises(Refused, match=WRONG_LOGIN):
        users.authenticate(uow(), "bob", "")


@pytest.fixture
def real_pin_hashes(monkeypatch):
    """kitops' own argon2 profile instead of the suite's cheap one (tests/conftest.py)."""
    monkeypatch.setattr(users, "_hasher", None)
    monkeypatch.setattr(users._DUMMY, "value", None)


def test_pins_are_stored_only_as_argon2_hashes(real_pin_hashes, db, alice, uow):
    with db.engine.connect() as conn:
        stored = conn.execute(select(UserRow.secret_hash).where(UserRow.name == "alice")).scalar()
        audit = conn.execute(select(AuditRow.before, AuditRow.after)).all()
    # argon2id with the library's defaults: 64 MiB, 3 passes, 4 lanes
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert users.authenticate(uow(actor="login"), "alice", "4711").name == "alice"
    assert "4711" not in stored
    assert "4711" not in repr(audit)


def test_get_user_names_its_role(uow, alice):
    assert users.get_user(uow(), "alice").role == "stockroom"
    with pytest.raises(InvalidInput, match="user 'nobody'"):
        users.get_user(uow(), "nobody")


def test_an_unknown_acting_user_is_refused_even_for_reading(db, uow):
    before = audit_count(db)
    with pytest.raises(NotAllowed, match="'mallory' is not a kitops user"):
        users.get_user(uow(actor="mallory"), "tester")
    assert audit_actions(db)[before:] == ["access.refused"]


def test_names_and_pins_are_checked(uow):
    with pytest.raises(InvalidInput, match="name 'Alice Smith'"):
        users.add_user(uow(), "Alice Smith", "stockroom")
    with pytest.raises(InvalidInput, match="role 'boss'"):
        users.add_user(uow(), "alice", "boss")
    with pytest.raises(InvalidInput, match=r"PIN '\(hidden\)': must be 4-128"):
        users.add_user(uow(), "alice", "stockroom", "123")
    users.add_user(uow(), "alice", "stockroom")
    with pytest.raises(Conflict, match="alice already exists"):
        users.add_user(uow(), "alice", "manager")


def test_only_an_admin_manages_users(db, uow, alice):
    before = audit_count(db)
    with pytest.raises(NotAllowed, match=r"alice \(stockroom\) may not add users: an admin may"):
        users.add_user(uow(actor="alice"), "eve", "admin")
    with db.engine.connect() as conn:
        assert conn.execute(select(UserRow.id).where(UserRow.name == "eve")).first() is None
    assert audit_actions(db)[before:] == ["access.refused"]


def test_the_last_active_admin_stays(uow):
    # "checker" and "fault" are admins too, until demoted
    users.set_role(uow(), "checker", "stockroom")
    users.set_role(uow(), "fault", "stockroom")
    with pytest.raises(Refused, match="tester is the last active admin"):
        users.set_role(uow(), "tester", "manager")
    with pytest.raises(Refused, match="tester is the last active admin"):
        users.set_active(uow(), "tester", False)


def test_a_user_changes_their_own_pin_by_giving_the_current_one(uow, alice):
    with pytest.raises(Refused, match="current PIN is wrong"):
        users.set_secret(uow(actor="alice"), "alice", "2468", current="0000")
    users.set_secret(uow(actor="alice"), "alice", "2468", current="4711")
    assert users.authenticate(uow(), "alice", "2468").name == "alice"
    users.add_user(uow(), "bob", "stockroom")
    with pytest.raises(NotAllowed, match="may not set another user's PIN"):
        users.set_secret(uow(actor="alice"), "bob", "1357")
    users.set_secret(uow(), "bob", "1357")  # an admin sets anyone's
    assert users.authenticate(uow(), "bob", "1357").name == "bob"


def test_a_database_without_users_lets_only_the_first_admin_in(db, uow):
    with db.engine.begin() as conn:
        delete_every_user(conn)
    with pytest.raises(Refused, match="no users yet"):
        users.authenticate(uow(), "tester", "1234")
    with pytest.raises(Refused, match="create the first admin"):
        users.add_user(uow(actor="root"), "someone", "stockroom")
    users.add_user(uow(actor="root"), "boss", "admin", "1234")
    with pytest.raises(NotAllowed, match="'root' is not a kitops user"):
        users.add_user(uow(actor="root"), "other", "admin")
    assert users.authenticate(uow(), "boss", "1234").role == "admin"


def test_a_locked_user_acting_from_the_command_line_is_not_locked_out(db, uow, alice):
    """The lock guards the login (a PIN being guessed); the CLI trusts --user and
    KITOPS_USER, as the database's own credentials protect it."""
    with db.engine.begin() as conn:
        conn.execute(
            update(UserRow)
            .where(UserRow.name == "alice")
            .values(locked_until=datetime.now(UTC) + timedelta(hours=1))
        )
    assert users.get_user(uow(actor="alice"), "alice").locked_until is not None


def test_the_audit_log_reads_by_user_action_and_day(uow, alice):
    users.authenticate(uow(), "alice", "4711")
    entries = users.read_audit(uow(), user="alice")
    assert [e.action for e in entries] == ["user.login"]
    assert [e.action for e in users.read_audit(uow(), action="user.")] == [
        "user.add", "user.login",
    ]  # fmt: skip
    assert users.read_audit(uow(), since=datetime.now(UTC) + timedelta(days=1)) == []
    assert len(users.read_audit(uow(), limit=1)) == 1
    with pytest.raises(NotAllowed, match=r"alice \(stockroom\) may not read the audit log"):
        users.read_audit(uow(actor="alice"))


def test_settings_are_checked_and_only_admins_change_them(uow, alice):
    assert users.set_setting(uow(), "writeoff_approval_units", "25").value == "25"
    with pytest.raises(InvalidInput, match="writeoff_approval_units '-1'"):
        users.set_setting(uow(), "writeoff_approval_units", "-1")
    with pytest.raises(InvalidInput, match="setting 'colour'"):
        users.set_setting(uow(), "colour", "red")
    with pytest.raises(NotAllowed, match="may not change settings: an admin may"):
        users.set_setting(uow(actor="alice"), "login_max_failures", "3")
    listed = {s.key: s.value for s in users.list_settings(uow())}
    assert listed["writeoff_approval_units"] == "25"
    assert listed["login_max_failures"] == "5"
