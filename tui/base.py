"""What every stockroom screen shares: the app it belongs to, the refresh hook, and the
one route by which a failed worker becomes a dialog.

Database calls run in thread workers (``@work(thread=True, exclusive=True,
exit_on_error=False)``), one unit of work each, and post their results back as
messages. A worker that raises ends in ``Worker.StateChanged`` with state ERROR; this
base class hands the error to ``KitopsApp.report_error`` and clears the loading
indicators, so no screen handles errors on its own.

Translated key bindings: a ``BINDINGS`` list is read when its class is defined, before
anyone has logged in and the language is known, so its descriptions are marked with
``N_("Refresh")`` and translated when shown. Every screen of the app derives from
``KitopsScreen`` (``StockroomScreen`` for the stockroom's screens) or ``KitopsModal``
(dialogs), whose ``active_bindings`` (what the footer, the help panel and the key panel
read) hand out each binding with its description, tooltip and group translated into the
language in force at that moment; bindings of the app and of widgets on the screen come
through the same door. Anything else a screen shows (column headings, tab titles,
placeholders, notifications) is translated with ``_()`` where the widget is built;
module-level constants of them are marked with ``N_`` likewise and shown with
``translate(CONSTANT)``.

Switching screens without re-making what has not changed: a scan opens its screen from
wherever the user is (the kit list from the dashboard); Textual then restyles the whole
screen it returns to and re-makes every key of the footer (a widget each, styled on
mount), although neither changed while the screen was away; together most of a
switch's cost. So every screen of the app comes back with the styles it left with
(``KitopsScreen.resume_as_styled``: a change of theme in the meantime is applied by the
switch itself, Textual refreshes the CSS of a screen whose stylesheet is out of date),
and kitops' footer (``widgets.KitopsFooter``) keeps its keys when they are the same."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual import events, on, work
from textual.binding import ActiveBinding, Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.worker import NoActiveWorker, Worker, WorkerState, get_current_worker

from kitops import i18n
from kitops.i18n import DEFAULT_LOCALE, N_, _, current_locale, formats

if TYPE_CHECKING:
    from kitops.bootstrap import Stockroom

    from .app import KitopsApp


ResultT = TypeVar("ResultT")


def translate(message: str) -> str:
    """A string marked with ``N_`` elsewhere (a heading, a label of a map), translated
    now. ``_()`` takes literals only (the catalog test checks), so a marked constant is
    shown with ``translate(HEADING)``."""
    return i18n.gettext(message)


def count(n: int) -> str:
    """A count as the stockroom reads it: ``12,345`` in the neutral locale (as kitops always
    showed it), the locale's grouping elsewhere (``12.345``)."""
    return f"{n:,}" if current_locale() == DEFAULT_LOCALE else formats.number(n)


# what Textual's own bindings say where kitops shows them (the footer's palette key, the
# help panel's keys of the app, tables, fields, choice lists, trees and tabs), so the
# catalog has them too
TEXTUAL_BINDINGS = (
    N_("palette"),
    N_("Open the command palette"),
    N_("Quit the app"),
    N_("Quit the app and return to the command prompt."),
    N_("Focus Next"),
    N_("Focus Previous"),
    N_("Copy selected text"),
    N_("Select"),
    N_("Cursor up"),
    N_("Cursor down"),
    N_("Cursor right"),
    N_("Cursor left"),
    N_("Page up"),
    N_("Page down"),
    N_("Top"),
    N_("Bottom"),
    N_("Home"),
    N_("End"),
    N_("Scroll Up"),
    N_("Scroll Down"),
    N_("Scroll Left"),
    N_("Scroll Right"),
    N_("Scroll Home"),
    N_("Scroll End"),
    N_("Page Up"),
    N_("Page Down"),
    N_("Page Left"),
    N_("Page Right"),
    N_("Move cursor left"),
    N_("Move cursor left and select"),
    N_("Move cursor left a word"),
    N_("Move cursor left a word and select"),
    N_("Move cursor right or accept the completion suggestion"),
    N_("Move cursor right and select"),
    N_("Move cursor right a word"),
    N_("Move cursor right a word and select"),
    N_("Delete character left"),
    N_("Select all"),
    N_("Go to start"),
    N_("Go to end"),
    N_("Select line start"),
    N_("Select line end"),
    N_("Delete character right"),
    N_("Submit"),
    N_("Delete left to start of word"),
    N_("Delete all to the left"),
    N_("Delete right to start of word"),
    N_("Delete all to the right"),
    N_("Cut selected text"),
    N_("Paste text from the clipboard"),
    N_("Show menu"),
    N_("Dismiss menu"),
    N_("Down"),
    N_("Last"),
    N_("First"),
    N_("Up"),
    N_("Cursor to parent"),
    N_("Cursor to next ancestor"),
    N_("Cursor to previous sibling"),
    N_("Cursor to next sibling"),
    N_("Toggle"),
    N_("Expand or collapse all"),
    N_("Cursor Up"),
    N_("Cursor Down"),
    N_("Press button"),
    N_("Previous tab"),
    N_("Next tab"),
)


@lru_cache(maxsize=2048)
def _translated(binding: Binding, locale: str) -> Binding:
    group = binding.group
    if group is not None and group.description:
        group = dataclasses.replace(group, description=translate(group.description))
    return dataclasses.replace(
        binding,
        description=translate(binding.description) if binding.description else "",
        tooltip=translate(binding.tooltip) if binding.tooltip else "",
        group=group,
    )


def translated_binding(binding: Binding) -> Binding:
    """``binding`` with its description, tooltip and group in the language in force."""
    return _translated(binding, current_locale())


def translated_bindings(bindings: dict[str, ActiveBinding]) -> dict[str, ActiveBinding]:
    """A screen's active bindings as a person reads them (see the module's docstring)."""
    return {
        key: ActiveBinding(
            active.node,
            translated_binding(active.binding),
            active.enabled,
            translate(active.tooltip) if active.tooltip else "",
        )
        for key, active in bindings.items()
    }


class KitopsScreen(Screen[ResultT]):
    """A screen whose footer and help speak the language in force, and which comes back
    from another screen without restyling (see the module's docstring)."""

    _shown_before = False

    @on(events.ScreenResume)
    def resume_as_styled(self, event: events.ScreenResume) -> None:
        """Styled once when first shown; back from another screen, as it was left."""
        if self._shown_before:
            event.refresh_styles = False
        self._shown_before = True

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return translated_bindings(super().active_bindings)


class KitopsModal(ModalScreen[ResultT]):
    """A dialog whose footer and help speak the language in force."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return translated_bindings(super().active_bindings)


class Changed(Message):
    """A change went through: what to tell the user, and the service's answer."""

    def __init__(self, summary: str, result: Any) -> None:
        super().__init__()
        self.summary = summary
        self.result = result


class StockroomScreen(KitopsScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "refresh_data", N_("Refresh"), show=False)
    ]
    MODE = ""

    def post_message(self, message: Message) -> bool:
        """Post a message; from a worker that a newer call of the same worker has
        replaced, drop it. An exclusive worker is cancelled when the next one starts,
        but a thread runs on to its end: without this, a slow old query could land
        after the new one and show stale rows under the new filter."""
        try:
            worker = get_current_worker()
        except NoActiveWorker:
            worker = None
        if (
            worker is not None
            and worker.is_cancelled
            and not isinstance(message, Worker.StateChanged)
        ):
            return False
        return super().post_message(message)

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def change(
        self,
        summary: Callable[[Any], str],
        action: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Run one mutating use case in its own unit of work and report the outcome."""
        result = action(self.stockroom.writing(), *args, **kwargs)
        self.post_message(Changed(summary(result), result))

    def on_changed(self, message: Changed) -> None:
        self.notify(message.summary, title=_("Done"), timeout=6)
        self.changed(message.result)
        self.refresh_data()

    def changed(self, result: Any) -> None:
        """Hook: a change went through (the screen is refreshed right after)."""

    def take_options(self) -> dict[str, Any]:
        """Options handed over by another screen or the palette (a filter, a record)."""
        return self.kitops.pending.pop(self.MODE, {}) if self.MODE else {}

    @property
    def kitops(self) -> KitopsApp:
        return cast("KitopsApp", self.app)

    @property
    def stockroom(self) -> Stockroom:
        room = self.kitops.stockroom
        if room is None:  # the screens load only after the database opened
            raise RuntimeError("the database is not open yet")
        return room

    @property
    def ready(self) -> bool:
        """The database is open and someone is logged in: the screen may load."""
        return self.kitops.stockroom is not None and self.kitops.user is not None

    _behind_dialog = False

    def on_screen_suspend(self) -> None:
        self._behind_dialog = isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        """Back on screen: reload, unless only a dialog was closed (a change made in
        the dialog refreshes the screen itself)."""
        behind_dialog, self._behind_dialog = self._behind_dialog, False
        options = self.take_options()
        if options:
            self.apply_options(**options)
        if self.ready and (options or not behind_dialog):
            self.refresh_data()

    def apply_options(self, **options: Any) -> None:
        """Take a filter or a record to show from another screen."""

    def action_refresh_data(self) -> None:
        if self.ready:
            self.refresh_data()

    def refresh_data(self) -> None:
        """Reload what the screen shows (called when the database opens, when the
        screen comes back, on ctrl+r and after every change)."""

    def show_refusal(self, error: BaseException, worker: Worker[Any] | None = None) -> bool:
        """Show a refusal in place instead of a dialog (a bad scan beside the scan
        field, a live preview's complaint under the form); True when done."""
        return False

    def loading_finished(self) -> None:
        for widget in self.query(".loadable"):
            widget.loading = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.kitops.started()
            self.loading_finished()
            error = event.worker.error
            if error is not None:
                self.kitops.report_error(error, self, event.worker)
        elif event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            self.worker_done(event.worker)

    def worker_done(self, worker: Worker[Any]) -> None:
        """Hook for screens that track a worker's end."""
