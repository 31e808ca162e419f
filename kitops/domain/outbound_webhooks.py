"""Outbound webhooks: which changes become events, how a delivery is signed, and when a
failing delivery is tried again or given up.

An event is born from an audit row in the same transaction as the change (a database
trigger writes the outbox row, migration 0022), so a rolled-back change never becomes an
event and no code path that writes an audit row can forget one.

The signature is Stripe's scheme: the header ``Kitops-Signature: t=TIMESTAMP,v1=HEX``
where HEX is HMAC-SHA256 of ``TIMESTAMP.BODY`` under the subscription's secret. A receiver
recomputes it, compares in constant time and refuses a timestamp older than five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import kitops.i18n as i18n
from kitops.errors import InvalidInput

SIGNATURE_HEADER = "Kitops-Signature"
EVENT_ID_HEADER = "Kitops-Event-Id"
EVENT_TYPE_HEADER = "Kitops-Event-Type"

# audit action → event type (the trigger in migration 0022 holds the same table)
EVENT_OF_ACTION: dict[str, str] = {
    "lot.recalled": "lot.recalled",
    "lot.quarantine": "lot.quarantined",
    "lot.released": "lot.released",
    "kit.assemble": "kit.assembled",
    "kit.ship": "kit.shipped",
    "kit.handover": "kit.handed_over",
    "kit.return": "kit.returned",
    "po.approve": "po.approved",
    "po.send": "po.sent",
    "po.receive": "po.received",
    "po.cancel": "po.cancelled",
    "course.create": "course.created",
    "course.cancel": "course.cancelled",
    "course.complete": "course.completed",
}
# an order's audit row (any ``order.*`` action) whose status moved to one of these
EVENT_OF_ORDER_STATUS: dict[str, str] = {
    "paid": "order.paid",
    "failed": "order.payment_failed",
    "refunded": "order.refunded",
}
EVENTS: tuple[str, ...] = tuple(
    sorted({*EVENT_OF_ACTION.values(), *EVENT_OF_ORDER_STATUS.values()})
)

# what leaves kitops in a payload never names a patient
_PRIVATE_KEYS = frozenset({"patient_ref", "patient", "patient_reference"})

RETRY_FOR = timedelta(hours=24)
MAX_BACKOFF = timedelta(hours=1)
FIRST_BACKOFF = timedelta(seconds=30)
TOLERANCE = timedelta(minutes=5)


def parse_events(text: str, field: str = "--events") -> tuple[str, ...]:
    """``lot.recalled,kit.shipped`` → the event types, checked; ``*`` or ``all``: every one."""
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    if not wanted:
        raise InvalidInput(field, text, i18n.gettext("must name at least one event"))
    if wanted in (["*"], ["all"]):
        return EVENTS
    unknown = [name for name in wanted if name not in EVENTS]
    if unknown:
        raise InvalidInput(
            field,
            unknown[0],
            i18n.gettext("is not an event; events: {events}").format(events=",".join(EVENTS)),
        )
    return tuple(dict.fromkeys(wanted))


def parse_url(text: str, field: str = "URL") -> str:
    """An http(s) URL with a host; plain http only to this machine (loopback), since the
    payload names lots, kits and orders."""
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(field, text, i18n.gettext("must be an https:// URL"))
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise InvalidInput(
            field, text, i18n.gettext("must use https (plain http only to this machine)")
        )
    if len(url) > 500:
        raise InvalidInput(field, text, i18n.gettext("is longer than 500 characters"))
    return url


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header's value: ``t=1733400000,v1=5f2b...``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the header's timestamp is recent and some ``v1`` matches."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in fields if key == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = sign(secret, int(stamps[0]), body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, value) for key, value in fields if key == "v1")


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 1 min, 2 min... at most an hour."""
    wait: timedelta = FIRST_BACKOFF * (2 ** max(0, attempts - 1))
    return min(wait, MAX_BACKOFF)


def gives_up(first_failure: datetime, now: datetime) -> bool:
    """An event that has failed for 24 hours is given up (recorded, and the next one goes)."""
    return now - first_failure >= RETRY_FOR


def payload(
    event_id: str,
    event_type: str,
    created: datetime,
    *,
    entity: str,
    key: str,
    actor: str,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    """The body a receiver gets: the event's id (to deduplicate), its type and time, and
    what changed, without any patient reference."""
    data = {k: v for k, v in (after or {}).items() if k not in _PRIVATE_KEYS}
    return {
        "id": event_id,
        "type": event_type,
        "created": created.isoformat(timespec="seconds"),
        "data": {"entity": entity, "key": key, "actor": actor, "change": data},
    }
