"""Kits: the list (filter, status, a page at a time) with the selected kit's component
lots, and the actions on it (labels, disassemble, ship, hand over, return); and the
assembly form, which shows what each component needs and what is short before asking
for confirmation."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import (
    Button,
    DataTable,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from kitops.errors import KitopsError, Refused
from kitops.i18n import N_, _, formats, ngettext
from kitops.i18n import gettext as translated
from kitops.services import kits
from kitops.services.dto.kits import Assembly, Kit
from kitops.services.labels import WITH_PATIENT
from kitops.views import pages, previews
from kitops.views.dto import AssemblyPreview, KitPage

from .. import lists
from ..base import StockroomScreen
from ..lists import ListScreen
from ..modals import ConfirmDialog, FormDialog, FormField
from ..printing import LabelRequest, ask_labels
from ..scans import CourseCardConfirm
from ..widgets import Field, FilterSelect, KitopsFooter, cell, kit_style, theme_colour

ALL = "all"
# a kit's stored status, as a person reads it
KIT_STATUS = {
    "available": N_("available"),
    "reserved": N_("reserved"),
    "shipped": N_("shipped"),
    "handed_over": N_("handed over"),
    "disassembled": N_("disassembled"),
    "written_off": N_("written off"),
    "recalled": N_("recalled"),
    "expired": N_("expired"),
    "quarantine": N_("quarantine"),
}
CONDITIONS = {"sealed": N_("sealed"), "opened": N_("opened")}
HEADINGS = (N_("Serial"), N_("Kit"), N_("Location"), N_("Expiry"), N_("Status"), N_("Course"),
            N_("Patient"), N_("Tracking"))  # fmt: skip
PREVIEW_HEADINGS = (N_("per kit"), N_("needed"), N_("usable"), N_("short"))


def kit_status(status: str) -> str:
    """A kit's stored status in the language in force."""
    return translated(KIT_STATUS[status]) if status in KIT_STATUS else status.replace("_", " ")


class KitsScreen(ListScreen):
    MODE = "kits"
    AUTO_FOCUS = "#kits"
    TABLE = "kits"
    NOUN = N_("kits")
    WHAT = N_("a kit")
    LIST_TAB = "list"
    BINDINGS: ClassVar[list[BindingType]] = [
        # at 80 columns the footer holds the actions; "/" is in F1's list
        Binding("slash", "focus_filter", N_("Filter"), show=False),
        Binding("a", "show_tab('assemble')", N_("Assemble")),
        Binding("s", "ship", N_("Ship")),
        Binding("h", "hand_over", N_("Hand over")),
        Binding("b", "take_back", N_("Return")),
        Binding("l", "labels", N_("Labels")),
        Binding("k", "app.show_pick_list", N_("Pick list"), show=False),  # in F1's list
        Binding("d", "disassemble", N_("Disassemble")),
        Binding("r", "release", N_("Release"), show=False),
        Binding("n", "page(1)", N_("Next page"), show=False),
        Binding("p", "page(-1)", N_("Prev page"), show=False),
    ]

    class Loaded(Message):
        def __init__(self, page: KitPage) -> None:
            super().__init__()
            self.page = page

    class Detail(Message):
        def __init__(self, kit: Kit) -> None:
            super().__init__()
            self.kit = kit

    class Previewed(Message):
        def __init__(self, preview: AssemblyPreview, confirm: bool) -> None:
            super().__init__()
            self.preview = preview
            self.confirm = confirm

    def __init__(self) -> None:
        super().__init__()
        self.forms_loaded = False
        self.confirming = False
        self._preview_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="list", id="tabs"):
            with TabPane(_("Kits"), id="list"):
                with Horizontal(classes="filter-bar"):
                    yield Field(
                        placeholder=_("filter: serial, SKU, patient, location…"), id="filter"
                    )
                    yield FilterSelect(
                        [(_("All kits"), ALL)], value=ALL, allow_blank=False, id="status"
                    )
                yield Label("", id="page-status", classes="page-status")
                table: DataTable[Any] = DataTable(
                    id="kits", cursor_type="row", zebra_stripes=True, classes="loadable"
                )
                for label in HEADINGS:
                    table.add_column(translated(label))
                yield table
                yield Static("", id="kit-detail", classes="detail")
            with TabPane(_("Assemble"), id="assemble"), VerticalScroll():
                with Horizontal(classes="form-row"):
                    recipe: Select[str] = Select([], prompt=_("Kit recipe"), id="recipe")
                    recipe.border_title = _("Kit recipe")
                    yield recipe
                    qty = Field(value="1", restrict=r"[0-9]*", id="assemble-qty")
                    qty.border_title = _("Qty")
                    yield qty
                    at: Select[str] = Select([], prompt=_("Location"), id="assemble-at")
                    at.border_title = _("At")
                    yield at
                yield Static("", id="preview", classes="message")
                with Horizontal(classes="buttons"):
                    yield Button(_("Assemble…"), id="assemble-button", variant="primary")
        yield KitopsFooter()

    def on_mount(self) -> None:
        self.table.loading = True
        self.table.focus()
        self.watch(self.app, "theme", lambda _: self.show_page(), init=False)

    def fill_forms(self) -> None:
        choices = self.kitops.choices
        if choices is None or self.forms_loaded:
            return
        self.forms_loaded = True
        self.query_one("#status", Select).set_options(
            [(_("All kits"), ALL), *[(kit_status(s), s) for s in choices.kit_statuses]]
        )
        self.query_one("#status", Select).value = ALL
        recipe = self.query_one("#recipe", Select)
        recipe.set_options([(r.code, r.code) for r in choices.kit_recipes])
        if choices.kit_recipes:
            recipe.value = choices.kit_recipes[0].code
        clinic = self.kitops.clinic
        places = [p for p in choices.places if clinic is None or p.clinic == clinic]
        at = self.query_one("#assemble-at", Select)
        at.set_options([(p.code, p.code) for p in places])
        fridges = [p.code for p in places if p.kind == "fridge"]
        if fridges:
            at.value = fridges[0]

    def apply_options(self, **options: Any) -> None:
        self.fill_forms()
        if "tab" in options:
            self.action_show_tab(options["tab"])
        if "status" in options:
            self.query_one("#status", Select).value = options["status"]
            self.action_show_tab("list")
        if "search" in options:
            self.set_filter(options["search"])
            self.action_show_tab("list")
        self.page_offset = 0

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        if tab == "assemble":
            self.query_one("#assemble-qty").focus()
        else:
            self.query_one("#kits").focus()

    # --- the list --------------------------------------------------------------------

    def refresh_data(self) -> None:
        self.fill_forms()
        status = self.query_one("#status", Select).value
        self.load(
            clinic=self.kitops.clinic,
            status=None if status in (ALL, Select.NULL) else str(status),
            search=self.query_one("#filter", Input).value,
            offset=self.page_offset,
        )
        self.preview_later()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, **query: Any) -> None:
        self.post_message(self.Loaded(pages.kits_page(self.stockroom.reading(), **query)))

    def on_kits_screen_loaded(self, message: Loaded) -> None:
        page = message.page
        self.take_page(page.kits, page.total, page.offset)
        if not self.rows:
            self.query_one("#kit-detail", Static).update("")

    def row_cells(self, row: Kit) -> tuple[Any, ...]:
        style = kit_style(self.app, row.status, row.recalled)
        return (
            cell(row.serial, style),
            row.sku,
            row.location,
            formats.date(row.expiry),
            cell(kit_status(row.status) + (" " + _("RECALLED") if row.recalled else ""), style),
            f"{row.course_id}/{row.course_part}" if row.course_id else "",
            row.patient_ref or "",
            row.tracking or "",
        )

    @on(Select.Changed, "#status")
    def status_changed(self) -> None:
        if self.forms_loaded:
            self.reload_from_start()

    @on(DataTable.RowHighlighted, "#kits")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.rows):
            serial = self.rows[event.cursor_row].serial
            self.detail_later(lambda: self.load_detail(serial))

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load_detail(self, serial: str) -> None:
        self.post_message(
            self.Detail(
                kits.show_kit(self.stockroom.reading(), serial, today=self.kitops.clock.today)
            )
        )

    def on_kits_screen_detail(self, message: Detail) -> None:
        kit = message.kit
        grid = Table.grid(padding=(0, 2))
        for _column in range(4):
            grid.add_column(no_wrap=True)
        for part in kit.components:
            grid.add_row(
                part.sku,
                _("lot {lot}").format(lot=part.lot),
                _("exp {expiry}").format(expiry=formats.date(part.expiry) if part.expiry else "-"),
                f"× {formats.number(part.quantity)}",
            )
        head = Text.assemble(
            (kit.serial, "bold"),
            " "
            + _("{sku} at {location}, expires {expiry}").format(
                sku=kit.sku, location=kit.location, expiry=formats.date(kit.expiry)
            ),
            " · "
            + _("course {course} ({patient}) kit {part}").format(
                course=kit.course_id, patient=kit.patient_ref, part=kit.course_part
            )
            if kit.course_id
            else "",
        )
        table = Table.grid()
        table.add_row(head)
        table.add_row(grid)
        if kit.status in ("available", "reserved"):
            table.add_row(
                Text(_("serves: {plans}").format(plans=", ".join(kit.servable_plans)), style="dim")
                if kit.servable_plans
                else Text(
                    _("serves no plan any more: a vial would run out mid-course"), style="bold"
                )
            )
        self.query_one("#kit-detail", Static).update(table)

    # --- actions on the selected kit -------------------------------------------------

    def selected(self) -> Kit | None:
        return cast("Kit | None", super().selected())

    def action_ship(self) -> None:
        kit = self.selected()
        if kit is not None:
            ask_ship(self, kit.serial, kit.patient_ref, kit.course_id)

    def action_hand_over(self) -> None:
        kit = self.selected()
        if kit is not None:
            ask_hand_over(self, kit.serial, kit.patient_ref, kit.course_id)

    def action_take_back(self) -> None:
        kit = self.selected()
        if kit is None:
            return
        conditions = {translated(label): key for key, label in CONDITIONS.items()}
        fields = [FormField("condition", _("Condition"), _("sealed"), options=tuple(conditions))]

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            condition = conditions.get(values["condition"], values["condition"])
            if condition == "sealed":
                self.change(
                    _kit_summary(N_("kit {serial} returned: now {status}")),
                    kits.take_back,
                    kit.serial,
                    condition,
                )
                return

            def go(yes: bool | None) -> None:
                if yes:
                    self.change(
                        _kit_summary(N_("kit {serial} returned: now {status}")),
                        kits.take_back,
                        kit.serial,
                        condition,
                    )

            text = _(
                "Kit {serial} comes back opened: it is written off and its course part "
                "ends (a replacement only on request). Go on?"
            ).format(serial=kit.serial)
            self.app.push_screen(ConfirmDialog(_("Return opened kit"), text, _("Write off")), go)

        title = _("Return kit {serial}").format(serial=kit.serial)
        self.app.push_screen(FormDialog(title, fields, _("Next")), done)

    def action_disassemble(self) -> None:
        kit = self.selected()
        if kit is None:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.change(
                    _kit_summary(N_("kit {serial} disassembled: now {status}")),
                    kits.disassemble,
                    kit.serial,
                )

        text = _("Take kit {serial} apart? Its components go back to their lots.")
        if kit.status == "expired":
            text = _("Take expired kit {serial} apart? Its components stay in quarantine at "
                     "{location}; its expired lots stay expired.")  # fmt: skip
        text = text.format(serial=kit.serial, location=kit.location)
        self.app.push_screen(ConfirmDialog(_("Disassemble kit"), text, _("Disassemble")), go)

    def action_release(self) -> None:
        """Managers: a kit back sealed, inspected, goes back to stock (its component lots
        are checked again)."""
        kit = self.selected()
        if kit is None:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.change(
                    _kit_summary(N_("kit {serial} released: now {status}")),
                    kits.release,
                    kit.serial,
                    today=self.kitops.clock.today,
                )

        text = _(
            "Release kit {serial}, back sealed from a patient and inspected? Its lots are "
            "checked again; it becomes available."
        ).format(serial=kit.serial)
        self.app.push_screen(ConfirmDialog(_("Release kit"), text, _("Release")), go)

    def action_labels(self) -> None:
        """The selected kit's label, to a printer or a file; a kit already with its
        patient is asked for first (a reprint, audited)."""
        kit = self.selected()
        if kit is None:
            return
        question = None
        if kit.status in WITH_PATIENT:
            question = _("Kit {serial} is already with the patient ({status}). Print its "
                         "label again? The reprint is recorded in the audit log."
                         ).format(serial=kit.serial, status=kit_status(kit.status))  # fmt: skip
        title = _("Label for kit {serial}").format(serial=kit.serial)
        request = LabelRequest((kit.serial,), title, f"label-{kit.serial}.pdf", question)
        ask_labels(self, request)

    # --- assembly --------------------------------------------------------------------

    def assembly_request(self) -> tuple[str, str, str] | None:
        recipe = self.query_one("#recipe", Select).value
        at = self.query_one("#assemble-at", Select).value
        qty = self.query_one("#assemble-qty", Input).value.strip()
        if recipe is Select.NULL or at is Select.NULL or not qty:
            return None
        return str(recipe), qty, str(at)

    @on(Select.Changed, "#recipe, #assemble-at")
    @on(Input.Changed, "#assemble-qty")
    def preview_later(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(
            lists.PREVIEW_DELAY, lambda: self.start_preview(confirm=False)
        )

    def start_preview(self, *, confirm: bool) -> None:
        request = self.assembly_request()
        if request is None or not self.ready:
            self.query_one("#preview", Static).update(_("choose a recipe, a quantity and a place"))
            return
        self.confirming = confirm
        self.preview(*request, confirm=confirm)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def preview(self, recipe: str, qty: str, at: str, *, confirm: bool) -> None:
        found = previews.assembly_preview(
            self.stockroom.reading(), recipe, qty, at, today=self.kitops.clock.today
        )
        self.post_message(self.Previewed(found, confirm))

    def on_kits_screen_previewed(self, message: Previewed) -> None:
        preview = message.preview
        self.query_one("#preview", Static).update(self.render_preview(preview))
        if not message.confirm:
            return
        if not preview.enough:
            short = ", ".join(
                _("{sku} short by {short}").format(sku=c.sku, short=formats.number(c.short))
                for c in preview.components
                if c.short
            )
            self.kitops.report_error(
                Refused(
                    _(
                        "cannot assemble {quantity} × {sku} at {location}: {short} (usable "
                        "stock lasting until {day} makes {possible})"
                    ).format(
                        quantity=formats.number(preview.quantity),
                        sku=preview.sku,
                        location=preview.location,
                        short=short,
                        day=formats.date(preview.fresh_until),
                        possible=formats.number(preview.possible),
                    )
                ),
                self,
            )
            return
        parts = ", ".join(f"{formats.number(c.needed)} × {c.sku}" for c in preview.components)
        text = _("Assemble {quantity} × {sku} at {location} from {parts}?").format(
            quantity=formats.number(preview.quantity),
            sku=preview.sku,
            location=preview.location,
            parts=parts,
        )

        def go(yes: bool | None) -> None:
            if yes:
                self.change(
                    _assembly_summary,
                    kits.assemble,
                    preview.sku,
                    preview.quantity,
                    preview.location,
                    today=self.kitops.clock.today,
                )

        self.app.push_screen(ConfirmDialog(_("Assemble kits"), text, _("Assemble")), go)

    def render_preview(self, preview: AssemblyPreview) -> Table:
        error = theme_colour(self.app, "error", "red")
        success = theme_colour(self.app, "success", "green")
        table = Table(box=None, padding=(0, 1), show_edge=False)
        # the SKUs whole, however narrow the pane (the help panel open at 80 columns)
        width = max((len(c.sku) for c in preview.components), default=9)
        table.add_column(_("component"), no_wrap=True, min_width=width)
        for title in PREVIEW_HEADINGS:
            table.add_column(translated(title), justify="right")
        for c in preview.components:
            table.add_row(
                c.sku,
                formats.number(c.per_kit),
                formats.number(c.needed),
                formats.number(c.usable),
                Text(formats.number(c.short), style=f"bold {error}")
                if c.short
                else Text("0", style="dim"),
            )
        verdict = (
            Text(
                "✓ "
                + _("{quantity} can be assembled").format(
                    quantity=formats.number(preview.quantity)
                ),
                style=success,
            )
            if preview.enough
            else Text(
                "✗ "
                + _("only {possible} can be assembled").format(
                    possible=formats.number(preview.possible)
                ),
                style=f"bold {error}",
            )
        )
        outer = Table.grid()
        outer.add_row(table)
        outer.add_row(
            Text.assemble(
                verdict,
                " "
                + ngettext(
                    "(components in date until {day}: {n} day's shelf life)",
                    "(components in date until {day}: {n} days' shelf life)",
                    preview.min_shelf_life_days,
                ).format(
                    day=formats.date(preview.fresh_until),
                    n=formats.number(preview.min_shelf_life_days),
                ),
            )
        )
        return outer

    def show_refusal(self, error: BaseException, worker: Any = None) -> bool:
        """While the form is being filled, the preview's complaint reads under it."""
        if getattr(worker, "group", None) == "preview" and isinstance(error, KitopsError):
            self.query_one("#preview", Static).update(Text(str(error), style="bold"))
            return not self.confirming
        return False

    @on(Button.Pressed, "#assemble-button")
    def assemble_pressed(self) -> None:
        self.start_preview(confirm=True)

    def changed(self, result: Any) -> None:
        if isinstance(result, Assembly):
            self.action_show_tab("list")
            # the batch's labels, in one job on the printer (or to a file when none is set)
            serials = tuple(kit.serial for kit in result.kits)
            if len(serials) == 1:
                title = _("Label for kit {serial}").format(serial=serials[0])
                file_name = f"label-{serials[0]}.pdf"
            else:
                title = _("Labels for the {n} kits assembled").format(
                    n=formats.number(len(serials))
                )
                file_name = f"labels-{serials[0]}-{serials[-1]}.pdf"
            ask_labels(self, LabelRequest(serials, title, file_name), offer=True)


CHECK_CARD = N_("Scan the patient's course card, or check the patient reference and press Enter.")


def ask_ship(screen: StockroomScreen, serial: str, patient: str | None, course: int | None) -> None:
    """Ship a kit: the carrier's tracking reference (typed or scanned), a confirmation,
    then ``kits.dispatch`` (Kits and the pick list)."""

    def confirm(values: dict[str, str] | None) -> None:
        if values is None:
            return
        text = (
            _(
                "Ship kit {serial} to patient {patient} (course {course}) with tracking "
                "{tracking}?\nThe kit leaves the stockroom on the ledger."
            ).format(
                serial=serial,
                patient=patient or "?",
                course=course,
                tracking=values["tracking"] or _("(none)"),
            )
            + "\n"
            + translated(CHECK_CARD)
        )

        def go(yes: bool | None) -> None:
            if yes:
                today = screen.kitops.clock.today
                screen.change(
                    _kit_summary(N_("kit {serial} shipped: now {status}")),
                    kits.dispatch,
                    serial,
                    tracking=values["tracking"],
                    today=today,
                )

        screen.app.push_screen(CourseCardConfirm(_("Ship kit"), text, _("Ship"), course), go)

    fields = [FormField("tracking", _("Carrier tracking reference"))]
    title = _("Ship kit {serial}").format(serial=serial)
    screen.app.push_screen(FormDialog(title, fields, _("Next")), confirm)


def ask_hand_over(
    screen: StockroomScreen, serial: str, patient: str | None, course: int | None
) -> None:
    """Hand a kit over in the clinic, after a confirmation naming the patient."""

    def go(yes: bool | None) -> None:
        if yes:
            screen.change(
                _kit_summary(N_("kit {serial} handed over: now {status}")),
                kits.dispatch,
                serial,
                handover=True,
                today=screen.kitops.clock.today,
            )

    text = (
        _("Hand kit {serial} to patient {patient} (course {course}) in the clinic now?").format(
            serial=serial, patient=patient or "?", course=course
        )
        + "\n"
        + translated(CHECK_CARD)
    )
    dialog = CourseCardConfirm(_("Hand over kit"), text, _("Hand over"), course)
    screen.app.push_screen(dialog, go)


def _kit_summary(verb: str) -> Any:
    """``verb``: the sentence (marked with N_) naming the kit's serial and status."""

    def summary(kit: Kit) -> str:
        return translated(verb).format(serial=kit.serial, status=kit_status(kit.status))

    return summary


def _assembly_summary(assembly: Assembly) -> str:
    serials = ", ".join(k.serial for k in assembly.kits)
    return _("assembled {n} × {sku} at {location}: {serials}").format(
        n=formats.number(len(assembly.kits)),
        sku=assembly.sku,
        location=assembly.location,
        serials=serials,
    )
