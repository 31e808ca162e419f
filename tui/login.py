"""The login: a user name and PIN (or password), checked by
``kitops.services.users.authenticate``. Until someone logs in nothing loads; the user
who logs in is the actor of every unit of work from then on. A refusal (wrong name or
PIN, a locked user, a database with no users yet) reads under the fields, and the PIN
field is ready for the next try. The screen covers the whole terminal: nothing of a
previous user's work shows behind it. The name the app was started with (``--user``) is
only suggested, never filled in."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from kitops.errors import InvalidInput, Refused
from kitops.i18n import N_, _

from .base import KitopsModal
from .widgets import Field

if TYPE_CHECKING:
    from .app import KitopsApp


class LoginScreen(KitopsModal[None]):
    """Who is at the keyboard. Escape does not close it; ctrl+q quits the app; ctrl+u
    (the log-out key) starts the PIN again, keeping the name."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "app.quit", N_("Quit"), show=False),
    ]

    def __init__(self, name: str = "") -> None:
        super().__init__(classes="dialog login")
        self.suggested = name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(_("kitops: log in"), classes="dialog-title")
            yield Label(_("User"), classes="field-label")
            hint = (
                _("your user name, e.g. {name}").format(name=self.suggested)
                if self.suggested
                else _("your user name")
            )
            yield Field(placeholder=hint, id="login-user")
            yield Label(_("PIN or password"), classes="field-label")
            yield Field(password=True, placeholder=_("PIN"), id="login-pin")
            yield Static("", id="login-message", classes="message")
            with Horizontal(classes="buttons"):
                yield Button(_("Log in"), id="log-in", variant="primary")
                yield Button(_("Quit"), id="quit")

    def on_mount(self) -> None:
        self.query_one("#login-user", Input).focus()

    @property
    def kitops(self) -> KitopsApp:
        return cast("KitopsApp", self.app)

    @on(Input.Submitted, "#login-user")
    def next_field(self) -> None:
        self.query_one("#login-pin", Input).focus()

    @on(Input.Submitted, "#login-pin")
    @on(Button.Pressed, "#log-in")
    def log_in(self) -> None:
        name = self.query_one("#login-user", Input).value.strip()
        secret = self.query_one("#login-pin", Input).value
        if not name or not secret:
            self.say(_("give your user name") if not name else _("give your PIN"))
            self.query_one("#login-pin" if name else "#login-user", Input).focus()
            return
        if self.kitops.stockroom is None:
            self.say(_("the database is still opening; try again in a moment"))
            return
        self.say(_("checking…"), "")
        self.query_one("#log-in", Button).disabled = True
        self.kitops.sign_in(name, secret)

    @on(Button.Pressed, "#quit")
    def quit(self) -> None:
        self.app.exit(0)

    def start_over(self) -> None:
        """The log-out key here: nobody is in, so the PIN starts again (the name stays)
        and the next key typed goes into the PIN, wherever the cursor was."""
        pin = self.query_one("#login-pin", Input)
        pin.value = ""
        if self.query_one("#login-user", Input).value.strip():
            pin.focus()
            self.say(_("type your PIN"), "")
        else:
            self.query_one("#login-user", Input).focus()
            self.say(_("type your user name, then your PIN"), "")

    def refused(self, error: BaseException) -> bool:
        """A refused login, shown here (True); anything else goes to the app's dialog."""
        self.query_one("#log-in", Button).disabled = False
        if isinstance(error, Refused) or (
            isinstance(error, InvalidInput) and error.field in ("user", "PIN", "password")
        ):
            self.say(str(error))
            pin = self.query_one("#login-pin", Input)
            pin.value = ""
            pin.focus()
            return True
        return False

    def say(self, text: str, kind: str = "error") -> None:
        widget = self.query_one("#login-message", Static)
        widget.set_classes(f"message {kind}".strip())
        widget.update(Text(text))
