"""Orders: prices, creating an order for a course, taking its payment, refunding it,
cancelling it, looking it up.

A use case that talks to Stripe is split around the call: its intent is committed first
(an attempt or refund row carrying an idempotency key derived from the order and the
step), then Stripe is called, then what Stripe answered is recorded. A command retried
after a crash or a lost answer re-sends the same key, so Stripe never charges or refunds
twice; kitops itself refuses a second payment while one is in flight and a refund of
more than is left. State changes that follow from money (paid, failed, refunded) go
through :func:`kitops.services.payments.apply_payment`, the same code the event handler
runs, so the command, the webhook and the sync can race without doing anything twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import kitops.i18n as i18n
from kitops.data.schema import (
    KitRow,
    OrderLineRow,
    OrderPaymentRow,
    OrderRefundRow,
    OrderRow,
    PlanRow,
    PriceRow,
    utcnow,
)
from kitops.domain import orders as rules
from kitops.domain.courses import Administered, CourseStatus
from kitops.domain.money import Money, currency_code
from kitops.domain.orders import OrderStatus, RestockMode
from kitops.errors import InvalidInput, Refused
from kitops.i18n import _
from kitops.payments.gateway import (
    CheckoutLine,
    CheckoutState,
    Gateway,
    PaymentDeclined,
    PaymentsNotConfigured,
    PaymentState,
    StripeConfig,
)
from kitops.services.dto import payments as payments_dto
from kitops.services.payments import apply_payment, money_of, release_held_kits, reserve_kits
from kitops.services.unit_of_work import UnitOfWork, retrying

# --- prices -----------------------------------------------------------------------------


def _price_target(uow: UnitOfWork, item: str) -> tuple[int | None, int | None, str]:
    text = item.strip()
    if text.lower().startswith("plan:"):
        plan = uow.plans.get(text[5:])
        return None, plan.id, f"plan:{plan.code}"
    product = uow.products.get(text.upper(), "item")
    return product.id, None, product.sku


def _price_dto(row: PriceRow) -> payments_dto.Price:
    if row.product is not None:
        item, kind = row.product.sku, "product"
    else:
        assert row.plan is not None
        item, kind = f"plan:{row.plan.code}", "plan"
    return payments_dto.Price(item, kind, row.currency, Money(row.unit_amount_minor, row.currency))


def set_price(uow: UnitOfWork, item: str, amount: str, currency: str) -> payments_dto.Price:
    """What a product (``KIT-HOME-6W``) or a plan (``plan:clinic-weekly-6``) costs in a
    currency; replaces the price it had there."""
    money = Money.parse(amount, currency, "amount")
    with uow:
        uow.require("price.set")
        product_id, plan_id, _ = _price_target(uow, item)
        stmt = select(PriceRow).where(PriceRow.currency == money.currency)
        stmt = stmt.where(
            PriceRow.product_id == product_id if product_id else PriceRow.plan_id == plan_id
        )
        row = uow.session.scalar(stmt.with_for_update())
        before = {"amount_minor": row.unit_amount_minor} if row is not None else None
        if row is None:
            row = PriceRow(product_id=product_id, plan_id=plan_id, currency=money.currency,
                           unit_amount_minor=money.amount_minor)  # fmt: skip
            uow.session.add(row)
        else:
            row.unit_amount_minor = money.amount_minor
            row.updated_at = utcnow()
        uow.session.flush()
        uow.session.refresh(row)
        result = _price_dto(row)
        uow.record("price.set", "price", f"{result.item}/{money.currency}", before=before,
                   after={"amount_minor": money.amount_minor})  # fmt: skip
        uow.commit()
    return result


def list_prices(uow: UnitOfWork) -> list[payments_dto.Price]:
    with uow:
        rows = uow.session.scalars(
            select(PriceRow).options(selectinload(PriceRow.product), selectinload(PriceRow.plan))
        ).all()
        return sorted((_price_dto(row) for row in rows), key=lambda p: (p.item, p.currency))


def _price(uow: UnitOfWork, currency: str, *, product_id: int | None = None,
           plan_id: int | None = None) -> int | None:  # fmt: skip
    stmt = select(PriceRow.unit_amount_minor).where(PriceRow.currency == currency)
    if product_id is not None:
        stmt = stmt.where(PriceRow.product_id == product_id)
    else:
        stmt = stmt.where(PriceRow.plan_id == plan_id)
    return uow.session.scalar(stmt)


# --- reading orders ----------------------------------------------------------------------


def order_dto(uow: UnitOfWork, order: OrderRow) -> payments_dto.Order:
    money = money_of(order)

    def show(minor: int) -> Money:
        return Money(minor, order.currency)

    payments = uow.session.scalars(
        select(OrderPaymentRow).where(OrderPaymentRow.order_id == order.id)
        .order_by(OrderPaymentRow.attempt_no)
    ).all()  # fmt: skip
    refunds = uow.session.scalars(
        select(OrderRefundRow).where(OrderRefundRow.order_id == order.id)
        .order_by(OrderRefundRow.refund_no)
    ).all()  # fmt: skip
    kits = uow.session.execute(
        select(KitRow.serial, KitRow.course_part, KitRow.status)
        .where(KitRow.course_id == order.course_id).order_by(KitRow.course_part)
    ).all()  # fmt: skip
    plans = {row.id: row.code for row in uow.session.scalars(select(PlanRow))}
    products = {row.id: row.sku for row in uow.products.all()} if order.lines else {}
    lines = tuple(
        payments_dto.OrderLine(
            line.line_no,
            products.get(line.product_id or 0) or f"plan:{plans.get(line.plan_id or 0, '?')}",
            line.description, line.quantity, show(line.unit_amount_minor),
            show(line.amount_minor),
        )
        for line in order.lines
    )  # fmt: skip
    return payments_dto.Order(
        id=order.id, course_id=order.course_id, patient_ref=order.patient_ref,
        clinic=order.clinic.code, currency=order.currency, status=order.status,
        total=show(order.total_minor), paid=show(order.paid_minor),
        refunded=show(order.refunded_minor), outstanding=show(money.outstanding),
        note=order.note, created_at=order.created_at, lines=lines,
        payments=tuple(
            payments_dto.OrderPayment(p.attempt_no, p.method, p.status, show(p.amount_minor),
                                      p.intent_id, p.session_id, p.url, p.failure)
            for p in payments
        ),
        refunds=tuple(
            payments_dto.OrderRefund(r.refund_no, show(r.amount_minor), r.restock, r.status,
                                     r.applied, r.refund_id)
            for r in refunds
        ),
        kits=tuple(payments_dto.OrderKit(serial, part, status) for serial, part, status in kits),
    )  # fmt: skip


def show_order(uow: UnitOfWork, order_id: int | str) -> payments_dto.Order:
    with uow:
        return order_dto(uow, uow.orders.get(order_id))


def list_orders(
    uow: UnitOfWork, *, clinic: str | None = None, status: str | None = None,
    course: int | str | None = None,
) -> list[payments_dto.Order]:  # fmt: skip
    if status:
        try:
            status = OrderStatus(status.strip().lower()).value
        except ValueError:
            choices = "|".join(s.value for s in OrderStatus)
            raise InvalidInput(
                "status", status, _("must be one of {choices}").format(choices=choices)
            ) from None
    with uow:
        stmt = select(OrderRow).order_by(OrderRow.id)
        if clinic:
            stmt = stmt.where(OrderRow.clinic_id == uow.clinic_filter(clinic, _("see orders")).id)
        if (scope := uow.scope_clinics()) is not None:
            stmt = stmt.where(OrderRow.clinic_id.in_(scope))
        if status:
            stmt = stmt.where(OrderRow.status == status)
        if course is not None and str(course).strip():
            stmt = stmt.where(OrderRow.course_id == uow.courses.get(course).id)
        return [order_dto(uow, row) for row in uow.session.scalars(stmt)]


# --- creating an order ------------------------------------------------------------------


@retrying
def create_order(
    uow: UnitOfWork, course_id: int | str, *, currency: str | None = None,
    items: Iterable[str] = (),
) -> payments_dto.Order:  # fmt: skip
    """An order for a course: its plan's price (a clinic course) or its kits at the kit's
    price (a home course), plus extra items (``SKU=QTY``), in the clinic's currency
    unless another is given. A course has one live order at a time."""
    extras = rules.parse_items(items)
    code = currency_code(currency) if currency else None
    with uow:
        uow.require("order.create")
        course = uow.courses.get(course_id, lock=True)
        if course.status != CourseStatus.SCHEDULED.value:
            raise Refused(_(
                "course {course} is {status}; only a scheduled course can "
                "be ordered"
            ).format(course=course.id, status=course.status))  # fmt: skip
        live = uow.session.scalar(
            select(OrderRow).where(
                OrderRow.course_id == course.id,
                OrderRow.status.not_in([OrderStatus.CANCELLED.value, OrderStatus.REFUNDED.value]),
            )
        )
        if live is not None:
            raise Refused(
                _("course {course} already has order {order} ({status})").format(
                    course=course.id, order=live.id, status=live.status
                )
            )
        if code is None:
            if not course.clinic.currency:
                raise InvalidInput("currency", None, _(
                    "clinic {clinic} has no currency; give --currency"
                ).format(clinic=course.clinic.code))  # fmt: skip
            code = course.clinic.currency
        plan = course.plan
        lines: list[tuple[rules.Line, int | None, int | None]] = []
        plan_price = _price(uow, code, plan_id=plan.id)
        kit = plan.kit_product
        if plan_price is not None:
            lines.append((rules.Line(plan.name[:200], 1, plan_price), None, plan.id))
        elif plan.administered == Administered.HOME.value and kit and plan.kits_per_course:
            kit_price = _price(uow, code, product_id=kit.id)
            if kit_price is None:
                raise Refused(_(
                    "no price for {sku} or plan:{plan} in {code}; set one with "
                    "`kitops price set {sku} AMOUNT {code}`"
                ).format(sku=kit.sku, plan=plan.code, code=code))  # fmt: skip
            lines.append((rules.Line(kit.name[:200], plan.kits_per_course, kit_price),
                          kit.id, None))  # fmt: skip
        else:
            raise Refused(_(
                "no price for plan:{plan} in {code}; set one with `kitops "
                "price set plan:{plan} AMOUNT {code}`"
            ).format(plan=plan.code, code=code))  # fmt: skip
        for sku, qty in extras:
            product = uow.products.get(sku, "items")
            price = _price(uow, code, product_id=product.id)
            if price is None:
                raise Refused(_(
                    "no price for {sku} in {code}; set one with `kitops price "
                    "set {sku} AMOUNT {code}`"
                ).format(sku=product.sku, code=code))  # fmt: skip
            lines.append((rules.Line(product.name[:200], qty, price), product.id, None))
        total = rules.order_total(line for line, _, _ in lines)
        order = OrderRow(
            reference=uuid.uuid4().hex[:16], course_id=course.id, clinic_id=course.clinic_id,
            patient_ref=course.patient_ref, currency=code, status=OrderStatus.OPEN.value,
            total_minor=total, paid_minor=0, refunded_minor=0,
        )  # fmt: skip
        uow.session.add(order)
        uow.session.flush()
        for number, (line, product_id, plan_id) in enumerate(lines, start=1):
            uow.session.add(OrderLineRow(
                order_id=order.id, line_no=number, product_id=product_id, plan_id=plan_id,
                description=line.description, quantity=line.quantity,
                unit_amount_minor=line.unit_amount, amount_minor=line.amount,
            ))  # fmt: skip
        uow.session.flush()
        uow.session.refresh(order)
        uow.record("order.create", "order", str(order.id),
                   after={"course": course.id, "currency": code, "total_minor": total,
                          "lines": len(lines)})  # fmt: skip
        result = order_dto(uow, order)
        uow.commit()
    return result


# --- paying -----------------------------------------------------------------------------


def _metadata(order: OrderRow, **extra: str) -> dict[str, str]:
    return {"kitops_order": str(order.id), "kitops_order_ref": order.reference, **extra}


def _hold_kits(uow: UnitOfWork, order: OrderRow) -> str | None:
    """Reserve the course's kits while the patient pays (released if the payment fails
    or expires). A course that cannot have its kits yet is paid all the same: the
    fulfilment batch serves it later."""
    return reserve_kits(uow, order.course_id)


@retrying
def _begin_payment(uow: UnitOfWork, order_id: int | str, method: str) -> int:
    """Write the attempt (and its idempotency key) before Stripe is called; returns its id.
    An attempt left unsent by a crash or a lost answer is sent again with its own key."""
    with uow:
        uow.require("order.pay")
        order = uow.orders.get(order_id, lock=True)
        latest = uow.session.scalar(
            select(OrderPaymentRow).where(OrderPaymentRow.order_id == order.id)
            .order_by(OrderPaymentRow.attempt_no.desc()).limit(1)
        )  # fmt: skip
        if latest is not None and latest.status == "requested" and order.status == "pending":
            if latest.method != method:
                raise Refused(_(
                    "order {order} has a {method} payment waiting to be sent; "
                    "run the same command again"
                ).format(order=order.id, method=latest.method))  # fmt: skip
            return latest.id
        if latest is not None and latest.status == "pending" and order.status == "pending":
            return latest.id  # in flight at Stripe: look at it, never pay twice
        after = rules.start_payment(money_of(order))
        number = (latest.attempt_no if latest else 0) + 1
        attempt = OrderPaymentRow(
            order_id=order.id, attempt_no=number, method=method, status="requested",
            amount_minor=order.total_minor - order.paid_minor, currency=order.currency,
            idempotency_key=rules.idempotency_key(order.reference, f"pay-{method}", number),
        )  # fmt: skip
        uow.session.add(attempt)
        order.status = after.status.value
        order.updated_at = utcnow()
        uow.session.flush()
        held = _hold_kits(uow, order)
        uow.record("order.pay", "order", str(order.id), before={"status": "open|failed"},
                   after={"status": order.status, "attempt": number, "method": method,
                          "kits": held})  # fmt: skip
        attempt_id = attempt.id
        uow.commit()
    return attempt_id


@retrying
def _record_submission(
    uow: UnitOfWork, attempt_id: int, *, intent: PaymentState | None = None,
    session: CheckoutState | None = None,
) -> None:  # fmt: skip
    with uow:
        attempt = uow.session.get(OrderPaymentRow, attempt_id, with_for_update=True)
        assert attempt is not None
        if intent is not None:
            attempt.intent_id = intent.intent_id
        if session is not None:
            attempt.session_id = session.session_id
            attempt.url = (session.url or "")[:1000] or None
            attempt.intent_id = attempt.intent_id or session.intent_id
        if attempt.status == "requested":
            attempt.status = "pending"
            attempt.updated_at = utcnow()
        uow.session.flush()
        uow.record("order.payment_submitted", "order", str(attempt.order_id),
                   after={"attempt": attempt.attempt_no, "intent": attempt.intent_id,
                          "session": attempt.session_id})  # fmt: skip
        uow.commit()


def pay_order(
    uow: UnitOfWork, gateway: Gateway, order_id: int | str, *, payment_method: str | None = None,
    confirm: bool = True, checkout: bool = False, success_url: str | None = None,
    cancel_url: str | None = None,
) -> payments_dto.Order:  # fmt: skip
    """Take an order's payment: a card in the clinic (a PaymentIntent, confirmed now with
    ``payment_method``) or a Checkout Session whose page the patient pays from home.
    The order becomes paid, and its kits reserved, when Stripe confirms the money."""
    if checkout and payment_method:
        raise InvalidInput("payment-method", payment_method, _(
            "is for a card in the clinic, not with --checkout"
        ))  # fmt: skip
    if checkout and not (success_url or "").startswith(("https://", "http://")):
        raise InvalidInput("success-url", success_url, _(
            "Checkout needs the http(s) page the patient returns to "
            "after paying"
        ))  # fmt: skip
    if payment_method is not None and not payment_method.strip().startswith(("pm_", "card_")):
        raise InvalidInput("payment-method", payment_method, _(
            "must be a Stripe payment method id (pm_...)"
        ))  # fmt: skip
    method = "checkout" if checkout else "card"
    attempt_id = _begin_payment(uow, order_id, method)
    with uow:
        attempt = uow.session.get(OrderPaymentRow, attempt_id)
        assert attempt is not None
        order = uow.orders.get(attempt.order_id)
        key, number, amount = attempt.idempotency_key, attempt.attempt_no, attempt.amount_minor
        status, intent_id, session_id = attempt.status, attempt.intent_id, attempt.session_id
        metadata = _metadata(order, kitops_attempt=str(number))
        lines = [CheckoutLine(line.description, line.unit_amount_minor, line.quantity)
                 for line in order.lines]  # fmt: skip
        currency, the_order = order.currency, order.id
    if status == "pending":  # already at Stripe: reconcile with what it says now
        if session_id:
            found = gateway.retrieve_checkout(session_id)
            if found.payment_status == "paid" and found.intent_id:
                apply_payment(uow, the_order, "success", gateway.retrieve_payment(found.intent_id))
            elif found.status == "expired":
                apply_payment(uow, the_order, "failure", None, checkout=found)
        elif intent_id:
            state = gateway.retrieve_payment(intent_id)
            if state.succeeded:
                apply_payment(uow, the_order, "success", state)
            elif state.failed:
                apply_payment(uow, the_order, "failure", state)
        return show_order(uow, the_order)
    if checkout:
        session = gateway.create_checkout(
            lines=lines, currency=currency, success_url=str(success_url),
            cancel_url=cancel_url, metadata=metadata, idempotency_key=key,
        )  # fmt: skip
        _record_submission(uow, attempt_id, session=session)
        return show_order(uow, the_order)
    try:
        state = gateway.create_payment_intent(
            amount=amount, currency=currency,
            payment_method=payment_method.strip() if payment_method else None,
            confirm=confirm, metadata=metadata, idempotency_key=key,
        )  # fmt: skip
    except PaymentDeclined as declined:
        failed = (
            gateway.retrieve_payment(declined.intent_id) if declined.intent_id else
            PaymentState(intent_id="", status="requires_payment_method", amount=amount,
                         amount_received=0, currency=currency, metadata=metadata,
                         failure=str(declined))
        )  # fmt: skip
        if failed.intent_id:
            _record_submission(uow, attempt_id, intent=failed)
        apply_payment(uow, the_order, "failure", failed, attempt_id=attempt_id)
        raise
    _record_submission(uow, attempt_id, intent=state)
    if state.succeeded:
        apply_payment(uow, the_order, "success", state)
    elif state.failed and payment_method and confirm:
        apply_payment(uow, the_order, "failure", state)
    return show_order(uow, the_order)


# --- refunds ----------------------------------------------------------------------------


@retrying
def _begin_refund(
    uow: UnitOfWork,
    order_id: int | str,
    amount: int | None,
    restock: RestockMode,
    configured: bool,
) -> tuple[int, str, str, int, dict[str, str], int]:
    with uow:
        order = uow.orders.get(order_id, lock=True)
        refunds = uow.session.scalars(
            select(OrderRefundRow).where(OrderRefundRow.order_id == order.id)
            .order_by(OrderRefundRow.refund_no)
        ).all()  # fmt: skip
        paid_with = uow.session.scalar(
            select(OrderPaymentRow.intent_id).where(
                OrderPaymentRow.order_id == order.id, OrderPaymentRow.status == "succeeded",
                OrderPaymentRow.intent_id.is_not(None),
            )
        )  # fmt: skip
        unsent = next((r for r in refunds if r.status == "requested" and not r.refund_id), None)
        if unsent is not None:
            if amount is not None and amount != unsent.amount_minor:
                raise Refused(_(
                    "refund {refund_no} of order {order} ({amount}) "
                    "was not confirmed by Stripe yet; run the command "
                    "again without a different amount to send it"
                ).format(
                    refund_no=unsent.refund_no,
                    order=order.id,
                    amount=i18n.format_money(Money(unsent.amount_minor, order.currency))),
                )  # fmt: skip
            chosen = unsent
            _check_configured(configured)
        else:
            live = [r for r in refunds if not r.applied and r.status not in ("failed", "canceled")]
            in_flight = sum(r.amount_minor for r in live)
            value = rules.check_refund_request(money_of(order), amount, in_flight)
            if paid_with is None:
                raise Refused(
                    _("order {order} has no payment at Stripe to refund").format(order=order.id)
                )
            _check_configured(configured)
            number = (refunds[-1].refund_no if refunds else 0) + 1
            chosen = OrderRefundRow(
                order_id=order.id, refund_no=number, amount_minor=value,
                restock=restock.value, status="requested", applied=False,
                idempotency_key=rules.idempotency_key(order.reference, "refund", number),
            )  # fmt: skip
            uow.session.add(chosen)
            uow.session.flush()
            uow.record("order.refund_requested", "order", str(order.id),
                       after={"refund": number, "amount_minor": value,
                              "restock": restock.value})  # fmt: skip
        assert paid_with is not None
        assert chosen.idempotency_key is not None
        result = (chosen.id, paid_with, chosen.idempotency_key, chosen.amount_minor,
                  _metadata(order, kitops_refund=str(chosen.refund_no)), order.id)  # fmt: skip
        uow.commit()
    return result


def _check_configured(configured: bool) -> None:
    """Without a gateway, say what is missing (the key, its form) before anything is
    written: Stripe's settings are read again to name it."""
    if not configured:
        StripeConfig.from_env()
        raise PaymentsNotConfigured(_("payments are not configured (KITOPS_STRIPE_API_KEY)"))


def refund_order(
    uow: UnitOfWork, gateway: Gateway | None, order_id: int | str, *, amount: str | None = None,
    restock: str | None = None,
) -> payments_dto.Order:  # fmt: skip
    """Refund (part of) a paid order at Stripe. The order's amounts and its kits change
    when Stripe confirms the refund (its event): ``restock=sealed`` puts the course's
    kits back in stock, ``write-off`` writes the opened ones off, and either cancels the
    course. More than was paid (less refunds) is refused here, before Stripe is asked.
    ``gateway`` None (payments not configured): the order is checked first, so an order
    with nothing to refund says so; one that could be refunded names what is missing."""
    mode = rules.parse_restock(restock)
    with uow:
        uow.require("order.refund")
        currency = uow.orders.get(order_id).currency
    minor = Money.parse(amount, currency, "amount").amount_minor if amount else None
    if minor is not None and minor <= 0:
        raise InvalidInput("amount", amount, _("must be more than zero"))
    row_id, intent_id, key, value, metadata, the_order = _begin_refund(
        uow, order_id, minor, mode, configured=gateway is not None
    )
    assert gateway is not None
    state = gateway.create_refund(intent_id=intent_id, amount=value, metadata=metadata,
                                  idempotency_key=key)  # fmt: skip
    _record_refund(uow, row_id, state.refund_id, state.status)
    return show_order(uow, the_order)


@retrying
def _record_refund(uow: UnitOfWork, row_id: int, refund_id: str, status: str) -> None:
    with uow:
        row = uow.session.get(OrderRefundRow, row_id, with_for_update=True)
        assert row is not None
        row.refund_id = row.refund_id or refund_id
        if not row.applied and status in ("pending", "requires_action", "succeeded", "failed",
                                          "canceled"):  # fmt: skip
            row.status = status
        row.updated_at = utcnow()
        uow.session.flush()
        uow.record("order.refund_submitted", "order", str(row.order_id),
                   after={"refund": row.refund_no, "refund_id": refund_id,
                          "status": status})  # fmt: skip
        uow.commit()


# --- cancelling -------------------------------------------------------------------------


def cancel_order(
    uow: UnitOfWork, gateway: Gateway | None, order_id: int | str
) -> payments_dto.Order:
    """Cancel an unpaid order: its payment in flight is cancelled at Stripe first (a
    PaymentIntent cancelled, a Checkout Session expired), then the kits held go back."""
    with uow:
        uow.require("order.cancel")
        order = uow.orders.get(order_id)
        rules.cancel(money_of(order))
        the_order = order.id
        pending = uow.session.scalars(
            select(OrderPaymentRow).where(OrderPaymentRow.order_id == order.id,
                                          OrderPaymentRow.status == "pending")
        ).all()  # fmt: skip
        work = [(p.attempt_no, p.intent_id, p.session_id, order.reference) for p in pending]
    if work and gateway is None:
        raise Refused(_(
            "order {order} has a payment at Stripe; cancelling it "
            "needs KITOPS_STRIPE_API_KEY"
        ).format(order=the_order))  # fmt: skip
    for number, intent_id, session_id, reference in work:
        assert gateway is not None
        key = rules.idempotency_key(reference, "cancel", number)
        if session_id:
            found = gateway.retrieve_checkout(session_id)
            if found.status == "open":
                found = gateway.expire_checkout(session_id, idempotency_key=key)
            if found.payment_status == "paid" and found.intent_id:
                apply_payment(uow, the_order, "success", gateway.retrieve_payment(found.intent_id))
                raise Refused(_(
                    "order {order} was paid at Stripe meanwhile; refund it "
                    "instead (`kitops order refund`)"
                ).format(order=the_order))  # fmt: skip
        elif intent_id:
            state = gateway.retrieve_payment(intent_id)
            if not state.succeeded and state.status != "canceled":
                state = gateway.cancel_payment_intent(intent_id, idempotency_key=key)
            if state.succeeded:
                apply_payment(uow, the_order, "success", state)
                raise Refused(_(
                    "order {order} was paid at Stripe meanwhile; refund it "
                    "instead (`kitops order refund`)"
                ).format(order=the_order))  # fmt: skip
    return _close(uow, the_order)


@retrying
def _close(uow: UnitOfWork, order_id: int) -> payments_dto.Order:
    with uow:
        order = uow.orders.get(order_id, lock=True)
        before = order.status
        after = rules.cancel(money_of(order))
        order.status = after.status.value
        order.updated_at = utcnow()
        for attempt in uow.session.scalars(
            select(OrderPaymentRow).where(OrderPaymentRow.order_id == order.id,
                                          OrderPaymentRow.status.in_(("requested", "pending")))
        ):  # fmt: skip
            attempt.status = "cancelled"
            attempt.updated_at = utcnow()
        released = release_held_kits(uow, order, reason=f"order {order.id} cancelled")
        uow.session.flush()
        uow.record("order.cancel", "order", str(order.id), before={"status": before},
                   after={"status": order.status, "kits_released": released})  # fmt: skip
        result = order_dto(uow, order)
        uow.commit()
    return result
