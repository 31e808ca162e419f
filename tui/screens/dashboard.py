"""The dashboard: today's work per clinic, one tile per kind of work. Each tile opens
the screen that deals with it; the whole board refreshes on an interval so that
several terminals on one database see each other's changes.

Tiles are declared in ``TILES``: each is a ``TileSpec`` with its own render function and
target screen. The reorder tile's figures (a dry run of the reorder job) load in a worker
of their own after the rest of the board, so they never hold up the first paint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.message import Message
from textual.widgets import Header, Static

from kitops.i18n import N_, _, formats, ngettext
from kitops.views.dto import Dashboard, Purchasing

from ..base import StockroomScreen, translate
from ..clock import Clock, short_day
from ..widgets import KitopsFooter, Tile, status_label, theme_colour

REFRESH_SECONDS = 30.0
SPINNER_AFTER = 0.4
PURCHASING_AFTER = 1.0  # seconds after the board's first paint
QUARANTINE_LINES = 4  # per clinic; the stock screen lists them all
PURCHASING_LINES = 4  # suggestions and orders each; the purchase orders screen has them all


@dataclass(frozen=True)
class TileSpec:
    id: str
    title: str  # marked with N_, translated when shown
    render: Callable[[Dashboard, Clock, Callable[[str], str]], RenderableType]
    target: str | None = None  # the screen (mode) that deals with it
    options: dict[str, Any] = field(default_factory=dict)  # handed to that screen


def _grid() -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    return table


def _none(text: str) -> Text:
    return Text(text, style="dim")


def render_assemble(
    board: Dashboard, _clock: Clock, colour: Callable[[str], str]
) -> RenderableType:
    table = _grid()
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    for title in (_("free"), _("rsvd"), _("to make"), _("parts")):
        table.add_column(title, justify="right", no_wrap=True)
    table.show_header = True
    table.header_style = "dim"
    for work_ in board.clinics:
        for kit in work_.kits:
            needed = Text(str(kit.unserved_needs), style="dim")
            if kit.unserved_needs:
                needed = Text(str(kit.unserved_needs), style=f"bold {colour('warning')}")
            table.add_row(
                Text(work_.clinic, style="bold"),
                kit.sku,
                str(kit.available),
                str(kit.reserved),
                needed,
                str(kit.could_assemble),
            )
    if not table.row_count:
        return _none(_("no kits on record"))
    return Group(table, Text(_("parts: components on hand for this many more"), style="dim"))


def render_pick(board: Dashboard, clock: Clock, _colour: Callable[[str], str]) -> RenderableType:
    table = _grid()
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    table.add_column(no_wrap=True)
    for work_ in board.clinics:
        for line in work_.to_pick:
            table.add_row(
                Text(work_.clinic, style="bold"),
                line.serial,
                _("course {course} {patient}").format(
                    course=line.course_id, patient=line.patient_ref
                ),
                _("by {day}").format(day=short_day(line.due)),
            )
    if table.row_count:
        return table
    return _none(
        ngettext("no kit to send in {n} day", "no kit to send in {n} days", board.pick_days).format(
            n=board.pick_days
        )
    )


def render_due(board: Dashboard, _clock: Clock, colour: Callable[[str], str]) -> RenderableType:
    table = _grid()
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    for work_ in board.clinics:
        for need in work_.due:
            label = _("course {course}/{part} from {day}:").format(
                course=need.course_id, part=need.part, day=short_day(need.first_use)
            )
            answer = (
                Text(_("{kit} fits").format(kit=need.kit), style=colour("success"))
                if need.kit
                else Text(_("no kit fits"), style=f"bold {colour('error')}")
            )
            table.add_row(Text(work_.clinic, style="bold"), Text.assemble(label, " ", answer))
    if not table.row_count:
        return _none(
            ngettext(
                "no course needs a kit in {n} day",
                "no course needs a kit in {n} days",
                board.due_days,
            ).format(n=board.due_days)
        )
    unserved = sum(len(w.unserved) for w in board.clinics)
    total = sum(len(w.due) for w in board.clinics)
    head = Text(
        _("{total} due, {unserved} cannot be served now").format(total=total, unserved=unserved),
        style="italic",
    )
    return Group(head, table)


def render_quarantine(
    board: Dashboard, _clock: Clock, colour: Callable[[str], str]
) -> RenderableType:
    table = _grid()
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    table.add_column(no_wrap=True)
    for work_ in board.clinics:
        for lot in work_.quarantine[:QUARANTINE_LINES]:
            table.add_row(
                Text(work_.clinic, style="bold"),
                Text(lot.lot, style=colour("warning")),
                f"{lot.units} × {lot.sku}",
                _("exp {day}").format(day=formats.date(lot.expiry)) if lot.expiry else "",
            )
    if not table.row_count:
        return _none(_("no lot waiting for release"))
    more = sum(max(0, len(w.quarantine) - QUARANTINE_LINES) for w in board.clinics)
    if not more:
        return table
    return Group(table, Text(_("… and {n} more").format(n=more), style="dim"))


def render_expiry(board: Dashboard, _clock: Clock, colour: Callable[[str], str]) -> RenderableType:
    table = _grid()
    table.add_column(no_wrap=True)
    for title in (_("past"), _("≤30 d"), _("≤60 d"), _("≤90 d")):
        table.add_column(title, justify="right", no_wrap=True)
    table.show_header = True
    table.header_style = "dim"
    for work_ in board.clinics:
        cells = []
        for bucket in work_.expiry:
            style = ""
            if bucket.lots and bucket.within_days == 0:
                style = f"bold {colour('error')}"
            elif bucket.lots and bucket.within_days == 30:
                style = colour("warning")
            cells.append(Text(f"{bucket.lots} ({bucket.units})", style=style))
        table.add_row(Text(work_.clinic, style="bold"), *cells)
    return Group(table, Text(_("lots (units) on hand"), style="dim"))


def render_purchasing(
    board: Dashboard, _clock: Clock, colour: Callable[[str], str]
) -> RenderableType:
    found = board.purchasing
    if found is None:
        return _none(_("computing what to reorder…"))
    if found.in_progress:
        return _none(_("a reorder run is in progress"))
    parts: list[RenderableType] = []
    if found.suggestions:
        waiting = found.undrafted
        lines = len(found.suggestions)
        head = _("{n} line(s) to order now").format(n=lines)
        not_drafted = _(", {n} not on a draft yet").format(n=waiting)
        parts.append(
            Text.assemble(
                (head, "italic"),
                (not_drafted, f"bold {colour('warning')}") if waiting else "",
            )
        )
        table = _grid()
        table.add_column(no_wrap=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", no_wrap=True)
        table.add_column(no_wrap=True)
        for line in found.suggestions[:PURCHASING_LINES]:
            where = (
                Text(line.draft or "", style="dim")
                if line.drafted
                else Text(_("not drafted"), style=colour("warning"))
            )
            table.add_row(Text(line.clinic, style="bold"), line.sku, str(line.quantity), where)
        parts.append(table)
    else:
        parts.append(_none(_("nothing to reorder ({n} policies)").format(n=found.policies)))
    if found.orders:
        orders = _grid()
        orders.add_column(no_wrap=True)
        orders.add_column(no_wrap=True)
        orders.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        orders.add_column(justify="right", no_wrap=True)
        for order in found.orders[:PURCHASING_LINES]:
            style = colour("warning") if order.status == "draft" else ""
            orders.add_row(
                Text(order.clinic, style="bold"),
                order.number,
                Text(f"{status_label(order.status)} · {order.supplier}", style=style),
                formats.money(order.total),
            )
        parts.append(orders)
        more = len(found.orders) - PURCHASING_LINES
        if more > 0:
            parts.append(Text(_("… and {n} more open").format(n=more), style="dim"))
    else:
        parts.append(_none(_("no open purchase order")))
    return Group(*parts)


def render_activity(board: Dashboard, clock: Clock, colour: Callable[[str], str]) -> RenderableType:
    table = _grid()
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    for entry in board.activity:
        table.add_row(
            Text(clock.when(entry.at), style="dim"),
            f"{entry.action} {entry.key} · {entry.actor}",
        )
    shown = table if table.row_count else _none(_("no activity yet"))
    if not board.webhooks_failing:
        return shown
    failing = Text(
        _("webhook deliveries failing: {n} (kitops webhook list)").format(n=board.webhooks_failing),
        style=f"bold {colour('error')}",
    )
    return Group(failing, shown)


TILES: list[TileSpec] = [
    TileSpec("assemble", N_("Kits to assemble"), render_assemble, "kits", {"tab": "assemble"}),
    TileSpec("due", N_("Course kits due"), render_due, "courses", {"tab": "batch"}),
    TileSpec("pick", N_("Kits to pick and ship"), render_pick, "kits", {"status": "reserved"}),
    TileSpec(
        "quarantine", N_("Awaiting release"), render_quarantine, "stock", {"show": "quarantine"}
    ),
    TileSpec("expiry", N_("Expiry"), render_expiry, "stock", {"show": "expiring"}),
    TileSpec("purchasing", N_("Reorder and purchase orders"), render_purchasing, "purchasing"),
    TileSpec("activity", N_("Recent activity"), render_activity, None),
]


def _navigation() -> Text:
    """The F-keys of the other screens, in one line under the tiles."""
    from ..app import SCREENS_BY_KEY

    parts: list[str | tuple[str, str]] = []
    for mode, (key, label) in SCREENS_BY_KEY.items():
        if mode != "dashboard":
            parts += [(key.upper(), "bold"), f" {translate(label)}  "]
    parts += [("ctrl+p", "bold"), " " + _("find anything")]
    return Text.assemble(*parts)


class DashboardScreen(StockroomScreen):
    MODE = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,down", "app.focus_next", N_("Next tile"), show=False),
        Binding("left,up", "app.focus_previous", N_("Previous tile"), show=False),
    ]

    class Loaded(Message):
        def __init__(self, board: Dashboard) -> None:
            super().__init__()
            self.board = board

    class PurchasingLoaded(Message):
        def __init__(self, purchasing: Purchasing) -> None:
            super().__init__()
            self.purchasing = purchasing

    board: Dashboard | None = None
    purchasing: Purchasing | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="board"), Grid(id="tiles", classes="loadable"):
            for spec in TILES:
                yield Tile(translate(spec.title), spec.target, id=f"tile-{spec.id}")
        yield Static(_navigation(), id="nav")
        yield KitopsFooter()

    def on_mount(self) -> None:
        # the spinner only when loading is slow: it would cost the first load CPU time
        self._spinner_timer = self.set_timer(SPINNER_AFTER, self.show_spinner)
        self.set_interval(REFRESH_SECONDS, self.refresh_on_interval)
        self.watch(self.app, "theme", lambda _: self.show_board(), init=False)

    def show_spinner(self) -> None:
        if self.board is None:
            self.query_one("#tiles").loading = True

    def on_resize(self) -> None:
        self.set_class(self.size.width < 140, "narrow")
        self.set_class(self.size.width < 100, "tight")

    def refresh_data(self) -> None:
        self.load(self.kitops.clinic, self.kitops.clock.today)

    def refresh_on_interval(self) -> None:
        """The board's own refresh, skipped while the last load still runs: a database
        slower than the interval would otherwise cancel every load with the next one
        (a cancelled load's result is dropped), and the board would never change."""
        loading = any(
            worker.node is self and worker.group == "load" and not worker.is_finished
            for worker in self.workers
        )
        if not loading:
            self.action_refresh_data()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, clinic: str | None, today: Any) -> None:
        # imported in the worker thread: SQLAlchemy loads while the first frame paints
        from kitops.views import dashboard

        board = dashboard.overview(self.stockroom.reading(), clinic=clinic, today=today)
        self.post_message(self.Loaded(board))

    def on_dashboard_screen_loaded(self, message: Loaded) -> None:
        self.board = message.board
        self._spinner_timer.stop()  # loaded in time: no spinner to show
        self.query_one("#tiles").loading = False
        self.show_board()
        # the reorder tile is a reorder computation: the first time, it waits until the
        # board has painted and the first keys were taken (it would share their CPU)
        load = partial(self.load_purchasing, self.kitops.clinic, self.kitops.clock.today)
        if self.purchasing is None and PURCHASING_AFTER > 0:
            self.set_timer(PURCHASING_AFTER, load)
        else:
            load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="purchasing")
    def load_purchasing(self, clinic: str | None, today: Any) -> None:
        from kitops.views import dashboard

        found = dashboard.purchasing_overview(self.stockroom.reading(), clinic=clinic, today=today)
        self.post_message(self.PurchasingLoaded(found))

    def on_dashboard_screen_purchasing_loaded(self, message: PurchasingLoaded) -> None:
        self.purchasing = message.purchasing
        self.show_board()

    def show_board(self) -> None:
        if self.board is None:
            return
        board = replace(self.board, purchasing=self.purchasing)

        def colour(name: str) -> str:
            return theme_colour(self.app, name, "")

        titles = {
            "due": ngettext(
                "Course kits due in {n} day", "Course kits due in {n} days", board.due_days
            ).format(n=board.due_days),
            "pick": ngettext(
                "Kits to pick and ship ({n} day)",
                "Kits to pick and ship ({n} days)",
                board.pick_days,
            ).format(n=board.pick_days),
        }
        for spec in TILES:
            tile = self.query_one(f"#tile-{spec.id}", Tile)
            tile.border_title = titles.get(spec.id) or translate(spec.title)
            tile.update(spec.render(board, self.kitops.clock, colour))

    @on(Tile.Opened)
    def open_tile(self, event: Tile.Opened) -> None:
        spec = next(s for s in TILES if f"tile-{s.id}" == event.tile.id)
        if spec.id == "pick":
            self.kitops.action_show_pick_list()
        elif spec.target:
            self.kitops.open_screen(spec.target, **spec.options)
