"""The kitops terminal UI: the app shell, its screens (one mode each), key bindings,
the command palette and the single place where errors become dialogs.

``build_app`` is the factory that ``kitops tui`` and the tests both use. Screens are
imported when first shown, so the app paints the dashboard first and loads the rest on
demand; the database opens in a worker, never on the UI thread.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.clock import Clock
from tui.errors import describe

if TYPE_CHECKING:
    from kitops.services.dashboard import Stockroom
    from kitops.services.dashboard_dto import Choices
    from tui.base import StockroomScreen


def _dashboard() -> Screen[Any]:
    from tui.screens.dashboard import DashboardScreen

    return DashboardScreen()


def _stock() -> Screen[Any]:
    from tui.screens.stock import StockScreen

    return StockScreen()


def _receive() -> Screen[Any]:
    from tui.screens.receive import ReceiveScreen

    return ReceiveScreen()


def _kits() -> Screen[Any]:
    from tui.screens.kits import KitsScreen

    return KitsScreen()


def _courses() -> Screen[Any]:
    from tui.screens.courses import CoursesScreen

    return CoursesScreen()


def _commands() -> Any:
    from tui.commands import KitopsCommands

    return KitopsCommands


SCREENS_BY_KEY = {
    "dashboard": ("f2", "Dashboard"),
    "stock": ("f3", "Stock"),
    "receive": ("f4", "Receive"),
    "kits": ("f5", "Kits"),
    "courses": ("f6", "Courses"),
}


class KitopsApp(App[int]):
    """The stockroom, keyboard first: F2-F6 switch screens, ctrl+p finds anything."""

    CSS_PATH = "kitops.tcss"
    TITLE = "kitops"
    MODES: ClassVar[dict[str, str | Any]] = {
        "dashboard": _dashboard,
        "stock": _stock,
        "receive": _receive,
        "kits": _kits,
        "courses": _courses,
    }
    COMMANDS = App.COMMANDS | {_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "toggle_help", "Help", id="help"),
        *[
            Binding(key, f"switch_mode('{mode}')", label, id=mode)
            for mode, (key, label) in SCREENS_BY_KEY.items()
        ],
        Binding("f9", "toggle_dark", "Light/dark", show=False, id="theme"),
        Binding("question_mark", "toggle_help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, id="quit"),
    ]

    class Opened(Message):
        """The database is open and its schema current."""

        def __init__(self, stockroom: Stockroom, choices: Choices) -> None:
            super().__init__()
            self.stockroom = stockroom
            self.choices = choices

    def __init__(
        self,
        *,
        db_url: str | None,
        user: str,
        clinic: str | None = None,
        today: date | None = None,
        cursor_blink: bool = True,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        self.db_url = db_url
        self.user = user
        self.clinic = clinic.strip().upper() if clinic else None
        self.clock = Clock(today)
        self.cursor_blink = cursor_blink
        self.stockroom: Stockroom | None = None
        self.choices: Choices | None = None
        self.pending: dict[str, dict[str, Any]] = {}
        self._fatal = False
        if theme:
            self.theme = theme

    # --- start and stop ------------------------------------------------------------

    def on_mount(self) -> None:
        self.sub_title = "opening the database…"
        self.open_stockroom()
        self.switch_mode("dashboard")

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def open_stockroom(self) -> None:
        from kitops.errors import InvalidInput
        from kitops.services.dashboard import Stockroom, choices

        stockroom = Stockroom.open(self.db_url, self.user)
        try:
            found = choices(stockroom.reading())
            if self.clinic and self.clinic not in {c.code for c in found.clinics}:
                known = ", ".join(c.code for c in found.clinics) or "none yet"
                raise InvalidInput("clinic", self.clinic, f"is not a clinic (clinics: {known})")
        except BaseException:
            stockroom.close()
            raise
        self.post_message(self.Opened(stockroom, found))

    def on_kitops_app_opened(self, message: Opened) -> None:
        self.stockroom = message.stockroom
        self.choices = message.choices
        self.sub_title = " · ".join(
            [
                message.stockroom.label,
                self.clinic or "all clinics",
                self.user,
                *([f"as of {self.clock.fixed}"] if self.clock.fixed else []),
            ]
        )
        screen = self.screen
        from tui.base import StockroomScreen

        if isinstance(screen, StockroomScreen):
            screen.refresh_data()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "open":
            self._fatal = True
            self.sub_title = "no database"
            if event.worker.error is not None:
                self.report_error(event.worker.error)

    def on_unmount(self) -> None:
        if self.stockroom is not None:
            self.stockroom.close()

    # --- the one place errors are shown --------------------------------------------

    def report_error(
        self,
        error: BaseException,
        screen: StockroomScreen | None = None,
        worker: Worker[Any] | None = None,
    ) -> None:
        """A refusal or failure as a dialog (or in place, where the screen shows it
        beside the field): one message, never a traceback; the app keeps running."""
        from tui.modals import ErrorDialog

        problem = describe(error)
        if problem.title == "Internal error":
            self.log.error(repr(error))
        if screen is not None and screen.show_refusal(error, worker):
            return

        def closed(_: None) -> None:
            if self._fatal:
                self.exit(1, return_code=1, message=f"kitops: {problem.message}")

        self.push_screen(ErrorDialog(problem.title, problem.message, problem.severity), closed)

    # --- navigation ------------------------------------------------------------------

    def open_screen(self, mode: str, **options: Any) -> None:
        """Switch to a screen, handing it options (a filter, a record to select)."""
        if options:
            self.pending[mode] = options
        if self.current_mode == mode:
            from tui.base import StockroomScreen

            screen = self.screen
            if isinstance(screen, StockroomScreen):
                screen.on_screen_resume()
            return
        self.switch_mode(mode)

    def show_trace(self, code: str, sku: str | None = None) -> None:
        from tui.screens.trace import TraceScreen

        self.push_screen(TraceScreen(code, sku))

    def action_toggle_help(self) -> None:
        from textual.widgets import HelpPanel

        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def build_app(
    *,
    db_url: str | None = None,
    user: str,
    clinic: str | None = None,
    today: date | None = None,
    cursor_blink: bool = True,
    theme: str | None = None,
) -> KitopsApp:
    """The app as ``kitops tui`` builds it (tests build it the same way)."""
    return KitopsApp(
        db_url=db_url,
        user=user,
        clinic=clinic,
        today=today,
        cursor_blink=cursor_blink,
        theme=theme,
    )


def run(*, db_url: str | None, user: str, clinic: str | None = None) -> int:
    app = build_app(db_url=db_url, user=user, clinic=clinic)
    code = app.run()
    return int(code or 0)
