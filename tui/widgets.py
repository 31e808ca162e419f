"""Widgets shared by the screens: inputs that respect the app's cursor setting, the
scanner field, dashboard tiles, and colours for lot and kit states."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static
from textual.widgets._footer import FooterKey

from kitops import i18n
from kitops.domain.text import visible
from kitops.i18n import N_, _

GS = "\x1d"  # the GS1 group separator a scanner types for FNC1
GS_SHOWN = "␝"  # how the field shows it (a control character has no glyph)


class Field(Input):
    """An Input whose cursor blinks unless the app says not to (deterministic
    screenshots in tests)."""

    def on_mount(self) -> None:
        self.cursor_blink = bool(getattr(self.app, "cursor_blink", True))


class FilterSelect(Select[str]):
    """A filter bar's choice (status, what to show), as wide as its longest choice in the
    language in force and at least the bar's 22 cells: a longer word (German, the pseudo
    locale) is shown whole, never cut to "…"."""

    # the box around a choice: the border, the padding and the arrow
    CHROME = 8
    NARROWEST = 22

    def __init__(self, options: Iterable[tuple[str, str]], **kwargs: Any) -> None:
        listed = list(options)
        super().__init__(listed, **kwargs)
        self._fit(listed)

    def set_options(self, options: Iterable[tuple[str, str]]) -> None:  # type: ignore[override]
        listed = list(options)
        super().set_options(listed)
        self._fit(listed)

    def _fit(self, options: list[tuple[str, str]]) -> None:
        widest = max((cell_len(label) for label, _key in options), default=0)
        self.styles.width = max(self.NARROWEST, widest + self.CHROME)


class ScanInput(Field):
    """The field a USB barcode scanner types into.

    A scanner types a GS1 element string and Enter; variable-length fields end with the
    GS control character (ctrl+]), which an ordinary Input drops as unprintable. This one
    keeps it, shows it as ␝, and hands the service the real character on Enter."""

    @property
    def scan(self) -> str:
        return self.value.replace(GS_SHOWN, GS)

    async def _on_key(self, event: events.Key) -> None:
        if event.character == GS or event.key == "ctrl+right_square_bracket":
            event.stop()
            event.prevent_default()
            self.insert_text_at_cursor(GS_SHOWN)
            return
        await super()._on_key(event)

    def _on_paste(self, event: events.Paste) -> None:
        text = event.text.replace(GS, GS_SHOWN)
        event.stop()
        first, _sep, rest = text.partition("\n")
        self.insert_text_at_cursor(first.rstrip("\r"))
        if rest or text.endswith("\n"):
            self.post_message(self.Submitted(self, self.value))


class KitopsFooter(Footer):
    """The footer, on two lines when the screen's keys do not fit on one: a language with
    longer words (German) at 80 columns. The help key (F1) alone may drop off the end of
    one line, as it does in English at 80 columns (F1's panel lists every key).

    Kept as it is while its keys do not change: Textual's footer re-makes a widget per
    key (each styled on mount) on every return to its screen and every change of focus,
    although the keys are mostly the same; this one compares the keys it would show with
    those it shows first (see ``tui/base.py`` on switching screens)."""

    DEFAULT_CSS = """
    KitopsFooter.-two-lines {
        layout: grid;
        grid-columns: auto;
        grid-rows: 1;
        height: 2;
    }
    """
    HELP_ACTIONS: ClassVar[frozenset[str]] = frozenset({"toggle_help", "app.toggle_help"})
    _decided_for = 0
    _keys: tuple[Any, ...] | None = None  # what the footer shows now

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            keys = tuple(
                (binding.key, binding.action, binding.description, enabled, tooltip)
                for _, binding, enabled, tooltip in screen.active_bindings.values()
                if binding.show
            )
            if keys == self._keys:
                return
            self._keys = keys
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        shown = [k for k in keys if isinstance(k, FooterKey)]
        plain = [k for k in shown if not k.has_class("-command-palette")]
        # a key is " k description" wide; the palette's key adds its border and a space
        needed = sum(
            cell_len(k.key_display) + cell_len(k.description) + 2
            for k in shown
            if k.action not in self.HELP_ACTIONS
        ) + 2 * (len(shown) - len(plain))
        width = self.app.size.width
        self._decided_for = width
        two = len(plain) > 2 and needed > width
        self.set_class(two, "-two-lines")
        if two:
            self.styles.grid_size_columns = math.ceil(len(plain) / 2)
            self.styles.grid_size_rows = 2
        yield from keys

    def on_resize(self) -> None:
        if self._decided_for and self.app.size.width != self._decided_for:
            self.call_after_refresh(self.recompose)


class Tile(Static, can_focus=True):
    """A dashboard tile: a titled summary that opens the screen that deals with it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", N_("Open"), show=False)]

    class Opened(Message):
        def __init__(self, tile: Tile) -> None:
            super().__init__()
            self.tile = tile

    def __init__(self, title: str, target: str | None, *, id: str) -> None:
        """``title`` comes translated."""
        super().__init__("…", id=id, classes="tile")
        self.border_title = title
        self.target = target
        if target:
            self.border_subtitle = _("Enter: open")

    def action_open(self) -> None:
        if self.target:
            self.post_message(self.Opened(self))

    def on_click(self) -> None:
        self.action_open()


# stored statuses as a person reads them (the stored value is the key, never translated)
STATUS_LABELS = {
    # lots
    "quarantine": N_("quarantine"),
    "released": N_("released"),
    "recalled": N_("recalled"),
    "expired": N_("expired"),
    # kits
    "available": N_("available"),
    "reserved": N_("reserved"),
    "shipped": N_("shipped"),
    "handed_over": N_("handed over"),
    "disassembled": N_("disassembled"),
    "written_off": N_("written off"),
    # purchase orders
    "draft": N_("draft"),
    "approved": N_("approved"),
    "sent": N_("sent"),
    "partial": N_("partly received"),
    "received": N_("received"),
    "cancelled": N_("cancelled"),
    # courses
    "scheduled": N_("scheduled"),
    "active": N_("active"),
    "paused": N_("paused"),
    "completed": N_("completed"),
    "ended_early": N_("ended early"),
    # customer orders
    "open": N_("open"),
    "pending": N_("pending"),
    "failed": N_("failed"),
    "paid": N_("paid"),
    "partially_refunded": N_("partly refunded"),
    "refunded": N_("refunded"),
}


# a location's kind as a person reads it (the stored value is the key)
LOCATION_KINDS = {
    "clinic": N_("clinic"),
    "stockroom": N_("stockroom"),
    "fridge": N_("fridge"),
    "shelf": N_("shelf"),
    "quarantine": N_("quarantine"),
    "supplier": N_("supplier"),
    "patient": N_("patient"),
    "scrap": N_("scrap"),
    "adjustment": N_("adjustment"),
    "assembly": N_("assembly"),
}


def kind_label(kind: str) -> str:
    """A location's kind in the language in force; an unknown one as stored."""
    label = LOCATION_KINDS.get(kind)
    return i18n.gettext(label) if label else kind


def status_label(status: str) -> str:
    """A stored status (lot, kit, purchase order, course, order) in the language in
    force; an unknown one as stored."""
    label = STATUS_LABELS.get(status)
    return i18n.gettext(label) if label else status


def theme_colour(app: App[Any], name: str, fallback: str) -> str:
    return app.theme_variables.get(name) or fallback


def lot_style(app: App[Any], status: str, days: int | None) -> str:
    """Colour for a lot line: expired/recalled as errors, quarantine and expiring soon
    as warnings, in whichever theme is on."""
    error = theme_colour(app, "error", "red")
    warning = theme_colour(app, "warning", "yellow")
    if status == "recalled":
        return f"bold {error}"
    if status == "expired" or (days is not None and days < 0):
        return error
    if status == "quarantine":
        return warning
    if days is not None and days <= 30:
        return warning
    if days is not None and days <= 90:
        return theme_colour(app, "accent", "cyan")
    return ""


def kit_style(app: App[Any], status: str, recalled: bool) -> str:
    if recalled or status in ("recalled", "written_off", "expired"):
        return theme_colour(app, "error", "red")
    if status == "reserved":
        return theme_colour(app, "accent", "cyan")
    if status == "quarantine":
        return theme_colour(app, "warning", "yellow")
    if status in ("shipped", "handed_over", "disassembled"):
        return "dim"
    return ""


def cell(value: object, style: str = "", justify: str = "left") -> Text:
    """A table cell: plain text (never markup), control characters shown escaped."""
    text = "" if value is None else visible(str(value))
    return Text(text, style=style, justify=justify)  # type: ignore[arg-type]
