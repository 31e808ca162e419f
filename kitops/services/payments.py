"""The one handler of payment news, the Events API sync, and the payments report.

Every way kitops learns about money (``kitops stripe listen``, ``kitops stripe sync``,
the command that took the card) ends in :func:`apply_payment`: in one transaction it
locks the order, decides with :mod:`kitops.domain.orders` on Stripe's *current* view of
the payment, reserves, releases or takes back kits through the kit and fulfilment
services, writes the audit row and, for an event, records the event id. The event id's
primary key makes a second delivery a no-op, even when two arrive at the same moment.

Following Stripe's fulfilment guide: fulfil on ``payment_intent.succeeded``,
``checkout.session.completed`` (when paid) and ``checkout.session.async_payment_succeeded``;
never trust an event's payload or its order of arrival, fetch the object instead; and
make fulfilment safe to run any number of times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import kitops.i18n as i18n
from kitops import faults
from kitops.data.schema import (
    CourseRow,
    KitRow,
    LocationRow,
    OrderPaymentRow,
    OrderRefundRow,
    OrderRow,
    StripeEventRow,
    StripeSyncRow,
    utcnow,
)
from kitops.domain import orders as rules
from kitops.domain.course_lifecycle import LIVE, NEEDS_STOCK, check_transition
from kitops.domain.courses import Administered, CourseStatus
from kitops.domain.kits import OUT, KitStatus
from kitops.domain.ledger import parse_date
from kitops.domain.money import Money
from kitops.domain.orders import OrderStatus, RestockMode
from kitops.errors import InvalidInput, KitopsError, Refused
from kitops.i18n import _
from kitops.payments.gateway import CheckoutState, Gateway, PaymentEvent, PaymentState
from kitops.services import fulfilment
from kitops.services.dto import payments as payments_dto
from kitops.services.unit_of_work import UnitOfWork, retrying

Kind = Literal["success", "failure", "refund"]

SUCCESS_EVENTS = {
    "payment_intent.succeeded",
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
}
FAILURE_EVENTS = {
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "checkout.session.expired",
    "checkout.session.async_payment_failed",
}
REFUND_EVENTS = {
    "charge.refunded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
}
CONCURRENT = "handled at the same moment by another delivery"
SYNC_OVERLAP_SECONDS = 300  # events become visible in the list a little late

log = logging.getLogger(__name__)


def kind_of(event_type: str) -> Kind | None:
    if event_type in SUCCESS_EVENTS:
        return "success"
    if event_type in FAILURE_EVENTS:
        return "failure"
    if event_type in REFUND_EVENTS:
        return "refund"
    return None


# --- kits, through the kit and fulfilment services --------------------------------------


def reserve_kits(uow: UnitOfWork, course_id: int) -> str | None:
    """Inside the caller's transaction, reserve a home course's kits through
    ``fulfilment.fulfil_course`` in a savepoint (all or nothing). Returns why not, or None."""
    course = uow.session.get(CourseRow, course_id)
    if course is None or course.status not in NEEDS_STOCK:
        return f"course is {course.status if course else 'missing'}"
    if course.plan.administered != Administered.HOME.value or course.plan.kit_product_id is None:
        return None  # a clinic course: its vials are used session by session
    try:
        with uow.session.begin_nested():
            fulfilment.fulfil_course(uow, course_id)
    except (Refused, InvalidInput) as refusal:
        text = str(refusal)
        return None if "already has all its kits" in text else text
    return None


def release_held_kits(uow: UnitOfWork, order: OrderRow, *, reason: str) -> list[str]:
    """The kits reserved for the order's course go back, unless another order of the
    course has been paid."""
    other_paid = uow.session.scalar(
        select(func.count()).select_from(OrderRow).where(
            OrderRow.course_id == order.course_id, OrderRow.id != order.id,
            OrderRow.status.in_([s.value for s in rules.SETTLED]),
        )
    )  # fmt: skip
    if other_paid:
        return []
    return fulfilment.release_course_kits(uow, order.course_id, reason=reason)


def restock_kits(uow: UnitOfWork, order: OrderRow, mode: RestockMode) -> list[str]:
    """A refund with restock: the course is cancelled (its reserved kits go back, through
    ``courses.cancel_course``) and kits that went out come back through ``kits.take_back``:
    sealed → available again, write-off → written off."""
    from kitops.services import courses, kits

    if mode is RestockMode.NONE:
        return []
    done: list[str] = []
    course = uow.session.get(CourseRow, order.course_id)
    assert course is not None
    if course.status == CourseStatus.SCHEDULED.value:
        cancelled = courses.cancel_course(uow, course.id)
        done += [f"{k.serial}:released" for k in cancelled.kits if k.status == KitStatus.AVAILABLE]
    else:
        done += [f"{s}:released" for s in release_held_kits(uow, order, reason="refund")]
    out = uow.session.scalars(
        select(KitRow.serial).where(
            KitRow.course_id == order.course_id,
            KitRow.status.in_(OUT),
        ).order_by(KitRow.course_part)
    ).all()  # fmt: skip
    condition = "sealed" if mode is RestockMode.SEALED else "opened"
    for serial in out:
        back = kits.take_back(uow, serial, condition)
        done.append(f"{serial}:{back.status}")
    uow.session.refresh(course)
    if course.status in LIVE:  # it began: refunded and restocked, it ends early
        before = course.status
        check_transition(course.id, before, CourseStatus.ENDED_EARLY)
        course.status = CourseStatus.ENDED_EARLY.value
        course.status_reason = f"order {order.id} refunded"
        course.paused_on = None
        uow.session.flush()
        uow.record("course.end_early", "course", str(course.id), before={"status": before},
                   after={"status": course.status, "reason": course.status_reason})  # fmt: skip
    return done


# --- the handler ------------------------------------------------------------------------


def _find_order(
    uow: UnitOfWork, *, intent_id: str | None = None, session_id: str | None = None,
    metadata: dict[str, str] | None = None,
) -> tuple[OrderRow | None, OrderPaymentRow | None]:  # fmt: skip
    """The order (and attempt) a provider object belongs to: by its id, else by the
    metadata kitops wrote on it (order id and the order's random reference must agree)."""
    attempt = None
    if intent_id:
        attempt = uow.session.scalar(
            select(OrderPaymentRow).where(OrderPaymentRow.intent_id == intent_id)
        )
    if attempt is None and session_id:
        attempt = uow.session.scalar(
            select(OrderPaymentRow).where(OrderPaymentRow.session_id == session_id)
        )
    if attempt is not None:
        return uow.session.get(OrderRow, attempt.order_id), attempt
    meta = metadata or {}
    number, reference = meta.get("kitops_order", ""), meta.get("kitops_order_ref", "")
    if not number.isdigit() or not reference:
        return None, None
    order = uow.session.get(OrderRow, int(number))
    if order is None or order.reference != reference:
        return None, None
    attempt_no = meta.get("kitops_attempt", "")
    if attempt_no.isdigit():
        attempt = uow.session.scalar(
            select(OrderPaymentRow).where(OrderPaymentRow.order_id == order.id,
                                          OrderPaymentRow.attempt_no == int(attempt_no))
        )  # fmt: skip
    return order, attempt


def _sync_refunds(uow: UnitOfWork, order: OrderRow, state: PaymentState) -> None:
    """Bring the order's refund rows level with Stripe's refunds of the payment: update
    the ones kitops asked for, add the ones made elsewhere (the Dashboard: money only)."""
    rows = uow.session.scalars(
        select(OrderRefundRow).where(OrderRefundRow.order_id == order.id)
        .order_by(OrderRefundRow.refund_no)
    ).all()  # fmt: skip
    by_id = {row.refund_id: row for row in rows if row.refund_id}
    by_no = {str(row.refund_no): row for row in rows}
    next_no = (rows[-1].refund_no if rows else 0) + 1
    for refund in state.refunds:
        if refund.currency and refund.currency != order.currency:
            continue
        row = by_id.get(refund.refund_id)
        if row is None and refund.metadata.get("kitops_order_ref") == order.reference:
            candidate = by_no.get(refund.metadata.get("kitops_refund", ""))
            if candidate is not None and candidate.refund_id in (None, refund.refund_id):
                row = candidate
        if row is None:
            row = OrderRefundRow(order_id=order.id, refund_no=next_no, amount_minor=refund.amount,
                                 restock=RestockMode.NONE.value, status=refund.status,
                                 applied=False, refund_id=refund.refund_id)  # fmt: skip
            next_no += 1
            uow.session.add(row)
        row.refund_id = refund.refund_id
        if not row.applied and refund.status != row.status:
            row.status = refund.status
            row.updated_at = utcnow()
    uow.session.flush()


def _apply_refunds(uow: UnitOfWork, order: OrderRow, notes: list[str]) -> None:
    """Confirmed refunds not yet applied change the order's amounts and, with restock,
    its kits, once each; before the order is paid they wait."""
    if OrderStatus(order.status) not in rules.REFUNDABLE:
        return
    rows = uow.session.scalars(
        select(OrderRefundRow).where(OrderRefundRow.order_id == order.id,
                                     OrderRefundRow.status == "succeeded",
                                     ~OrderRefundRow.applied)
        .order_by(OrderRefundRow.refund_no)
    ).all()  # fmt: skip
    for row in rows:
        decision = rules.refund_confirmed(money_of(order), row.amount_minor)
        _set_money(order, decision.after)
        row.applied = True
        row.updated_at = utcnow()
        notes.append(f"refund {row.refund_no} of {Money(row.amount_minor, order.currency)}")
        moved = restock_kits(uow, order, RestockMode(row.restock))
        if moved:
            notes.append("kits " + ", ".join(moved))


def money_of(order: OrderRow) -> rules.OrderMoney:
    return rules.OrderMoney(OrderStatus(order.status), order.total_minor, order.paid_minor,
                            order.refunded_minor)  # fmt: skip


def _set_money(order: OrderRow, money: rules.OrderMoney) -> None:
    order.status = money.status.value
    order.paid_minor = money.paid
    order.refunded_minor = money.refunded
    order.updated_at = utcnow()


def _attempt_status(attempt: OrderPaymentRow, state: PaymentState | None,
                    checkout: CheckoutState | None) -> None:  # fmt: skip
    status = attempt.status
    if state is not None:
        attempt.intent_id = attempt.intent_id or (state.intent_id or None)
        if state.succeeded:
            status = "succeeded"
        elif state.status == "canceled":
            status = "cancelled"
        elif state.failed:
            status = "failed"
        if state.failure:
            attempt.failure = state.failure[:200]
    if checkout is not None:
        attempt.intent_id = attempt.intent_id or checkout.intent_id
        if checkout.status == "expired":
            status = "expired"
        elif checkout.status == "complete" and checkout.payment_status != "paid":
            status = "failed"
    if attempt.status not in ("succeeded",) and status != attempt.status:
        attempt.status = status
        attempt.updated_at = utcnow()


@retrying
def apply_payment(
    uow: UnitOfWork, order_id: int, kind: Kind, state: PaymentState | None, *,
    checkout: CheckoutState | None = None, attempt_id: int | None = None,
    event: PaymentEvent | None = None, source: str = "command",
) -> payments_dto.EventOutcome:  # fmt: skip
    """Apply Stripe's current view of an order's payment, once. With ``event`` the event
    id is recorded in the same transaction; a second delivery finds it and does nothing."""
    event_id = event.event_id if event else ""
    with uow:
        # the checked step of an event (handle_event) or of an order command (pay, cancel);
        # it covers the kits reserved, returned or written off and the course cancelled here
        uow.require("payment.sync" if event is not None else "order.pay")
        # Lock order: the order row FIRST, before any other row of this transaction is
        # written or locked. Every event, sync and order command for one order therefore
        # queues on that one lock and then runs alone, so no two of them can each hold
        # what the other waits for: no deadlock, whatever arrives together. (Writing the
        # event row first, as before, took a KEY SHARE lock on the order through its
        # foreign key; two events each holding one and waiting to upgrade it to FOR
        # UPDATE deadlocked, and 20 at once retried until Stripe's timeout.)
        order = uow.session.scalar(
            select(OrderRow).where(OrderRow.id == order_id).with_for_update(of=OrderRow)
        )
        if order is None:
            raise InvalidInput("order", order_id, _("no order has this number"))
        if event is not None:
            # read after the lock: a delivery of the same event that held it has committed
            if uow.session.get(StripeEventRow, event.event_id) is not None:
                return payments_dto.EventOutcome(event_id, event.type, order_id, "duplicate",
                                                 "already handled")  # fmt: skip
            row = StripeEventRow(event_id=event.event_id, type=event.type[:100],
                                 created=event.created, source=source, order_id=order_id,
                                 outcome="handling")  # fmt: skip
            uow.session.add(row)
            try:
                uow.session.flush()  # the same event through a path without the order
            except IntegrityError:
                return payments_dto.EventOutcome(event_id, event.type, order_id, "duplicate",
                                                 CONCURRENT)  # fmt: skip
        before = money_of(order)
        notes: list[str] = []
        attempt = uow.session.get(OrderPaymentRow, attempt_id) if attempt_id else None
        if attempt is None and state is not None and state.intent_id:
            attempt = uow.session.scalar(
                select(OrderPaymentRow).where(OrderPaymentRow.intent_id == state.intent_id)
            )
        if attempt is None and checkout is not None:
            attempt = uow.session.scalar(
                select(OrderPaymentRow).where(OrderPaymentRow.session_id == checkout.session_id)
            )
        if attempt is not None:
            _attempt_status(attempt, state, checkout)
        mismatch = state is not None and state.currency and state.currency != order.currency
        if mismatch:
            notes.append(f"currency {state.currency if state else ''} is not the order's; ignored")
        elif kind == "success" and state is not None and state.succeeded:
            _sync_refunds(uow, order, state)
            confirmed = sum(r.amount for r in state.refunds if r.status == "succeeded")
            decision = rules.payment_confirmed(before, state.amount_received, confirmed)
            _set_money(order, decision.after)
            notes.append(decision.note)
            if decision.after.status is OrderStatus.REFUNDED:
                for refund in uow.session.scalars(
                    select(OrderRefundRow).where(OrderRefundRow.order_id == order.id,
                                                 OrderRefundRow.status == "succeeded")
                ):  # fmt: skip
                    refund.applied = True
            if decision.fulfil:
                why = reserve_kits(uow, order.course_id)
                notes.append(f"kits not reserved: {why}" if why else "kits reserved")
            if decision.release:
                released = release_held_kits(uow, order, reason=decision.note)
                if released:
                    notes.append("kits released: " + ", ".join(released))
            _apply_refunds(uow, order, notes)
        elif kind == "success":
            notes.append("Stripe does not report this payment as paid (yet)")
        elif kind == "failure":
            really_failed = (state is not None and state.failed) or (
                checkout is not None and checkout.payment_status != "paid"
                and checkout.status in ("expired", "complete")
            )  # fmt: skip
            if really_failed:
                decision = rules.payment_failed(before)
                _set_money(order, decision.after)
                notes.append(decision.note)
                if decision.release:
                    released = release_held_kits(uow, order, reason=decision.note)
                    if released:
                        notes.append("kits released: " + ", ".join(released))
            else:
                notes.append("Stripe does not report this payment as failed")
        elif kind == "refund" and state is not None:
            _sync_refunds(uow, order, state)
            _apply_refunds(uow, order, notes)
            if OrderStatus(order.status) not in rules.REFUNDABLE | {OrderStatus.REFUNDED}:
                notes.append(f"order is {order.status}: refunds wait for the payment")
        after = money_of(order)
        changed = after != before
        if changed or notes:
            order.note = "; ".join(n for n in notes if n)[:400] or order.note
        uow.session.flush()
        detail = "; ".join(n for n in notes if n) or "nothing to do"
        uow.record(
            f"order.{kind}", "order", str(order.id),
            before={"status": before.status.value, "paid_minor": before.paid,
                    "refunded_minor": before.refunded},
            after={"status": after.status.value, "paid_minor": after.paid,
                   "refunded_minor": after.refunded, "event": event_id or None,
                   "source": source, "note": detail[:200]},
        )  # fmt: skip
        outcome = "applied" if changed else "no change"
        if event is not None:
            row.outcome = f"{outcome}: {detail}"[:200]
        result = payments_dto.EventOutcome(event_id, event.type if event else kind, order.id,
                                           outcome, detail)  # fmt: skip
        faults.point("payments.event:after_effects")
        uow.commit()
    return result


@retrying
def _record_ignored(
    uow: UnitOfWork, event: PaymentEvent, reason: str, source: str
) -> payments_dto.EventOutcome:
    with uow:
        if uow.session.get(StripeEventRow, event.event_id) is not None:
            return payments_dto.EventOutcome(event.event_id, event.type, None, "duplicate",
                                             "already handled")  # fmt: skip
        uow.session.add(StripeEventRow(event_id=event.event_id, type=event.type[:100],
                                       created=event.created, source=source, order_id=None,
                                       outcome=f"ignored: {reason}"[:200]))  # fmt: skip
        try:
            uow.session.flush()
        except IntegrityError:
            return payments_dto.EventOutcome(event.event_id, event.type, None, "duplicate",
                                             CONCURRENT)  # fmt: skip
        uow.record("stripe.event", "stripe_event", event.event_id[:120],
                   after={"type": event.type, "outcome": "ignored", "reason": reason,
                          "source": source})  # fmt: skip
        uow.commit()
    return payments_dto.EventOutcome(event.event_id, event.type, None, "ignored", reason)


def handle_event(
    uow: UnitOfWork, gateway: Gateway, event: PaymentEvent, *, source: str = "webhook"
) -> payments_dto.EventOutcome:
    """Handle one verified event, whichever way it came; safe to call any number of times."""
    if not event.event_id:
        raise InvalidInput("event", None, _("has no id"))
    with uow:
        uow.require("payment.sync")
        seen = uow.session.get(StripeEventRow, event.event_id)
        if seen is not None:
            return payments_dto.EventOutcome(event.event_id, event.type, seen.order_id, "duplicate",
                                             seen.outcome)  # fmt: skip
    kind = kind_of(event.type)
    if kind is None:
        return _record_ignored(uow, event, "not an event kitops acts on", source)
    intent_id = event.intent_id
    session_id = event.object_id if event.object_type == "checkout.session" else None
    if intent_id is None and event.object_type == "charge":
        intent_id = gateway.intent_of_charge(event.object_id)
    if intent_id is None and event.object_type == "refund":
        intent_id = gateway.retrieve_refund(event.object_id).intent_id
    with uow:
        order, attempt = _find_order(uow, intent_id=intent_id, session_id=session_id,
                                     metadata=event.metadata)  # fmt: skip
        order_id = order.id if order else None
        attempt_id = attempt.id if attempt else None
        if order is not None and intent_id is None and session_id is None and attempt:
            intent_id = attempt.intent_id
    if order_id is None:
        return _record_ignored(uow, event, "not a payment of a kitops order", source)
    # the current objects, fetched outside the transaction; never the event's copy
    checkout = gateway.retrieve_checkout(session_id) if session_id else None
    if checkout is not None and checkout.intent_id:
        intent_id = checkout.intent_id
    state = gateway.retrieve_payment(intent_id) if intent_id else None
    return apply_payment(uow, order_id, kind, state, checkout=checkout, attempt_id=attempt_id,
                         event=event, source=source)  # fmt: skip


# --- the Events API, for clinics with no inbound network --------------------------------


@retrying
def _cursor(uow: UnitOfWork) -> int | None:
    with uow:
        row = uow.session.get(StripeSyncRow, "events")
        return row.last_created if row is not None else None


@retrying
def _save_cursor(uow: UnitOfWork, created: int | None, event_id: str | None,
                 report: Mapping[str, object]) -> None:  # fmt: skip
    with uow:
        row = uow.session.get(StripeSyncRow, "events", with_for_update=True)
        if row is None:
            row = StripeSyncRow(name="events", runs=0)
            uow.session.add(row)
        before = row.last_created
        if created is not None and (row.last_created is None or created > row.last_created):
            row.last_created = created
            row.last_event_id = event_id
        row.runs = (row.runs or 0) + 1
        row.last_run_at = utcnow()
        uow.session.flush()
        uow.record("stripe.sync", "stripe_sync", "events", before={"cursor": before},
                   after={"cursor": row.last_created, **report})  # fmt: skip
        uow.commit()


def sync_events(
    uow: UnitOfWork, gateway: Gateway, *, clock: Callable[[], float] = time.monotonic
) -> payments_dto.SyncReport:
    """Read the Events API from the last event seen (with a small overlap, duplicates are
    free), oldest first, through the same handler as the webhook. Stops at the first
    event that cannot be handled, so the next run starts there again."""
    uow.require("payment.sync")
    started = clock()
    cursor = _cursor(uow)
    since = cursor - SYNC_OVERLAP_SECONDS if cursor is not None else None
    events = sorted(gateway.events_since(since), key=lambda e: (e.created, e.event_id))
    counts = {"applied": 0, "no change": 0, "duplicate": 0, "ignored": 0}
    last: PaymentEvent | None = None
    failed, error = 0, None
    for event in events:
        seen = {"event": event.event_id, "type": event.type}
        try:
            outcome = handle_event(uow, gateway, event, source="sync")
        except KitopsError as problem:
            failed, error = 1, f"{event.event_id} ({event.type}): {problem}"
            log.error("payment sync stopped at %s (%s): %s", event.event_id, event.type,
                      problem, extra=seen)  # fmt: skip
            break
        log.info("payment sync: %s (%s): %s", event.event_id, event.type, outcome.outcome,
                 extra=seen | {"outcome": outcome.outcome})  # fmt: skip
        counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
        last = event
    summary = {"seen": len(events), **{k.replace(" ", "_"): v for k, v in counts.items()},
               "failed": failed}  # fmt: skip
    _save_cursor(uow, last.created if last else None, last.event_id if last else None, summary)
    return payments_dto.SyncReport(
        job="stripe-sync", events_seen=len(events), applied=counts["applied"],
        unchanged=counts["no change"], duplicates=counts["duplicate"],
        ignored=counts["ignored"], failed=failed, error=error,
        cursor=max(filter(None, [cursor, last.created if last else None]), default=None),
        seconds=round(clock() - started, 3),
    )  # fmt: skip


# --- the payments report ----------------------------------------------------------------


def optional_day(value: str | date | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else parse_date(value, field)


def payments_report(
    uow: UnitOfWork, *, clinic: str | None = None, since: str | date | None = None,
    until: str | date | None = None,
) -> list[payments_dto.PaymentsLine]:  # fmt: skip
    """Per clinic and currency: orders, money received, refunded, net, and what unpaid
    orders (open, pending, failed) still owe. ``since``/``until`` bound the orders'
    creation day (UTC), both inclusive."""
    from datetime import UTC

    first, last = optional_day(since, "since"), optional_day(until, "until")
    if first and last and first > last:
        raise InvalidInput(
            "since",
            first.isoformat(),
            _("is after until ({last})").format(last=i18n.format_date(last)),
        )
    with uow:
        awaiting = [s.value for s in rules.AWAITING_PAYMENT]
        settled = [s.value for s in rules.SETTLED]
        stmt = (
            select(
                LocationRow.code, OrderRow.currency, func.count(OrderRow.id),
                func.count(OrderRow.id).filter(OrderRow.status.in_(settled)),
                func.coalesce(func.sum(OrderRow.paid_minor), 0),
                func.coalesce(func.sum(OrderRow.refunded_minor), 0),
                func.count(OrderRow.id).filter(OrderRow.status.in_(awaiting)),
                func.coalesce(func.sum(OrderRow.total_minor - OrderRow.paid_minor)
                              .filter(OrderRow.status.in_(awaiting)), 0),
            )
            .join(LocationRow, LocationRow.id == OrderRow.clinic_id)
            .group_by(LocationRow.code, OrderRow.currency)
            .order_by(LocationRow.code, OrderRow.currency)
        )  # fmt: skip
        if clinic:
            stmt = stmt.where(OrderRow.clinic_id == uow.clinic_filter(clinic, _("see payments")).id)
        if (scope := uow.scope_clinics()) is not None:
            stmt = stmt.where(OrderRow.clinic_id.in_(scope))
        if first:
            stmt = stmt.where(OrderRow.created_at >= datetime.combine(first, dtime(), UTC))
        if last:
            end = datetime.combine(last + timedelta(days=1), dtime(), UTC)
            stmt = stmt.where(OrderRow.created_at < end)
        lines = []
        for (
            code,
            currency,
            orders,
            paid_orders,
            paid,
            refunded,
            owing_n,
            owing,
        ) in uow.session.execute(stmt):

            def show(minor: int, cur: str = currency) -> Money:
                return Money(int(minor), cur)

            lines.append(payments_dto.PaymentsLine(
                clinic=code, currency=currency, orders=orders, paid_orders=paid_orders,
                paid=show(paid), refunded=show(refunded),
                net=show(int(paid) - int(refunded)), outstanding_orders=owing_n,
                outstanding=show(owing),
            ))  # fmt: skip
        return lines
