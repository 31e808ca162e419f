"""The pick list, by scanner: the reserved kits that must go out within a week, and each
kit's label scanned off the shelf as it is taken. A kit that is not on the list is
refused loudly (the terminal bell and a red line); the list shows what is still to pick.
Picked kits are shipped (``s``) or handed over (``h``) from here, one key away; ``l``
prints the labels of every kit on the list in one job."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Header, Static

from kitops.errors import InvalidInput
from kitops.i18n import N_, _, formats, ngettext
from kitops.services.dto.courses import PickLine

from ..base import StockroomScreen
from ..printing import LabelRequest, ask_labels
from ..widgets import KitopsFooter, cell, theme_colour
from .kits import ask_hand_over, ask_ship

PICK_DAYS = 7


class PickScreen(StockroomScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("s", "ship", N_("Ship")),
        Binding("h", "hand_over", N_("Hand over")),
        Binding("l", "labels", N_("Labels")),
    ]

    class Loaded(Message):
        def __init__(self, lines: list[tuple[str, PickLine]]) -> None:
            super().__init__()
            self.lines = lines

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, PickLine]] = []  # (clinic, line), soonest first
        self.picked: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="pick-message", classes="message")
        yield Static("", id="pick-count")
        table: DataTable[Any] = DataTable(id="pick-table", cursor_type="row", classes="loadable")
        table.border_title = ngettext(
            "Pick list: reserved kits due to go out within {n} day",
            "Pick list: reserved kits due to go out within {n} days",
            PICK_DAYS,
        ).format(n=PICK_DAYS)
        headings = (_("Kit"), _("Where"), _("Clinic"), _("Course"), _("Part"), _("Due"))
        for label in ("", *headings, _("Expiry")):
            table.add_column(label)
        yield table
        yield KitopsFooter()

    def on_mount(self) -> None:
        self.query_one("#pick-table").loading = True
        self.query_one("#pick-table").focus()
        self.say(_("scan each kit's label as you take it off the shelf"))
        if self.ready:
            self.refresh_data()

    def refresh_data(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self) -> None:
        from kitops.services.fulfilment import pick_list

        app = self.kitops
        choices = app.choices
        clinics = [c.code for c in choices.clinics] if choices else []
        if app.clinic:
            clinics = [app.clinic]
        uow = self.stockroom.reading()
        found: list[tuple[str, PickLine]] = []
        with uow:
            for code in clinics:
                lines = pick_list(uow, code, on=app.clock.today, days=PICK_DAYS)
                found += [(code, line) for line in lines]
        found.sort(key=lambda item: (item[1].due, item[0], item[1].location, item[1].serial))
        self.post_message(self.Loaded(found))

    def on_pick_screen_loaded(self, message: Loaded) -> None:
        self.loading_finished()
        self.lines = message.lines
        on_list = {line.serial for _clinic, line in self.lines}
        self.picked &= on_list  # a kit shipped or released since is no longer to pick
        self.show_lines()

    def show_lines(self) -> None:
        table = self.query_one("#pick-table", DataTable)
        row = table.cursor_row
        table.clear()
        done = theme_colour(self.app, "success", "green")
        for clinic, line in self.lines:
            picked = line.serial in self.picked
            style = done if picked else ""
            table.add_row(
                cell("✓" if picked else "·", style),
                cell(line.serial, style),
                cell(line.location),
                cell(clinic),
                cell(line.course_id, justify="right"),
                cell(line.part, justify="right"),
                cell(formats.date(line.due)),
                cell(formats.date(line.expiry)),
                key=line.serial,
            )
        if self.lines:
            table.move_cursor(row=min(row, len(self.lines) - 1))
        left = len(self.lines) - len(self.picked)
        total = len(self.lines)
        if not total:
            count = _("nothing to pick")
        elif not left:
            count = _("all {n} kits picked").format(n=total)
        else:
            count = _("{left} of {n} kits still to pick").format(left=left, n=total)
        self.query_one("#pick-count", Static).update(Text(count, style="bold"))

    def say(self, text: str, *, wrong: bool = False) -> None:
        style = f"bold {theme_colour(self.app, 'error', 'red')}" if wrong else ""
        self.query_one("#pick-message", Static).update(Text(text, style=style))

    # --- scanning --------------------------------------------------------------------

    def take_scan(self, code: str) -> bool:
        """A kit's label: ticked off when it is on the list; anything else is refused
        loudly and changes nothing."""
        from kitops.gs1 import read_code

        try:
            read = read_code(code)
        except InvalidInput as error:
            return self.refuse(_("not a kit label: {reason}").format(reason=error.reason))
        if read.kind == "gs1" and read.gs1 is not None:
            serial = read.gs1.serial
        else:
            serial = read.value.upper() if read.kind in ("kit", "text") else None
        if serial is None:
            return self.refuse(_("not a kit label: the scan names no kit serial"))
        if serial not in {line.serial for _clinic, line in self.lines}:
            return self.refuse(
                _("kit {serial} is not on the pick list: leave it on the shelf").format(
                    serial=serial
                )
            )
        if serial in self.picked:
            self.say(_("kit {serial} is already picked").format(serial=serial))
        else:
            self.picked.add(serial)
            self.say(_("picked kit {serial}").format(serial=serial))
        self.show_lines()
        index = next(i for i, (_clinic, line) in enumerate(self.lines) if line.serial == serial)
        self.query_one("#pick-table", DataTable).move_cursor(row=index)
        return True

    def refuse(self, text: str) -> bool:
        self.app.bell()
        self.say(text, wrong=True)
        return True

    # --- what follows a pick ---------------------------------------------------------

    def selected(self) -> PickLine | None:
        table = self.query_one("#pick-table", DataTable)
        if not self.lines or table.cursor_row < 0:
            return None
        return self.lines[min(table.cursor_row, len(self.lines) - 1)][1]

    def picked_line(self) -> PickLine | None:
        line = self.selected()
        if line is not None and line.serial not in self.picked:
            self.refuse(
                _("kit {serial} is not picked yet: scan its label first").format(serial=line.serial)
            )
            return None
        return line

    def action_ship(self) -> None:
        line = self.picked_line()
        if line is not None:
            ask_ship(self, line.serial, line.patient_ref, line.course_id)

    def action_hand_over(self) -> None:
        line = self.picked_line()
        if line is not None:
            ask_hand_over(self, line.serial, line.patient_ref, line.course_id)

    def action_labels(self) -> None:
        """The labels of every kit on the list, picked or not, in one job (the kits about
        to be picked are reserved: printing their labels is no reprint)."""
        serials = tuple(line.serial for _clinic, line in self.lines)
        if not serials:
            self.say(_("nothing to pick: no labels to print"))
            return
        title = (
            _("Labels for the {n} kits on the pick list").format(n=len(serials))
            if len(serials) > 1
            else _("Label for kit {serial} on the pick list").format(serial=serials[0])
        )
        ask_labels(self, LabelRequest(serials, title, "pick-list-labels.pdf"))
