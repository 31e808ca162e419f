"""Many people logging in at the same moment: the PIN check runs outside the write
transaction, so logins do not queue behind each other's argon2 checks, and failed logins
are still counted exactly (on the user's locked row)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from kitops.data.engine import open_database
from kitops.data.schema import AuditRow, UserRow
from kitops.errors import DatabaseUnavailable, KitopsError, Refused
from kitops.services import users
from kitops.services.unit_of_work import UnitOfWork
from kitops.services.users import WRONG_LOGIN

MANAGERS = 20
WRONG_AT_ONCE = 8  # more than login_max_failures (5)
# How long a thread waits for the others at a meeting point before the test fails: only
# reached when the logins are serialised (the check made while holding the write lock).
MEETING_TIMEOUT_S = 60


class _MeetingHasher(PasswordHasher):
    """Cheap argon2 whose checks wait until ``parties`` of them run at the same time:
    they meet only if no login holds a lock while checking a PIN."""

    def __init__(self, parties: int) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.meeting = threading.Barrier(parties, timeout=MEETING_TIMEOUT_S)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.meeting.wait()
        return super().verify(hash, password)


@pytest.fixture(autouse=True)
def cheap_pin_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                          parallelism=1))  # fmt: skip
    monkeypatch.setattr(users._DUMMY, "value", None)


def _at_once(count: int, attempt: Callable[[int], Any], start: threading.Barrier | None = None):
    """Run ``attempt(i)`` in ``count`` threads; each one's result or error, in order."""
    outcomes: list[Any] = [None] * count

    def run(i: int) -> None:
        if start is not None:
            start.wait()
        try:
            outcomes[i] = attempt(i)
        except KitopsError as error:
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _audit(db, action: str | None = None) -> list[AuditRow]:
    with db.read_sessions() as session:
        query = select(AuditRow).where(AuditRow.entity == "user").order_by(AuditRow.id)
        if action is not None:
            query = query.where(AuditRow.action == action)
        return list(session.scalars(query))


def test_twenty_managers_logging_in_at_once_all_get_in(db, uow, monkeypatch):
    names = [f"manager{i:02d}" for i in range(MANAGERS)]
    for name in names:
        users.add_user(uow(), name, "manager", f"24{len(name)}{name[-2:]}")
    hasher = _MeetingHasher(MANAGERS)
    monkeypatch.setattr(users, "_hasher", hasher)

    def login(i: int) -> Any:
        name = names[i]
        return users.authenticate(UnitOfWork(db, name), name, f"24{len(name)}{name[-2:]}")

    outcomes = _at_once(MANAGERS, login)

    assert not hasher.meeting.broken, "the PIN checks should run side by side"
    assert [getattr(o, "name", o) for o in outcomes] == names
    logins = _audit(db, "user.login")
    assert sorted(row.actor for row in logins) == names
    assert not _audit(db, "user.login_failed")
    with db.read_sessions() as session:
        stamped = session.scalars(select(UserRow.last_login_at).where(UserRow.name.in_(names)))
        assert all(moment is not None for moment in stamped)


def test_wrong_pins_sent_at_once_lock_the_user_as_many_in_a_row_would(db, uow):
    users.add_user(uow(), "alice", "stockroom", "4711")
    outcomes = _at_once(
        WRONG_AT_ONCE,
        lambda _i: users.authenticate(UnitOfWork(db, "alice"), "alice", "9999"),
        threading.Barrier(WRONG_AT_ONCE, timeout=MEETING_TIMEOUT_S),
    )

    messages = Counter(
        "locked after" if "failed logins" in str(o) else
        "locked" if "is locked until" in str(o) else str(o)
        for o in outcomes
    )  # fmt: skip
    assert all(isinstance(o, Refused) for o in outcomes)
    assert messages == {WRONG_LOGIN: 4, "locked after": 1, "locked": WRONG_AT_ONCE - 5}
    audit = _audit(db)
    assert [row.action for row in audit].count("user.locked") == 1
    wrong = [row.after for row in audit if row.after and row.after.get("reason") == "wrong PIN"]
    failures = sorted(after["failures"] for after in wrong)
    assert failures == [1, 2, 3, 4]
    reasons = Counter(row.after["reason"] for row in audit if row.action == "user.login_failed")
    assert reasons == {"wrong PIN": 4, "locked": WRONG_AT_ONCE - 5}
    with db.read_sessions() as session:
        alice = session.scalars(select(UserRow).where(UserRow.name == "alice")).one()
        assert alice.locked_until is not None
        assert alice.failed_logins == 0
    with pytest.raises(Refused, match="is locked until"):
        users.authenticate(UnitOfWork(db, "alice"), "alice", "4711")


def _between_check_and_write(monkeypatch: pytest.MonkeyPatch, change: Callable[[], Any]) -> None:
    """Make ``change`` right after the first PIN check, before the login's write."""
    real = users._verify
    calls = []

    def verify_then_change(stored: str | None, secret: str) -> bool:
        right = real(stored, secret)
        if not calls:
            calls.append(stored)
            change()
        return right

    monkeypatch.setattr(users, "_verify", verify_then_change)


def test_a_pin_changed_between_the_check_and_the_write_is_checked_again(db, uow, monkeypatch):
    users.add_user(uow(), "alice", "stockroom", "4711")
    _between_check_and_write(monkeypatch, lambda: users.set_secret(uow(), "alice", "2468"))

    with pytest.raises(Refused, match=f"^{WRONG_LOGIN}$"):
        users.authenticate(UnitOfWork(db, "alice"), "alice", "4711")

    failed = _audit(db, "user.login_failed")
    assert [(row.actor, row.after) for row in failed] == [
        ("alice", {"reason": "wrong PIN", "failures": 1})
    ]
    assert not _audit(db, "user.login")
    assert users.authenticate(UnitOfWork(db, "alice"), "alice", "2468").name == "alice"


def test_the_new_pin_set_while_the_old_one_was_checked_logs_in(db, uow, monkeypatch):
    users.add_user(uow(), "alice", "stockroom", "4711")
    _between_check_and_write(monkeypatch, lambda: users.set_secret(uow(), "alice", "2468"))

    # the first check (against the old PIN) fails; the PIN changed, so it is checked again
    assert users.authenticate(UnitOfWork(db, "alice"), "alice", "2468").name == "alice"
    assert not _audit(db, "user.login_failed")
    assert [row.actor for row in _audit(db, "user.login")] == ["alice"]


def test_a_user_disabled_between_the_check_and_the_write_is_refused(db, uow, monkeypatch):
    users.add_user(uow(), "alice", "stockroom", "4711")
    _between_check_and_write(monkeypatch, lambda: users.set_active(uow(), "alice", False))

    with pytest.raises(Refused, match=f"^{WRONG_LOGIN}$"):
        users.authenticate(UnitOfWork(db, "alice"), "alice", "4711")
    assert [row.after for row in _audit(db, "user.login_failed")] == [{"reason": "disabled"}]
    assert not _audit(db, "user.login")


def test_a_database_that_cannot_be_read_refuses_the_login_in_one_line(tmp_path):
    broken = tmp_path / "not-a-database.db"
    broken.write_bytes(b"this is no SQLite database, " * 200)
    db = open_database(f"sqlite:///{broken}")
    try:
        with pytest.raises(DatabaseUnavailable) as refused:
            users.authenticate(UnitOfWork(db, "alice"), "alice", "4711")
    finally:
        db.dispose()
    assert "\n" not in str(refused.value)
    assert "4711" not in str(refused.value)
