"""Orders and payments: the orders list (a page at a time, filtered in the query) with
the selected order's lines, payment attempts, refunds and kits; create an order for a
course, take a card in the clinic or make a Checkout link for the patient, cancel an
unpaid order, refund a paid one with the choice of what happens to its kits.

Payments go through ``kitops.services.orders`` with the Stripe gateway the environment
configures, as ``kitops order pay`` does. Without ``KITOPS_STRIPE_API_KEY`` the screen
says so in place; orders can still be listed, created and (when nothing is at Stripe)
cancelled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from kitops import bootstrap
from kitops.domain.money import Money
from kitops.errors import InvalidInput, KitopsError
from kitops.i18n import N_, _, formats, pgettext
from kitops.i18n import gettext as translated
from kitops.services import orders
from kitops.services.dto.payments import Order
from kitops.views import pages
from kitops.views.dto import OrderPage, OrderSummary

from ..base import Changed
from ..lists import ListScreen
from ..modals import ConfirmDialog, FormDialog, FormField
from ..widgets import Field, FilterSelect, cell, theme_colour

ALL = "all"
# an order's stored status, as a person reads it
ORDER_STATUS = {
    "open": N_("open"),
    "pending": N_("pending"),
    "failed": N_("failed"),
    "paid": N_("paid"),
    "partially_refunded": N_("partly refunded"),
    "refunded": N_("refunded"),
    "cancelled": N_("cancelled"),
}
STATUSES = tuple(ORDER_STATUS)
# a kit's stored status, as a person reads it (as the Kits screen names them)
KIT_STATUS = {
    "available": N_("available"),
    "reserved": N_("reserved"),
    "shipped": N_("shipped"),
    "handed_over": N_("handed over"),
    "disassembled": N_("disassembled"),
    "written_off": N_("written off"),
    "recalled": N_("recalled"),
    "expired": N_("expired"),
    "quarantine": N_("quarantine"),
}
# a payment's or a refund's state at Stripe, and how it was taken
PAYMENT_STATUS = {
    "pending": N_("pending"),
    "succeeded": N_("succeeded"),
    "failed": N_("failed"),
    "canceled": N_("cancelled"),
    "cancelled": N_("cancelled"),
    "requires_action": N_("requires action"),
}
METHODS = {"card": N_("card"), "checkout": N_("checkout")}
RESTOCK = {
    "none": N_("money only: the kits stay with the patient"),
    "sealed": N_("the kits come back sealed: back in stock, the course is cancelled"),
    "write-off": N_("the kits were opened: written off, the course is cancelled"),
}
RESTOCK_CHOICE = {"none": N_("none"), "sealed": N_("sealed"), "write-off": N_("write-off")}


def headings() -> tuple[str, ...]:
    """The list's column headings in the language in force."""
    return (pgettext("column: a number", "No"), _("Course"), _("Patient"), _("Clinic"),
            _("Status"), _("Total"), _("Paid"), _("Due"))  # fmt: skip


def order_status(status: str) -> str:
    """An order's stored status in the language in force."""
    return translated(ORDER_STATUS[status]) if status in ORDER_STATUS else status.replace("_", " ")


def kit_status(status: str) -> str:
    """A kit's stored status in the language in force."""
    return translated(KIT_STATUS[status]) if status in KIT_STATUS else status.replace("_", " ")


def _label(labels: dict[str, str], value: str) -> str:
    return translated(labels[value]) if value in labels else value.replace("_", " ")


class OrdersScreen(ListScreen):
    MODE = "orders"
    AUTO_FOCUS = "#orders"
    TABLE = "orders"
    NOUN = N_("orders")
    WHAT = N_("an order")
    PAGE_KEYS = "n/b"  # p pays by card
    BINDINGS: ClassVar[list[BindingType]] = [
        # at 80 columns the footer holds the actions; "/" is in F1's list
        Binding("slash", "focus_filter", N_("Filter"), show=False),
        Binding("c", "create", N_("New order")),
        Binding("p", "pay_card", N_("Card payment")),
        Binding("l", "checkout", N_("Checkout link")),
        Binding("x", "cancel_order", N_("Cancel order")),
        Binding("r", "refund", N_("Refund")),
        Binding("n", "page(1)", N_("Next page"), show=False),
        Binding("b", "page(-1)", N_("Prev page"), show=False),
    ]

    class Loaded(Message):
        def __init__(self, page: OrderPage, problem: str | None) -> None:
            super().__init__()
            self.page = page
            self.problem = problem

    class Detail(Message):
        def __init__(self, order: Order) -> None:
            super().__init__()
            self.order = order

    def __init__(self) -> None:
        super().__init__()
        self.course_hint: int | None = None
        self.detail: Order | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="filter-bar"):
            yield Field(
                placeholder=_("filter: patient, plan, order or course number…"), id="filter"
            )
            yield FilterSelect(
                [
                    (pgettext("customer orders", "All orders"), ALL),
                    *[(order_status(s), s) for s in STATUSES],
                ],
                value=ALL,
                allow_blank=False,
                id="order-status",
            )
        yield Static("", id="pay-message", classes="message")
        yield Label("", id="page-status", classes="page-status")
        table: DataTable[Any] = DataTable(
            id="orders", cursor_type="row", zebra_stripes=True, classes="loadable"
        )
        for label in headings():
            table.add_column(label)
        yield table
        with VerticalScroll(classes="detail"):
            yield Static("", id="order-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.table.loading = True
        self.query_one("#pay-message").display = False

    def apply_options(self, **options: Any) -> None:
        if "course" in options:
            self.course_hint = int(options["course"])
            self.query_one("#filter", Input).value = str(options["course"])
            self.query_one("#order-status", Select).value = ALL
        if "search" in options:
            self.query_one("#filter", Input).value = str(options["search"])
        if "status" in options:
            self.query_one("#order-status", Select).value = options["status"]
        if "select" in options:
            self.select_id = int(options["select"])
        if options.get("create"):
            self.call_after_refresh(self.action_create)
        self.page_offset = 0

    # --- the list ----------------------------------------------------------------------

    def refresh_data(self) -> None:
        status = self.query_one("#order-status", Select).value
        self.load(
            clinic=self.kitops.clinic,
            status=None if status in (ALL, Select.NULL) else str(status),
            search=self.query_one("#filter", Input).value,
            offset=self.page_offset,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, **query: Any) -> None:
        page = pages.orders_page(self.stockroom.reading(), **query)
        self.post_message(self.Loaded(page, bootstrap.payments_problem()))

    def on_orders_screen_loaded(self, message: Loaded) -> None:
        if message.problem:
            self.say(_("Payments unavailable: {problem}").format(problem=message.problem), "error")
        page = message.page
        self.take_page(page.orders, page.total, page.offset)
        if self.rows:
            self.load_detail_later(self.rows[self.table.cursor_row].id, now=True)
        else:
            self.detail = None
            self.query_one("#order-detail", Static).update(
                Text(_("no order here yet · c: new order for a course"), style="dim")
            )

    def row_cells(self, row: OrderSummary) -> tuple[Any, ...]:
        style = {
            "paid": theme_colour(self.app, "success", "green"),
            "failed": theme_colour(self.app, "warning", "yellow"),
            "pending": theme_colour(self.app, "warning", "yellow"),
            "cancelled": "dim",
            "refunded": "dim",
        }.get(row.status, "")
        return (
            cell(row.id, justify="right"),
            cell(row.course_id, justify="right"),
            row.patient_ref,
            row.clinic,
            cell(order_status(row.status), style),
            cell(formats.money(row.total), justify="right"),
            cell(formats.money(row.paid), justify="right"),
            cell(formats.money(row.outstanding), justify="right"),
        )

    def row_id(self, row: OrderSummary) -> int:
        return row.id

    def page_hint(self) -> str:
        return " · " + _("c: new order")

    @on(Select.Changed, "#order-status")
    def status_changed(self) -> None:
        self.reload_from_start()

    @on(DataTable.RowHighlighted, "#orders")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.rows):
            self.load_detail_later(self.rows[event.cursor_row].id)

    def load_detail_later(self, order_id: int, *, now: bool = False) -> None:
        self.detail_later(lambda: self.load_detail(order_id), now=now)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load_detail(self, order_id: int) -> None:
        self.post_message(self.Detail(orders.show_order(self.stockroom.reading(), order_id)))

    def on_orders_screen_detail(self, message: Detail) -> None:
        self.detail = message.order
        self.query_one("#order-detail", Static).update(describe_order(message.order))

    # --- actions -----------------------------------------------------------------------

    def selected(self) -> OrderSummary | None:
        return cast("OrderSummary | None", super().selected())

    def action_create(self) -> None:
        course = self.course_hint
        fields = [
            FormField(
                "course",
                _("Course number"),
                str(course) if course else "",
                placeholder=_("e.g. 12"),
                restrict=r"[0-9]*",
            ),
            FormField(
                "items", _("Extra items (optional)"), placeholder=_("SKU=QTY, e.g. CHX-0.5=2")
            ),
            FormField("currency", _("Currency (optional)"), placeholder=_("the clinic's currency")),
        ]

        def done(values: dict[str, str] | None) -> None:
            if values:
                self.change(
                    lambda o: _(
                        "order {order} for course {course} ({patient}): {total}; "
                        "p: take a card, l: send a Checkout link"
                    ).format(
                        order=o.id,
                        course=o.course_id,
                        patient=o.patient_ref,
                        total=formats.money(o.total),
                    ),
                    orders.create_order,
                    values["course"],
                    currency=values["currency"] or None,
                    items=[values["items"]] if values["items"] else (),
                )

        self.app.push_screen(
            FormDialog(_("New order for a course"), fields, _("Create order")), done
        )

    def action_pay_card(self) -> None:
        order = self.selected()
        if order is None:
            return
        fields = [
            FormField(
                "method",
                _("Card (payment method id from the card reader)"),
                placeholder="pm_...",
            ),
            FormField("when", _("Charge"), _("now"), options=(_("now"), _("at the card terminal"))),
        ]

        def confirm(values: dict[str, str] | None) -> None:
            if values is None:
                return
            now = values["when"] == _("now")
            names = {
                "amount": formats.money(order.outstanding),
                "order": order.id,
                "patient": order.patient_ref,
                "card": values["method"] or _("(no card given)"),
            }
            if now:
                text = _("Charge {amount} for order {order} ({patient}) to {card} now?")
            else:
                text = _(
                    "Charge {amount} for order {order} ({patient}) and leave it to be "
                    "confirmed at the card terminal?"
                )
            text = (
                text.format(**names)
                + "\n"
                + _("The course's kits are reserved once Stripe confirms the money.")
            )

            def go(yes: bool | None) -> None:
                if yes:
                    self.pay(
                        _pay_summary,
                        orders.pay_order,
                        order.id,
                        payment_method=values["method"] or None,
                        confirm=now,
                    )

            self.app.push_screen(ConfirmDialog(_("Card payment"), text, _("Charge")), go)

        title = _("Card payment, order {order}").format(order=order.id)
        self.app.push_screen(FormDialog(title, fields, _("Next")), confirm)

    def action_checkout(self) -> None:
        order = self.selected()
        if order is None:
            return
        fields = [
            FormField(
                "success",
                _("Page the patient returns to"),
                placeholder="https://clinic.example/paid",
            ),
            FormField("cancel", _("Page for 'back' (optional)"), placeholder="https://..."),
        ]

        def done(values: dict[str, str] | None) -> None:
            if values:
                self.pay(
                    _checkout_summary,
                    orders.pay_order,
                    order.id,
                    checkout=True,
                    success_url=values["success"],
                    cancel_url=values["cancel"] or None,
                )

        title = _("Checkout link, order {order}").format(order=order.id)
        self.app.push_screen(FormDialog(title, fields, _("OK")), done)

    def action_cancel_order(self) -> None:
        order = self.selected()
        if order is None:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.pay(
                    lambda o: _("order {order} cancelled").format(order=o.id),
                    orders.cancel_order,
                    order.id,
                    gateway_required=False,
                )

        text = _(
            "Cancel order {order} of {patient} ({status}, {total})? A payment waiting at "
            "Stripe is cancelled there first; kits held for it go back. This cannot be undone."
        ).format(
            order=order.id,
            patient=order.patient_ref,
            status=order_status(order.status),
            total=formats.money(order.total),
        )
        self.app.push_screen(ConfirmDialog(_("Cancel order"), text, _("Cancel order")), go)

    def action_refund(self) -> None:
        order = self.selected()
        if order is None:
            return
        choices = {translated(label): key for key, label in RESTOCK_CHOICE.items()}
        fields = [
            FormField(
                "amount",
                _("Amount (empty: all that is left)"),
                placeholder=formats.number(
                    order.paid.amount, decimals=max(0, -int(order.paid.amount.as_tuple().exponent))
                ),
            ),
            FormField("restock", _("The kits"), _("none"), options=tuple(choices)),
        ]

        def confirm(values: dict[str, str] | None) -> None:
            if values is None:
                return
            # typed as the language writes it (12,50 in German), handed on as 12.50
            try:
                typed = values["amount"].strip()
                amount = str(formats.parse_decimal_input(typed, "amount")) if typed else None
            except InvalidInput as error:
                self.say(str(error), "error")
                return
            restock = choices.get(values["restock"], values["restock"])
            shown = (
                formats.money(Money.parse(amount, order.paid.currency, "amount"))
                if amount
                else _("all that is left")
            )
            text = _(
                "Refund {amount} of order {order} ({patient}, paid {paid}) at Stripe?\n"
                "Kits: {kits}, once Stripe confirms the refund. Money sent back cannot be "
                "taken again."
            ).format(
                amount=shown,
                order=order.id,
                patient=order.patient_ref,
                paid=formats.money(order.paid),
                kits=_label(RESTOCK, restock),
            )

            def go(yes: bool | None) -> None:
                if yes:
                    self.pay(
                        _refund_summary,
                        orders.refund_order,
                        order.id,
                        amount=amount,
                        restock=None if restock == "none" else restock,
                        gateway_required=False,  # the order is checked before the key
                    )

            self.app.push_screen(ConfirmDialog(_("Refund"), text, pgettext("button", "Refund")), go)

        title = _("Refund order {order}").format(order=order.id)
        self.app.push_screen(FormDialog(title, fields, _("Next")), confirm)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pay")
    def pay(
        self,
        summary: Callable[[Any], str],
        action: Callable[..., Any],
        order_id: int,
        *,
        gateway_required: bool = True,
        **kwargs: Any,
    ) -> None:
        """A payment use case: the gateway from the environment, then one unit of work
        (the service commits its steps around the calls to Stripe)."""
        gateway: Any = None
        if gateway_required or bootstrap.payments_problem() is None:
            gateway = bootstrap.payment_gateway()
        result = action(self.stockroom.writing(), gateway, order_id, **kwargs)
        self.post_message(Changed(summary(result), result))

    def changed(self, result: Any) -> None:
        if isinstance(result, Order):
            self.select_id = result.id
            self.course_hint = None
            failed = next((p for p in reversed(result.payments) if p.failure), None)
            pending = next(
                (p for p in reversed(result.payments) if p.url and p.status == "pending"), None
            )
            if pending is not None:
                text = _("order {order}: send the patient {url}")
                self.say(text.format(order=result.id, url=pending.url), "ok")
            elif failed is not None and result.status == "failed":
                text = _("order {order}: {failure}")
                self.say(text.format(order=result.id, failure=failed.failure), "error")
            else:
                self.say("")

    def show_refusal(self, error: BaseException, worker: Any = None) -> bool:
        """A payment refused (no key, a declined card, Stripe unreachable) reads above the
        list; the order is reloaded, since a declined card fails it."""
        if getattr(worker, "group", None) == "pay" and isinstance(error, KitopsError):
            self.say(str(error), "error")
            self.action_refresh_data()
            return True
        return False

    def say(self, text: str, kind: str = "") -> None:
        widget = self.query_one("#pay-message", Static)
        widget.set_classes(f"message {kind}".strip())
        widget.update(Text(text))
        widget.display = bool(text)


def describe_order(order: Order) -> Group:
    """An order as the detail pane shows it: lines, money, payments, refunds, kits."""
    head = Text.assemble(
        (
            _("order {order} · course {course} · {patient}").format(
                order=order.id, course=order.course_id, patient=order.patient_ref
            ),
            "bold",
        ),
        f" · {order.clinic} · {order_status(order.status)} · ",
        _("total {total}, paid {paid}, refunded {refunded}, due {due}").format(
            total=formats.money(order.total),
            paid=formats.money(order.paid),
            refunded=formats.money(order.refunded),
            due=formats.money(order.outstanding),
        ),
    )
    lines = Table(box=None, padding=(0, 1), show_header=False)
    lines.add_column(no_wrap=True)
    lines.add_column(ratio=1)
    lines.add_column(justify="right", no_wrap=True)
    for line in order.lines:
        amount = formats.money(line.amount)
        quantity = formats.number(line.quantity)
        lines.add_row(f"{quantity} ×", f"{line.item}: {line.description}", amount)
    parts: list[Any] = [head, lines]
    for payment in order.payments:
        ref = payment.intent_id or payment.session_id or _("(not sent yet)")
        text = _("payment {attempt}: {method} {status} {ref}").format(
            attempt=payment.attempt,
            method=_label(METHODS, payment.method),
            status=_label(PAYMENT_STATUS, payment.status),
            ref=ref,
        )
        if payment.failure:
            text += f" ({payment.failure})"
        parts.append(Text(text))
        if payment.url and payment.status == "pending":
            parts.append(Text("  " + _("pay here: {url}").format(url=payment.url)))
    for refund in order.refunds:
        if refund.applied:
            text = _("refund {number}: {amount} {status} (applied), kits: {kits}")
        else:
            text = _("refund {number}: {amount} {status}, kits: {kits}")
        parts.append(
            Text(
                text.format(
                    number=refund.refund_no,
                    amount=formats.money(refund.amount),
                    status=_label(PAYMENT_STATUS, refund.status),
                    kits=_label(RESTOCK_CHOICE, refund.restock),
                )
            )
        )
    if order.kits:
        kits = ", ".join(f"{k.serial} ({kit_status(k.status)})" for k in order.kits)
        parts.append(Text(_("kits: {kits}").format(kits=kits)))
    if order.note:
        parts.append(Text(_("note: {note}").format(note=order.note), style="dim"))
    return Group(*parts)


def _pay_summary(order: Order) -> str:
    if order.status == "paid":
        return _("order {order} paid {paid}; the course's kits are reserved").format(
            order=order.id, paid=formats.money(order.paid)
        )
    return _("order {order} is {status}: waiting for Stripe to confirm the payment").format(
        order=order.id, status=order_status(order.status)
    )


def _checkout_summary(order: Order) -> str:
    return _("order {order}: Checkout link made; it is in the order's detail").format(
        order=order.id
    )


def _refund_summary(order: Order) -> str:
    return _("order {order}: refund sent to Stripe; it applies when Stripe confirms it").format(
        order=order.id
    )
