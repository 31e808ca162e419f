"""A count sheet by scanner: at one location, each scan of a vial's, a box's or a kit's
label adds one (or the label's count (30)) to the sheet; the sheet is reviewed and
applied as today's count (``operations.count``) in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Header, Static

from kitops.i18n import N_, _, ngettext
from kitops.services import operations
from kitops.services.dto.stock import CountReport
from kitops.views import previews
from kitops.views.dto import CountedItem

from ..base import StockroomScreen, translate
from ..modals import ConfirmDialog, FormDialog, FormField
from ..widgets import KitopsFooter, cell, theme_colour

LEAVE = N_("leave them as they are")
ZERO = N_("count them as zero (full count)")


@dataclass
class SheetLine:
    sku: str
    lot: str
    counted: int
    what: str


class CountScreen(StockroomScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", N_("Back")),
        Binding("plus", "adjust(1)", N_("+1")),
        Binding("minus", "adjust(-1)", N_("-1")),
        Binding("delete", "remove", N_("Remove line")),
        Binding("ctrl+s", "apply", N_("Review and apply")),
    ]

    class Read(Message):
        def __init__(self, item: CountedItem) -> None:
            super().__init__()
            self.item = item

    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location
        self.sheet: list[SheetLine] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="count-message", classes="message")
        table: DataTable[Any] = DataTable(id="count-table", cursor_type="row")
        table.border_title = _("Count sheet: {location}").format(location=self.location)
        for label in (_("SKU"), _("Lot"), _("Counted"), _("Last scan")):
            table.add_column(label)
        yield table
        yield KitopsFooter()

    def on_mount(self) -> None:
        self.query_one("#count-table").focus()
        self.say(
            _("scan each vial, box or kit at {location}; ctrl+s to review and apply").format(
                location=self.location
            )
        )

    def say(self, text: str, *, wrong: bool = False) -> None:
        style = f"bold {theme_colour(self.app, 'error', 'red')}" if wrong else ""
        self.query_one("#count-message", Static).update(Text(text, style=style))

    def show_sheet(self, index: int | None = None) -> None:
        table = self.query_one("#count-table", DataTable)
        row = table.cursor_row if index is None else index
        table.clear()
        for line in self.sheet:
            table.add_row(cell(line.sku), cell(line.lot or "-"),
                          cell(line.counted, justify="right"), cell(line.what))  # fmt: skip
        if self.sheet:
            table.move_cursor(row=max(0, min(row, len(self.sheet) - 1)))

    # --- scanning --------------------------------------------------------------------

    def take_scan(self, code: str) -> bool:
        self.read(code)
        return True

    @work(thread=True, exclusive=False, exit_on_error=False, group="scan")
    def read(self, code: str) -> None:
        self.post_message(self.Read(previews.counted_item(self.stockroom.reading(), code)))

    def on_count_screen_read(self, message: Read) -> None:
        item = message.item
        keys = [(line.sku, line.lot) for line in self.sheet]
        if (item.sku, item.lot) in keys:
            index = keys.index((item.sku, item.lot))
            self.sheet[index].counted += item.quantity
            self.sheet[index].what = item.what
        else:
            index = len(self.sheet)
            self.sheet.append(SheetLine(item.sku, item.lot, item.quantity, item.what))
        counted = self.sheet[index].counted
        if item.lot:
            said = _("+{qty} {sku} lot {lot} ({what}): {counted} counted")
        else:
            said = _("+{qty} {sku} ({what}): {counted} counted")
        self.say(
            said.format(
                qty=item.quantity, sku=item.sku, lot=item.lot, what=item.what, counted=counted
            )
        )
        self.show_sheet(index)

    def show_refusal(self, error: BaseException, worker: Any = None) -> bool:
        """A scan that is not a label of anything kept here: the bell and a red line;
        the sheet is unchanged."""
        if worker is not None and worker.group == "scan":
            self.app.bell()
            self.say(_("not counted: {error}").format(error=error), wrong=True)
            return True
        return False

    # --- review ----------------------------------------------------------------------

    def selected(self) -> SheetLine | None:
        table = self.query_one("#count-table", DataTable)
        if not self.sheet:
            return None
        return self.sheet[max(0, min(table.cursor_row, len(self.sheet) - 1))]

    def action_adjust(self, by: int) -> None:
        line = self.selected()
        if line is not None:
            line.counted = max(0, line.counted + by)
            self.show_sheet()

    def action_remove(self) -> None:
        line = self.selected()
        if line is not None:
            self.sheet.remove(line)
            self.show_sheet()

    def action_apply(self) -> None:
        if not self.sheet:
            self.say(_("nothing scanned yet"), wrong=True)
            return
        sheet = [operations.CountedLine(i, line.sku, line.lot, line.counted)
                 for i, line in enumerate(self.sheet, start=1)]  # fmt: skip
        leave, zero = translate(LEAVE), translate(ZERO)
        label = _("Lots on record at {location} not on the sheet").format(location=self.location)
        fields = [FormField("rest", label, leave, options=[leave, zero])]

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.change(_summary, operations.count, self.location, sheet,
                            full=values["rest"] == zero)  # fmt: skip

        title = ngettext(
            "Apply the count of {n} line at {location}",
            "Apply the count of {n} lines at {location}",
            len(sheet),
        ).format(n=len(sheet), location=self.location)
        self.app.push_screen(FormDialog(title, fields, _("Apply")), done)

    def changed(self, result: Any) -> None:
        self.sheet.clear()
        self.show_sheet()
        self.say(_summary(result))

    def action_leave(self) -> None:
        if not self.sheet:
            self.app.pop_screen()
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.app.pop_screen()

        text = ngettext(
            "The sheet has {n} line that is not applied. Leave it?",
            "The sheet has {n} lines that are not applied. Leave it?",
            len(self.sheet),
        ).format(n=len(self.sheet))
        self.app.push_screen(ConfirmDialog(_("Leave the count"), text, _("Leave")), go)


def _summary(report: CountReport) -> str:
    if not report.differences:
        return _("count at {location} applied: {lines} lines, no difference").format(
            location=report.location, lines=report.lines_counted
        )
    return _(
        "count at {location} applied: {lines} lines, {differences} differences "
        "(+{added} / -{removed} units)"
    ).format(
        location=report.location,
        lines=report.lines_counted,
        differences=len(report.differences),
        added=report.units_added,
        removed=report.units_removed,
    )
