"""Who is acting: proven by what the operating system or the database authenticated, not
claimed by ``--user`` or ``KITOPS_USER`` (README: Users, roles and audit).

- The *identity* is the login that opened the database: on SQLite the operating-system
  account running kitops (its effective uid; never ``LOGNAME``/``USER``, which anyone can
  set), on PostgreSQL the connection's ``session_user``.
- A kitops user may be *bound* to one login (``users.login``): that login acts as it
  without a PIN.
- ``kitops login`` proves a user's PIN once and keeps a *session* for this login and
  database (a random token in a 0600 file, its SHA-256 in ``user_sessions``), valid while
  used within ``session_idle_minutes``.
- Acting as anybody else needs that user's PIN, checked by ``users.authenticate`` (so the
  login lock applies). A ``job`` user has no PIN: only the login bound to it acts as it,
  and that login acts for nobody else.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, text, update

from kitops.data import migrate
from kitops.data.engine import Database
from kitops.data.schema import UserRow, UserSessionRow, utcnow
from kitops.domain import roles
from kitops.domain.users import parse_login
from kitops.errors import Conflict, NotAllowed, Refused
from kitops.i18n import _
from kitops.services.unit_of_work import UnitOfWork, retrying

if TYPE_CHECKING:
    from kitops.services.dto import users as users_dto

# Every command resolves its user here: the users' service (PINs, the user records) is
# imported only where a PIN is checked or a user is described.

DEFAULT_IDLE_MINUTES = 15
FIRST_IDENTITY_REVISION = "0018"

PinReader = Callable[[str], str | None]


# --- the identity ------------------------------------------------------------------------


def os_login() -> str:
    """The operating-system account of this process (effective uid), from the password
    database: environment variables do not change it."""
    import pwd

    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name[:64]
    except KeyError:
        return f"uid:{uid}"


def current_identity(db: Database) -> str:
    """The login that opened ``db``: the OS account (SQLite) or ``session_user``.

    PostgreSQL reports the session user to the client when the session starts and again
    whenever it changes (the ``session_authorization`` parameter status), so no statement
    is needed; a server or pooler that does not report it is asked."""
    if db.is_sqlite:
        return os_login()
    with db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        info = getattr(driver, "info", None)
        reported = info.parameter_status("session_authorization") if info else None
        if reported:
            return str(reported)[:64]
        return str(conn.execute(text("SELECT session_user")).scalar_one())[:64]


# --- session files -----------------------------------------------------------------------


def session_file(url: str) -> Path:
    """Where ``kitops login`` keeps its token for the database at ``url``: one 0600 file
    per database under the user state folder (``$XDG_STATE_HOME/kitops`` on Linux)."""
    from platformdirs import user_state_dir

    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    return Path(user_state_dir("kitops")) / "sessions" / f"{digest}.token"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_token(path: Path) -> str | None:
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def write_token(path: Path, token: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, token.encode("ascii") + b"\n")
    finally:
        os.close(descriptor)


# --- resolving the acting user -----------------------------------------------------------


def _idle_minutes(uow: UnitOfWork) -> int:
    value = uow.settings.get("session_idle_minutes", str(DEFAULT_IDLE_MINUTES))
    try:
        return max(1, int(value))
    except ValueError:
        return DEFAULT_IDLE_MINUTES


def _session_user(uow: UnitOfWork, identity: str, token: str | None) -> UserRow | None:
    """The user of a valid session for this login, or None (read only: ``_touch`` marks
    it used, so a reader never waits for SQLite's write lock unless logged in)."""
    if token is None:
        return None
    found = uow.session.execute(
        select(UserSessionRow, UserRow)
        .join(UserRow, UserRow.id == UserSessionRow.user_id)
        .where(UserSessionRow.token_hash == _token_hash(token))
    ).first()
    if found is None:
        return None
    session, user = found
    now = utcnow()
    idle = timedelta(minutes=_idle_minutes(uow))
    if session.identity != identity or not user.active or session.last_seen_at + idle < now:
        return None
    if user.role == roles.Role.JOB.value:
        return None
    return user


def _touch(db: Database, identity: str, token: str) -> None:
    """A session is used: its idle time starts again."""
    uow = UnitOfWork(db, identity, identify=False)
    with uow:
        uow.session.execute(
            update(UserSessionRow)
            .where(UserSessionRow.token_hash == _token_hash(token))
            .values(last_seen_at=utcnow())
        )
        uow.commit()


def _refuse(db: Database, actor: str, message: str, **after: str | None) -> NotAllowed:
    error = NotAllowed(message, actor=actor, permission="user.identity")
    UnitOfWork(db, actor).record_refusal(error, after=after)
    return error


def _bound_to_nobody(identity: str) -> str:
    return _(
        "login {login} is bound to no kitops user: `kitops login NAME` with a PIN, "
        "or an admin binds it (`kitops user bind NAME --login {login}`)"
    ).format(login=identity)


def _no_file_yet(db: Database) -> bool:
    """A SQLite database whose file does not exist (looking must not create it: `db
    restore` into a new place asks nothing)."""
    path = db.engine.url.database
    if not db.is_sqlite or not path or path == ":memory:":
        return False
    return not Path(path).exists()


@retrying
def resolve(
    db: Database,
    claimed: str | None,
    *,
    token: str | None = None,
    read_pin: PinReader | None = None,
    schema_current: bool = False,
) -> str:
    """The name of the user this command acts as (see the module's rules), or
    ``NotAllowed`` (exit 1) with its ``access.refused`` audit row written by the login's
    own user (or the login's name when it is bound to none). ``schema_current``: the
    caller has found the schema at this code's head (``migrate.ensure_current``), so its
    revision is not asked again."""
    identity = current_identity(db)
    if _no_file_yet(db) or (
        not schema_current and (migrate.current_revision(db) or "") < FIRST_IDENTITY_REVISION
    ):
        # a database not upgraded yet: only `db upgrade` and `db backup` work on it
        return claimed or identity
    uow = UnitOfWork(db, identity, identify=False, readonly=True)
    with uow:
        bound = uow.users.bound_to(identity)
        if bound is None and uow.session.scalar(select(UserRow.id).limit(1)) is None:
            return claimed or identity  # the bootstrap: the unit of work lets little through
        is_job = bound is not None and bound.role == roles.Role.JOB.value
        session = None if is_job else _session_user(uow, identity, token)
        bound_name = bound.name if bound is not None else None
        session_name = session.name if session is not None else None
        target = uow.users.find(claimed) if claimed else None
        target_role = target.role if target is not None else None
    actor = bound_name or identity
    if session_name is not None and token is not None and claimed in (None, session_name):
        _touch(db, identity, token)
    if not claimed:
        if session_name or bound_name:
            return session_name or bound_name or ""
        raise _refuse(db, identity, _bound_to_nobody(identity), login=identity)
    if claimed in (bound_name, session_name):
        return claimed
    if is_job:
        raise _refuse(
            db, actor,
            _(
                "login {login} is bound to the job user {job}, which acts for no one "
                "else (not as {claimed})"
            ).format(login=identity, job=bound_name, claimed=claimed),
            login=identity, claimed=claimed[:64],
        )  # fmt: skip
    if target_role is None:
        raise _refuse(
            db, actor,
            _(
                "{claimed!r} is not a kitops user (an admin adds users with "
                "`kitops user add NAME --role ROLE`)"
            ).format(claimed=claimed),
            login=identity, claimed=claimed[:64],
        )  # fmt: skip
    if target_role == roles.Role.JOB.value:
        raise _refuse(
            db, actor,
            _(
                "{claimed} is a job user: only the login bound to it acts as it, never with a PIN"
            ).format(claimed=claimed),
            login=identity, claimed=claimed,
        )  # fmt: skip
    pin = read_pin(claimed) if read_pin is not None else None
    if pin is None:
        raise _refuse(
            db, actor,
            (
                _(
                    "acting as {claimed} needs {claimed}'s PIN (--pin-stdin, or run on a "
                    "terminal); login {login} is bound to {user}"
                ) if bound_name else _(
                    "acting as {claimed} needs {claimed}'s PIN (--pin-stdin, or run on a "
                    "terminal); login {login} is bound to no kitops user"
                )
            ).format(claimed=claimed, login=identity, user=bound_name),
            login=identity, claimed=claimed,
        )  # fmt: skip
    from kitops.services.users import authenticate

    authenticate(UnitOfWork(db, claimed), claimed, pin)
    return claimed


def describe(db: Database, claimed: str | None, *, token: str | None = None) -> users_dto.Identity:
    """``kitops whoami``: the login, the user bound to it, the session's user and who a
    command would act as (None when that needs a PIN or nobody is bound)."""
    identity = current_identity(db)
    uow = UnitOfWork(db, identity, identify=False, readonly=True)
    with uow:
        bound = uow.users.bound_to(identity)
        is_job = bound is not None and bound.role == roles.Role.JOB.value
        session = None if is_job else _session_user(uow, identity, token)
        bound_name = bound.name if bound is not None else None
        session_name = session.name if session is not None else None
    if session_name is not None and token is not None:
        _touch(db, identity, token)
    if claimed:
        acting = claimed if claimed in (bound_name, session_name) else None
    else:
        acting = session_name or bound_name
    from kitops.services.dto import users as users_dto

    return users_dto.Identity(login=identity, bound_user=bound_name, session_user=session_name,
                              acting_user=acting)  # fmt: skip


def refuse_job_login(db: Database, why: str) -> None:
    """Refuse (``NotAllowed``, audited) when this login is bound to a job user."""
    identity = current_identity(db)
    uow = UnitOfWork(db, identity, identify=False, readonly=True)
    with uow:
        bound = uow.users.bound_to(identity)
        job = bound.name if bound is not None and bound.role == roles.Role.JOB.value else None
    if job is not None:
        raise _refuse(
            db, job,
            _(
                "login {login} is bound to the job user {job}, which acts for no one else: {why}"
            ).format(login=identity, job=job, why=why),
            login=identity,
        )  # fmt: skip


def _user_dto(row: UserRow) -> users_dto.User:
    from kitops.services.users import user_dto

    return user_dto(row)


# --- logging in and out ------------------------------------------------------------------


@retrying
def start_session(db: Database, name: str, secret: str) -> tuple[str, users_dto.User]:
    """``kitops login``: check ``name``'s PIN (the login lock applies) and open a session
    for this login; returns the token to keep in the session file."""
    identity = current_identity(db)
    refuse_job_login(db, _("it cannot log in as anyone"))
    from kitops.services.users import authenticate

    user = authenticate(UnitOfWork(db, name), name, secret)
    token = secrets.token_urlsafe(32)
    writing = UnitOfWork(db, user.name)
    with writing:
        row = writing.session.scalars(select(UserRow).where(UserRow.name == user.name)).one()
        now = utcnow()
        writing.session.add(UserSessionRow(token_hash=_token_hash(token), user_id=row.id,
                                           identity=identity, created_at=now,
                                           last_seen_at=now))  # fmt: skip
        writing.record("user.session_start", "user", user.name, after={"login": identity})
        writing.commit()
    return token, user


def end_session(db: Database, token: str) -> str | None:
    """``kitops logout``: forget the session; returns its user's name (None if unknown)."""
    uow = UnitOfWork(db, current_identity(db), identify=False)
    with uow:
        found = uow.session.execute(
            select(UserSessionRow.id, UserRow.name)
            .join(UserRow, UserRow.id == UserSessionRow.user_id)
            .where(UserSessionRow.token_hash == _token_hash(token))
        ).first()
        if found is None:
            return None
        uow.session.execute(delete(UserSessionRow).where(UserSessionRow.id == found.id))
        uow.audit.record(actor=found.name, action="user.session_end", entity="user",
                         entity_key=found.name, after=None)  # fmt: skip
        uow.commit()
    return str(found.name)


# --- binding users to logins (admins) ------------------------------------------------------


@retrying
def bind(uow: UnitOfWork, name: str, login: str) -> users_dto.User:
    """Bind user ``name`` to ``login``: that login then acts as it without a PIN."""
    clean = parse_login(login)
    with uow:
        uow.require("user.manage", doing=_("bind users to logins"))
        row = uow.users.get(name, lock=True)
        other = uow.users.bound_to(clean)
        if other is not None and other.id != row.id:
            raise Conflict(
                _(
                    "login {login} is already bound to {user}: `kitops user unbind {user}` first"
                ).format(login=clean, user=other.name)
            )
        if row.login == clean:
            raise Refused(
                _("{user} is already bound to login {login}").format(user=row.name, login=clean)
            )
        before = row.login
        row.login = clean
        uow.record("user.bind", "user", row.name, before={"login": before},
                   after={"login": clean})  # fmt: skip
        result = _user_dto(row)
        uow.commit()
    return result


@retrying
def unbind(uow: UnitOfWork, name: str) -> users_dto.User:
    with uow:
        uow.require("user.manage", doing=_("unbind users from logins"))
        row = uow.users.get(name, lock=True)
        if row.login is None:
            raise Refused(_("{user} is bound to no login").format(user=row.name))
        before = row.login
        row.login = None
        uow.record("user.unbind", "user", row.name, before={"login": before},
                   after={"login": None})  # fmt: skip
        result = _user_dto(row)
        uow.commit()
    return result


def bind_upgrader(db: Database, before: str | None, claimed: str | None) -> str | None:
    """After ``db upgrade`` took a database with users across revision 0018 (when nobody
    is bound yet), bind the upgrading login to the user it acted as until then: ``--user``,
    else the user named like the login (the old default). The upgrader holds the database
    owner's rights anyway. Returns the user bound, or None."""
    if before is None or before >= FIRST_IDENTITY_REVISION:
        return None
    identity = current_identity(db)
    name = claimed or identity
    uow = UnitOfWork(db, identity, identify=False)
    with uow:
        if uow.session.scalar(select(UserRow.id).where(UserRow.login.is_not(None))):
            return None
        row = uow.users.find(name)
        if row is None or not row.active or row.role == roles.Role.JOB.value:
            return None
        row.login = identity
        uow.audit.record(actor=row.name, action="user.bind", entity="user", entity_key=row.name,
                         before={"login": None},
                         after={"login": identity, "by": "db upgrade"})  # fmt: skip
        uow.commit()
    return name


def bind_if_free(uow: UnitOfWork, row: UserRow, login: str) -> bool:
    """Inside a use case: bind ``row`` to ``login`` unless some user already is."""
    if uow.users.bound_to(login) is not None:
        return False
    row.login = login
    return True
