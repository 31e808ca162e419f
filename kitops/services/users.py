"""Users, logging in, the audit log and the settings: the service API the command line
(``kitops user``, ``kitops audit``, ``kitops setting``) and the TUI's login screen share.

PINs and passwords are kept only as argon2id hashes (argon2-cffi, imported when a hash is
made or checked). A wrong PIN counts towards a lock: after ``login_max_failures`` in a row
the user is locked for ``login_lockout_minutes``. Unknown user, disabled user and wrong PIN
read the same, so a login screen tells nobody which names exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy import exc as sa_exc

from kitops import i18n
from kitops.data.schema import AuditRow, LocationRow, SettingRow, UserClinicRow, UserRow, utcnow
from kitops.domain import roles
from kitops.domain.text import has_control
from kitops.domain.users import NAME_PATTERN, parse_login, parse_user_name
from kitops.errors import Conflict, InvalidInput, Refused
from kitops.i18n import N_, _
from kitops.services.dto import users as users_dto
from kitops.services.unit_of_work import UnitOfWork, retrying, translate

if TYPE_CHECKING:
    from argon2 import PasswordHasher

WRONG_LOGIN = N_("wrong user name or PIN")  # shown with i18n.gettext
DEFAULT_MAX_FAILURES = 5
DEFAULT_LOCKOUT_MINUTES = 15
DEFAULT_WRITEOFF_APPROVAL_UNITS = 10
SECRET_MIN, SECRET_MAX = 4, 128

_hasher: PasswordHasher | None = None

log = logging.getLogger(__name__)


def _argon2() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106's second recommended profile:
    3 passes over 64 MiB, 4 lanes); loaded on first use so nothing else pays for it."""
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


def hash_secret(secret: str) -> str:
    return _argon2().hash(secret)


def _verify(stored: str | None, secret: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        # an unknown user is checked against a hash of nothing, so a wrong name costs
        # as long as a wrong PIN and timing tells nothing
        return _argon2().verify(stored or _DUMMY.get(), secret)
    except (VerificationError, InvalidHashError):
        return False


class _Dummy:
    value: str | None = None

    def get(self) -> str:
        if self.value is None:
            self.value = hash_secret("not a kitops PIN")
        return self.value


_DUMMY = _Dummy()


# --- values ----------------------------------------------------------------------------


def parse_secret(secret: str, field: str = "PIN") -> str:
    """A PIN of at least 4 digits or a password; never shown back in an error."""
    if not SECRET_MIN <= len(secret) <= SECRET_MAX:
        raise InvalidInput(
            field,
            "(hidden)",
            _("must be {secret_min}-{secret_max} characters").format(
                secret_min=SECRET_MIN, secret_max=SECRET_MAX
            ),
        )
    if secret != secret.strip() or any(ord(c) < 32 or ord(c) == 127 for c in secret):
        raise InvalidInput(
            field, "(hidden)", _("must not start or end with a space or hold control characters")
        )
    return secret


def _int_setting(uow: UnitOfWork, key: str, default: int) -> int:
    value = uow.settings.get(key, str(default))
    try:
        return int(value)
    except ValueError:
        return default


def writeoff_approval_units(uow: UnitOfWork) -> int:
    """Write-offs of more units than this in one go need a manager."""
    return _int_setting(uow, "writeoff_approval_units", DEFAULT_WRITEOFF_APPROVAL_UNITS)


def clinics_of(uow: UnitOfWork, user_ids: list[int] | None = None) -> dict[int, tuple[str, ...]]:
    """The clinic codes each user is limited to, by user id (users with no limit absent)."""
    stmt = (
        select(UserClinicRow.user_id, LocationRow.code)
        .join(LocationRow, LocationRow.id == UserClinicRow.location_id)
        .order_by(LocationRow.code)
    )
    if user_ids is not None:
        stmt = stmt.where(UserClinicRow.user_id.in_(user_ids))
    found: dict[int, tuple[str, ...]] = {}
    for user_id, code in uow.session.execute(stmt):
        found[user_id] = (*found.get(user_id, ()), code)
    return found


def user_dto(row: UserRow, clinics: tuple[str, ...] = ()) -> users_dto.User:
    now = utcnow()
    locked = row.locked_until if row.locked_until and row.locked_until > now else None
    return users_dto.User(
        name=row.name, role=row.role, active=row.active, pin_set=row.secret_hash is not None,
        locked_until=locked, last_login_at=row.last_login_at, created_at=row.created_at,
        created_by=row.created_by, permissions=tuple(roles.permissions_of(row.role)),
        login=row.login, clinics=clinics, language=row.language,
    )  # fmt: skip


def _local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


# --- logging in ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Seen:
    """What a login reads before checking the PIN: whether any user exists yet, the hash
    to check (None: unknown, disabled or no PIN: a hash of nothing is checked), and
    whether the user is locked (then nothing is checked)."""

    anyone: bool
    secret_hash: str | None = None
    locked: bool = False


def _login_seen(uow: UnitOfWork, name: str) -> _Seen:
    """A short read, outside any write transaction (a database failure leaves as one
    line, as from a unit of work)."""
    try:
        return _read_login(uow, name)
    except sa_exc.SQLAlchemyError as error:
        raise translate(error) from error


def _read_login(uow: UnitOfWork, name: str) -> _Seen:
    with uow.db.read_sessions() as session:
        if session.scalar(select(UserRow.id).limit(1)) is None:
            return _Seen(anyone=False)
        if not NAME_PATTERN.fullmatch(name):
            return _Seen(anyone=True)
        found = session.execute(
            select(UserRow.secret_hash, UserRow.active, UserRow.locked_until).where(
                UserRow.name == name
            )
        ).one_or_none()
    if found is None or not found.active:
        return _Seen(anyone=True)
    if found.locked_until is not None and found.locked_until > utcnow():
        return _Seen(anyone=True, locked=True)
    return _Seen(anyone=True, secret_hash=found.secret_hash)


# How often a PIN changed between the check and the write sends the check round again
# before it is made inside the write transaction.
_RECHECKS = 3


def authenticate(uow: UnitOfWork, name: str, secret: str) -> users_dto.User:
    """Check a user's PIN or password (the TUI's login, ``kitops login``, the web's).

    Refused with the same ``wrong user name or PIN`` for an unknown or disabled user, a
    user without a PIN, or a wrong PIN; ``NAME is locked until HH:MM`` (local time) while
    locked. Every attempt leaves an audit row (``user.login``, ``user.login_failed``,
    ``user.locked``). ``uow`` must be able to write; nobody is identified before this.

    The argon2 check (tens of milliseconds, memory-hard) runs outside the write
    transaction, so many people logging in at once do not queue behind each other's
    checks: the hash is read, checked with no lock held, and the write transaction then
    locks the user's row and decides on what it holds now (a PIN changed meanwhile is
    checked again; disabled, locked, role as they are now). Failed logins are counted on
    the locked row, so wrong PINs sent at once lock the user exactly as the same number
    sent one after another would.
    """
    uow.identify = False  # logging in is what identifies the user
    tried = name.strip()[:64]
    for attempt in range(1, _RECHECKS + 2):
        seen = _login_seen(uow, tried)
        if not seen.anyone:
            raise Refused(roles.bootstrap_message())
        checked_hash = seen.secret_hash
        # an unknown user is checked against a hash of nothing (see ``_verify``); a locked
        # one is not checked (if the lock is lifted meanwhile, the write sends it round)
        right = not seen.locked and _verify(checked_hash, secret)
        rehashed = None
        if right and checked_hash is not None and _argon2().check_needs_rehash(checked_hash):
            rehashed = hash_secret(secret)
        decided = _record_login(
            uow, tried, secret, checked_hash, right, rehashed, last=attempt > _RECHECKS
        )
        if decided is not None:
            return decided
    raise AssertionError("unreachable")


def _record_login(
    uow: UnitOfWork,
    tried: str,
    secret: str,
    checked_hash: str | None,
    right: bool,
    rehashed: str | None,
    *,
    last: bool,
) -> users_dto.User | None:
    """The write transaction of a login, on the user's locked row; None when the PIN
    changed since ``checked_hash`` was checked and the check must be made again."""
    outcome: Refused | None = None
    with uow:
        now = utcnow()

        def audit(action: str, **after: Any) -> None:
            uow.audit.record(actor=tried or "-", action=action, entity="user",
                             entity_key=tried or "-", after=after or None)  # fmt: skip
            # the name of a known user only: a PIN typed into the name field stays out. At
            # INFO, a lockout too: the person is told, and a command's screen stays as it was
            shown = None if after.get("reason") == "unknown user" else tried
            log.info("%s: %s", action, shown or "(unknown user)",
                     extra={"user": shown, "reason": after.get("reason")})  # fmt: skip

        if uow.session.scalar(select(UserRow.id).limit(1)) is None:
            raise Refused(roles.bootstrap_message())
        row = uow.users.find(tried, lock=True) if NAME_PATTERN.fullmatch(tried) else None
        if row is None or not row.active or row.secret_hash is None:
            reason = "unknown user" if row is None else ("disabled" if not row.active else "no PIN")
            audit("user.login_failed", reason=reason)
            outcome = Refused(i18n.gettext(WRONG_LOGIN))
        elif row.locked_until is not None and row.locked_until > now:
            audit("user.login_failed", reason="locked")
            outcome = Refused(
                _("{user} is locked until {locked_until}").format(
                    user=row.name, locked_until=_local_time(row.locked_until)
                )
            )
        else:
            if row.secret_hash != checked_hash:
                # the PIN changed (or the user appeared or was enabled) since the check
                if not last:
                    return None  # leaving the block rolls back: nothing was written
                right, rehashed = _verify(row.secret_hash, secret), None
            if not right:
                most = max(1, _int_setting(uow, "login_max_failures", DEFAULT_MAX_FAILURES))
                row.failed_logins += 1
                if row.failed_logins >= most:
                    minutes = max(
                        1, _int_setting(uow, "login_lockout_minutes", DEFAULT_LOCKOUT_MINUTES)
                    )
                    row.locked_until = now + timedelta(minutes=minutes)
                    row.failed_logins = 0
                    audit("user.locked", failures=most, until=row.locked_until.isoformat())
                    outcome = Refused(
                        _(
                            "{user} is locked until {locked_until} after {most} failed logins"
                        ).format(
                            user=row.name, locked_until=_local_time(row.locked_until), most=most
                        )
                    )
                else:
                    audit("user.login_failed", reason="wrong PIN", failures=row.failed_logins)
                    outcome = Refused(i18n.gettext(WRONG_LOGIN))
            elif row.role == roles.Role.JOB.value:
                audit("user.login_failed", reason="job user")
                outcome = Refused(
                    _("{user} is a job user: job users run the cron jobs only").format(
                        user=row.name
                    )
                )
            else:
                if rehashed is None and _argon2().check_needs_rehash(row.secret_hash):
                    rehashed = hash_secret(secret)
                if rehashed is not None:
                    row.secret_hash = rehashed
                row.failed_logins = 0
                row.locked_until = None
                row.last_login_at = now
                audit("user.login", role=row.role)
        uow.session.flush()
        result = user_dto(row) if outcome is None and row is not None else None
        uow.commit()
    if outcome is not None:
        raise outcome
    assert result is not None
    return result


def get_user(uow: UnitOfWork, name: str) -> users_dto.User:
    """One user (any active user may look)."""
    with uow:
        row = uow.users.get(name)
        return user_dto(row, clinics_of(uow, [row.id]).get(row.id, ()))


# --- managing users (admins) -------------------------------------------------------------


def list_users(uow: UnitOfWork) -> list[users_dto.User]:
    with uow:
        uow.require("user.manage", doing=_("list users"))
        rows = uow.session.scalars(select(UserRow).order_by(UserRow.name)).all()
        limits = clinics_of(uow)
        return [user_dto(row, limits.get(row.id, ())) for row in rows]


def parse_clinic_codes(text: str) -> list[str]:
    """``LON,ESX`` as clinic codes (upper case, no repeats); an empty text is no limit."""
    from kitops.domain.locations import parse_location_code

    codes: list[str] = []
    for part in text.split(","):
        if part.strip():
            code = parse_location_code(part.strip(), "clinics")
            if code not in codes:
                codes.append(code)
    return codes


@retrying
def set_clinics(uow: UnitOfWork, name: str, clinics: list[str]) -> users_dto.User:
    """Limit a user to ``clinics`` (codes); an empty list lifts the limit (every clinic).

    Admins only. An admin who is limited to clinics may give a user only clinics of
    their own, and may not lift a limit: nobody widens their own reach this way."""
    wanted = [found for code in clinics for found in parse_clinic_codes(code)]
    with uow:
        uow.require("user.manage", doing=_("limit users to clinics"))
        row = uow.users.get(name, lock=True)
        found = [uow.locations.clinic(code, "clinics") for code in dict.fromkeys(wanted)]
        mine = uow.scope_clinics()
        if mine is not None:
            if not found:
                raise uow.scope_refusal(_("give a user every clinic"))
            for clinic in found:
                uow.check_clinic(clinic, doing=_("give users access"))
        before = clinics_of(uow, [row.id]).get(row.id, ())
        uow.session.execute(delete(UserClinicRow).where(UserClinicRow.user_id == row.id))
        for clinic in found:
            uow.session.add(UserClinicRow(user_id=row.id, location_id=clinic.id))
        uow.session.flush()
        after = tuple(sorted(clinic.code for clinic in found))
        uow.record("user.set_clinics", "user", row.name,
                   before={"clinics": list(before) or "all"},
                   after={"clinics": list(after) or "all"})  # fmt: skip
        result = user_dto(row, after)
        uow.commit()
    return result


@retrying
def add_user(
    uow: UnitOfWork,
    name: str,
    role: str,
    secret: str | None = None,
    *,
    login: str | None = None,
    bootstrap_login: str | None = None,
) -> users_dto.User:
    """A new user, bound to ``login`` if given. On a database with no users the first one
    must be an admin, and anyone may create it (the bootstrap); it is bound to
    ``bootstrap_login`` (the identity creating it) unless ``login`` says otherwise. After
    that only an admin adds users."""
    wanted = roles.parse_role(role)
    clean = parse_user_name(name, "name")
    if login is not None:
        login = parse_login(login)
    if secret is not None:
        parse_secret(secret)
    hashed = hash_secret(secret) if secret is not None else None
    with uow:
        uow.require("user.manage", doing=_("add users"))
        if uow.user is None and wanted is not roles.Role.ADMIN:
            raise Refused(roles.bootstrap_message())
        if uow.users.find(clean) is not None:
            raise Conflict(
                _("user {user} already exists (see `kitops user list`)").format(user=clean)
            )
        if login is None and uow.user is None:
            login = bootstrap_login
        if login is not None:
            other = uow.users.bound_to(login)
            if other is not None:
                raise Conflict(
                    _(
                        "login {login} is already bound to {user}: `kitops user "
                        "unbind {user}` first"
                    ).format(login=login, user=other.name)
                )
        row = UserRow(name=clean, role=wanted.value, active=True, secret_hash=hashed,
                      failed_logins=0, created_at=utcnow(), created_by=uow.actor[:64],
                      login=login)  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        uow.record("user.add", "user", clean,
                   after={"role": wanted.value, "pin_set": hashed is not None,
                          "login": login})  # fmt: skip
        result = user_dto(row)
        uow.commit()
    return result


def _keep_an_admin(uow: UnitOfWork, row: UserRow, doing: str) -> None:
    if row.role == roles.Role.ADMIN.value and row.active and uow.users.active_admins() <= 1:
        raise Refused(
            _("{user} is the last active admin: add another admin before you {doing}").format(
                user=row.name, doing=doing
            )
        )


@retrying
def set_role(uow: UnitOfWork, name: str, role: str) -> users_dto.User:
    wanted = roles.parse_role(role)
    with uow:
        uow.require("user.manage", doing=_("change roles"))
        row = uow.users.get(name, lock=True)
        if row.role == wanted.value:
            raise Refused(
                _("{user} already has the role {wanted}").format(user=row.name, wanted=wanted.value)
            )
        if wanted is not roles.Role.ADMIN:
            _keep_an_admin(uow, row, _("change its role"))
        before = row.role
        row.role = wanted.value
        uow.record("user.set_role", "user", row.name, before={"role": before},
                   after={"role": row.role})  # fmt: skip
        result = user_dto(row)
        uow.commit()
    return result


@retrying
def set_active(uow: UnitOfWork, name: str, active: bool) -> users_dto.User:
    """Disable a user (kept, with its history; it can do nothing) or enable it again
    (which also lifts a login lock)."""
    with uow:
        uow.require("user.manage", doing=_("disable or enable users"))
        row = uow.users.get(name, lock=True)
        if row.active == active:
            if active:
                raise Refused(_("{user} is already enabled").format(user=row.name))
            raise Refused(_("{user} is already disabled").format(user=row.name))
        if not active:
            _keep_an_admin(uow, row, _("disable it"))
        row.active = active
        if active:
            row.failed_logins, row.locked_until = 0, None
        uow.record(f"user.{'enable' if active else 'disable'}", "user", row.name,
                   before={"active": not active}, after={"active": active})  # fmt: skip
        result = user_dto(row)
        uow.commit()
    return result


@retrying
def set_secret(
    uow: UnitOfWork, name: str, secret: str | None, *, current: str | None = None
) -> users_dto.User:
    """Set (or with ``None`` remove) a user's PIN. An admin may set anyone's; any other
    user only their own, giving the current one. Lifts a login lock."""
    clean = parse_user_name(name)
    if secret is not None:
        parse_secret(secret)
    hashed = hash_secret(secret) if secret is not None else None
    with uow:
        own = uow.user is not None and uow.user.name == clean
        if not own:
            uow.require("user.manage", doing=_("set another user's PIN"))
        row = uow.users.get(clean, lock=True)
        must_prove = own and uow.user is not None and uow.user.role is not roles.Role.ADMIN
        if must_prove and row.secret_hash and not _verify(row.secret_hash, current or ""):
            raise Refused(_("the current PIN is wrong; nothing was changed"))
        row.secret_hash = hashed
        row.failed_logins, row.locked_until = 0, None
        uow.record("user.set_pin", "user", row.name, after={"pin_set": hashed is not None})
        result = user_dto(row)
        uow.commit()
    return result


# --- the audit log ---------------------------------------------------------------------


def read_audit(
    uow: UnitOfWork,
    *,
    user: str | None = None,
    since: date | datetime | None = None,
    action: str | None = None,
    limit: int = 100,
) -> list[users_dto.AuditEntry]:
    """The newest ``limit`` audit rows matching, oldest first (managers and admins)."""
    if not 1 <= limit <= 100_000:
        raise InvalidInput("limit", limit, _("must be 1-100000"))
    with uow:
        uow.require("audit.read")
        query = select(AuditRow)
        if user:
            query = query.where(AuditRow.actor == user.strip())
        if since is not None:
            start = since if isinstance(since, datetime) else datetime.combine(since, time(), UTC)
            query = query.where(AuditRow.at >= start)
        if action:
            escaped = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(AuditRow.action.like(f"{escaped}%", escape="\\"))
        rows = list(uow.session.scalars(query.order_by(AuditRow.id.desc()).limit(limit)))
        return [
            users_dto.AuditEntry(id=r.id, at=r.at, actor=r.actor, action=r.action, entity=r.entity,
                                 key=r.entity_key, before=r.before, after=r.after)
            for r in reversed(rows)
        ]  # fmt: skip


# --- settings --------------------------------------------------------------------------


def _non_negative_int(value: str) -> str:
    if not value.isdigit():
        raise ValueError(_("must be a whole number, 0 or more"))
    return str(int(value))


def _positive_int(value: str) -> str:
    if not value.isdigit() or int(value) < 1:
        raise ValueError(_("must be a whole number, 1 or more"))
    return str(int(value))


def _millimetres(value: str) -> str:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(_("must be a length in millimetres, such as 0.6")) from None
    if not number.is_finite() or number <= 0 or number > 10:
        raise ValueError(_("must be more than 0 and at most 10 mm"))
    return format(number.normalize(), "f")


def _patient_text(value: str) -> str:
    text = " ".join(value.split())
    if not 1 <= len(text) <= 500:
        raise ValueError(_("must be 1-500 characters"))
    if has_control(text):
        raise ValueError(_("must not hold control characters"))
    return text


def _quiet_hours(value: str) -> str:
    from kitops.domain import alerts as alert_rules

    try:
        return alert_rules.quiet_hours_text(alert_rules.parse_quiet_hours(value))
    except InvalidInput as bad:
        raise ValueError(bad.reason) from None


# the descriptions are marked for the catalog; a front end shows them with i18n.gettext
SETTINGS: dict[str, tuple[str, Callable[[str], str]]] = {
    "at_home_max_needle_mm": (N_("longest derma stamp needle allowed for home use"), _millimetres),
    "expiry_margin_days": (
        N_("days a vial must stay in date beyond its last use"), _non_negative_int),
    "writeoff_approval_units": (
        N_("write-offs of more units than this in one go need a manager"), _non_negative_int),
    "login_max_failures": (N_("failed logins in a row that lock a user"), _positive_int),
    "login_lockout_minutes": (N_("how long a locked user waits"), _positive_int),
    "session_idle_minutes": (
        N_("minutes a `kitops login` session lasts unused"), _positive_int),
    "web_session_idle_minutes": (
        N_("minutes a web page session (`kitops serve`) lasts unused"), _positive_int),
    "clinic_sessions_per_day": (
        N_("clinic sessions a clinic books a day unless it sets its own"), _positive_int),
    "alert_sending_timeout_minutes": (
        N_("minutes after which an alert still marked sending is tried once more"),
        _positive_int),
    "alert_quiet_hours": (
        N_("hours in which immediate alerts wait, such as 22:00-07:00 Europe/London, or off"),
        _quiet_hours),
    "alert_release_wait_days": (
        N_("days a lot may wait for release before the daily digest names it"),
        _non_negative_int),
    "home_application_instructions": (
        N_("what the patient's calendar says with every home application"), _patient_text),
}  # fmt: skip


def list_settings(uow: UnitOfWork) -> list[users_dto.Setting]:
    with uow:
        stored = {
            key: value
            for key, value in uow.session.execute(select(SettingRow.key, SettingRow.value))
        }
    return [
        users_dto.Setting(key, stored.get(key, ""), description)
        for key, (description, _) in SETTINGS.items()
    ]


@retrying
def set_setting(uow: UnitOfWork, key: str, value: str) -> users_dto.Setting:
    if key not in SETTINGS:
        raise InvalidInput(
            "setting", key, _("must be one of {choices}").format(choices=", ".join(SETTINGS))
        )
    description, check = SETTINGS[key]
    try:
        clean = check(value.strip())
    except ValueError as error:
        raise InvalidInput(key, value, str(error)) from None
    with uow:
        uow.require("setting.set")
        row = uow.session.get(SettingRow, key)
        before = row.value if row is not None else None
        if row is None:
            uow.session.add(SettingRow(key=key, value=clean))
        else:
            row.value = clean
        uow.record("setting.set", "setting", key, before={"value": before},
                   after={"value": clean})  # fmt: skip
        uow.commit()
    return users_dto.Setting(key, clean, description)
