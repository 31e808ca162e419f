"""Frozen values of the outbound webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str  # credentials in it masked
    events: tuple[str, ...]
    active: bool
    created_at: datetime
    created_by: str
    delivered: int
    pending: int  # events after the last one handled, waiting for delivery
    given_up: int  # events given up after 24 hours of failures
    attempts: int  # failed tries of the event now waiting
    next_attempt_at: datetime | None
    failing_since: datetime | None
    last_error: str | None
    last_delivered_at: datetime | None


@dataclass(frozen=True)
class DeliveryReport:
    subscriptions: int  # active subscriptions looked at
    delivered: int
    failed: int  # tries that failed (each to be tried again later)
    given_up: int  # events given up after 24 hours
    busy: int  # subscriptions another run was delivering, or waiting for their next try
    errors: tuple[str, ...]  # "webhook 3: HTTP 500" for each subscription stopped by a failure
