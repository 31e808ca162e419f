"""What the rest of kitops sees of the payment provider: plain values, one protocol, errors.

Nothing here imports stripe; :mod:`kitops.payments.stripe_gateway` implements
:class:`Gateway` with it. Secrets live in the environment (``KITOPS_STRIPE_API_KEY``,
``KITOPS_STRIPE_WEBHOOK_SECRET``) or in 0600 files named by ``..._FILE`` (kitops.secrets)
and never appear in a message, a repr or a log line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from kitops.errors import KitopsError, Refused
from kitops.i18n import _
from kitops.secrets import from_env

DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_TOLERANCE_SECONDS = 300  # Stripe's own default for a webhook signature's age
# a webhook endpoint's signing secret as Stripe shows it (the dashboard, `stripe listen`)
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_+/=-]{8,200}")


class PaymentsNotConfigured(KitopsError):
    """A required setting is missing or malformed (the value itself is never shown)."""

    exit_code = 2


class PaymentDeclined(Refused):
    """The card or payment method was declined; nothing was charged."""

    def __init__(self, message: str, *, code: str | None, intent_id: str | None) -> None:
        self.code = code
        self.intent_id = intent_id
        super().__init__(message)


class PaymentProviderError(KitopsError):
    """Stripe could not be reached, or refused the request."""

    exit_code = 1


class BadSignature(KitopsError):
    """A webhook whose ``Stripe-Signature`` is missing, forged or too old."""

    exit_code = 1


@dataclass(frozen=True)
class StripeConfig:
    api_key: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    webhook_secret: str | None = field(default=None, repr=False)
    max_network_retries: int = 2

    @classmethod
    def from_env(cls, *, need_webhook_secret: bool = False) -> StripeConfig:
        key = from_env("KITOPS_STRIPE_API_KEY", error=PaymentsNotConfigured) or ""
        if not key:
            raise PaymentsNotConfigured(
                _(
                    "KITOPS_STRIPE_API_KEY is not set: export the clinic's "
                    "Stripe secret key (sk_live_... or sk_test_..., or a "
                    "restricted rk_... key) to take payments"
                )
            )
        if not key.startswith(("sk_", "rk_")):
            raise PaymentsNotConfigured(
                _(
                    "KITOPS_STRIPE_API_KEY does not hold a Stripe secret key (it "
                    "must start with sk_ or rk_; the value is not shown)"
                )
            )
        secret = from_env("KITOPS_STRIPE_WEBHOOK_SECRET", error=PaymentsNotConfigured)
        if need_webhook_secret and not secret:
            raise PaymentsNotConfigured(
                _(
                    "KITOPS_STRIPE_WEBHOOK_SECRET is not set: export the signing "
                    "secret (whsec_...) of the webhook endpoint registered in "
                    "Stripe"
                )
            )
        if secret and not _WEBHOOK_SECRET.fullmatch(secret):
            raise PaymentsNotConfigured(
                _(
                    "KITOPS_STRIPE_WEBHOOK_SECRET does not hold a webhook "
                    "signing secret (it must be whsec_ followed by letters and "
                    "digits, as Stripe shows it; the value is not shown)"
                )
            )
        base = os.environ.get("KITOPS_STRIPE_API_BASE", "").strip() or DEFAULT_API_BASE
        if not base.startswith(("https://", "http://")):
            raise PaymentsNotConfigured(
                _(
                    "KITOPS_STRIPE_API_BASE {value!r}: must be an http(s) URL such as {default}"
                ).format(value=base, default=DEFAULT_API_BASE)
            )
        retries_text = os.environ.get("KITOPS_STRIPE_MAX_RETRIES", "").strip() or "2"
        if not retries_text.isdigit() or int(retries_text) > 10:
            raise PaymentsNotConfigured(
                _("KITOPS_STRIPE_MAX_RETRIES {value!r}: must be a whole number 0-10").format(
                    value=retries_text
                )
            )
        return cls(key, base.rstrip("/"), secret, int(retries_text))


@dataclass(frozen=True)
class RefundState:
    """A refund as the provider has it now."""

    refund_id: str
    intent_id: str | None
    amount: int
    currency: str
    status: str  # pending | requires_action | succeeded | failed | canceled
    metadata: dict[str, str]


@dataclass(frozen=True)
class PaymentState:
    """A PaymentIntent as the provider has it now, with its refunds."""

    intent_id: str
    status: str  # Stripe's PaymentIntent status
    amount: int
    amount_received: int
    currency: str  # upper case, as kitops keeps it
    metadata: dict[str, str]
    failure: str | None = None
    refunds: tuple[RefundState, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed(self) -> bool:
        """Cancelled, or declined and waiting for another payment method (a new
        PaymentIntent also waits for one, but has no error yet: it has not failed)."""
        if self.status == "canceled":
            return True
        return self.status == "requires_payment_method" and self.failure is not None


@dataclass(frozen=True)
class CheckoutState:
    """A Checkout Session (paying from home) as the provider has it now."""

    session_id: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    intent_id: str | None
    amount_total: int
    currency: str
    url: str | None
    metadata: dict[str, str]


@dataclass(frozen=True)
class PaymentEvent:
    """One provider event, reduced to what kitops acts on (never trusted for state:
    the handler fetches the current object)."""

    event_id: str
    type: str
    created: int
    object_type: str
    object_id: str
    intent_id: str | None
    metadata: dict[str, str]


@dataclass(frozen=True)
class CheckoutLine:
    name: str
    unit_amount: int
    quantity: int


class Gateway(Protocol):
    """The payment provider, as the services use it."""

    def create_payment_intent(
        self, *, amount: int, currency: str, payment_method: str | None, confirm: bool,
        metadata: dict[str, str], idempotency_key: str,
    ) -> PaymentState: ...  # fmt: skip

    def retrieve_payment(self, intent_id: str) -> PaymentState: ...

    def cancel_payment_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentState: ...

    def create_checkout(
        self, *, lines: list[CheckoutLine], currency: str, success_url: str,
        cancel_url: str | None, metadata: dict[str, str], idempotency_key: str,
    ) -> CheckoutState: ...  # fmt: skip

    def retrieve_checkout(self, session_id: str) -> CheckoutState: ...

    def expire_checkout(self, session_id: str, *, idempotency_key: str) -> CheckoutState: ...

    def create_refund(
        self, *, intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundState: ...

    def retrieve_refund(self, refund_id: str) -> RefundState: ...

    def intent_of_charge(self, charge_id: str) -> str | None: ...

    def events_since(self, created_gte: int | None) -> Iterator[PaymentEvent]: ...

    def verify_event(self, body: bytes, signature_header: str | None) -> PaymentEvent: ...
