"""The kitops terminal UI: the app shell, its screens (one mode each), key bindings,
the command palette and the single place where errors become dialogs.

``build_app`` is the factory that ``kitops tui`` and the tests both use. Screens are
imported when first shown, so the app paints the dashboard first and loads the rest on
demand; the database opens in a worker, never on the UI thread.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from kitops.i18n import N_, _, forced_locale, formats, resolve_locale, set_default_locale

from .base import translate
from .clock import Clock
from .errors import describe
from .scanner import DEFAULT_GAP_S, ScanDetector

if TYPE_CHECKING:
    from kitops.bootstrap import Stockroom
    from kitops.services.dto.users import User
    from kitops.views.dto import Choices

    from .base import StockroomScreen


def _dashboard() -> Screen[Any]:
    from .screens.dashboard import DashboardScreen

    return DashboardScreen()


def _blank() -> Screen[Any]:
    """What lies under the login after a log-out: nothing of anyone's work."""
    from .base import KitopsScreen

    return KitopsScreen()


def _stock() -> Screen[Any]:
    from .screens.stock import StockScreen

    return StockScreen()


def _receive() -> Screen[Any]:
    from .screens.receive import ReceiveScreen

    return ReceiveScreen()


def _kits() -> Screen[Any]:
    from .screens.kits import KitsScreen

    return KitsScreen()


def _courses() -> Screen[Any]:
    from .screens.courses import CoursesScreen

    return CoursesScreen()


def _orders() -> Screen[Any]:
    from .screens.orders import OrdersScreen

    return OrdersScreen()


def _purchasing() -> Screen[Any]:
    from .screens.purchasing import PurchasingScreen

    return PurchasingScreen()


def _reports() -> Screen[Any]:
    from .screens.reports import ReportsScreen

    return ReportsScreen()


def _commands() -> Any:
    from .commands import KitopsCommands

    return KitopsCommands


SCREENS_BY_KEY = {
    "dashboard": ("f2", N_("Dashboard")),
    "stock": ("f3", N_("Stock")),
    "receive": ("f4", N_("Receive")),
    "kits": ("f5", N_("Kits")),
    "courses": ("f6", N_("Courses")),
    "orders": ("f7", N_("Orders")),
    "purchasing": ("f8", N_("POs")),
    "reports": ("f9", N_("Reports")),
}


# a user's role as the header shows it (the stored value is the key)
ROLES = {
    "stockroom": N_("stockroom"),
    "manager": N_("manager"),
    "admin": N_("admin"),
    "job": N_("job"),
}


# what Textual's own palette commands say (``get_system_commands``), for the catalog
SYSTEM_COMMANDS = (
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
)


class KitopsApp(App[int]):
    """The stockroom, keyboard first: F2-F9 switch screens, ctrl+p finds anything."""

    CSS_PATH = "kitops.tcss"
    TITLE = "kitops"
    MODES: ClassVar[dict[str, str | Any]] = {
        "login": _blank,
        "dashboard": _dashboard,
        "stock": _stock,
        "receive": _receive,
        "kits": _kits,
        "courses": _courses,
        "orders": _orders,
        "purchasing": _purchasing,
        "reports": _reports,
    }
    COMMANDS = App.COMMANDS | {_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "toggle_help", N_("Help"), id="help"),
        # not in the footer: the screen's own keys come first there and the dashboard
        # lists the F-keys itself (each footer key is a widget, re-made on every focus
        # change: nine of them cost a tenth of the start-up); F1 shows them all
        *[
            Binding(key, f"switch_mode('{mode}')", label, id=mode, show=False)
            for mode, (key, label) in SCREENS_BY_KEY.items()
        ],
        Binding("ctrl+t", "toggle_dark", N_("Light/dark"), show=False, id="theme"),
        # priority: the log-out key works whatever has focus (an input field would
        # otherwise take ctrl+u as "delete to the start")
        Binding(
            "ctrl+u",
            "log_out",
            N_("Log out / switch user"),
            show=False,
            id="log-out",
            priority=True,
        ),
        Binding("question_mark", "toggle_help", N_("Help"), show=False),
        Binding("ctrl+q", "quit", N_("Quit"), show=False, id="quit"),
    ]

    class Opened(Message):
        """The database is open and its schema current."""

        def __init__(self, stockroom: Stockroom) -> None:
            super().__init__()
            self.stockroom = stockroom

    class SignedIn(Message):
        """Someone logged in (or was handed in by the factory): who, and the choices
        the forms offer."""

        def __init__(self, user: User, choices: Choices) -> None:
            super().__init__()
            self.user = user
            self.choices = choices

    def __init__(
        self,
        *,
        db_url: str | None,
        user: str | None,
        login: bool = True,
        clinic: str | None = None,
        today: date | None = None,
        cursor_blink: bool = True,
        theme: str | None = None,
        scan_gap: float | None = DEFAULT_GAP_S,
        scan_clock: Callable[[], float] | None = None,
        scan_replay_after: float | None = None,
    ) -> None:
        super().__init__()
        self.db_url = db_url
        # the name the login screen offers, or (login=False) the user the caller vouches for
        self.login_name = user or ""
        self.login = login or not user
        self.user: str | None = None  # the logged-in user: the actor of every unit of work
        # the language the logged-in user reads (kitops.i18n.resolve_locale); before a
        # login, the environment's (or --locale's)
        self.user_locale = resolve_locale(override=forced_locale())
        self.role: str | None = None
        self.clinic = clinic.strip().upper() if clinic else None
        self.clock = Clock(today)
        self.cursor_blink = cursor_blink
        self.stockroom: Stockroom | None = None
        self.choices: Choices | None = None
        self.pending: dict[str, dict[str, Any]] = {}
        self.last_printer: str | None = None  # the label printer chosen last this session
        self._fatal = False
        self._gc_paused = _pause_gc()
        if theme:
            self.theme = theme
        # a barcode scanner's typing, told from a person's (scanner.py); None: off
        self.scanner = (
            ScanDetector(scan_gap, now=scan_clock or time.monotonic) if scan_gap else None
        )
        self._scan_clock_given = scan_clock is not None
        # how long a person's held keys wait for more before they are replayed; 0: until
        # the next key or ``replay_keys`` (tests, whose key clock is not the machine's)
        self._replay_after = (scan_gap or 0.0) if scan_replay_after is None else scan_replay_after
        self._replay_timer: Any = None

    # --- start and stop ------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_timer(10, self.started)  # whatever happens, the collector comes back
        self.sub_title = _("opening the database…")
        self.open_stockroom()
        self.switch_mode("dashboard")
        if self.login:
            self.show_login()

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def open_stockroom(self) -> None:
        from kitops.bootstrap import Stockroom

        stockroom = Stockroom.open(self.db_url, self.login_name)
        # the rest of what the dashboard loads, imported while the collector still rests
        import kitops.services.users
        import kitops.views.dashboard  # noqa: F401

        self.started()
        if self.login:
            self.post_message(self.Opened(stockroom))
            return
        try:  # a user handed in by the factory: one worker to the dashboard
            user, found = self._session(stockroom, self.login_name, None)
        except BaseException:
            stockroom.close()
            raise
        self.post_message(self.Opened(stockroom))
        self.post_message(self.SignedIn(user, found))

    def _session(self, stockroom: Stockroom, name: str, secret: str | None) -> tuple[User, Choices]:
        """Log in (or look up a user handed in) and read the choices the forms offer as
        that user: runs in a worker."""
        from kitops.errors import InvalidInput
        from kitops.services import users
        from kitops.views.choices import choices

        if secret is None:
            stockroom.actor = name
            user = users.get_user(stockroom.reading(), name)
        else:
            user = users.authenticate(stockroom.writing(), name, secret)
        stockroom.actor = user.name
        self.user_locale = _users_locale(stockroom, user.name)
        found = choices(stockroom.reading())
        if self.clinic and self.clinic not in {c.code for c in found.clinics}:
            known = ", ".join(c.code for c in found.clinics) or _("none yet")
            raise InvalidInput(
                "clinic",
                self.clinic,
                _("is not a clinic (clinics: {known})").format(known=known),
            )
        return user, found

    def on_kitops_app_opened(self, message: Opened) -> None:
        self.stockroom = message.stockroom
        self.show_status()

    @work(thread=True, exclusive=True, exit_on_error=False, group="login")
    def sign_in(self, name: str, secret: str) -> None:
        """The login screen's check (``kitops.services.users.authenticate``)."""
        stockroom = self.stockroom
        if stockroom is None:
            raise RuntimeError("the database is not open yet")
        user, found = self._session(stockroom, name, secret)
        self.post_message(self.SignedIn(user, found))

    def on_kitops_app_signed_in(self, message: SignedIn) -> None:
        self.user = message.user.name
        self.role = message.user.role
        # the screens built from now on speak the user's language (kitops.i18n)
        set_default_locale(self.user_locale)
        self.choices = message.choices
        self.show_status()
        from .login import LoginScreen

        if isinstance(self.screen, LoginScreen):
            self.screen.dismiss()
        if self.current_mode == "login":  # after a log-out: the new user starts afresh
            self.switch_mode("dashboard")
            return
        screen = self.screen
        from .base import StockroomScreen

        if isinstance(screen, StockroomScreen):
            screen.refresh_data()

    def show_status(self) -> None:
        """The header's second line: database, clinic, who is logged in and their role."""
        if self.stockroom is None:
            return
        if self.user:
            role = self.role or ""
            shown = translate(ROLES[role]) if role in ROLES else role
            who = _("{user} ({role})").format(user=self.user, role=shown)
        else:
            who = _("not logged in")
        self.sub_title = " · ".join(
            [
                self.stockroom.label,
                self.clinic or _("all clinics"),
                who,
                *(
                    [_("as of {day}").format(day=formats.date(self.clock.fixed))]
                    if self.clock.fixed
                    else []
                ),
            ]
        )

    def show_login(self) -> None:
        from .login import LoginScreen

        if not isinstance(self.screen, LoginScreen):
            self.push_screen(LoginScreen(self.login_name))

    def action_log_out(self) -> None:
        """Log out: nobody acts until the next login (the same or another user), and
        every screen of the user who left is closed, so nothing of theirs (patients,
        kits, lists) shows behind the login or to the next user."""
        from .login import LoginScreen

        if isinstance(self.screen, LoginScreen):
            self.screen.start_over()
            return
        if self.user is None:
            self.show_login()
            return
        self.login_name = ""
        self.login = True  # from now on, only through the login
        self.user = self.role = None
        set_default_locale(resolve_locale(override=forced_locale()))  # the login's language
        self.choices = None
        self.pending.clear()
        if self.stockroom is not None:
            self.stockroom.actor = ""
        self.clear_notifications()
        self.switch_mode("login")
        for mode, factory in self.MODES.items():
            if mode != "login":
                self.remove_mode(mode)
                self.add_mode(mode, factory)
        self.show_status()
        self.notify(_("Logged out"), timeout=3)
        self.show_login()

    def started(self) -> None:
        """The imports of start-up are done: the collector runs again."""
        if self._gc_paused:
            self._gc_paused = False
            _resume_gc()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        from .login import LoginScreen

        error = event.worker.error
        if event.worker.group == "scan" and error is not None:  # a scan that names nothing
            self.bell()
            self.report_error(error)
            return
        login = self.screen if isinstance(self.screen, LoginScreen) else None
        if event.worker.group == "login" and login and error and login.refused(error):
            return
        if event.worker.group in ("open", "login"):  # no database, or no way in
            self.started()
            self._fatal = True
            self.sub_title = _("no database") if self.stockroom is None else _("not logged in")
            if event.worker.error is not None:
                self.report_error(event.worker.error)

    def on_unmount(self) -> None:
        self.started()
        if self.stockroom is not None:
            self.stockroom.close()

    # --- a barcode scanner on every screen -------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Every key passes the scan detector first: a scanner's burst ending in Enter
        becomes one scan (``scanned``) and never reaches a field or a key binding; a
        person's keys come through as typed, a moment later."""
        scanner = self.scanner
        if (
            scanner is None
            or not isinstance(event, events.Key)
            or event.is_forwarded
            or not (scanner.holding or self._scans_here())
        ):
            await super().on_event(event)
            return
        # judged by when the key was typed (the terminal driver stamps it), not when the UI
        # got to it: a busy moment does not split a scan; tests bring their own clock
        at = None if self._scan_clock_given else event.time
        verdict = scanner.take(event, event.key, event.character, at)
        for key in verdict.replay:
            await super().on_event(key)  # type: ignore[arg-type]
        if verdict.scan is not None:
            self._stop_replay_timer()
            if not self.scanned(verdict.scan):
                from textual.widgets import Input

                if not isinstance(self.focused, Input):
                    # a dialog's button has the focus: the scanner's Enter must not press
                    # it (confirm a write-off, a recall...); the scan is dropped, loudly
                    self.bell()
                    self.notify(_("a scan is not an answer to this dialog: nothing done"),
                                severity="warning", timeout=4)  # fmt: skip
                    return
                for key in verdict.keys:  # typed into the dialog's field, as scanned
                    await super().on_event(key)  # type: ignore[arg-type]
        elif verdict.hold:
            self._stop_replay_timer()
            if self._replay_after:
                self._replay_timer = self.set_timer(self._replay_after, self.replay_keys)
        else:
            await super().on_event(event)

    def _stop_replay_timer(self) -> None:
        if self._replay_timer is not None:
            self._replay_timer.stop()
            self._replay_timer = None

    async def replay_keys(self) -> None:
        """No key came within the gap: what was held was a person typing."""
        self._replay_timer = None
        if self.scanner is not None:
            for key in self.scanner.release():
                await super().on_event(key)  # type: ignore[arg-type]

    def _scans_here(self) -> bool:
        """Scans are taken once someone is logged in, and never while a PIN or password
        is typed (a password manager types fast too)."""
        from textual.widgets import Input

        from .login import LoginScreen

        if self.locked or isinstance(self.screen, LoginScreen):
            return False
        focused = self.focused
        return not (isinstance(focused, Input) and focused.password)

    def scanned(self, code: str) -> bool:
        """A whole scan: the screen takes it if it has a use for it (``take_scan``: the
        receive screen, a pick list, a count sheet, a dialog waiting for a location);
        a dialog without one gets it typed into its field, as the scanner typed it
        (False: the caller replays the keys); anywhere else it opens what was scanned."""
        from textual.screen import ModalScreen

        screen = self.screen
        take = getattr(screen, "take_scan", None)
        if take is not None and take(code):
            return True
        if isinstance(screen, ModalScreen):
            return False
        self.open_scan(code)
        return True

    def open_scan(self, code: str) -> None:
        """Open what a scan names (``scans.open_scanned``), asked in a worker."""
        if self.stockroom is not None:
            self.resolve_scan(code)

    class Scanned(Message):
        def __init__(self, found: Any) -> None:
            super().__init__()
            self.found = found

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan")
    def resolve_scan(self, code: str) -> None:
        from kitops.services import scans

        stockroom = self.stockroom
        if stockroom is None:
            raise RuntimeError("the database is not open yet")
        self.post_message(self.Scanned(scans.scan(stockroom.reading(), code, summary=False)))

    def on_kitops_app_scanned(self, message: Scanned) -> None:
        from .scans import open_scanned

        open_scanned(self, message.found)

    # --- the one place errors are shown --------------------------------------------

    def report_error(
        self,
        error: BaseException,
        screen: StockroomScreen | None = None,
        worker: Worker[Any] | None = None,
    ) -> None:
        """A refusal or failure as a dialog (or in place, where the screen shows it
        beside the field): one message, never a traceback; the app keeps running."""
        from .modals import ErrorDialog

        problem = describe(error)
        if problem.internal:
            self.log.error(repr(error))
        if screen is not None and screen.show_refusal(error, worker):
            return

        def closed(_result: None) -> None:
            if self._fatal:
                self.exit(1, return_code=1, message=f"kitops: {problem.message}")

        self.push_screen(ErrorDialog(problem.title, problem.message, problem.severity), closed)

    # --- navigation ------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        """Waiting for a login: no screen opens behind the login's back."""
        return self.login and self.user is None

    async def action_switch_mode(self, mode: str) -> None:
        """F2-F9: a screen of the stockroom, once someone is logged in."""
        if self.locked:
            self.bell()
            return
        self.switch_mode(mode)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own palette commands, in the language in force."""
        for command in super().get_system_commands(screen):
            yield command._replace(title=translate(command.title), help=translate(command.help))

    def action_command_palette(self) -> None:
        if not self.locked:
            super().action_command_palette()

    def open_screen(self, mode: str, **options: Any) -> None:
        """Switch to a screen, handing it options (a filter, a record to select)."""
        if self.locked:
            return
        if options:
            self.pending[mode] = options
        if self.current_mode == mode:
            from .base import StockroomScreen

            screen = self.screen
            if isinstance(screen, StockroomScreen):
                screen.on_screen_resume()
            return
        self.switch_mode(mode)

    def action_show_pick_list(self) -> None:
        """The pick list, ticked off by scanning each kit (screens/picking.py)."""
        if self.locked:
            return
        from .screens.picking import PickScreen

        self.push_screen(PickScreen())

    def action_count_sheet(self, location: str = "") -> None:
        """A count sheet filled by scanning, at ``location`` or at a place asked for
        (screens/counting.py)."""
        if self.locked:
            return
        from .screens.counting import CountScreen

        if location:
            self.push_screen(CountScreen(location))
            return
        from .modals import FormDialog, FormField

        places = [p.code for p in (self.choices.places if self.choices else ())
                  if self.clinic is None or p.clinic == self.clinic]  # fmt: skip

        def chosen(values: dict[str, str] | None) -> None:
            if values and values["location"]:
                self.push_screen(CountScreen(values["location"]))

        field = FormField("location", _("Location"), places[0] if places else "", options=places)
        self.push_screen(FormDialog(_("Count sheet"), [field], _("Start")), chosen)

    def show_trace(self, code: str, sku: str | None = None) -> None:
        from .screens.trace import TraceScreen

        self.push_screen(TraceScreen(code, sku))

    def action_toggle_help(self) -> None:
        from textual.widgets import HelpPanel

        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def _pause_gc() -> bool:
    """Hold the cyclic garbage collector while the app imports what it needs.

    Start-up imports some hundreds of thousands of long-lived objects (Textual's and
    SQLAlchemy's modules and classes, the ORM's mappers, the CSS); a collector pass every
    few thousand of them finds nothing to free and costs about a tenth of the start-up.
    Reference counting still frees everything else at once. ``started`` turns the
    collector back on as soon as the database is open and the services imported, before
    any query: queries make garbage of their own (100,000 lots' worth), which the
    collector must see."""
    if not gc.isenabled():
        return False
    gc.disable()
    return True


def _resume_gc() -> None:
    # The objects imported so far live as long as the app: freezing them (once per
    # process) keeps every later full collection from walking them again, so a long
    # day's session has shorter collector pauses.
    if gc.get_freeze_count() == 0:
        gc.freeze()
    gc.enable()


def _users_locale(stockroom: Stockroom, name: str) -> str:
    """The language ``name`` reads: --locale, else theirs, else their clinic's, else the
    environment's (runs in the login's worker)."""
    from kitops.services.locales import preference_of

    found = preference_of(stockroom.reading(), name)
    return resolve_locale(override=forced_locale(), user_language=found.user_language,
                          clinic_locale=found.clinic_locale)  # fmt: skip


def build_app(
    *,
    db_url: str | None = None,
    user: str | None = None,
    login: bool = True,
    clinic: str | None = None,
    today: date | None = None,
    cursor_blink: bool = True,
    theme: str | None = None,
    scan_gap: float | None = DEFAULT_GAP_S,
    scan_clock: Callable[[], float] | None = None,
    scan_replay_after: float | None = None,
) -> KitopsApp:
    """The app as ``kitops tui`` builds it (tests build it the same way).

    ``login=True`` (``kitops tui``) starts with the login screen, ``user`` filled in as
    the name. ``login=False`` acts as ``user`` at once, as one already authenticated by
    the caller (tests, benchmarks); the services still check on every unit of work that
    the user exists, is active and holds the role the use case needs.

    ``scan_gap``: the most seconds between two keys of a scanner's burst (None: no scan
    detection); ``scan_clock`` lets tests judge bursts by their own clock, and
    ``scan_replay_after`` is how long a person's held keys wait before they are replayed
    (default: the gap; 0: until the next key or ``replay_keys``)."""
    return KitopsApp(
        db_url=db_url,
        user=user,
        login=login,
        clinic=clinic,
        today=today,
        cursor_blink=cursor_blink,
        theme=theme,
        scan_gap=scan_gap,
        scan_clock=scan_clock,
        scan_replay_after=scan_replay_after,
    )


def run(*, db_url: str | None, user: str | None, clinic: str | None = None) -> int:
    """``kitops tui``: always a login (user + PIN); ``user`` (``--user``/``KITOPS_USER``)
    is only the name the login screen suggests."""
    set_default_locale(resolve_locale(override=forced_locale()))  # the login's language
    app = build_app(db_url=db_url, user=user, login=True, clinic=clinic)
    code = app.run()
    return int(code or 0)
