"""Stock: lots by clinic and location, a page at a time, filtered and sorted in the
query (so 100,000 lots cost one page), with the day's actions on the selected line:
move, count, write off, release, quarantine, recall and trace."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Header, Input, Label, Select

from kitops.domain.ledger import LotStatus
from kitops.services import lots, operations
from kitops.services.dto.stock import LotRecall, StockLine
from kitops.views import pages
from kitops.views.dto import StockPage

from ..lists import ListScreen
from ..modals import ConfirmDialog, FormDialog, FormField
from ..switching import SteadyFooter, keep_styles
from ..widgets import Field, cell, lot_style

# Quantity right after the lot: at 80 columns the table is two characters too wide, and
# what gets cut then is the end of "quarantine", never a quantity.
COLUMNS = [
    ("clinic", "Clinic", "location"),
    ("location", "Location", "location"),
    ("sku", "SKU", "sku"),
    ("lot", "Lot", "lot"),
    ("qty", "Qty", "quantity"),
    ("expiry", "Expiry", "expiry"),
    ("days", "Days", "expiry"),
    ("status", "Status", "status"),
]
SHOW_LABELS = {
    "all": "All stock",
    "usable": "Usable",
    "quarantine": "Quarantine",
    "expired": "Expired",
    "recalled": "Recalled",
    "expiring": "Expiring ≤90 d",
}


class StockScreen(ListScreen):
    MODE = "stock"
    AUTO_FOCUS = "#stock"
    TABLE = "stock"
    BINDINGS: ClassVar[list[BindingType]] = [
        # at 80 columns the footer holds the actions on a lot; "/" is in F1's list
        Binding("slash", "focus_filter", "Filter", show=False),
        Binding("t", "trace", "Trace"),
        Binding("m", "move", "Move"),
        Binding("c", "count", "Count"),
        # in F1's list, not the footer: at 80 columns it holds the lot's actions
        Binding("C", "count_sheet", "Count sheet", show=False),
        Binding("w", "write_off", "Write off"),
        Binding("r", "release", "Release"),
        Binding("q", "quarantine", "Quarantine"),
        Binding("x", "recall", "Recall"),
        Binding("o", "cycle_sort", "Sort", show=False),
        Binding("n", "page(1)", "Next page", show=False),
        Binding("p", "page(-1)", "Prev page", show=False),
    ]

    class Loaded(Message):
        def __init__(self, page: StockPage) -> None:
            super().__init__()
            self.page = page

    def __init__(self) -> None:
        super().__init__()
        self.sort = "expiry"
        self.descending = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="filter-bar"):
            yield Field(placeholder="filter: SKU, lot, location, status…", id="filter")
            yield Select(
                [(label, key) for key, label in SHOW_LABELS.items()],
                value="all",
                allow_blank=False,
                id="show",
            )
        yield Label("", id="page-status", classes="page-status")
        table: DataTable[Any] = DataTable(
            id="stock", cursor_type="row", zebra_stripes=True, classes="loadable"
        )
        for key, label, _ in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield SteadyFooter()

    @on(events.ScreenResume)
    def resume_as_styled(self, event: events.ScreenResume) -> None:
        keep_styles(event)

    def on_mount(self) -> None:
        self.table.loading = True
        self.table.focus()
        self.watch(self.app, "theme", lambda _: self.show_page(), init=False)

    # --- loading ---------------------------------------------------------------------

    scanned_lot: str | None = None  # a lot's label just scanned: a place's label moves it
    # a scan's lot or place (("lot" or "location", code)), asked for by key, not searched
    # for, while the filter field still shows its code unchanged
    exact: tuple[str, str] | None = None

    def apply_options(self, **options: Any) -> None:
        self.scanned_lot = options.get("scanned_lot")
        self.exact = next(((key, str(options[key])) for key in ("lot", "location")
                           if options.get(key)), None)  # fmt: skip
        if "show" in options:
            self.query_one("#show", Select).value = options["show"]
        if "search" in options:
            self.query_one("#filter", Input).value = options["search"]
        elif self.exact is not None:
            self.query_one("#filter", Input).value = self.exact[1]
        self.page_offset = 0

    def refresh_data(self) -> None:
        show = self.query_one("#show", Select).value
        search = self.query_one("#filter", Input).value
        exact: dict[str, str] = {}
        if self.exact is not None and self.exact[1] == search:
            exact, search = {self.exact[0]: search}, ""
        else:
            self.exact = None  # the filter was edited: what it says is a search
        self.load(
            clinic=self.kitops.clinic,
            search=search,
            **exact,
            show=str(show) if show is not Select.NULL else "all",
            sort=self.sort,
            descending=self.descending,
            offset=self.page_offset,
            today=self.kitops.clock.today,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, **query: Any) -> None:
        page = pages.stock_page(self.stockroom.reading(), **query)
        self.post_message(self.Loaded(page))

    def on_stock_screen_loaded(self, message: Loaded) -> None:
        page = message.page
        self.take_page(page.lines, page.total, page.offset)

    def row_cells(self, row: StockLine) -> tuple[Any, ...]:
        style = lot_style(self.app, row.status, row.days_to_expiry)
        return (
            row.clinic or "",
            row.location,
            row.sku,
            cell(row.lot, style),
            cell(row.quantity, justify="right"),
            row.expiry.isoformat() if row.expiry else "",
            cell(row.days_to_expiry, style, "right"),
            cell(row.status, style),
        )

    def page_hint(self) -> str:
        return f" · sorted by {self.sort} {'↓' if self.descending else '↑'}"

    @on(Select.Changed, "#show")
    def show_changed(self) -> None:
        self.reload_from_start()

    @on(DataTable.HeaderSelected)
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        sort = next(s for key, _, s in COLUMNS if key == event.column_key.value)
        self.descending = not self.descending if sort == self.sort else False
        self.sort = sort
        self.reload_from_start()

    def action_cycle_sort(self) -> None:
        order = list(pages.STOCK_SORTS)
        self.sort = order[(order.index(self.sort) + 1) % len(order)]
        self.descending = False
        self.reload_from_start()

    # --- actions on the selected line ------------------------------------------------

    def selected(self) -> StockLine | None:
        return cast("StockLine | None", super().selected())

    def _places(self, *, besides: str | None = None) -> list[str]:
        choices = self.kitops.choices
        if choices is None:
            return []
        return [p.code for p in choices.places if p.code != besides]

    def action_trace(self) -> None:
        line = self.selected()
        if line:
            self.kitops.show_trace(line.lot, line.sku)

    def action_move(self) -> None:
        line = self.selected()
        if line is None:
            return
        places = self._places(besides=line.location)
        fields = [
            FormField("qty", "Quantity", str(line.quantity), restrict=r"[0-9]*"),
            FormField("to", "To location", places[0] if places else "", options=places),
        ]

        def done(values: dict[str, str] | None) -> None:
            if values:
                self.change(
                    _move_summary,
                    operations.move,
                    line.sku,
                    values["qty"],
                    line.location,
                    values["to"],
                    lot=line.lot,
                )

        self.app.push_screen(FormDialog(f"Move {line.sku} lot {line.lot}", fields, "Move"), done)

    def take_scan(self, code: str) -> bool:
        """A lot's label, then a place's label, moves the lot there: the first filters
        the list to the lot (``scans.open_scanned``), the second asks to move all of the
        selected line to that place. Any other scan opens what it names."""
        from kitops.errors import InvalidInput
        from kitops.gs1 import read_code

        try:
            read = read_code(code)
        except InvalidInput:
            return False  # the app says what is wrong with it
        line = self.selected()
        if read.kind != "location" or line is None or line.lot != self.scanned_lot:
            return False
        text = (f"Move all {line.quantity} × {line.sku} lot {line.lot} from {line.location} "
                f"to {read.value}?")  # fmt: skip

        def go(yes: bool | None) -> None:
            if yes:
                self.scanned_lot = None
                self.change(_move_summary, operations.move, line.sku, str(line.quantity),
                            line.location, read.value, lot=line.lot)  # fmt: skip

        self.app.push_screen(ConfirmDialog("Move by scan", text, "Move"), go)
        return True

    def action_count(self) -> None:
        line = self.selected()
        if line is None:
            return
        fields = [
            FormField(
                "counted", f"Counted at {line.location}", str(line.quantity), restrict=r"[0-9]*"
            )
        ]

        def done(values: dict[str, str] | None) -> None:
            if values:
                self.change(
                    _count_summary,
                    operations.count,
                    line.location,
                    [operations.CountedLine(1, line.sku, line.lot, values["counted"])],
                )

        self.app.push_screen(FormDialog(f"Count {line.sku} lot {line.lot}", fields, "Count"), done)

    def action_count_sheet(self) -> None:
        """A count sheet filled by scanning, at the selected line's place."""
        line = self.selected()
        self.kitops.action_count_sheet(line.location if line else "")

    def action_write_off(self) -> None:
        line = self.selected()
        if line is None:
            return
        reasons = list(self.kitops.choices.write_off_reasons) if self.kitops.choices else []
        default = "expired" if line.status == "expired" else "damaged"
        fields = [
            FormField("qty", "Quantity", str(line.quantity), restrict=r"[0-9]*"),
            FormField("reason", "Reason", default, options=reasons),
            FormField("note", "Note (optional)"),
        ]

        def confirm(values: dict[str, str] | None) -> None:
            if not values:
                return
            text = (
                f"Write off {values['qty']} × {line.sku} lot {line.lot} at {line.location} "
                f"({values['reason']})?\nThe stock goes to SCRAP; this cannot be undone."
            )

            def go(yes: bool | None) -> None:
                if yes:
                    self.change(
                        lambda r: (
                            f"wrote off {r.quantity} × {r.sku} lot {r.lot}; "
                            f"{r.on_hand_after} left at {r.location}"
                        ),
                        operations.write_off,
                        line.sku,
                        values["qty"],
                        line.location,
                        values["reason"],
                        lot=line.lot,
                        note=values["note"] or None,
                    )

            self.app.push_screen(ConfirmDialog("Write off", text, "Write off"), go)

        self.app.push_screen(FormDialog(f"Write off {line.sku} lot {line.lot}", fields), confirm)

    def action_release(self) -> None:
        line = self.selected()
        if line is None:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.change(
                    _status_summary,
                    lots.change_status,
                    line.lot,
                    LotStatus.RELEASED,
                    sku=line.sku,
                    today=self.kitops.clock.today,
                )

        text = f"Release lot {line.lot} of {line.sku} for use in every clinic?"
        self.app.push_screen(ConfirmDialog("Release lot", text, "Release"), go)

    def action_quarantine(self) -> None:
        line = self.selected()
        if line is None:
            return
        fields = [FormField("reason", "Why is the lot held?", placeholder="e.g. fridge fault")]

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.change(
                    _status_summary,
                    lots.change_status,
                    line.lot,
                    LotStatus.QUARANTINE,
                    sku=line.sku,
                    reason=values["reason"],
                    today=self.kitops.clock.today,
                )

        self.app.push_screen(FormDialog(f"Quarantine lot {line.lot}", fields, "Quarantine"), done)

    def action_recall(self) -> None:
        line = self.selected()
        if line is None:
            return
        fields = [FormField("reason", "Recall reason", placeholder="e.g. supplier notice 2026-14")]

        def confirm(values: dict[str, str] | None) -> None:
            if values is None:
                return
            text = (
                f"Recall lot {line.lot} of {line.sku} everywhere?\nEvery kit built from it is "
                "marked; kits still in the stockroom lose their course. Reason: "
                f"{values['reason'] or '(none)'}"
            )

            def go(yes: bool | None) -> None:
                if yes:
                    self.change(
                        _status_summary,
                        lots.change_status,
                        line.lot,
                        LotStatus.RECALLED,
                        sku=line.sku,
                        reason=values["reason"],
                        today=self.kitops.clock.today,
                    )

            self.app.push_screen(ConfirmDialog("Recall lot", text, "Recall"), go)

        self.app.push_screen(FormDialog(f"Recall lot {line.lot}", fields, "Next"), confirm)


def _move_summary(result: Any) -> str:
    return f"moved {result.quantity} × {result.sku} {result.from_location} → {result.to_location}"


def _count_summary(report: Any) -> str:
    if not report.differences:
        return f"count at {report.location}: no difference"
    diff = report.differences[0]
    return f"count at {report.location}: {diff.sku} lot {diff.lot} {diff.difference:+d}"


def _status_summary(detail: Any) -> str:
    said = f"lot {detail.lot} of {detail.sku} is now {detail.status}"
    if isinstance(detail, LotRecall):
        said += (
            f": {len(detail.at_patients)} kit(s) at patients' homes, "
            f"{len(detail.released)} course(s) lost their reserved kit, "
            f"{len(detail.sessions)} clinic session(s) from it (t: trace)"
        )
    return said
