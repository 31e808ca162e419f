"""Receive: scan a supplier's GS1 label (a USB scanner types the element string and
Enter, GS characters included); product, lot and expiry come from the label, the form
asks only for what is missing (quantity, location), and shows the new lot's status.
A bad scan says why in place and leaves the field ready for the next scan."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, DataTable, Header, Input, Select, Static

from kitops.domain.stock_rules import ShortDated
from kitops.errors import InvalidInput, KitopsError
from kitops.i18n import N_, _, formats
from kitops.services import operations
from kitops.services.dto.stock import Receipt
from kitops.services.receipts import ForeignCurrency
from kitops.views import previews
from kitops.views.dto import ScannedLabel

from ..base import StockroomScreen, translate
from ..widgets import Field, KitopsFooter, ScanInput, cell, kind_label, lot_style, status_label

RECEIPT_COLUMNS = (
    N_("Time"),
    N_("SKU"),
    N_("Lot"),
    N_("Expiry"),
    N_("Qty"),
    N_("Location"),
    N_("Status"),
    N_("On hand"),
)


class ReceiveScreen(StockroomScreen):
    MODE = "receive"
    AUTO_FOCUS = "#scan"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "receive", N_("Receive")),
        Binding("escape", "clear", N_("Clear")),
    ]

    class LabelRead(Message):
        def __init__(self, label: ScannedLabel, data: str) -> None:
            super().__init__()
            self.label = label
            self.data = data

    def __init__(self) -> None:
        super().__init__()
        self.last_label: ScannedLabel | None = None
        self.last_scan = ""  # what the scanner typed for last_label
        self.places_loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            scan = ScanInput(
                placeholder=_("scan a GS1 label, or type it and press Enter"), id="scan"
            )
            scan.border_title = _("Scan")
            yield scan
            yield Static("", id="scan-message", classes="message")
            with Horizontal(classes="form-row"):
                yield self._field("sku", _("Product (SKU)"))
                yield self._field("lot", _("Lot"))
            with Horizontal(classes="form-row"):
                yield self._field("expiry", _("Expiry (YYYY-MM-DD)"))
                yield self._field("qty", _("Quantity"), restrict=r"[0-9]*")
            with Horizontal(classes="form-row"):
                location: Select[str] = Select([], prompt=_("Location"), id="location")
                location.border_title = _("Location")
                yield location
                yield self._field("po", _("PO (optional)"))
                cost = Field(placeholder=_("e.g. 35.00 GBP"), id="cost")
                cost.border_title = _("Unit cost")
                yield cost
            with Horizontal(classes="buttons"):
                yield Checkbox(_("accept short-dated"), id="short")
                yield Button(_("Receive"), id="receive", variant="primary")
                yield Button(_("Clear"), id="clear")
            table: DataTable[Any] = DataTable(id="receipts", cursor_type="row")
            table.border_title = _("Received in this session")
            for label in RECEIPT_COLUMNS:
                table.add_column(translate(label))
            yield table
        yield KitopsFooter()

    @staticmethod
    def _field(name: str, title: str, restrict: str | None = None) -> Field:
        widget = Field(placeholder=title, id=name, restrict=restrict)
        widget.border_title = title
        return widget

    def on_mount(self) -> None:
        self.query_one("#scan").focus()

    def refresh_data(self) -> None:
        select = self.query_one("#location", Select)
        choices = self.kitops.choices
        if choices is None or self.places_loaded:
            return
        self.places_loaded = True
        clinic = self.kitops.clinic
        places = [p for p in choices.places if clinic is None or p.clinic == clinic]
        select.set_options([(f"{p.code}  {kind_label(p.kind)}", p.code) for p in places])
        fridges = [p.code for p in places if p.kind == "fridge"]
        if clinic and fridges:
            select.value = fridges[0]

    def apply_options(self, **options: Any) -> None:
        if "scan" in options:
            self.query_one("#scan", ScanInput).value = options["scan"]

    # --- scanning --------------------------------------------------------------------

    def take_scan(self, code: str) -> bool:
        """A scanner's code read anywhere on this screen (whichever field has the
        cursor) is a supplier's label being received."""
        self.query_one("#scan", ScanInput).value = ""
        self.say(_("reading the label…"))
        self.read(code)
        return True

    @on(Input.Submitted, "#scan")
    def scanned(self) -> None:
        field = self.query_one("#scan", ScanInput)
        data = field.scan
        field.value = ""
        if not data.strip():
            return
        self.say(_("reading the label…"))
        self.read(data)

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan")
    def read(self, data: str) -> None:
        self.post_message(self.LabelRead(previews.read_label(self.stockroom.reading(), data), data))

    def on_receive_screen_label_read(self, message: LabelRead) -> None:
        label = self.last_label = message.label
        self.last_scan = message.data
        self.set_value("sku", label.sku)
        self.set_value("lot", label.lot or "")
        self.set_value("expiry", label.expiry.isoformat() if label.expiry else "")
        self.set_value("qty", str(label.count) if label.count else "")
        if label.known_lot_status:
            known = _("known lot, {status}").format(status=status_label(label.known_lot_status))
        elif label.lot_tracked:
            known = _("new lot")
        else:
            known = _("not lot-tracked")
        no_lot = label.lot_tracked and not label.lot
        no_expiry = label.lot_tracked and label.expiry is None
        said = _("{sku} ({product}) lot {lot} expiry {expiry}: {known}").format(
            sku=label.sku,
            product=label.product,
            lot=label.lot or "-",
            expiry=formats.date(label.expiry) if label.expiry else "-",
            known=known,
        )
        if no_lot and no_expiry:
            said += _("; the scan has no lot (10) and the scan has no expiry (17): type it")
        elif no_lot:
            said += _("; the scan has no lot (10): type it")
        elif no_expiry:
            said += _("; the scan has no expiry (17): type it")
        self.say(said, "error" if no_lot or no_expiry else "ok")
        missing = self.missing()
        if missing:
            self.query_one(f"#{missing}").focus()
        else:
            self.action_receive()

    def missing(self) -> str | None:
        if not self.value("sku"):
            return "sku"
        tracked = self.last_label is not None and self.last_label.lot_tracked
        if tracked and not self.value("lot"):
            return "lot"
        if tracked and not self.value("expiry"):
            return "expiry"
        if not self.value("qty"):
            return "qty"
        if self.query_one("#location", Select).value is Select.NULL:
            return "location"
        return None

    # --- receiving -------------------------------------------------------------------

    @on(Input.Submitted, "#sku, #lot, #expiry, #qty, #po, #cost")
    def field_submitted(self) -> None:
        missing = self.missing()
        if missing:
            self.query_one(f"#{missing}").focus()
        else:
            self.action_receive()

    @on(Select.Changed, "#location")
    def location_chosen(self) -> None:
        if self.value("sku") and self.value("qty") and self.query_one("#location").has_focus:
            self.query_one("#receive").focus()

    @on(Button.Pressed, "#receive")
    def action_receive(self) -> None:
        location = self.query_one("#location", Select).value
        try:
            amount, currency = self.cost()
        except InvalidInput as error:
            self.show_refusal(error)
            self.query_one("#cost").focus()
            return
        given = operations.ReceiptInput(
            location="" if location is Select.NULL else str(location),
            sku=self.value("sku") or None,
            lot=self.value("lot") or None,
            expiry=self.value("expiry") or None,
            quantity=self.value("qty") or None,
            scan=self.scanned_line(),
            po=self.value("po") or None,
            cost=amount,
            currency=currency,
            accept_short_dated=self.query_one("#short", Checkbox).value,
        )
        self.say(_("receiving…"))
        self.change(_receipt_summary, operations.receive, given, today=self.kitops.clock.today)

    def cost(self) -> tuple[str | None, str | None]:
        """The unit cost as an amount and its currency (``35.00 GBP``), as ``receive
        --cost AMOUNT CUR`` takes it; the service checks both. The amount is read as the
        language in force writes it (``35,00 EUR`` in German), never guessed."""
        text = self.value("cost")
        if not text:
            return None, None
        parts = text.split()
        if len(parts) != 2:
            raise InvalidInput("cost", text, _("give the amount and its currency, e.g. 35.00 GBP"))
        return str(formats.parse_decimal_input(parts[0], "cost")), parts[1]

    def scanned_line(self) -> str | None:
        """The scan behind the fields, while they still say what the label said: the
        receipt is then recorded as scanned (and checked against the label again)."""
        label = self.last_label
        if label is None:
            return None
        said = {
            "sku": label.sku,
            "lot": label.lot,
            "expiry": label.expiry.isoformat() if label.expiry else None,
        }
        kept = all(self.value(name) == value for name, value in said.items() if value)
        return self.last_scan if kept else None

    def changed(self, result: Any) -> None:
        receipt: Receipt = result
        if receipt.status == "quarantine":
            status = _("quarantine: awaiting release")
        else:
            status = status_label(receipt.status)
        if receipt.new_lot:
            said = _("received {qty} × {sku} lot {lot} at {location}: new lot, {status}")
        else:
            said = _("received {qty} × {sku} lot {lot} at {location}: {status}")
        self.say(
            said.format(
                qty=receipt.quantity,
                sku=receipt.sku,
                lot=receipt.lot,
                location=receipt.location,
                status=status,
            ),
            "ok",
        )
        style = lot_style(self.app, receipt.status, None)
        self.query_one("#receipts", DataTable).add_row(
            datetime.now().strftime("%H:%M") if self.kitops.clock.fixed is None else "",
            receipt.sku,
            receipt.lot,
            formats.date(receipt.expiry) if receipt.expiry else "",
            cell(receipt.quantity, justify="right"),
            receipt.location,
            cell(status_label(receipt.status), style),
            cell(receipt.on_hand_at_location, justify="right"),
        )
        self.clear_fields()
        self.query_one("#short", Checkbox).value = False
        self.query_one("#scan").focus()

    def show_refusal(self, error: BaseException, worker: Any = None) -> bool:
        """A bad scan or a refused receipt reads in place, beside the field, and the
        scan field is ready for the next label."""
        if not isinstance(error, KitopsError):
            return False
        text = error.plain if isinstance(error, ForeignCurrency) else str(error)
        if isinstance(error, ShortDated):
            text += _('; tick "accept short-dated" to receive it anyway')
        self.say(text, "error")
        self.query_one("#scan").focus()
        return True

    def action_clear(self) -> None:
        self.clear_fields()
        self.say("")
        self.query_one("#scan").focus()

    @on(Button.Pressed, "#clear")
    def clear_pressed(self) -> None:
        self.action_clear()

    # --- helpers ---------------------------------------------------------------------

    def clear_fields(self) -> None:
        for name in ("sku", "lot", "expiry", "qty", "po", "cost"):
            self.set_value(name, "")
        self.last_label = None
        self.last_scan = ""

    def value(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value.strip()

    def set_value(self, name: str, value: str) -> None:
        self.query_one(f"#{name}", Input).value = value

    def say(self, text: str, kind: str = "") -> None:
        message = self.query_one("#scan-message", Static)
        message.set_classes(f"message {kind}".strip())
        message.update(Text(text))


def _receipt_summary(receipt: Receipt) -> str:
    return _("received {qty} × {sku} lot {lot} ({status})").format(
        qty=receipt.quantity, sku=receipt.sku, lot=receipt.lot, status=status_label(receipt.status)
    )
