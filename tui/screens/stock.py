"""Stock: lots by clinic and location, a page at a time, filtered and sorted in the
query (so 100,000 lots cost one page), with the day's actions on the selected line:
move, count, write off, release, quarantine, recall and trace."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Header, Input, Label, Select

from kitops.domain.ledger import LotStatus
from kitops.i18n import N_, _, formats
from kitops.services import lots, operations
from kitops.services.dto.lots import LotRecall
from kitops.services.dto.stock import StockLine
from kitops.views import pages
from kitops.views.dto import StockPage

from ..base import translate
from ..lists import ListScreen
from ..modals import ConfirmDialog, FormDialog, FormField
from ..tables import QuickTable
from ..widgets import Field, FilterSelect, KitopsFooter, cell, lot_style, status_label

# Quantity right after the lot: at 80 columns the table is two characters too wide, and
# what gets cut then is the end of "quarantine", never a quantity.
COLUMNS = [
    ("clinic", N_("Clinic"), "location"),
    ("location", N_("Location"), "location"),
    ("sku", N_("SKU"), "sku"),
    ("lot", N_("Lot"), "lot"),
    ("qty", N_("Qty"), "quantity"),
    ("expiry", N_("Expiry"), "expiry"),
    ("days", N_("Days"), "expiry"),
    ("status", N_("Status"), "status"),
]
SHOW_LABELS = {
    "all": N_("All stock"),
    "usable": N_("Usable"),
    "quarantine": N_("Quarantine"),
    "expired": N_("Expired"),
    "recalled": N_("Recalled"),
    "expiring": N_("Expiring ≤90 d"),
}
# the sort the page line names (the key is the query's)
SORT_LABELS = {
    "location": N_("location"),
    "sku": N_("SKU"),
    "lot": N_("lot"),
    "quantity": N_("quantity"),
    "expiry": N_("expiry"),
    "status": N_("status"),
}


class StockScreen(ListScreen):
    MODE = "stock"
    AUTO_FOCUS = "#stock"
    TABLE = "stock"
    BINDINGS: ClassVar[list[BindingType]] = [
        # at 80 columns the footer holds the actions on a lot; "/" is in F1's list
        Binding("slash", "focus_filter", N_("Filter"), show=False),
        Binding("t", "trace", N_("Trace")),
        Binding("m", "move", N_("Move")),
        Binding("c", "count", N_("Count")),
        # in F1's list, not the footer: at 80 columns it holds the lot's actions
        Binding("C", "count_sheet", N_("Count sheet"), show=False),
        Binding("w", "write_off", N_("Write off")),
        Binding("r", "release", N_("Release")),
        Binding("q", "quarantine", N_("Quarantine")),
        Binding("x", "recall", N_("Recall")),
        Binding("o", "cycle_sort", N_("Sort"), show=False),
        Binding("n", "page(1)", N_("Next page"), show=False),
        Binding("p", "page(-1)", N_("Prev page"), show=False),
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
            yield Field(placeholder=_("filter: SKU, lot, location, status…"), id="filter")
            yield FilterSelect(
                [(translate(label), key) for key, label in SHOW_LABELS.items()],
                value="all",
                allow_blank=False,
                id="show",
            )
        yield Label("", id="page-status", classes="page-status")
        # a new page's cells painted without Rich's layout: most of the frame that first
        # shows a scanned place (tables.py)
        table: DataTable[Any] = QuickTable(
            id="stock", cursor_type="row", zebra_stripes=True, classes="loadable"
        )
        for key, label, _sort in COLUMNS:
            table.add_column(translate(label), key=key)
        yield table
        yield KitopsFooter()

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
            self.set_filter(options["search"])
        elif self.exact is not None:
            self.set_filter(self.exact[1])
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
        # every cell a Text: a plain string is read as markup on every drawing
        return (
            cell(row.clinic or ""),
            cell(row.location),
            cell(row.sku),
            cell(row.lot, style),
            cell(row.quantity, justify="right"),
            cell(formats.date(row.expiry) if row.expiry else ""),
            cell(row.days_to_expiry, style, "right"),
            cell(status_label(row.status), style),
        )

    def page_hint(self) -> str:
        sort = translate(SORT_LABELS[self.sort]) if self.sort in SORT_LABELS else self.sort
        return _(" · sorted by {sort} {arrow}").format(
            sort=sort, arrow="↓" if self.descending else "↑"
        )

    @on(Select.Changed, "#show")
    def show_changed(self) -> None:
        self.reload_from_start()

    @on(DataTable.HeaderSelected)
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        sort = next(s for key, _label, s in COLUMNS if key == event.column_key.value)
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
            FormField("qty", _("Quantity"), str(line.quantity), restrict=r"[0-9]*"),
            FormField("to", _("To location"), places[0] if places else "", options=places),
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

        title = _("Move {sku} lot {lot}").format(sku=line.sku, lot=line.lot)
        self.app.push_screen(FormDialog(title, fields, _("Move")), done)

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
        text = _("Move all {qty} × {sku} lot {lot} from {source} to {target}?").format(
            qty=line.quantity, sku=line.sku, lot=line.lot, source=line.location, target=read.value
        )

        def go(yes: bool | None) -> None:
            if yes:
                self.scanned_lot = None
                self.change(_move_summary, operations.move, line.sku, str(line.quantity),
                            line.location, read.value, lot=line.lot)  # fmt: skip

        self.app.push_screen(ConfirmDialog(_("Move by scan"), text, _("Move")), go)
        return True

    def action_count(self) -> None:
        line = self.selected()
        if line is None:
            return
        fields = [
            FormField(
                "counted",
                _("Counted at {location}").format(location=line.location),
                str(line.quantity),
                restrict=r"[0-9]*",
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

        title = _("Count {sku} lot {lot}").format(sku=line.sku, lot=line.lot)
        self.app.push_screen(FormDialog(title, fields, _("Count")), done)

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
            FormField("qty", _("Quantity"), str(line.quantity), restrict=r"[0-9]*"),
            FormField("reason", _("Reason"), default, options=reasons),
            FormField("note", _("Note (optional)")),
        ]

        def confirm(values: dict[str, str] | None) -> None:
            if not values:
                return
            text = _(
                "Write off {qty} × {sku} lot {lot} at {location} ({reason})?\n"
                "The stock goes to SCRAP; this cannot be undone."
            ).format(
                qty=values["qty"],
                sku=line.sku,
                lot=line.lot,
                location=line.location,
                reason=values["reason"],
            )

            def go(yes: bool | None) -> None:
                if yes:
                    self.change(
                        lambda r: _(
                            "wrote off {qty} × {sku} lot {lot}; {left} left at {location}"
                        ).format(
                            qty=r.quantity,
                            sku=r.sku,
                            lot=r.lot,
                            left=r.on_hand_after,
                            location=r.location,
                        ),
                        operations.write_off,
                        line.sku,
                        values["qty"],
                        line.location,
                        values["reason"],
                        lot=line.lot,
                        note=values["note"] or None,
                    )

            self.app.push_screen(ConfirmDialog(_("Write off"), text, _("Write off")), go)

        title = _("Write off {sku} lot {lot}").format(sku=line.sku, lot=line.lot)
        self.app.push_screen(FormDialog(title, fields), confirm)

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

        text = _("Release lot {lot} of {sku} for use in every clinic?").format(
            lot=line.lot, sku=line.sku
        )
        self.app.push_screen(ConfirmDialog(_("Release lot"), text, _("Release")), go)

    def action_quarantine(self) -> None:
        line = self.selected()
        if line is None:
            return
        fields = [
            FormField("reason", _("Why is the lot held?"), placeholder=_("e.g. fridge fault"))
        ]

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

        title = _("Quarantine lot {lot}").format(lot=line.lot)
        self.app.push_screen(FormDialog(title, fields, _("Quarantine")), done)

    def action_recall(self) -> None:
        line = self.selected()
        if line is None:
            return
        fields = [
            FormField("reason", _("Recall reason"), placeholder=_("e.g. supplier notice 2026-14"))
        ]

        def confirm(values: dict[str, str] | None) -> None:
            if values is None:
                return
            text = _(
                "Recall lot {lot} of {sku} everywhere?\nEvery kit built from it is "
                "marked; kits still in the stockroom lose their course. Reason: {reason}"
            ).format(lot=line.lot, sku=line.sku, reason=values["reason"] or _("(none)"))

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

            self.app.push_screen(ConfirmDialog(_("Recall lot"), text, _("Recall")), go)

        title = _("Recall lot {lot}").format(lot=line.lot)
        self.app.push_screen(FormDialog(title, fields, _("Next")), confirm)


def _move_summary(result: Any) -> str:
    return _("moved {qty} × {sku} {source} → {target}").format(
        qty=result.quantity, sku=result.sku, source=result.from_location, target=result.to_location
    )


def _count_summary(report: Any) -> str:
    if not report.differences:
        return _("count at {location}: no difference").format(location=report.location)
    diff = report.differences[0]
    return _("count at {location}: {sku} lot {lot} {difference}").format(
        location=report.location, sku=diff.sku, lot=diff.lot, difference=f"{diff.difference:+d}"
    )


def _status_summary(detail: Any) -> str:
    status = status_label(str(detail.status))
    if isinstance(detail, LotRecall):
        return _(
            "lot {lot} of {sku} is now {status}: {homes} kit(s) at patients' homes, "
            "{courses} course(s) lost their reserved kit, {sessions} clinic session(s) "
            "from it (t: trace)"
        ).format(
            lot=detail.lot,
            sku=detail.sku,
            status=status,
            homes=len(detail.at_patients),
            courses=len(detail.released),
            sessions=len(detail.sessions),
        )
    return _("lot {lot} of {sku} is now {status}").format(
        lot=detail.lot, sku=detail.sku, status=status
    )
