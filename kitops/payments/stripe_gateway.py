"""The Stripe implementation of :class:`kitops.payments.gateway.Gateway` (stripe-python 16).

The only module of kitops that imports stripe. Every POST carries an idempotency key that
the caller derives from the order and the step, so a retried command, or stripe-python's
own network retries, never create a second charge or refund. Stripe's answers are read
through ``to_dict()`` (Stripe objects are not dicts since v15) and turned into the plain
values of :mod:`kitops.payments.gateway`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import stripe

from kitops.i18n import _
from kitops.payments.gateway import (
    DEFAULT_TOLERANCE_SECONDS,
    BadSignature,
    CheckoutLine,
    CheckoutState,
    PaymentDeclined,
    PaymentEvent,
    PaymentProviderError,
    PaymentsNotConfigured,
    PaymentState,
    RefundState,
    StripeConfig,
)

# stripe-python would otherwise write a telemetry id file under the home directory
stripe.enable_telemetry = False


def _metadata(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _id_of(value: Any) -> str | None:
    """An expandable field: an id string, an expanded object, or nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _refund(data: dict[str, Any]) -> RefundState:
    return RefundState(
        refund_id=str(data["id"]),
        intent_id=_id_of(data.get("payment_intent")),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or "").upper(),
        status=str(data.get("status") or "pending"),
        metadata=_metadata(data.get("metadata")),
    )


def _checkout(data: dict[str, Any]) -> CheckoutState:
    return CheckoutState(
        session_id=str(data["id"]),
        status=str(data.get("status") or "open"),
        payment_status=str(data.get("payment_status") or "unpaid"),
        intent_id=_id_of(data.get("payment_intent")),
        amount_total=int(data.get("amount_total") or 0),
        currency=str(data.get("currency") or "").upper(),
        url=data.get("url") if isinstance(data.get("url"), str) else None,
        metadata=_metadata(data.get("metadata")),
    )


def _event(data: dict[str, Any]) -> PaymentEvent:
    obj = (data.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        obj = {}
    object_type = str(obj.get("object") or "")
    object_id = str(obj.get("id") or "")
    intent = object_id if object_type == "payment_intent" else _id_of(obj.get("payment_intent"))
    return PaymentEvent(
        event_id=str(data.get("id") or ""),
        type=str(data.get("type") or ""),
        created=int(data.get("created") or 0),
        object_type=object_type,
        object_id=object_id,
        intent_id=intent,
        metadata=_metadata(obj.get("metadata")),
    )


class StripeGateway:
    """Stripe through one ``StripeClient``, configured from the environment."""

    def __init__(self, config: StripeConfig) -> None:
        self.config = config
        self.client = stripe.StripeClient(
            config.api_key,
            base_addresses={"api": config.api_base},
            max_network_retries=config.max_network_retries,
        )

    @classmethod
    def from_env(cls, *, need_webhook_secret: bool = False) -> StripeGateway:
        return cls(StripeConfig.from_env(need_webhook_secret=need_webhook_secret))

    # --- errors -----------------------------------------------------------------------

    def _failed(self, error: stripe.StripeError) -> Exception:
        """One line, never the key: Stripe's messages about keys quote part of it."""
        if isinstance(error, stripe.CardError):
            err = error.error
            intent = _id_of(getattr(err, "payment_intent", None)) if err is not None else None
            message = error.user_message or _("the card was declined")
            return PaymentDeclined(
                _("payment declined: {message} ({code})").format(
                    message=message.rstrip('.'),
                    code=error.code or 'card_error',
                ),
                code=error.code, intent_id=intent,
            )  # fmt: skip
        if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
            return PaymentsNotConfigured(
                _(
                    "Stripe refused the key in KITOPS_STRIPE_API_KEY "
                    "(authentication failed); check that it is the secret key of "
                    "the clinic's account"
                )
            )
        if isinstance(error, stripe.APIConnectionError):
            return PaymentProviderError(
                _(
                    "Stripe could not be reached at {api_base}; nothing was "
                    "charged or changed there, try again"
                ).format(api_base=self.config.api_base)
            )
        status = getattr(error, "http_status", None)
        message = " ".join(str(error.user_message or "").split()) or type(error).__name__
        if "sk_" in message or "rk_" in message:
            message = type(error).__name__
        if not status:
            return PaymentProviderError(
                _("Stripe answered an error: {message}").format(message=message)
            )
        return PaymentProviderError(
            _("Stripe answered {status}: {message}").format(status=status, message=message)
        )

    def _call(self, operation: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            result = operation(*args, **kwargs)
        except stripe.StripeError as error:
            raise self._failed(error) from None
        data: dict[str, Any] = result.to_dict()
        return data

    # --- PaymentIntents ---------------------------------------------------------------

    def _payment(self, data: dict[str, Any], *, with_refunds: bool = True) -> PaymentState:
        status = str(data.get("status") or "")
        amount = int(data.get("amount") or 0)
        if "amount_received" in data and data["amount_received"] is not None:
            received = int(data["amount_received"])
        else:  # servers that leave it out report the charge's amount once it succeeded
            received = amount if status == "succeeded" else 0
        error = data.get("last_payment_error")
        failure = None
        if isinstance(error, dict):
            failure = str(error.get("message") or error.get("code") or "") or None
        refunds: tuple[RefundState, ...] = ()
        if with_refunds and status == "succeeded":
            refunds = tuple(self._refunds_of(str(data["id"])))
        return PaymentState(
            intent_id=str(data["id"]),
            status=status,
            amount=amount,
            amount_received=received,
            currency=str(data.get("currency") or "").upper(),
            metadata=_metadata(data.get("metadata")),
            failure=failure,
            refunds=refunds,
        )

    def _refunds_of(self, intent_id: str) -> Iterator[RefundState]:
        try:
            page = self.client.v1.refunds.list({"payment_intent": intent_id, "limit": 100})
            for refund in page.auto_paging_iter():
                yield _refund(refund.to_dict())
        except stripe.StripeError as error:
            raise self._failed(error) from None

    def create_payment_intent(
        self, *, amount: int, currency: str, payment_method: str | None, confirm: bool,
        metadata: dict[str, str], idempotency_key: str,
    ) -> PaymentState:  # fmt: skip
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method_types": ["card"],
            "metadata": metadata,
        }
        if payment_method:
            params["payment_method"] = payment_method
            params["confirm"] = confirm
        data = self._call(
            self.client.v1.payment_intents.create, params, {"idempotency_key": idempotency_key}
        )
        return self._payment(data, with_refunds=False)

    def retrieve_payment(self, intent_id: str) -> PaymentState:
        return self._payment(self._call(self.client.v1.payment_intents.retrieve, intent_id))

    def cancel_payment_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentState:
        data = self._call(
            self.client.v1.payment_intents.cancel, intent_id, {},
            {"idempotency_key": idempotency_key},
        )  # fmt: skip
        return self._payment(data, with_refunds=False)

    # --- Checkout ---------------------------------------------------------------------

    def create_checkout(
        self, *, lines: list[CheckoutLine], currency: str, success_url: str,
        cancel_url: str | None, metadata: dict[str, str], idempotency_key: str,
    ) -> CheckoutState:  # fmt: skip
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {"price_data": {"currency": currency.lower(), "unit_amount": line.unit_amount,
                                "product_data": {"name": line.name}},
                 "quantity": line.quantity}
                for line in lines
            ],
            "success_url": success_url,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "client_reference_id": metadata.get("kitops_order"),
        }  # fmt: skip
        if cancel_url:
            params["cancel_url"] = cancel_url
        data = self._call(
            self.client.v1.checkout.sessions.create, params,
            {"idempotency_key": idempotency_key},
        )  # fmt: skip
        return _checkout(data)

    def retrieve_checkout(self, session_id: str) -> CheckoutState:
        return _checkout(self._call(self.client.v1.checkout.sessions.retrieve, session_id))

    def expire_checkout(self, session_id: str, *, idempotency_key: str) -> CheckoutState:
        data = self._call(
            self.client.v1.checkout.sessions.expire, session_id, {},
            {"idempotency_key": idempotency_key},
        )  # fmt: skip
        return _checkout(data)

    # --- refunds ----------------------------------------------------------------------

    def create_refund(
        self, *, intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundState:
        data = self._call(
            self.client.v1.refunds.create,
            {"payment_intent": intent_id, "amount": amount, "metadata": metadata},
            {"idempotency_key": idempotency_key},
        )
        return _refund(data)

    def retrieve_refund(self, refund_id: str) -> RefundState:
        return _refund(self._call(self.client.v1.refunds.retrieve, refund_id))

    def intent_of_charge(self, charge_id: str) -> str | None:
        return _id_of(self._call(self.client.v1.charges.retrieve, charge_id).get("payment_intent"))

    # --- events -----------------------------------------------------------------------

    def events_since(self, created_gte: int | None) -> Iterator[PaymentEvent]:
        """Every event the Events API still holds (30 days) created at or after
        ``created_gte``, in whatever order the server pages them."""
        params: dict[str, Any] = {"limit": 100}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        try:
            page = self.client.v1.events.list(params)  # type: ignore[arg-type]
            for event in page.auto_paging_iter():
                yield _event(event.to_dict())
        except stripe.StripeError as error:
            raise self._failed(error) from None

    def verify_event(self, body: bytes, signature_header: str | None) -> PaymentEvent:
        secret = self.config.webhook_secret
        if not secret:
            raise PaymentsNotConfigured(_("KITOPS_STRIPE_WEBHOOK_SECRET is not set"))
        try:
            stripe.WebhookSignature.verify_header(
                body.decode("utf-8"), signature_header, secret, DEFAULT_TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
            reason = getattr(error, "user_message", None) or str(error)
            raise BadSignature(
                _("webhook signature rejected: {reason}").format(reason=reason)
            ) from None
        try:
            data = json.loads(body)
        except ValueError:
            raise BadSignature(_("webhook body is not JSON")) from None
        if not isinstance(data, dict) or data.get("object") != "event" or not data.get("id"):
            raise BadSignature(_("webhook body is not a Stripe event"))
        return _event(data)
