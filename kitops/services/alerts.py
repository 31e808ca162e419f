"""Email alerts: who wants which, and the record that keeps each alert to one sending.

The delivery run (``kitops jobs run alerts``, in kitops.jobs) asks this module for the
alerts due, and for each one first *claims* it: an ``alerts`` row with state ``sending``
under a unique deduplication key, committed before anything is sent. Then it sends, then
marks the row ``sent``. A second run at the same time fails to claim the key and skips the
alert; a rerun finds it sent. A known failure (the SMTP server refused, or did not answer)
removes the claim, so nothing is marked sent and the next run tries again. A crash between
sending and marking leaves a ``sending`` row: after ``alert_sending_timeout_minutes`` it is
tried once more and flagged (it may have reached the person already), never again after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from kitops.data.schema import (
    AlertRow,
    AlertSubscriptionRow,
    AuditRow,
    LocationRow,
    UserClinicRow,
    UserRow,
    utcnow,
)
from kitops.domain import alerts as rules
from kitops.domain.locations import LocationKind
from kitops.errors import Conflict, InvalidInput, KitopsError
from kitops.i18n import _
from kitops.services.unit_of_work import UnitOfWork

__all__ = [
    "MailFailed",
    "Mailer",
    "Recipient",
    "claim",
    "forget",
    "immediate_events",
    "list_subscriptions",
    "mark_sent",
    "quiet_hours",
    "recipients",
    "recorded",
    "release_wait_days",
    "set_email",
    "subscribe",
    "unsubscribe",
]


DEFAULT_RELEASE_WAIT_DAYS = 7


class MailFailed(KitopsError):
    """The mail server refused the message or did not answer: nothing was sent."""


# sends one message, or raises MailFailed
Mailer = Callable[[EmailMessage], None]


@dataclass(frozen=True)
class Subscription:
    user: str
    email: str | None
    kind: str
    clinic: str | None  # None: every clinic the user may see


@dataclass(frozen=True)
class Recipient:
    user_id: int
    user: str
    email: str
    language: str | None
    clinic: str  # a clinic's code
    clinic_locale: str | None


def _user(uow: UnitOfWork, name: str) -> UserRow:
    row = uow.session.scalar(select(UserRow).where(UserRow.name == name.strip()))
    if row is None:
        raise InvalidInput("USER", name, _("is not a kitops user (kitops user list)"))
    return row


def _clinic(uow: UnitOfWork, code: str | None) -> LocationRow | None:
    if code is None:
        return None
    row = uow.session.scalar(select(LocationRow).where(LocationRow.code == code.strip().upper()))
    if row is None or row.kind != LocationKind.CLINIC.value:
        raise InvalidInput("--clinic", code, _("is not a clinic (kitops location list)"))
    return row


def set_email(uow: UnitOfWork, user: str, email: str | None) -> Subscription:
    """Where a user's alerts go (None: nowhere; their subscriptions stay)."""
    address = rules.parse_email(email) if email else None
    with uow:
        uow.require("user.manage")
        row = _user(uow, user)
        before = row.email
        row.email = address
        uow.record("user.set_email", "user", row.name, before={"email": before},
                   after={"email": address})  # fmt: skip
        uow.commit()
        return Subscription(row.name, address, "", None)


def subscribe(uow: UnitOfWork, user: str, kind: str, clinic: str | None = None) -> Subscription:
    wanted = rules.parse_kind(kind)
    with uow:
        uow.require("user.manage")
        row = _user(uow, user)
        place = _clinic(uow, clinic)
        exists = uow.session.scalar(
            select(AlertSubscriptionRow.id).where(
                AlertSubscriptionRow.user_id == row.id, AlertSubscriptionRow.kind == wanted,
                AlertSubscriptionRow.location_id.is_(None) if place is None
                else AlertSubscriptionRow.location_id == place.id)
        )  # fmt: skip
        if exists is None:
            uow.session.add(AlertSubscriptionRow(
                user_id=row.id, kind=wanted, location_id=place.id if place else None,
                created_by=uow.audit_name[:64]))  # fmt: skip
            uow.record("alert.subscribe", "user", row.name,
                       after={"kind": wanted, "clinic": place.code if place else None})  # fmt: skip
        uow.commit()
        return Subscription(row.name, row.email, wanted, place.code if place else None)


def unsubscribe(uow: UnitOfWork, user: str, kind: str, clinic: str | None = None) -> Subscription:
    wanted = rules.parse_kind(kind)
    with uow:
        uow.require("user.manage")
        row = _user(uow, user)
        place = _clinic(uow, clinic)
        gone = uow.session.execute(
            delete(AlertSubscriptionRow).where(
                AlertSubscriptionRow.user_id == row.id, AlertSubscriptionRow.kind == wanted,
                AlertSubscriptionRow.location_id.is_(None) if place is None
                else AlertSubscriptionRow.location_id == place.id)
        ).rowcount  # type: ignore[attr-defined]  # fmt: skip
        if not gone:
            raise InvalidInput(
                "KIND", kind, _("{user} does not subscribe to it").format(user=row.name)
            )
        uow.record("alert.unsubscribe", "user", row.name,
                   before={"kind": wanted, "clinic": place.code if place else None})  # fmt: skip
        uow.commit()
        return Subscription(row.name, row.email, wanted, place.code if place else None)


def list_subscriptions(uow: UnitOfWork) -> list[Subscription]:
    with uow:
        uow.require("user.manage")
        rows = uow.session.execute(
            select(UserRow.name, UserRow.email, AlertSubscriptionRow.kind, LocationRow.code)
            .join(UserRow, UserRow.id == AlertSubscriptionRow.user_id)
            .outerjoin(LocationRow, LocationRow.id == AlertSubscriptionRow.location_id)
            .order_by(UserRow.name, AlertSubscriptionRow.kind, LocationRow.code)
        ).all()  # fmt: skip
    return [Subscription(name, email, kind, code) for name, email, kind, code in rows]


def recipients(uow: UnitOfWork, kind: str) -> list[Recipient]:
    """Every (active user with an address, clinic) pair subscribed to ``kind``: a
    subscription without a clinic stands for each clinic the user may see."""
    with uow:
        uow.require("alert.send")
        clinics = {
            row.id: row
            for row in uow.session.scalars(
                select(LocationRow).where(LocationRow.kind == LocationKind.CLINIC.value,
                                          LocationRow.active)
            )
        }  # fmt: skip
        scope: dict[int, set[int]] = {}
        for user_id, location_id in uow.session.execute(
            select(UserClinicRow.user_id, UserClinicRow.location_id)
        ):
            scope.setdefault(user_id, set()).add(location_id)
        found: dict[tuple[int, str], Recipient] = {}
        for sub, user in uow.session.execute(
            select(AlertSubscriptionRow, UserRow)
            .join(UserRow, UserRow.id == AlertSubscriptionRow.user_id)
            .where(AlertSubscriptionRow.kind == kind, UserRow.active,
                   UserRow.email.is_not(None))
        ):  # fmt: skip
            assert user.email is not None
            if kind != rules.DIGEST and sub.location_id is None:
                # an alert about a lot or an order, not a clinic's day: once per person
                found[(user.id, "")] = Recipient(user.id, user.name, user.email,
                                                 user.language, "", None)  # fmt: skip
                continue
            allowed = scope.get(user.id)
            places = [sub.location_id] if sub.location_id is not None else sorted(clinics)
            for place in places:
                clinic = clinics.get(place) if place is not None else None
                if clinic is None or (allowed is not None and place not in allowed):
                    continue
                found[(user.id, clinic.code)] = Recipient(
                    user.id, user.name, user.email, user.language, clinic.code,
                    getattr(clinic, "locale", None))  # fmt: skip
        return sorted(found.values(), key=lambda r: (r.user, r.clinic))


@dataclass(frozen=True)
class ImmediateEvent:
    audit_id: int
    kind: str  # recall | payment
    at: datetime
    key: str  # the audit row's entity key (SKU/LOT, or the order number)
    after: dict[str, Any]


def immediate_events(uow: UnitOfWork, since: datetime) -> list[ImmediateEvent]:
    """Recalls and failed payments recorded since ``since`` (the run looks back two days;
    the deduplication keys make looking again harmless)."""
    with uow:
        uow.require("alert.send")
        rows = uow.session.execute(
            select(AuditRow.id, AuditRow.action, AuditRow.at, AuditRow.entity_key,
                   AuditRow.after, AuditRow.before)
            .where(AuditRow.at >= since,
                   (AuditRow.action == "lot.recalled") | AuditRow.action.like("order.%"))
            .order_by(AuditRow.id)
        ).all()  # fmt: skip
    events = []
    for audit_id, action, at, key, after, before in rows:
        after = after or {}
        if action == "lot.recalled":
            events.append(ImmediateEvent(audit_id, rules.RECALL, at, key, after))
        elif after.get("status") == "failed" and (before or {}).get("status") != "failed":
            events.append(ImmediateEvent(audit_id, rules.PAYMENT, at, key, after))
    return events


def _timeout(uow: UnitOfWork) -> timedelta:
    from kitops.services.users import _int_setting

    return timedelta(minutes=_int_setting(uow, "alert_sending_timeout_minutes", 30))


def claim(uow: UnitOfWork, key: str, kind: str, user_id: int, subject: str) -> bool:
    """Record the alert as ``sending`` before it goes; False when it is sent already, or
    being sent by another run, or was retried once after a crash."""
    now = utcnow()
    try:
        with uow:
            uow.session.add(AlertRow(dedupe_key=key, kind=kind, user_id=user_id,
                                     state="sending", attempts=1, flagged=False,
                                     subject=subject[:200], created_at=now))  # fmt: skip
            uow.commit()
        return True
    except (IntegrityError, Conflict):  # the key is taken: sent, or being sent
        pass
    with uow:
        timeout = _timeout(uow)
        # a claim left by a run that died between sending and marking: once more, flagged
        retried = uow.session.execute(
            update(AlertRow)
            .where(AlertRow.dedupe_key == key, AlertRow.state == "sending",
                   AlertRow.attempts == 1, AlertRow.created_at <= now - timeout)
            .values(attempts=2, flagged=True, created_at=now)
        ).rowcount  # type: ignore[attr-defined]  # fmt: skip
        uow.commit()
    return bool(retried)


def mark_sent(uow: UnitOfWork, key: str) -> None:
    with uow:
        uow.session.execute(
            update(AlertRow).where(AlertRow.dedupe_key == key)
            .values(state="sent", sent_at=utcnow())
        )  # fmt: skip
        uow.commit()


def forget(uow: UnitOfWork, key: str) -> None:
    """The server said no (or nothing): it was not sent, so the next run sends it."""
    with uow:
        uow.session.execute(
            delete(AlertRow).where(AlertRow.dedupe_key == key, AlertRow.state == "sending",
                                   AlertRow.attempts == 1)
        )  # fmt: skip
        uow.commit()


def quiet_hours(uow: UnitOfWork) -> rules.QuietHours | None:
    """The window in which immediate alerts wait (setting ``alert_quiet_hours``; ``off``
    or a value set before it was checked: none)."""
    with uow:
        value = uow.settings.get("alert_quiet_hours", rules.OFF)
    try:
        return rules.parse_quiet_hours(value)
    except InvalidInput:
        return None


def release_wait_days(uow: UnitOfWork) -> int:
    """Days a lot may wait in quarantine before the digest names it (setting
    ``alert_release_wait_days``, 7 unless set)."""
    from kitops.services.users import _int_setting

    with uow:
        return max(0, _int_setting(uow, "alert_release_wait_days", DEFAULT_RELEASE_WAIT_DAYS))


def recorded(uow: UnitOfWork, key: str) -> bool:
    """Whether an alert under ``key`` was sent already (or is being sent)."""
    with uow:
        return uow.session.scalar(select(AlertRow.id).where(AlertRow.dedupe_key == key)) is not None
