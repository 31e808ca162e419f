"""Web sessions: a manager logged in to ``kitops serve`` from a browser.

Logging in checks the user name and PIN or password with ``users.authenticate`` (the same
argon2 check, lock and audit rows as the terminal UI; job users are refused). A session is
a random token the browser keeps in a signed cookie; the database keeps only its SHA-256,
as a row of ``user_sessions`` with the identity ``web``, valid while used within the
setting ``web_session_idle_minutes``. Logging out deletes the row.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from kitops.data.engine import Database
from kitops.data.schema import UserRow, UserSessionRow, utcnow
from kitops.domain import roles
from kitops.services.unit_of_work import UnitOfWork
from kitops.services.users import authenticate

WEB_IDENTITY = "web"
IDLE_SETTING = "web_session_idle_minutes"
DEFAULT_IDLE_MINUTES = 30


@dataclass(frozen=True)
class WebSession:
    """Who a valid session belongs to."""

    user: str
    role: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_minutes(uow: UnitOfWork) -> int:
    value = uow.settings.get(IDLE_SETTING, str(DEFAULT_IDLE_MINUTES))
    try:
        return max(1, int(value))
    except ValueError:
        return DEFAULT_IDLE_MINUTES


def start(db: Database, name: str, secret: str) -> tuple[str, WebSession]:
    """Check ``name``'s PIN or password and open a session; returns its token (for the
    cookie only: never shown, never logged) and its user. ``Refused`` as the TUI's login."""
    user = authenticate(UnitOfWork(db, name, bootstrap=False), name, secret)
    token = secrets.token_urlsafe(32)
    writing = UnitOfWork(db, user.name, bootstrap=False)
    with writing:
        row = writing.session.scalars(select(UserRow).where(UserRow.name == user.name)).one()
        now = utcnow()
        writing.session.add(UserSessionRow(token_hash=_hash(token), user_id=row.id,
                                           identity=WEB_IDENTITY, created_at=now,
                                           last_seen_at=now))  # fmt: skip
        writing.record("user.session_start", "user", user.name, after={"login": WEB_IDENTITY})
        writing.commit()
    return token, WebSession(user.name, user.role)


def resume(db: Database, token: str) -> WebSession | None:
    """The session's user when ``token`` names a web session used within the idle limit
    and its user is still active and not a job user; its idle time starts again. None
    otherwise (an expired session is deleted)."""
    digest = _hash(token)
    now = utcnow()
    reading = UnitOfWork(db, WEB_IDENTITY, identify=False, readonly=True)
    with reading:
        found = reading.session.execute(
            select(UserSessionRow.id, UserSessionRow.last_seen_at, UserRow.name, UserRow.role,
                   UserRow.active)
            .join(UserRow, UserRow.id == UserSessionRow.user_id)
            .where(UserSessionRow.token_hash == digest,
                   UserSessionRow.identity == WEB_IDENTITY)
        ).first()  # fmt: skip
        idle = timedelta(minutes=idle_minutes(reading))
    if found is None:
        return None
    expired = found.last_seen_at + idle < now
    if expired or not found.active or found.role == roles.Role.JOB.value:
        if expired:
            _forget(db, found.id, found.name, "user.session_expired")
        return None
    # mark it used at most once a minute: a page of several requests writes once
    if now - found.last_seen_at >= timedelta(minutes=1):
        writing = UnitOfWork(db, WEB_IDENTITY, identify=False)
        with writing:
            writing.session.execute(
                update(UserSessionRow).where(UserSessionRow.id == found.id)
                .values(last_seen_at=now)
            )  # fmt: skip
            writing.commit()
    return WebSession(str(found.name), str(found.role))


def end(db: Database, token: str) -> str | None:
    """Log out: forget the session; returns its user's name (None if it was unknown)."""
    reading = UnitOfWork(db, WEB_IDENTITY, identify=False, readonly=True)
    with reading:
        found = reading.session.execute(
            select(UserSessionRow.id, UserRow.name)
            .join(UserRow, UserRow.id == UserSessionRow.user_id)
            .where(UserSessionRow.token_hash == _hash(token),
                   UserSessionRow.identity == WEB_IDENTITY)
        ).first()  # fmt: skip
    if found is None:
        return None
    _forget(db, found.id, found.name, "user.session_end")
    return str(found.name)


def _forget(db: Database, session_id: int, name: str, action: str) -> None:
    writing = UnitOfWork(db, WEB_IDENTITY, identify=False)
    with writing:
        writing.session.execute(delete(UserSessionRow).where(UserSessionRow.id == session_id))
        writing.audit.record(actor=name, action=action, entity="user", entity_key=name,
                             after={"login": WEB_IDENTITY})  # fmt: skip
        writing.commit()
