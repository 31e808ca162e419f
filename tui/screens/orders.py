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
from kitops.errors import KitopsError
from kitops.services import orders
from kitops.services.dto.payments import Order
from kitops.views import pages
from kitops.views.dto import OrderPage, OrderSummary

from ..base import Changed
from ..lists import ListScreen
from ..modals import ConfirmDialog, FormDialog, FormField
from ..widgets import Field, cell, theme_colour

ALL = "all"
STATUSES = ("open", "pending", "failed", "paid", "partially_refunded", "refunded", "cancelled")
RESTOCK = {
    "none": "money only: the kits stay with the patient",
    "sealed": "the kits come back sealed: back in stock, the course is cancelled",
    "write-off": "the kits were opened: written off, the course is cancelled",
}


class OrdersScreen(ListScreen):
    MODE = "orders"
    AUTO_FOCUS = "#orders"
    TABLE = "orders"
    NOUN = "orders"
    WHAT = "an order"
    PAGE_KEYS = "n/b"  # p pays by card
    BINDINGS: ClassVar[list[BindingType]] = [
        # at 80 columns the footer holds the actions; "/" is in F1's list
        Binding("slash", "focus_filter", "Filter", show=False),
        Binding("c", "create", "New order"),
        Binding("p", "pay_card", "Card payment"),
        Binding("l", "checkout", "Checkout link"),
        Binding("x", "cancel_order", "Cancel order"),
        Binding("r", "refund", "Refund"),
        Binding("n", "page(1)", "Next page", show=False),
        Binding("b", "page(-1)", "Prev page", show=False),
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
            yield Field(placeholder="filter: patient, plan, order or course number…", id="filter")
            yield Select(
                [("All orders", ALL), *[(s.replace("_", " "), s) for s in STATUSES]],
                value=ALL,
                allow_blank=False,
                id="order-status",
            )
        yield Static("", id="pay-message", classes="message")
        yield Label("", id="page-status", classes="page-status")
        table: DataTable[Any] = DataTable(
            id="orders", cursor_type="row", zebra_stripes=True, classes="loadable"
        )
        for label in ("No", "Course", "Patient", "Clinic", "Status", "Total", "Paid", "Due"):
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
            self.say(f"Payments unavailable: {message.problem}", "error")
        page = message.page
        self.take_page(page.orders, page.total, page.offset)
        if self.rows:
            self.load_detail_later(self.rows[self.table.cursor_row].id, now=True)
        else:
            self.detail = None
            self.query_one("#order-detail", Static).update(
                Text("no order here yet · c: new order for a course", style="dim")
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
            cell(row.status.replace("_", " "), style),
            cell(row.total, justify="right"),
            cell(row.paid, justify="right"),
            cell(row.outstanding, justify="right"),
        )

    def row_id(self, row: OrderSummary) -> int:
        return row.id

    def page_hint(self) -> str:
        return " · c: new order"

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
                "Course number",
                str(course) if course else "",
                placeholder="e.g. 12",
                restrict=r"[0-9]*",
            ),
            FormField("items", "Extra items (optional)", placeholder="SKU=QTY, e.g. CHX-0.5=2"),
            FormField("currency", "Currency (optional)", placeholder="the clinic's currency"),
        ]

        def done(values: dict[str, str] | None) -> None:
            if values:
                self.change(
                    lambda o: (
                        f"order {o.id} for course {o.course_id} ({o.patient_ref}): {o.total}; "
                        "p: take a card, l: send a Checkout link"
                    ),
                    orders.create_order,
                    values["course"],
                    currency=values["currency"] or None,
                    items=[values["items"]] if values["items"] else (),
                )

        self.app.push_screen(FormDialog("New order for a course", fields, "Create order"), done)

    def action_pay_card(self) -> None:
        order = self.selected()
        if order is None:
            return
        fields = [
            FormField(
                "method",
                "Card (payment method id from the card reader)",
                placeholder="pm_...",
            ),
            FormField("when", "Charge", "now", options=("now", "at the card terminal")),
        ]

        def confirm(values: dict[str, str] | None) -> None:
            if values is None:
                return
            now = values["when"] == "now"
            text = (
                f"Charge {order.outstanding} for order {order.id} ({order.patient_ref}) "
                + (f"to {values['method'] or '(no card given)'} now?" if now else "")
                + ("" if now else "and leave it to be confirmed at the card terminal?")
                + "\nThe course's kits are reserved once Stripe confirms the money."
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

            self.app.push_screen(ConfirmDialog("Card payment", text, "Charge"), go)

        self.app.push_screen(FormDialog(f"Card payment, order {order.id}", fields, "Next"), confirm)

    def action_checkout(self) -> None:
        order = self.selected()
        if order is None:
            return
        fields = [
            FormField(
                "success", "Page the patient returns to", placeholder="https://clinic.example/paid"
            ),
            FormField("cancel", "Page for 'back' (optional)", placeholder="https://..."),
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

        self.app.push_screen(FormDialog(f"Checkout link, order {order.id}", fields), done)

    def action_cancel_order(self) -> None:
        order = self.selected()
        if order is None:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.pay(
                    lambda o: f"order {o.id} cancelled",
                    orders.cancel_order,
                    order.id,
                    gateway_required=False,
                )

        text = (
            f"Cancel order {order.id} of {order.patient_ref} ({order.status}, {order.total})? "
            "A payment waiting at Stripe is cancelled there first; kits held for it go back. "
            "This cannot be undone."
        )
        self.app.push_screen(ConfirmDialog("Cancel order", text, "Cancel order"), go)

    def action_refund(self) -> None:
        order = self.selected()
        if order is None:
            return
        fields = [
            FormField("amount", "Amount (empty: all that is left)", placeholder=str(order.paid)),
            FormField("restock", "The kits", "none", options=tuple(RESTOCK)),
        ]

        def confirm(values: dict[str, str] | None) -> None:
            if values is None:
                return
            amount = values["amount"] or None
            restock = values["restock"]
            text = (
                f"Refund {amount or 'all that is left'} of order {order.id} "
                f"({order.patient_ref}, paid {order.paid}) at Stripe?\n"
                f"Kits: {RESTOCK.get(restock, restock)}, once Stripe confirms the refund. "
                "Money sent back cannot be taken again."
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

            self.app.push_screen(ConfirmDialog("Refund", text, "Refund"), go)

        self.app.push_screen(FormDialog(f"Refund order {order.id}", fields, "Next"), confirm)

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
                self.say(f"order {result.id}: send the patient {pending.url}", "ok")
            elif failed is not None and result.status == "failed":
                self.say(f"order {result.id}: {failed.failure}", "error")
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
        (f"order {order.id} · course {order.course_id} · {order.patient_ref}", "bold"),
        f" · {order.clinic} · {order.status.replace('_', ' ')} · total {order.total}, "
        f"paid {order.paid}, refunded {order.refunded}, due {order.outstanding}",
    )
    lines = Table(box=None, padding=(0, 1), show_header=False)
    lines.add_column(no_wrap=True)
    lines.add_column(ratio=1)
    lines.add_column(justify="right", no_wrap=True)
    for line in order.lines:
        amount = str(line.amount)
        lines.add_row(f"{line.quantity} ×", f"{line.item}: {line.description}", amount)
    parts: list[Any] = [head, lines]
    for payment in order.payments:
        ref = payment.intent_id or payment.session_id or "(not sent yet)"
        text = f"payment {payment.attempt}: {payment.method} {payment.status} {ref}"
        if payment.failure:
            text += f" ({payment.failure})"
        parts.append(Text(text))
        if payment.url and payment.status == "pending":
            parts.append(Text(f"  pay here: {payment.url}"))
    for refund in order.refunds:
        amount = str(refund.amount)
        parts.append(
            Text(
                f"refund {refund.refund_no}: {amount} "
                f"{refund.status}{' (applied)' if refund.applied else ''}, "
                f"kits: {refund.restock}"
            )
        )
    if order.kits:
        parts.append(Text("kits: " + ", ".join(f"{k.serial} ({k.status})" for k in order.kits)))
    if order.note:
        parts.append(Text(f"note: {order.note}", style="dim"))
    return Group(*parts)


def _pay_summary(order: Order) -> str:
    if order.status == "paid":
        return f"order {order.id} paid {order.paid}; the course's kits are reserved"
    return f"order {order.id} is {order.status}: waiting for Stripe to confirm the payment"


def _checkout_summary(order: Order) -> str:
    return f"order {order.id}: Checkout link made; it is in the order's detail"


def _refund_summary(order: Order) -> str:
    return f"order {order.id}: refund sent to Stripe; it applies when Stripe confirms it"
