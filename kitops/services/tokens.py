"""API tokens for integrations (``kitops token``, the web API's ``Authorization: Bearer``).

A token acts as its user, read-only if made so, until it expires or is revoked. It is
shown once when made; the database keeps only its SHA-256 (a token is 256 random bits,
so a fast hash is enough: nothing to guess from it). The audit log names what a token
does ``USER (token NAME)``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from kitops.data.schema import ApiTokenRow, UserRow, utcnow
from kitops.domain.ledger import parse_date
from kitops.domain.users import parse_user_name
from kitops.errors import Conflict, DatabaseUnavailable, InvalidInput, KitopsError, Refused
from kitops.i18n import _
from kitops.services.dto import tokens as tokens_dto
from kitops.services.unit_of_work import UnitOfWork, retrying

PREFIX = "kt_"
_TOKEN = re.compile(r"kt_[A-Za-z0-9_-]{43}")
AUDIT_ACTOR_MAX = 64  # the audit log's actor column
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is refreshed at most this often


class Unauthenticated(KitopsError):
    """The request proves no user: no token, or one unknown, revoked, expired or whose
    user is disabled (HTTP 401)."""

    exit_code = 1


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token_name(value: str, user: str) -> str:
    """A token's name, short enough that ``USER (token NAME)`` fits the audit log."""
    name = parse_user_name(value, "NAME")
    room = AUDIT_ACTOR_MAX - len(f"{user} (token )")
    if len(name) > room:
        raise InvalidInput(
            "NAME", value, _(
                "must be at most {room} characters for user {user}, so that "
                "'{user} (token NAME)' fits the audit log"
            ).format(room=max(room, 0), user=user),
        )  # fmt: skip
    return name


def parse_expiry(value: str | date | None, *, today: date | None = None) -> datetime | None:
    """``--expires DATE``: the token works through that day (UTC) and not after."""
    if value is None or value == "":
        return None
    day = value if isinstance(value, date) else parse_date(value, "expires")
    if day < (today or datetime.now(UTC).date()):
        raise InvalidInput("expires", str(value), _("must be today or a later day"))
    return datetime.combine(day + timedelta(days=1), time(0), UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _state(row: ApiTokenRow, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    expires = _aware(row.expires_at)
    if expires is not None and expires <= now:
        return "expired"
    return "active"


def _dto(row: ApiTokenRow, user: str, now: datetime) -> tokens_dto.ApiToken:
    return tokens_dto.ApiToken(
        name=row.name, user=user, read_only=row.read_only, expires_at=_aware(row.expires_at),
        created_at=_aware(row.created_at) or row.created_at, created_by=row.created_by,
        revoked_at=_aware(row.revoked_at), revoked_by=row.revoked_by,
        last_used_at=_aware(row.last_used_at), state=_state(row, now),
    )  # fmt: skip


@retrying
def create_token(
    uow: UnitOfWork,
    name: str,
    user: str,
    *,
    read_only: bool = False,
    expires: str | date | None = None,
    today: date | None = None,
) -> tokens_dto.NewToken:
    """Make a token acting as ``user``; the answer carries the token this once."""
    who = parse_user_name(user)
    token_name = parse_token_name(name, who)
    expires_at = parse_expiry(expires, today=today)
    with uow:
        uow.require("token.manage", doing=_("create API tokens"))
        owner = uow.users.get(who)
        if not owner.active:
            raise Refused(
                _("user {user} is disabled; enable it before making it a token").format(
                    user=owner.name
                )
            )
        taken = uow.session.scalar(select(ApiTokenRow.id).where(ApiTokenRow.name == token_name))
        if taken is not None:
            raise Conflict(
                _("a token named {token} exists already (see `kitops token list`)").format(
                    token=token_name
                )
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        row = ApiTokenRow(
            name=token_name, token_hash=token_hash(secret), user_id=owner.id,
            read_only=read_only, expires_at=expires_at, created_at=utcnow(),
            created_by=uow.audit_name[:64],
        )  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        uow.record(
            "token.create", "token", token_name,
            after={"user": owner.name, "read_only": read_only,
                   "expires_at": expires_at.isoformat() if expires_at else None},
        )  # fmt: skip
        result = tokens_dto.NewToken(_dto(row, owner.name, utcnow()), secret)
        uow.commit()
    return result


def list_tokens(uow: UnitOfWork) -> list[tokens_dto.ApiToken]:
    """Every token, by name (revoked and expired ones too, for the record)."""
    with uow:
        uow.require("token.manage", doing=_("list API tokens"))
        now = utcnow()
        rows = uow.session.execute(
            select(ApiTokenRow, UserRow.name)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .order_by(ApiTokenRow.name)
        ).all()
        return [_dto(row, user, now) for row, user in rows]


@retrying
def revoke_token(uow: UnitOfWork, name: str) -> tokens_dto.ApiToken:
    """Stop a token at once; it stays listed as revoked."""
    with uow:
        uow.require("token.manage", doing=_("revoke API tokens"))
        found = uow.session.execute(
            select(ApiTokenRow, UserRow.name)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.name == name.strip())
            .with_for_update(of=ApiTokenRow)
        ).first()
        if found is None:
            raise InvalidInput(
                "NAME", name, _("no API token has this name (see `kitops token list`)")
            )
        row, user = found
        if row.revoked_at is not None:
            raise Refused(_("token {token} was revoked already").format(token=row.name))
        row.revoked_at = utcnow()
        row.revoked_by = uow.audit_name[:64]
        uow.record("token.revoke", "token", row.name, before={"state": "active"},
                   after={"state": "revoked"})  # fmt: skip
        result = _dto(row, user, utcnow())
        uow.commit()
    return result


def verify_token(
    uow: UnitOfWork, presented: str | None, *, now: datetime | None = None
) -> tokens_dto.TokenHolder:
    """The user a presented token acts as, or ``Unauthenticated``: no token, unknown,
    revoked, expired, or its user disabled. ``uow`` identifies nobody (``identify=False``);
    the token's ``last_used_at`` is refreshed in a short transaction of its own."""
    if not presented:
        raise Unauthenticated(_("this needs an API token: Authorization: Bearer TOKEN"))
    if not _TOKEN.fullmatch(presented):
        raise Unauthenticated(_("unknown API token"))
    moment = now or utcnow()
    with uow:
        found = uow.session.execute(
            select(ApiTokenRow, UserRow.name, UserRow.role, UserRow.active)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.token_hash == token_hash(presented))
        ).first()
        if found is None:
            raise Unauthenticated(_("unknown API token"))
        row, user, role, active = found
        state = _state(row, moment)
        if state != "active":
            if state == "revoked":
                raise Unauthenticated(_("API token {token} is revoked").format(token=row.name))
            raise Unauthenticated(_("API token {token} is expired").format(token=row.name))
        if not active:
            raise Unauthenticated(
                _("the user of API token {token} is disabled").format(token=row.name)
            )
        holder = tokens_dto.TokenHolder(user, role, row.name, row.read_only)
        last = _aware(row.last_used_at)
        stale = last is None or moment - last >= LAST_USED_EVERY
        token_id = row.id
    if stale:
        _touch(uow, token_id, moment)
    return holder


def _touch(uow: UnitOfWork, token_id: int, moment: datetime) -> None:
    """Note when a token was last used; a busy database does not fail the request."""
    writer = UnitOfWork(uow.db, uow.actor, identify=False)
    try:
        with writer:
            row = writer.session.get(ApiTokenRow, token_id)
            if row is not None:
                row.last_used_at = moment
            writer.commit()
    except DatabaseUnavailable:
        pass
