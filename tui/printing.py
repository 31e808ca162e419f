"""Kit labels from the terminal UI: to a label printer named in settings, all of them in
one job, or to a file (PDF or PNG). One route for the three places that print them: `l`
on the Kits screen, the offer after an assembly, and `l` on the pick list.

The printer is chosen in a small dialog (each printer, then "a file"), the one chosen
last in the session highlighted; after an assembly the question is only "print the N
labels on PRINTER?". Sending goes through ``kitops.documents.printers.print_labels``, the
function ``kitops kit label --printer`` calls, so the rules are the same: a kit already
with its patient is asked for first and audited as a reprint, and a printer that cannot
be reached is refused in one line (the app's error dialog) with nothing recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from kitops.i18n import N_, _, ngettext
from kitops.services.dto.printers import Printer, PrintJob

from .base import KitopsModal, StockroomScreen
from .modals import ConfirmDialog, FormDialog, FormField, nothing_changed

TO_FILE = "(file)"  # the file's line in the dialog: no printer name has brackets


@dataclass(frozen=True)
class LabelRequest:
    """The kits to label and how the dialogs name them."""

    serials: tuple[str, ...]
    title: str  # "Label for kit K0000001", "Labels for the 2 kits assembled" (translated)
    file_name: str  # what the file dialog offers
    # a kit already with its patient among them: asked first, then printed as a reprint
    reprint_question: str | None = None  # translated


def ask_labels(screen: StockroomScreen, request: LabelRequest, *, offer: bool = False) -> None:
    """Print the labels of ``request`` from ``screen``: a reprint asks first, then the
    printers are read (in a worker) and the person chooses where the labels go. With
    ``offer`` (after an assembly) the question is a yes or no for the default printer."""
    if request.reprint_question is None:
        _load_printers(screen, request, offer=offer, reprint=False)
        return

    def answered(yes: bool | None) -> None:
        if yes:
            _load_printers(screen, request, offer=offer, reprint=True)
        else:
            screen.notify(_("{title}: nothing printed").format(title=request.title), timeout=4)

    screen.app.push_screen(
        ConfirmDialog(_("Reprint label"), request.reprint_question, _("Reprint")), answered
    )


def _load_printers(
    screen: StockroomScreen, request: LabelRequest, *, offer: bool, reprint: bool
) -> None:
    def load() -> None:
        from kitops.services.printers import list_printers

        found = list_printers(screen.stockroom.reading())
        screen.app.call_from_thread(_choose, screen, request, found, offer, reprint)

    # a failure (the database) ends in the screen's worker handler: the error dialog
    screen.run_worker(load, thread=True, exclusive=True, exit_on_error=False, group="printers")


def _choose(
    screen: StockroomScreen,
    request: LabelRequest,
    printers: Sequence[Printer],
    offer: bool,
    reprint: bool,
) -> None:
    if not printers:
        _ask_file(screen, request, reprint)
        return
    names = [p.name for p in printers]
    last = screen.kitops.last_printer
    default = last if last in names else names[0]
    if offer:
        count = len(request.serials)
        text = ngettext(
            "Print the label on {printer}?", "Print the {n} labels on {printer}?", count
        ).format(n=count, printer=default)
        if len(names) > 1:
            text += " " + _("(`l` on the Kits screen prints on another printer or to a file.)")

        def print_them(yes: bool | None) -> None:
            if yes:
                _send(screen, request, default, reprint)

        screen.app.push_screen(ConfirmDialog(request.title, text, _("Print")), print_them)
        return

    def chosen(where: str | None) -> None:
        if where == TO_FILE:
            _ask_file(screen, request, reprint)
        elif where is not None:
            _send(screen, request, where, reprint)

    screen.app.push_screen(DestinationDialog(request.title, printers, default), chosen)


def _send(screen: StockroomScreen, request: LabelRequest, printer: str, reprint: bool) -> None:
    from kitops.documents.printers import print_labels
    from kitops.services.locales import in_clinic_locale

    screen.kitops.last_printer = printer
    make = in_clinic_locale(print_labels, kits=request.serials)  # the kits' clinic's locale
    screen.change(_sent, make, list(request.serials), printer, reprint=reprint)


def _sent(job: PrintJob) -> str:
    sent = ngettext(
        "{n} label sent to printer {printer} in one job",
        "{n} labels sent to printer {printer} in one job",
        job.labels,
    ).format(n=job.labels, printer=job.printer)
    if job.reprints:
        sent += " " + _("({n} reprinted, audited)").format(n=job.reprints)
    return sent


def _ask_file(screen: StockroomScreen, request: LabelRequest, reprint: bool) -> None:
    from kitops.documents.labels import write_labels
    from kitops.services.locales import in_clinic_locale

    count = len(request.serials)

    def summary(path: Path) -> str:
        if reprint:
            said = ngettext("label reprinted to {path}", "{n} labels reprinted to {path}", count)
        else:
            said = ngettext("label written to {path}", "{n} labels written to {path}", count)
        return said.format(n=count, path=path)

    def done(values: dict[str, str] | None) -> None:
        if values:
            make = in_clinic_locale(write_labels, kits=request.serials)
            screen.change(summary, make, list(request.serials), values["out"],
                          reprint=reprint)  # fmt: skip

    fields = [FormField("out", _("Write labels to (.pdf or .png)"), request.file_name)]
    screen.app.push_screen(FormDialog(request.title, fields, _("Write")), done)


class DestinationDialog(KitopsModal[str | None]):
    """Where the labels go: each printer, then a file. Enter takes the highlighted line
    (at first the printer chosen last); Escape prints nothing, and says so; a scan is
    refused."""

    DEFAULT_CSS = """
    DestinationDialog #destinations {
        height: auto;
        max-height: 12;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"), show=False)]

    def __init__(self, title: str, printers: Sequence[Printer], default: str) -> None:
        super().__init__(classes="dialog form")
        self.title_text = title
        self.printers = list(printers)
        self.default = default

    def compose(self) -> ComposeResult:
        options = [
            Option(
                _("printer {name}: {format}, {size} labels, {target}").format(
                    name=p.name, format=p.format.upper(), size=p.size, target=p.target
                ),
                id=p.name,
            )
            for p in self.printers
        ]
        options.append(Option(_("a file (PDF or PNG)"), id=TO_FILE))
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(_("Print to (Enter takes the line, Escape prints nothing):"))
            yield OptionList(*options, id="destinations")

    def on_mount(self) -> None:
        destinations = self.query_one("#destinations", OptionList)
        destinations.highlighted = destinations.get_option_index(self.default)
        destinations.focus()

    @on(OptionList.OptionSelected, "#destinations")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def take_scan(self, code: str) -> bool:
        """A scan (its Enter would take the highlighted line) chooses nothing: the bell,
        and the dialog stays as it was."""
        self.app.bell()
        return True

    def action_cancel(self) -> None:
        nothing_changed(self.app, self.title_text)
        self.dismiss(None)
