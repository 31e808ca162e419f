"""A Stripe webhook delivery, from its bytes to the answer Stripe reads: the same
semantics whichever server receives it (``kitops serve``, ``kitops stripe listen``).

200 when the event was applied, was a duplicate or does not concern kitops; 400 for a
missing, forged or stale ``Stripe-Signature``; 503 when the database was busy or Stripe
unreachable (Stripe retries for up to three days); 500 otherwise. ``note`` is the one
JSON line the server logs for the request (never the body, never a secret).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kitops.errors import DatabaseUnavailable, KitopsError
from kitops.payments.gateway import BadSignature, Gateway, PaymentProviderError
from kitops.services.payments import handle_event
from kitops.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

DEFAULT_PATH = "/stripe/webhook"
DEFAULT_MAX_BODY = 256 * 1024  # Stripe's event payloads are a few kilobytes


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict[str, Any]
    note: dict[str, Any] = field(default_factory=dict)


def receive(
    uow: Callable[[], UnitOfWork], gateway: Gateway, body: bytes, signature: str | None
) -> WebhookAnswer:
    """Verify one delivery and hand its event to the payment use case, in a transaction
    of its own (``uow()``: acting as the webhook's job user)."""
    try:
        event = gateway.verify_event(body, signature)
    except BadSignature as error:
        log.warning("stripe webhook refused: %s", error, extra={"status": 400})
        return WebhookAnswer(400, {"error": str(error)}, {"status": 400, "error": str(error)})
    seen = {"event": event.event_id, "type": event.type}
    log.info("stripe event %s (%s) received", event.event_id, event.type, extra=seen)
    try:
        outcome = handle_event(uow(), gateway, event, source="webhook")
    except (DatabaseUnavailable, PaymentProviderError) as error:
        log.warning("stripe event %s not applied, Stripe retries: %s", event.event_id, error,
                    extra={"status": 503, **seen})  # fmt: skip
        return WebhookAnswer(
            503, {"error": str(error)}, {"status": 503, **seen, "error": str(error)}
        )
    except KitopsError as error:
        log.error("stripe event %s failed: %s", event.event_id, error,
                  extra={"status": 500, **seen})  # fmt: skip
        return WebhookAnswer(
            500, {"error": str(error)}, {"status": 500, **seen, "error": str(error)}
        )
    except Exception as error:  # one line, never a traceback to the caller
        message = f"internal error ({type(error).__name__})"
        log.exception("stripe event %s failed", event.event_id, extra={"status": 500, **seen})
        return WebhookAnswer(500, {"error": message}, {"status": 500, **seen, "error": message})
    said = f"{outcome.outcome}: {outcome.detail}"
    log.info("stripe event %s (%s): %s", event.event_id, event.type, outcome.outcome,
             extra={"status": 200, **seen, "outcome": outcome.outcome})  # fmt: skip
    return WebhookAnswer(200, {"received": True, "outcome": said}, {"status": 200, **seen,
                                                                     "outcome": said})  # fmt: skip
