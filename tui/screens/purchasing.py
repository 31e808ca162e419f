"""Purchase orders: the list (filter as you type, by status), the selected order's
lines with each line's arithmetic, approve / send / cancel (each confirmed), export for
the supplier (CSV or PDF), and "reorder now": a dry run of the reorder job shown line by
line first, then the drafts written on confirmation."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from kitops.documents import purchase_orders
from kitops.i18n import N_, _, formats, ngettext, pgettext
from kitops.i18n import gettext as translated
from kitops.services import purchasing, reorder
from kitops.services.dto.purchasing import Export, PurchaseOrder
from kitops.services.dto.reorder import ReorderRun
from kitops.views import pages
from kitops.views.dto import PurchaseOrderPage

from .. import lists
from ..base import StockroomScreen
from ..modals import ConfirmDialog, FormDialog, FormField, nothing_changed
from ..widgets import Field, FilterSelect, cell, theme_colour

# the filter's choices (a stored status, or a group of them) and how a line names them
STATUS_LABELS = {
    "open": N_("Open"),
    "all": N_("All orders"),
    "draft": N_("Draft"),
    "approved": N_("Approved"),
    "sent": N_("Sent"),
    "partial": N_("Partly received"),
    "received": N_("Received"),
    "cancelled": N_("Cancelled"),
}
STATUS_IN_LINE = {
    "open": N_("open"),
    "all": N_("all orders"),
    "draft": N_("draft"),
    "approved": N_("approved"),
    "sent": N_("sent"),
    "partial": N_("partly received"),
    "received": N_("received"),
    "cancelled": N_("cancelled"),
}
# a purchase order's stored status, as a person reads it
PO_STATUS = {key: STATUS_IN_LINE[key] for key in STATUS_IN_LINE if key not in ("open", "all")}
ORIGINS = {"reorder": N_("reorder"), "manual": N_("manual")}
HEADINGS = (N_("PO"), N_("Clinic"), N_("Supplier"), N_("Status"), N_("Lines"), N_("Total"),
            N_("Expected"))  # fmt: skip
LINE_HEADINGS = (N_("SKU"), N_("Supplier SKU"), N_("Qty"), N_("In"), N_("Open"), N_("Unit cost"),
                 N_("Total"), N_("Need by"))  # fmt: skip


def po_status(status: str) -> str:
    """A purchase order's stored status in the language in force."""
    return translated(PO_STATUS[status]) if status in PO_STATUS else status


class PurchasingScreen(StockroomScreen):
    MODE = "purchasing"
    AUTO_FOCUS = "#pos"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", N_("Filter")),
        Binding("a", "approve", N_("Approve")),
        Binding("s", "send", N_("Send")),
        Binding("x", "cancel_po", N_("Cancel PO")),
        Binding("e", "export", N_("Export")),
        Binding("r", "reorder", N_("Reorder now")),
    ]

    class Loaded(Message):
        def __init__(self, page: PurchaseOrderPage) -> None:
            super().__init__()
            self.page = page

    class Previewed(Message):
        def __init__(self, run: ReorderRun) -> None:
            super().__init__()
            self.run = run

    class Exported(Message):
        def __init__(self, export: Export) -> None:
            super().__init__()
            self.export = export

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[PurchaseOrder] = []
        self.select_number: str | None = None
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="filter-bar"):
            yield Field(placeholder=_("filter: PO number, supplier, SKU…"), id="filter")
            yield FilterSelect(
                [(translated(label), key) for key, label in STATUS_LABELS.items()],
                value="open",
                allow_blank=False,
                id="po-status",
            )
        yield Label("", id="page-status", classes="page-status")
        table: DataTable[Any] = DataTable(
            id="pos", cursor_type="row", zebra_stripes=True, classes="loadable"
        )
        for label in HEADINGS:
            table.add_column(translated(label))
        yield table
        lines: DataTable[Any] = DataTable(id="po-lines", cursor_type="row")
        lines.border_title = _("Lines")
        for label in LINE_HEADINGS:
            lines.add_column(translated(label))
        yield lines
        yield Static("", id="line-explanation", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pos").loading = True

    def apply_options(self, **options: Any) -> None:
        if "status" in options:
            self.query_one("#po-status", Select).value = options["status"]
        if "search" in options:
            self.query_one("#filter", Input).value = str(options["search"])
        if "select" in options:
            self.select_number = str(options["select"])
        if options.get("reorder"):
            self.call_after_refresh(self.action_reorder)

    # --- the list ----------------------------------------------------------------------

    def refresh_data(self) -> None:
        status = self.query_one("#po-status", Select).value
        self.load(
            status=str(status) if status is not Select.NULL else "open",
            clinic=self.kitops.clinic,
            search=self.query_one("#filter", Input).value,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, **query: Any) -> None:
        self.post_message(self.Loaded(pages.purchase_orders(self.stockroom.reading(), **query)))

    def on_purchasing_screen_loaded(self, message: Loaded) -> None:
        self.rows = list(message.page.orders)
        self.query_one("#pos").loading = False
        table = self.query_one("#pos", DataTable)
        row = table.cursor_row
        table.clear()
        warning = theme_colour(self.app, "warning", "yellow")
        for order in self.rows:
            style = warning if order.status == "draft" else ""
            if order.status in ("received", "cancelled"):
                style = "dim"
            table.add_row(
                cell(order.number, style),
                order.clinic,
                order.supplier,
                cell(po_status(order.status), style),
                cell(formats.number(len(order.lines)), justify="right"),
                cell(formats.money(order.total), justify="right"),
                formats.date(order.expected_on) if order.expected_on else "",
            )
        if self.select_number is not None:
            numbers = [o.number for o in self.rows]
            if self.select_number in numbers:
                row = numbers.index(self.select_number)
            self.select_number = None
        if self.rows:
            table.move_cursor(row=min(max(row, 0), len(self.rows) - 1))
        else:
            self.show_lines(None)
        status = self.query_one("#po-status", Select).value
        shown = translated(STATUS_IN_LINE[str(status)]) if str(status) in STATUS_IN_LINE else ""
        count = len(self.rows)
        self.query_one("#page-status", Label).update(
            ngettext(
                "{n} purchase order, {status} · r: reorder now",
                "{n} purchase orders, {status} · r: reorder now",
                count,
            ).format(n=formats.number(count), status=shown)
        )

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(lists.FILTER_DELAY, self.action_refresh_data)

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one("#pos", DataTable).focus()

    @on(Select.Changed, "#po-status")
    def status_changed(self) -> None:
        self.action_refresh_data()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    @on(DataTable.RowHighlighted, "#pos")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.rows):
            self.show_lines(self.rows[event.cursor_row])

    def show_lines(self, order: PurchaseOrder | None) -> None:
        table = self.query_one("#po-lines", DataTable)
        table.clear()
        explanation = self.query_one("#line-explanation", Static)
        if order is None:
            table.border_title = _("Lines")
            explanation.update("")
            return
        origin = translated(ORIGINS[order.origin]) if order.origin in ORIGINS else order.origin
        if order.approved_by:
            who = _("{origin}, by {creator}, approved by {approver}").format(
                origin=origin, creator=order.created_by, approver=order.approved_by
            )
        else:
            who = _("{origin}, by {creator}").format(origin=origin, creator=order.created_by)
        table.border_title = (
            f"{order.number} · {order.supplier_name} → {order.clinic} · "
            f"{po_status(order.status)} · {who}"
        )
        for line in order.lines:
            style = "dim" if line.closed else ""
            table.add_row(
                cell(line.sku, style),
                line.supplier_sku or "",
                cell(formats.number(line.quantity), style, "right"),
                cell(formats.number(line.received), style, "right"),
                cell(formats.number(line.open), style, "right"),
                cell(formats.money(line.unit_cost), justify="right"),
                cell(formats.money(line.line_total), justify="right"),
                formats.date(line.need_by) if line.need_by else "",
            )
        self.explain(order, 0)

    def explain(self, order: PurchaseOrder, index: int) -> None:
        explanation = self.query_one("#line-explanation", Static)
        if not order.lines or not 0 <= index < len(order.lines):
            explanation.update(Text(order.note or _("no lines"), style="dim"))
            return
        line = order.lines[index]
        why = line.explanation or _("entered by hand (no reorder arithmetic)")
        text = f"{line.sku}: {why}"
        if order.note:
            text += "\n" + _("note: {note}").format(note=order.note)
        explanation.update(Text(text))

    @on(DataTable.RowHighlighted, "#po-lines")
    def line_highlighted(self, event: DataTable.RowHighlighted) -> None:
        order = self.current()
        if order is not None:
            self.explain(order, event.cursor_row)

    # --- approve, send, cancel, export -------------------------------------------------

    def current(self) -> PurchaseOrder | None:
        table = self.query_one("#pos", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def selected(self) -> PurchaseOrder | None:
        order = self.current()
        if order is None:
            self.notify(_("Select a purchase order first"), severity="warning")
        return order

    def _status_change(self, action: str, title: str, text: str) -> None:
        """``title`` and ``text`` marked with N_: translated here, ``text`` filled with the
        order's number, supplier, clinic and total."""
        order = self.selected()
        if order is None:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.select_number = order.number
                self.change(
                    lambda o: _("{number} is {status}").format(
                        number=o.number, status=po_status(o.status)
                    ),
                    purchasing.change_status,
                    order.number,
                    action,
                )

        shown = translated(text).format(
            number=order.number,
            supplier=order.supplier_name,
            clinic=order.clinic,
            total=formats.money(order.total),
        )
        self.app.push_screen(ConfirmDialog(translated(title), shown, translated(title)), go)

    def action_approve(self) -> None:
        self._status_change(
            "approve",
            N_("Approve"),
            N_(
                "Approve {number} to {supplier} for {clinic} ({total})?\n"
                "The reorder job stops changing it and counts it as on order."
            ),
        )

    def action_send(self) -> None:
        self._status_change(
            "send",
            N_("Send"),
            N_(
                "Mark {number} as sent to {supplier}? Export it first (e) for the "
                "file the supplier receives."
            ),
        )

    def action_cancel_po(self) -> None:
        order = self.selected()
        if order is None:
            return
        fields = [
            FormField("reason", _("Why is it cancelled?"), placeholder=_("e.g. supplier out"))
        ]

        def confirm(values: dict[str, str] | None) -> None:
            if values is None:
                return

            def go(yes: bool | None) -> None:
                if yes:
                    self.select_number = order.number
                    self.change(
                        lambda o: _("{number} cancelled; its open lines are closed").format(
                            number=o.number
                        ),
                        purchasing.change_status,
                        order.number,
                        "cancel",
                        reason=values["reason"],
                    )

            text = _(
                "Cancel {number} ({status}, {total})? Its open lines close and stop counting "
                "as on order; this cannot be undone.\nReason: {reason}"
            ).format(
                number=order.number,
                status=po_status(order.status),
                total=formats.money(order.total),
                reason=values["reason"] or _("(none)"),
            )
            self.app.push_screen(
                ConfirmDialog(_("Cancel purchase order"), text, _("Cancel PO")), go
            )

        title = _("Cancel {number}").format(number=order.number)
        self.app.push_screen(FormDialog(title, fields, _("Next")), confirm)

    def action_export(self) -> None:
        order = self.selected()
        if order is None:
            return
        fields = [
            FormField("format", _("Format"), "pdf", options=("pdf", "csv")),
            FormField(
                "out",
                _("File (default: in the current folder)"),
                placeholder=_("{number}.FORMAT").format(number=order.number),
            ),
        ]

        def done(values: dict[str, str] | None) -> None:
            if values:
                out = values["out"] or f"{order.number}.{values['format']}"
                self.export(order.number, values["format"], out)

        title = _("Export {number}").format(number=order.number)
        self.app.push_screen(FormDialog(title, fields, _("Export")), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def export(self, number: str, fmt: str, out: str) -> None:
        from kitops.services.locales import in_clinic_locale  # the ordering clinic's locale

        make = in_clinic_locale(purchase_orders.export_order, purchase_order=number)
        done = make(self.stockroom.reading(), number, fmt, out)
        self.post_message(self.Exported(done))

    def on_purchasing_screen_exported(self, message: Exported) -> None:
        done = message.export
        self.notify(
            ngettext(
                "{number} ({format}, {bytes} byte) written to {path}",
                "{number} ({format}, {bytes} bytes) written to {path}",
                done.bytes,
            ).format(
                number=done.number,
                format=done.format,
                bytes=formats.number(done.bytes),
                path=done.path,
            ),
            title=_("Exported"),
            timeout=8,
        )

    # --- reorder now -------------------------------------------------------------------

    def action_reorder(self) -> None:
        self.notify(_("Computing what the reorder job would order…"), timeout=3)
        self.preview_reorder(self.kitops.clock.today)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def preview_reorder(self, today: Any) -> None:
        run = reorder.run(self.stockroom.reading(), as_of=today, dry_run=True)
        self.post_message(self.Previewed(run))

    def on_purchasing_screen_previewed(self, message: Previewed) -> None:
        run = message.run
        today = self.kitops.clock.today

        def go(yes: bool | None) -> None:
            if yes:
                self.change(lambda r: r.summary, reorder.run, as_of=today)

        self.app.clear_notifications()  # "Computing…" is answered: the preview shows it
        self.app.push_screen(ReorderPreview(run), go)

    def changed(self, result: Any) -> None:
        if isinstance(result, ReorderRun):
            made = [*result.orders_created, *result.orders_changed]
            if made:
                self.select_number = made[0]


class ReorderPreview(ModalScreen[bool]):
    """What a reorder run would order now, line by line with its arithmetic, before the
    drafts are written."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"), show=False)]

    def __init__(self, run: ReorderRun) -> None:
        super().__init__(classes="dialog confirm wide")
        self.run = run

    def compose(self) -> ComposeResult:
        run = self.run
        with Vertical(id="dialog"):
            title = _("Reorder as of {day} (dry run)").format(day=formats.date(run.as_of))
            yield Label(title, classes="dialog-title")
            yield Static(Text(_preview_summary(run)), id="reorder-summary")
            table: DataTable[Any] = DataTable(id="reorder-lines", cursor_type="row")
            for label in (
                _("Clinic"),
                _("SKU"),
                _("Supplier"),
                pgettext("column: a quantity to order", "Order"),
                _("Need by"),
                _("Draft"),
            ):
                table.add_column(label)
            for line in run.suggestions:
                table.add_row(
                    line.clinic,
                    line.sku,
                    line.supplier,
                    cell(formats.number(line.quantity), justify="right"),
                    formats.date(line.need_by) if line.need_by else "",
                    line.po or "",
                )
            yield table
            yield Static("", id="reorder-why", classes="message")
            with Horizontal(classes="buttons"):
                yield Button(
                    _("Write drafts"),
                    id="confirm",
                    variant="warning",
                    disabled=run.in_progress or not run.suggestions,
                )
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        if self.run.suggestions:
            self.query_one("#reorder-lines", DataTable).focus()
        else:
            self.query_one("#cancel", Button).focus()

    @on(DataTable.RowHighlighted, "#reorder-lines")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.run.suggestions):
            line = self.run.suggestions[event.cursor_row]
            self.query_one("#reorder-why", Static).update(Text(line.explanation))

    @on(Button.Pressed, "#confirm")
    def confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        nothing_changed(self.app, _("Reorder"))
        self.dismiss(False)


def _preview_summary(run: ReorderRun) -> str:
    if run.in_progress:
        return _("Another reorder run is in progress; try again in a moment.")
    policies = ngettext("{n} policy", "{n} policies", run.policies).format(
        n=formats.number(run.policies)
    )
    if not run.suggestions:
        return _("Nothing to order ({policies} checked).").format(policies=policies)
    count = len(run.suggestions)
    return ngettext(
        "{n} line to order from {policies}. Write drafts puts it on one draft per supplier "
        "and clinic (a draft the job already wrote is brought up to date); nothing is sent "
        "until approved.",
        "{n} lines to order from {policies}. Write drafts puts them on one draft per supplier "
        "and clinic (a draft the job already wrote is brought up to date); nothing is sent "
        "until approved.",
        count,
    ).format(n=formats.number(count), policies=policies)
