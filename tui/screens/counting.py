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
from textual.widgets import DataTable, Footer, Header, Static

from kitops.services import operations
from kitops.services.dto.stock import CountReport
from kitops.views import previews
from kitops.views.dto import CountedItem

from ..base import StockroomScreen
from ..modals import ConfirmDialog, FormDialog, FormField
from ..widgets import cell, theme_colour

LEAVE = "leave them as they are"
ZERO = "count them as zero (full count)"


@dataclass
class SheetLine:
    sku: str
    lot: str
    counted: int
    what: str


class CountScreen(StockroomScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back"),
        Binding("plus", "adjust(1)", "+1"),
        Binding("minus", "adjust(-1)", "-1"),
        Binding("delete", "remove", "Remove line"),
        Binding("ctrl+s", "apply", "Review and apply"),
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
        table.border_title = f"Count sheet: {self.location}"
        for label in ("SKU", "Lot", "Counted", "Last scan"):
            table.add_column(label)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#count-table").focus()
        self.say(f"scan each vial, box or kit at {self.location}; ctrl+s to review and apply")

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
        lot = f" lot {item.lot}" if item.lot else ""
        self.say(f"+{item.quantity} {item.sku}{lot} ({item.what}): "
                 f"{self.sheet[index].counted} counted")  # fmt: skip
        self.show_sheet(index)

    def show_refusal(self, error: BaseException, worker: Any = None) -> bool:
        """A scan that is not a label of anything kept here: the bell and a red line;
        the sheet is unchanged."""
        if worker is not None and worker.group == "scan":
            self.app.bell()
            self.say(f"not counted: {error}", wrong=True)
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
            self.say("nothing scanned yet", wrong=True)
            return
        sheet = [operations.CountedLine(i, line.sku, line.lot, line.counted)
                 for i, line in enumerate(self.sheet, start=1)]  # fmt: skip
        fields = [FormField("rest", f"Lots on record at {self.location} not on the sheet",
                            LEAVE, options=[LEAVE, ZERO])]  # fmt: skip

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.change(_summary, operations.count, self.location, sheet,
                            full=values["rest"] == ZERO)  # fmt: skip

        title = f"Apply the count of {len(sheet)} lines at {self.location}"
        self.app.push_screen(FormDialog(title, fields, "Apply"), done)

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

        text = f"The sheet has {len(self.sheet)} lines that are not applied. Leave it?"
        self.app.push_screen(ConfirmDialog("Leave the count", text, "Leave"), go)


def _summary(report: CountReport) -> str:
    if not report.differences:
        return f"count at {report.location} applied: {report.lines_counted} lines, no difference"
    return (
        f"count at {report.location} applied: {report.lines_counted} lines, "
        f"{len(report.differences)} differences (+{report.units_added} / "
        f"-{report.units_removed} units)"
    )
