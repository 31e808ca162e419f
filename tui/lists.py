"""What the list screens (stock, kits, courses, orders) share: one DataTable that shows a
page of rows at a time, filtered and sorted in the query, so 100,000 rows cost one page.

The filter field (``#filter``) reloads a quarter of a second after the last key; Enter
in it goes to the table. ``n``/``p`` (or the screen's own keys) and ctrl+page down/up
page through; the page line (``#page-status``) says where the page is. Across reloads
the cursor stays on its row, or moves to the record another screen asked for
(``select_id``). The screen's actions take the highlighted row (``selected``), and a
detail pane follows the cursor a moment after it stops (``detail_later``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, TabbedContent

from kitops.i18n import N_, _
from kitops.views.pages import PAGE_SIZE

from .base import StockroomScreen, count, translate

FILTER_DELAY = 0.25  # seconds after the last key in the filter
DETAIL_DELAY = 0.15  # seconds after the cursor stops
PREVIEW_DELAY = 0.25  # seconds after the last change to a form with a live preview


class ListScreen(StockroomScreen):
    TABLE: ClassVar[str] = ""  # the DataTable's id
    # marked with N_ (translated when shown): what the page line counts, in the plural
    # ("kits"), and what an action needs selected, as the object of "Select ... first"
    NOUN: ClassVar[str] = N_("lines")
    WHAT: ClassVar[str] = N_("a line")
    PAGE_KEYS: ClassVar[str] = "n/p"
    LIST_TAB: ClassVar[str | None] = None  # the tab holding the table, on tabbed screens
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", N_("Filter")),
        Binding("ctrl+pagedown", "page(1)", N_("Next page"), show=False),
        Binding("ctrl+pageup", "page(-1)", N_("Prev page"), show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []
        self.total = 0
        self.page_offset = 0
        self.select_id: int | None = None
        self._debounce: Timer | None = None
        self._detail_timer: Timer | None = None

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(f"#{self.TABLE}", DataTable)

    # --- what each screen says about its rows ----------------------------------------

    def row_cells(self, row: Any) -> Sequence[Any]:
        """The table's cells for one row."""
        raise NotImplementedError

    def row_id(self, row: Any) -> int | None:
        """The number ``select_id`` is matched against (None: rows are not selected so)."""
        return None

    def page_hint(self) -> str:
        """Added to the page line: the sort, the screen's main keys."""
        return ""

    # --- the page ----------------------------------------------------------------------

    def take_page(self, rows: Sequence[Any], total: int, offset: int) -> None:
        """A page arrived from the database: keep it and show it."""
        self.rows = list(rows)
        self.total = total
        self.page_offset = offset
        self.table.loading = False
        self.show_page()

    _drawing = 0  # which drawing of a page the rows still to draw belong to
    rest_pending = False  # rows of the page are still to be drawn (``draw_rest``)
    # the rest of the page to draw once the next frame is composed: (drawing, drawn)
    _rest_after_frame: tuple[int, int] | None = None

    def show_page(self) -> None:
        """Draw the kept page (again after a theme change: the colours follow the theme):
        the rows that fit on the screen (down to the cursor's) first, the rest of the
        page once that first screenful is on the screen (``draw_rest``, after the next
        frame is composed), so a page of 200 rows shows as soon as a page of 35: the
        table works out its column widths from every row it holds before that frame
        (with 200 rows, as long as composing the frame itself)."""
        table = self.table
        row = table.cursor_row
        table.clear()
        if self.select_id is not None:
            ids = [self.row_id(item) for item in self.rows]
            if self.select_id in ids:
                row = ids.index(self.select_id)
            self.select_id = None
        row = min(max(row, 0), len(self.rows) - 1)
        screenful = max(self.app.size.height, 1)
        now = self.rows[: max(screenful, row + screenful)]
        for item in now:
            table.add_row(*self.row_cells(item))
        self._drawing += 1
        self.rest_pending = len(now) < len(self.rows)
        self._rest_after_frame = (self._drawing, len(now)) if self.rest_pending else None
        if self.rows:
            table.move_cursor(row=row)
        first = self.page_offset + 1 if self.rows else 0
        pages = (
            _(" · {keys}: next/previous page").format(keys=self.PAGE_KEYS)
            if self.total > len(self.rows)
            else ""
        )
        line = _("{first}–{last} of {total} {noun}").format(
            first=count(first),
            last=count(self.page_offset + len(self.rows)),
            total=count(self.total),
            noun=translate(self.NOUN),
        )
        self.query_one("#page-status", Label).update(f"{line}{self.page_hint()}{pages}")

    def _compositor_refresh(self) -> None:
        """A frame was composed: now the rest of the page, if any is waiting. (Textual's
        ``call_after_refresh`` runs as soon as the screen's queue is empty, which is
        before the frame when the table has not yet asked for one.)"""
        super()._compositor_refresh()
        rest, self._rest_after_frame = self._rest_after_frame, None
        if rest is not None:
            self.call_next(self.draw_rest, *rest)

    def draw_rest(self, drawing: int, drawn: int) -> None:
        """The page's rows after the first screenful, unless another page (or the same
        again) was drawn since."""
        if drawing == self._drawing and self.is_attached:
            table = self.table
            for item in self.rows[drawn:]:
                table.add_row(*self.row_cells(item))
            self.rest_pending = False

    def action_page(self, step: int) -> None:
        target = self.page_offset + step * PAGE_SIZE
        if 0 <= target < self.total:
            self.page_offset = target
            self.action_refresh_data()

    def reload_from_start(self) -> None:
        """A filter or a choice changed: back to the first page."""
        self.page_offset = 0
        self.action_refresh_data()

    # --- the filter --------------------------------------------------------------------

    _filter_set: str | None = None  # a filter another screen or a scan just put in

    def set_filter(self, text: str) -> None:
        """Put a filter in the field for another screen or a scan: the reload that
        follows the options loads with it, so the change it makes is not loaded again a
        quarter of a second later (a second page drawn over the first)."""
        field = self.query_one("#filter", Input)
        if field.value != text:
            self._filter_set = text
            field.value = text

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        set_here, self._filter_set = self._filter_set, None
        if set_here is not None and event.value == set_here:
            return
        if self._debounce is not None:
            self._debounce.stop()
        self.page_offset = 0
        self._debounce = self.set_timer(FILTER_DELAY, self.action_refresh_data)

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.show_list()
        self.query_one("#filter", Input).focus()

    def show_list(self) -> None:
        """On a tabbed screen, bring the list's tab forward."""
        if self.LIST_TAB is not None:
            tabs = self.query_one(TabbedContent)
            if tabs.active != self.LIST_TAB:
                tabs.active = self.LIST_TAB

    # --- the selected row --------------------------------------------------------------

    def selected(self) -> Any | None:
        """The highlighted row, or None (and a word to the user) when there is none."""
        self.show_list()
        table = self.table
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            self.notify(
                _("Select {what} first").format(what=translate(self.WHAT)), severity="warning"
            )
            return None
        return self.rows[table.cursor_row]

    def detail_later(self, load: Callable[[], object], *, now: bool = False) -> None:
        """Load the highlighted row's detail once the cursor has stopped moving."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
        if now:
            load()
        else:
            self._detail_timer = self.set_timer(DETAIL_DELAY, load)
