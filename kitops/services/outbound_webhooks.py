"""Outbound webhooks: subscribe an integration to events, list what each has had, and
deliver what waits (``kitops jobs run webhooks``, from cron every minute or few).

Delivery is at least once and in order per subscription. A run claims a subscription with
a short lease (a second run at the same time skips it), posts the events after its cursor
one by one, and moves the cursor in a short transaction after each 2xx answer; a crash
between the answer and that transaction sends the event again, with the same event id for
the receiver to recognise. A failed event stops its subscription until its next try
(30 s, 1 min, 2 min... at most an hour apart); after 24 hours it is given up (a
``webhook_failures`` row, shown by ``kitops webhook list``) and the next event goes.
"""

from __future__ import annotations

import json
import logging
import secrets as token_source
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from kitops import secrets
from kitops.data.schema import (
    AuditRow,
    WebhookFailureRow,
    WebhookOutboxRow,
    WebhookSubscriptionRow,
    utcnow,
)
from kitops.domain import outbound_webhooks as rules
from kitops.errors import InvalidInput
from kitops.i18n import _
from kitops.services.dto import outbound_webhooks as dto
from kitops.services.unit_of_work import UnitOfWork

__all__ = ["Sender", "add_webhook", "deliver", "list_webhooks", "post", "remove_webhook"]

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
TIMEOUT_SECONDS = 10.0
BATCH = 200


class DeliveryFailed(Exception):
    """The receiver did not take the event: no answer, or not a 2xx one."""


# (url, body, headers) → None, or DeliveryFailed
Sender = Callable[[str, bytes, dict[str, str]], None]


def post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST the event; any 2xx answer is a delivery."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            status = answer.status
    except urllib.error.HTTPError as refused:
        raise DeliveryFailed(f"HTTP {refused.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as problem:
        reason = getattr(problem, "reason", problem)
        raise DeliveryFailed(f"no answer: {reason}"[:200]) from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")


def _secret(path: str) -> bytes:
    return secrets.from_file(path, "--secret-file", error=lambda text: InvalidInput(
        "--secret-file", path, text.split(": ", 1)[-1])).encode()  # fmt: skip


def add_webhook(uow: UnitOfWork, url: str, events: str, secret_file: str) -> dto.Webhook:
    """Subscribe ``url`` to ``events`` from now on (no backlog), signing with the secret in
    ``secret_file`` (read at every delivery, never stored)."""
    clean_url = rules.parse_url(url)
    wanted = rules.parse_events(events)
    _secret(secret_file)  # readable now, by its owner only
    with uow:
        uow.require("webhook.manage")
        last = uow.session.scalar(select(func.max(WebhookOutboxRow.id))) or 0
        row = WebhookSubscriptionRow(
            url=clean_url, events=",".join(wanted), secret_file=secret_file, active=True,
            created_by=uow.audit_name[:64], cursor=last, attempts=0, delivered=0, failed=0,
        )  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        uow.record("webhook.add", "webhook", str(row.id),
                   after={"url": secrets.mask_url(clean_url), "events": list(wanted)})  # fmt: skip
        uow.commit()
        return _dto(uow, row)


def remove_webhook(uow: UnitOfWork, webhook_id: int) -> dto.Webhook:
    """Stop sending to a subscription (its row and history stay)."""
    with uow:
        uow.require("webhook.manage")
        row = uow.session.get(WebhookSubscriptionRow, webhook_id)
        if row is None or not row.active:
            raise InvalidInput(
                "webhook", webhook_id, _("is not an active webhook (kitops webhook list)")
            )
        row.active = False
        uow.record("webhook.remove", "webhook", str(row.id), before={"active": True},
                   after={"active": False})  # fmt: skip
        uow.commit()
        return _dto(uow, row)


def list_webhooks(uow: UnitOfWork) -> list[dto.Webhook]:
    with uow:
        uow.require("webhook.manage")
        rows = uow.session.scalars(
            select(WebhookSubscriptionRow).order_by(WebhookSubscriptionRow.id)
        ).all()
        return [_dto(uow, row) for row in rows]


def _dto(uow: UnitOfWork, row: WebhookSubscriptionRow) -> dto.Webhook:
    events = tuple(row.events.split(","))
    pending = uow.session.scalar(
        select(func.count()).select_from(WebhookOutboxRow)
        .where(WebhookOutboxRow.id > row.cursor, WebhookOutboxRow.event.in_(events))
    ) if row.active else 0  # fmt: skip
    return dto.Webhook(
        id=row.id, url=secrets.mask_url(row.url), events=events, active=row.active,
        created_at=row.created_at, created_by=row.created_by, delivered=row.delivered,
        pending=pending or 0, given_up=row.failed, attempts=row.attempts,
        next_attempt_at=row.next_attempt_at, failing_since=row.failing_since,
        last_error=row.last_error, last_delivered_at=row.last_delivered_at,
    )  # fmt: skip


def deliver(uow: UnitOfWork, send: Sender = post) -> dto.DeliveryReport:
    """Deliver what waits, for every active subscription this run can claim."""
    with uow:
        uow.require("webhook.deliver")
        ids = uow.session.scalars(
            select(WebhookSubscriptionRow.id).where(WebhookSubscriptionRow.active)
            .order_by(WebhookSubscriptionRow.id)
        ).all()  # fmt: skip
    totals = {"delivered": 0, "failed": 0, "given_up": 0, "busy": 0}
    errors: list[str] = []
    for webhook_id in ids:
        owner = token_source.token_hex(8)
        if not _claim(uow, webhook_id, owner):
            totals["busy"] += 1
            continue
        try:
            error = _deliver_one(uow, webhook_id, owner, send, totals)
        finally:
            _release(uow, webhook_id, owner)
        if error:
            errors.append(f"webhook {webhook_id}: {error}")
    return dto.DeliveryReport(len(ids), totals["delivered"], totals["failed"],
                              totals["given_up"], totals["busy"], tuple(errors))  # fmt: skip


def _claim(uow: UnitOfWork, webhook_id: int, owner: str) -> bool:
    """Take the subscription for this run, unless another run holds it or its next try
    is not due yet."""
    now = utcnow()
    table = WebhookSubscriptionRow
    with uow:
        claimed = uow.session.execute(
            update(table)
            .where(table.id == webhook_id, table.active,
                   (table.lease_until.is_(None)) | (table.lease_until <= now),
                   (table.next_attempt_at.is_(None)) | (table.next_attempt_at <= now))
            .values(lease_until=now + LEASE, lease_owner=owner)
        ).rowcount  # type: ignore[attr-defined]  # fmt: skip
        uow.commit()
    return bool(claimed)


def _release(uow: UnitOfWork, webhook_id: int, owner: str) -> None:
    table = WebhookSubscriptionRow
    with uow:
        uow.session.execute(
            update(table).where(table.id == webhook_id, table.lease_owner == owner)
            .values(lease_until=None, lease_owner=None)
        )  # fmt: skip
        uow.commit()


def _waiting(uow: UnitOfWork, row: WebhookSubscriptionRow) -> list[tuple[Any, ...]]:
    events = row.events.split(",")
    return list(uow.session.execute(
        select(WebhookOutboxRow.id, WebhookOutboxRow.event, WebhookOutboxRow.created_at,
               AuditRow.entity, AuditRow.entity_key, AuditRow.actor, AuditRow.after)
        .join(AuditRow, AuditRow.id == WebhookOutboxRow.audit_id)
        .where(WebhookOutboxRow.id > row.cursor, WebhookOutboxRow.event.in_(events))
        .order_by(WebhookOutboxRow.id).limit(BATCH)
    ).all())  # fmt: skip


def _deliver_one(
    uow: UnitOfWork, webhook_id: int, owner: str, send: Sender, totals: dict[str, int]
) -> str | None:
    with uow:
        row = uow.session.get(WebhookSubscriptionRow, webhook_id)
        assert row is not None
        url, secret_file, attempts = row.url, row.secret_file, row.attempts
        waiting = _waiting(uow, row)
    if not waiting:
        return None
    try:
        secret = _secret(secret_file)
    except InvalidInput as unreadable:
        _failed(uow, webhook_id, owner, waiting[0][0], f"secret: {unreadable.reason}", totals)
        return f"secret: {unreadable.reason}"
    for outbox_id, event, created, entity, key, actor, after in waiting:
        body = json.dumps(
            rules.payload(f"evt_{outbox_id}", event, created, entity=entity, key=key,
                          actor=actor, after=after),
            separators=(",", ":"), default=str,
        ).encode()  # fmt: skip
        stamp = int(utcnow().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "kitops-webhooks",
            rules.SIGNATURE_HEADER: rules.sign(secret, stamp, body),
            rules.EVENT_ID_HEADER: f"evt_{outbox_id}",
            rules.EVENT_TYPE_HEADER: event,
        }
        seen = {"subscription": webhook_id, "event_id": f"evt_{outbox_id}", "event": event,
                "attempt": attempts + 1}  # fmt: skip
        try:
            send(url, body, headers)
        except DeliveryFailed as failure:
            given_up = _failed(uow, webhook_id, owner, outbox_id, str(failure), totals)
            log.warning("webhook %s: evt_%s %s: %s", webhook_id, outbox_id,
                        "given up" if given_up else "failed", failure,
                        extra=seen | {"status": "given_up" if given_up else "failed"})  # fmt: skip
            if given_up:
                attempts = 0
                continue  # given up after 24 hours: the next event goes
            return str(failure)
        _delivered(uow, webhook_id, owner, outbox_id)
        log.info("webhook %s: evt_%s delivered", webhook_id, outbox_id,
                 extra=seen | {"status": "delivered"})  # fmt: skip
        attempts = 0
        totals["delivered"] += 1
    return None


def _delivered(uow: UnitOfWork, webhook_id: int, owner: str, outbox_id: int) -> None:
    table = WebhookSubscriptionRow
    with uow:
        uow.session.execute(
            update(table).where(table.id == webhook_id, table.lease_owner == owner)
            .values(cursor=outbox_id, attempts=0, failing_since=None, next_attempt_at=None,
                    last_error=None, last_delivered_at=utcnow(),
                    delivered=table.delivered + 1)
        )  # fmt: skip
        uow.commit()


def _failed(
    uow: UnitOfWork,
    webhook_id: int,
    owner: str,
    outbox_id: int,
    error: str,
    totals: dict[str, int],
) -> bool:
    """Record a failed try; True when the event is given up (24 hours of failures)."""
    now = utcnow()
    with uow:
        row = uow.session.get(WebhookSubscriptionRow, webhook_id)
        assert row is not None
        if row.lease_owner != owner:
            return False
        attempts = row.attempts + 1
        since = row.failing_since or now
        totals["failed"] += 1
        if rules.gives_up(since, now):
            uow.session.add(WebhookFailureRow(subscription_id=webhook_id, outbox_id=outbox_id,
                                              attempts=attempts, error=error[:300]))  # fmt: skip
            row.cursor, row.attempts, row.failing_since = outbox_id, 0, None
            row.next_attempt_at, row.failed = None, row.failed + 1
            row.last_error = f"gave up evt_{outbox_id}: {error}"[:300]
            totals["given_up"] += 1
            uow.commit()
            return True
        row.attempts, row.failing_since = attempts, since
        row.next_attempt_at = now + rules.backoff(attempts)
        row.last_error = error[:300]
        uow.commit()
        return False
