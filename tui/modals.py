"""Small typed dialogs: an error, a yes/no confirmation, and a form of a few fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from kitops.i18n import N_, _

from .base import KitopsModal
from .widgets import Field


class ErrorDialog(KitopsModal[None]):
    """A failed or refused action: what happened, in one or two lines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss_dialog", N_("Close"), show=False)
    ]

    def __init__(self, title: str, message: str, severity: str = "warning") -> None:
        super().__init__(classes=f"dialog {severity}")
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.message, id="error-message", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("OK"), id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


def nothing_changed(app: App[Any], title: str) -> None:
    """Say so when a person steps back from a change: every confirmation ends with a
    message, done (the screen's own) or not (this one)."""
    app.notify(
        _("{title}: cancelled, nothing changed").format(title=title),
        title=_("Nothing changed"),
        timeout=4,
    )


class ConfirmDialog(KitopsModal[bool]):
    """Ask before a change that cannot be undone (write-off, recall, ship...). The
    action asked for has the focus (Enter does it); Escape or Cancel change nothing,
    and say so."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"), show=False)]

    def __init__(self, title: str, message: str, confirm: str = "") -> None:
        """``title``, ``message`` and ``confirm`` (the button, "Confirm" when not given)
        come translated."""
        super().__init__(classes="dialog confirm")
        self.title_text = title
        self.message = message
        self.confirm_label = confirm or _("Confirm")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.message, id="confirm-message", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.confirm_label, id="confirm", variant="warning")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    def confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        nothing_changed(self.app, self.title_text)
        self.dismiss(False)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    options: Sequence[str] = field(default_factory=tuple)  # a choice list when given
    restrict: str | None = None  # e.g. r"[0-9]*" for a quantity


class FormDialog(KitopsModal[dict[str, str] | None]):
    """A few labelled fields; Enter in the last field or OK returns their values.
    Values are checked by the service, which names a bad field in its refusal."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"), show=False)]

    def __init__(self, title: str, fields: Sequence[FormField], ok: str = "") -> None:
        """The title, the fields' labels and placeholders and ``ok`` (the button, "OK"
        when not given) come translated."""
        super().__init__(classes="dialog form")
        self.title_text = title
        self.fields = list(fields)
        self.ok_label = ok or _("OK")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                for spec in self.fields:
                    yield Label(spec.label, classes="field-label")
                    if spec.options:
                        yield Select(
                            [(option, option) for option in spec.options],
                            value=spec.value if spec.value in spec.options else spec.options[0],
                            allow_blank=False,
                            id=f"field-{spec.name}",
                        )
                    else:
                        yield Field(
                            value=spec.value,
                            placeholder=spec.placeholder,
                            restrict=spec.restrict,
                            id=f"field-{spec.name}",
                        )
            with Horizontal(classes="buttons"):
                yield Button(self.ok_label, id="ok", variant="primary")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        """The first field has the focus: a person types at once (the scrolling body
        around the fields would otherwise take it)."""
        first = self.query_one(f"#field-{self.fields[0].name}") if self.fields else None
        (first or self.query_one("#ok", Button)).focus()

    def values(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for spec in self.fields:
            widget = self.query_one(f"#field-{spec.name}")
            if isinstance(widget, Select):
                found[spec.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                found[spec.name] = widget.value.strip()
        return found

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.dismiss(self.values())
        else:
            self.focus_next()

    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        self.dismiss(self.values())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        nothing_changed(self.app, self.title_text)
        self.dismiss(None)
