"""``kitops order``, ``kitops price`` and ``kitops stripe listen|sync``.

Stripe is reached only through ``kitops.payments``, its gateway built by
``kitops.bootstrap`` inside the commands that need it; the secret key and webhook secret
come from the environment and are never printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kitops.bootstrap import payment_gateway
from kitops.cli.context import Context, pass_context
from kitops.cli.help import group
from kitops.cli.output import emit_json, emit_table, human, say, status_label
from kitops.i18n import N_, _
from kitops.i18n.labels import stored_text

if TYPE_CHECKING:
    from kitops.payments.gateway import Gateway
    from kitops.services.dto.payments import Order

ORDER_STATUSES = ["open", "pending", "failed", "paid", "partially_refunded", "refunded",
                  "cancelled"]  # fmt: skip


def _print_order(order: Order) -> None:
    say(_("order {id} for course {course} ({patient}, {clinic}): {status}").format(
        id=order.id, course=order.course_id, patient=order.patient_ref, clinic=order.clinic,
        status=order.status))  # fmt: skip
    emit_table(
        [N_("line"), N_("item"), N_("description"), N_("qty"), N_("unit"), N_("amount")],
        [(line.line_no, line.item, line.description, line.quantity,
          line.unit_amount, line.amount) for line in order.lines],
        right=("qty", "unit", "amount"),
    )  # fmt: skip
    say(_("total {total}, paid {paid}, refunded {refunded}, outstanding {outstanding}").format(
        total=human(order.total), paid=human(order.paid), refunded=human(order.refunded),
        outstanding=human(order.outstanding)))  # fmt: skip
    for payment in order.payments:
        ref = (
            payment.intent_id
            or payment.session_id
            or (_("(not sent yet)") if payment.status == "requested" else _("(no Stripe id)"))
        )
        fields = {"n": payment.attempt, "method": payment.method, "status": payment.status,
                  "ref": ref}  # fmt: skip
        if payment.failure:
            say(_("payment {n}: {method} {status} {ref} ({failure})").format(
                failure=payment.failure, **fields))  # fmt: skip
        else:
            say(_("payment {n}: {method} {status} {ref}").format(**fields))
        if payment.url and payment.status == "pending":
            say("  " + _("pay here: {url}").format(url=payment.url))
    for refund in order.refunds:
        status = (_("{status} (applied)").format(status=refund.status) if refund.applied
                  else refund.status)  # fmt: skip
        line = _("refund {n}: {amount} {status}, restock {restock}").format(
            n=refund.refund_no, amount=human(refund.amount), status=status,
            restock=refund.restock)  # fmt: skip
        say(f"{line} {refund.refund_id}" if refund.refund_id else line)
    if order.kits:
        kits = ", ".join(f"{k.serial} ({status_label(k.status)})" for k in order.kits)
        say(_("kits: {kits}").format(kits=kits))
    if order.note:
        say(_("note: {note}").format(note=stored_text(order.note)))


def _emit(order: Order, as_json: bool) -> None:
    emit_json(order) if as_json else _print_order(order)


# --- orders -----------------------------------------------------------------------------


@group(help=N_("Orders for courses, paid through Stripe."))
def order() -> None: ...


@order.command(
    "create",
    help=N_("Create an order: the course's price (its plan's, or its kits'), plus extra items."),
)
@click.option("--course", "course_id", required=True, metavar="ID", help=N_("The course ordered."))
@click.option("--items", multiple=True, metavar="SKU=QTY[,...]",
              help=N_("Extra priced items (repeatable)."))  # fmt: skip
@click.option("--currency", metavar="CUR", help=N_("Default: the clinic's currency."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the order as JSON."))
@pass_context
def order_create(
    ctx: Context, course_id: str, items: tuple[str, ...], currency: str | None, as_json: bool
) -> None:
    from kitops.services.orders import create_order

    _emit(create_order(ctx.uow(), course_id, currency=currency, items=items), as_json)


@order.command("show", help=N_("An order with its lines, payments, refunds and the course's kits."))
@click.argument("order_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the order as JSON."))
@pass_context
def order_show(ctx: Context, order_id: str, as_json: bool) -> None:
    from kitops.services.orders import show_order

    _emit(show_order(ctx.uow(readonly=True), order_id), as_json)


@order.command("list", help=N_("Orders, oldest first."))
@click.option("--clinic", metavar="LOC", help=N_("Only this clinic's orders."))
@click.option("--status", type=click.Choice(ORDER_STATUSES), help=N_("Only orders in this state."))
@click.option("--course", "course_id", metavar="ID", help=N_("Only this course's orders."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of orders."))
@pass_context
def order_list(
    ctx: Context, clinic: str | None, status: str | None, course_id: str | None, as_json: bool
) -> None:
    from kitops.services.orders import list_orders

    found = list_orders(ctx.uow(readonly=True), clinic=clinic, status=status, course=course_id)
    if as_json:
        emit_json(found)
        return
    emit_table(
        [N_("order"), N_("course"), N_("patient"), N_("clinic"), N_("status"), N_("total"),
         N_("paid"), N_("refunded")],
        [(o.id, o.course_id, o.patient_ref, o.clinic, o.status, o.total, o.paid, o.refunded)
         for o in found],
        right=("total", "paid", "refunded"),
    )  # fmt: skip


@order.command(
    "pay",
    help=N_(
        "Take the payment. Run again after an error: it re-sends the same request "
        "(one idempotency key per order and attempt), so nothing is ever charged "
        "twice."
    ),
)
@click.argument("order_id", metavar="ID")
@click.option(
    "--payment-method",
    metavar="PM",
    help=N_("Charge this payment method now (pm_..., a card in the clinic)."),
)
@click.option("--confirm/--no-confirm", default=True, show_default=True,
              help=N_("With --payment-method: confirm now, or at the card terminal."))  # fmt: skip
@click.option(
    "--checkout", is_flag=True, help=N_("A Stripe Checkout page the patient pays from home.")
)
@click.option(
    "--success-url", metavar="URL", help=N_("With --checkout: where the patient returns.")
)
@click.option("--cancel-url", metavar="URL", help=N_("With --checkout: where 'back' goes."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the order as JSON."))
@pass_context
def order_pay(
    ctx: Context, order_id: str, payment_method: str | None, confirm: bool, checkout: bool,
    success_url: str | None, cancel_url: str | None, as_json: bool,
) -> None:  # fmt: skip
    from kitops.services.orders import pay_order

    gateway = payment_gateway()
    result = pay_order(
        ctx.uow(), gateway, order_id, payment_method=payment_method, confirm=confirm,
        checkout=checkout, success_url=success_url, cancel_url=cancel_url,
    )  # fmt: skip
    _emit(result, as_json)


@order.command(
    "refund",
    help=N_("Refund a paid order at Stripe; its amounts and kits change when Stripe confirms."),
)
@click.argument("order_id", metavar="ID")
@click.option("--amount", metavar="AMOUNT", help=N_("Default: everything not yet refunded."))
@click.option("--restock", type=click.Choice(["sealed", "write-off"]),
              help=N_("The kits come back sealed (to stock) or opened (written off); "
                   "cancels the course."))  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help=N_("Print the order as JSON."))
@pass_context
def order_refund(
    ctx: Context, order_id: str, amount: str | None, restock: str | None, as_json: bool
) -> None:
    from kitops.cli.numbers import decimal_text
    from kitops.payments.gateway import PaymentsNotConfigured
    from kitops.services.orders import refund_order

    try:
        gateway: Gateway | None = payment_gateway()
    except PaymentsNotConfigured:
        gateway = None  # the order is checked first; a refundable one names what is missing
    result = refund_order(
        ctx.uow(), gateway, order_id, amount=decimal_text(amount, "amount"), restock=restock
    )
    _emit(result, as_json)


@order.command(
    "cancel",
    help=N_("Cancel an unpaid order (its payment at Stripe first); held kits go back."),
)
@click.argument("order_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the order as JSON."))
@pass_context
def order_cancel(ctx: Context, order_id: str, as_json: bool) -> None:
    from kitops.services.orders import cancel_order, show_order

    current = show_order(ctx.uow(readonly=True), order_id)
    at_stripe = any(p.status in ("requested", "pending") for p in current.payments)
    _emit(cancel_order(ctx.uow(), payment_gateway() if at_stripe else None, order_id), as_json)


# --- prices -----------------------------------------------------------------------------


@group(help=N_("Prices of products (kits, extras) and plans (clinic courses) per currency."))
def price() -> None: ...


@price.command(
    "set",
    help=N_("Set what ITEM costs in CURRENCY (e.g. `price set KIT-HOME-6W 315.00 GBP`)."),
)
@click.argument("item", metavar="SKU|plan:CODE")
@click.argument("amount")
@click.argument("currency")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the price as JSON."))
@pass_context
def price_set(ctx: Context, item: str, amount: str, currency: str, as_json: bool) -> None:
    from kitops.cli.numbers import decimal_text
    from kitops.services.orders import set_price

    result = set_price(ctx.uow(), item, decimal_text(amount, "amount") or amount, currency)
    emit_json(result) if as_json else say(
        _("{item} costs {amount}").format(item=result.item, amount=human(result.amount))
    )


@price.command("list", help=N_("Every price."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of prices."))
@pass_context
def price_list(ctx: Context, as_json: bool) -> None:
    from kitops.services.orders import list_prices

    found = list_prices(ctx.uow(readonly=True))
    if as_json:
        emit_json(found)
        return
    emit_table([N_("item"), N_("currency"), N_("price")],
               [(p.item, p.currency, p.amount) for p in found],
               right=("price",))  # fmt: skip


# --- Stripe events ----------------------------------------------------------------------


@group(help=N_("Receive Stripe's events: a webhook endpoint, or a sync job for cron."))
def stripe() -> None: ...


@stripe.command(
    "listen",
    help=N_(
        "Serve the webhook endpoint until interrupted; one JSON line per request on "
        "stderr. The same endpoint as `kitops serve`'s /stripe/webhook, alone on "
        "uvicorn."
    ),
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help=N_("Address to bind (put a TLS reverse proxy in front for Stripe)."),
)
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option("--path", default="/stripe/webhook", show_default=True, help=N_("The endpoint path."))
@click.option("--max-body", default=256 * 1024, show_default=True, type=click.IntRange(1024),
              help=N_("Largest event body accepted, in bytes (413 above)."))  # fmt: skip
@pass_context
def stripe_listen(ctx: Context, host: str, port: int, path: str, max_body: int) -> None:
    from kitops.cli.web import listen_for_stripe

    gateway = payment_gateway(need_webhook_secret=True)
    ctx.database()  # refuse a database at the wrong schema before listening
    ctx.uow().require("payment.sync")  # and a user who may not apply payment events
    listen_for_stripe(ctx, gateway=gateway, host=host, port=port, path=path, max_body=max_body)


@stripe.command(
    "sync",
    help=N_(
        "Read the Events API from the last event seen and handle what is new (the "
        "cron alternative to `listen`). Prints one JSON line; exit 1 when an event "
        "could not be handled (the next run starts from it again)."
    ),
)
@pass_context
def stripe_sync(ctx: Context) -> None:
    import json

    from kitops.services.dto import as_json
    from kitops.services.payments import sync_events

    report = sync_events(ctx.uow(), payment_gateway())
    click.echo(json.dumps(as_json(report), sort_keys=True))
    if report.failed:
        raise click.exceptions.Exit(1)
