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
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from kitops.errors import KitopsError, Refused
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
from ..widgets import Field, cell, kit_style, theme_colour

ALL = "all"


class KitsScreen(ListScreen):
    MODE = "kits"
    AUTO_FOCUS = "#kits"
    TABLE = "kits"
    NOUN = "kits"
    WHAT = "a kit"
    LIST_TAB = "list"
    BINDINGS: ClassVar[list[BindingType]] = [
        # at 80 columns the footer holds the actions; "/" is in F1's list
        Binding("slash", "focus_filter", "Filter", show=False),
        Binding("a", "show_tab('assemble')", "Assemble"),
        Binding("s", "ship", "Ship"),
        Binding("h", "hand_over", "Hand over"),
        Binding("b", "take_back", "Return"),
        Binding("l", "labels", "Labels"),
        Binding("k", "app.show_pick_list", "Pick list", show=False),  # in F1's list
        Binding("d", "disassemble", "Disassemble"),
        Binding("r", "release", "Release", show=False),
        Binding("n", "page(1)", "Next page", show=False),
        Binding("p", "page(-1)", "Prev page", show=False),
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
            with TabPane("Kits", id="list"):
                with Horizontal(classes="filter-bar"):
                    yield Field(placeholder="filter: serial, SKU, patient, location…", id="filter")
                    yield Select([("All kits", ALL)], value=ALL, allow_blank=False, id="status")
                yield Label("", id="page-status", classes="page-status")
                table: DataTable[Any] = DataTable(
                    id="kits", cursor_type="row", zebra_stripes=True, classes="loadable"
                )
                for label in (
                    "Serial",
                    "Kit",
                    "Location",
                    "Expiry",
                    "Status",
                    "Course",
                    "Patient",
                    "Tracking",
                ):
                    table.add_column(label)
                yield table
                yield Static("", id="kit-detail", classes="detail")
            with TabPane("Assemble", id="assemble"), VerticalScroll():
                with Horizontal(classes="form-row"):
                    recipe: Select[str] = Select([], prompt="Kit recipe", id="recipe")
                    recipe.border_title = "Kit recipe"
                    yield recipe
                    qty = Field(value="1", restrict=r"[0-9]*", id="assemble-qty")
                    qty.border_title = "Qty"
                    yield qty
                    at: Select[str] = Select([], prompt="Location", id="assemble-at")
                    at.border_title = "At"
                    yield at
                yield Static("", id="preview", classes="message")
                with Horizontal(classes="buttons"):
                    yield Button("Assemble…", id="assemble-button", variant="primary")
        yield Footer()

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
            [("All kits", ALL), *[(s.replace("_", " "), s) for s in choices.kit_statuses]]
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
            self.query_one("#filter", Input).value = options["search"]
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
            row.expiry.isoformat(),
            cell(row.status.replace("_", " ") + (" RECALLED" if row.recalled else ""), style),
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
        for _ in range(4):
            grid.add_column(no_wrap=True)
        for part in kit.components:
            grid.add_row(
                part.sku, f"lot {part.lot}", f"exp {part.expiry or '-'}", f"× {part.quantity}"
            )
        head = Text.assemble(
            (kit.serial, "bold"),
            f" {kit.sku} at {kit.location}, expires {kit.expiry}",
            f" · course {kit.course_id} ({kit.patient_ref}) kit {kit.course_part}"
            if kit.course_id
            else "",
        )
        table = Table.grid()
        table.add_row(head)
        table.add_row(grid)
        if kit.status in ("available", "reserved"):
            table.add_row(
                Text(f"serves: {', '.join(kit.servable_plans)}", style="dim")
                if kit.servable_plans
                else Text("serves no plan any more: a vial would run out mid-course", style="bold")
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
        fields = [FormField("condition", "Condition", "sealed", options=["sealed", "opened"])]

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            condition = values["condition"]
            if condition == "sealed":
                self.change(_kit_summary("returned"), kits.take_back, kit.serial, condition)
                return

            def go(yes: bool | None) -> None:
                if yes:
                    self.change(_kit_summary("returned"), kits.take_back, kit.serial, condition)

            text = (
                f"Kit {kit.serial} comes back opened: it is written off and its course part "
                "ends (a replacement only on request). Go on?"
            )
            self.app.push_screen(ConfirmDialog("Return opened kit", text, "Write off"), go)

        self.app.push_screen(FormDialog(f"Return kit {kit.serial}", fields, "Next"), done)

    def action_disassemble(self) -> None:
        kit = self.selected()
        if kit is None:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.change(_kit_summary("disassembled"), kits.disassemble, kit.serial)

        text = f"Take kit {kit.serial} apart? Its components go back to their lots."
        if kit.status == "expired":
            text = (f"Take expired kit {kit.serial} apart? Its components stay in quarantine at "
                    f"{kit.location}; its expired lots stay expired.")  # fmt: skip
        self.app.push_screen(ConfirmDialog("Disassemble kit", text, "Disassemble"), go)

    def action_release(self) -> None:
        """Managers: a kit back sealed, inspected, goes back to stock (its component lots
        are checked again)."""
        kit = self.selected()
        if kit is None:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.change(
                    _kit_summary("released"), kits.release, kit.serial,
                    today=self.kitops.clock.today,
                )  # fmt: skip

        text = (
            f"Release kit {kit.serial}, back sealed from a patient and inspected? Its lots are "
            "checked again; it becomes available."
        )
        self.app.push_screen(ConfirmDialog("Release kit", text, "Release"), go)

    def action_labels(self) -> None:
        """The selected kit's label, to a printer or a file; a kit already with its
        patient is asked for first (a reprint, audited)."""
        kit = self.selected()
        if kit is None:
            return
        question = None
        if kit.status in WITH_PATIENT:
            question = (f"Kit {kit.serial} is already with the patient "
                        f"({kit.status.replace('_', ' ')}). Print its label again? The reprint "
                        "is recorded in the audit log.")  # fmt: skip
        request = LabelRequest((kit.serial,), f"Label for kit {kit.serial}",
                               f"label-{kit.serial}.pdf", question)  # fmt: skip
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
            self.query_one("#preview", Static).update("choose a recipe, a quantity and a place")
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
            short = ", ".join(f"{c.sku} short by {c.short}" for c in preview.components if c.short)
            self.kitops.report_error(
                Refused(
                    f"cannot assemble {preview.quantity} × {preview.sku} at {preview.location}: "
                    f"{short} (usable stock lasting until {preview.fresh_until} makes "
                    f"{preview.possible})"
                ),
                self,
            )
            return
        parts = ", ".join(f"{c.needed} × {c.sku}" for c in preview.components)
        text = f"Assemble {preview.quantity} × {preview.sku} at {preview.location} from {parts}?"

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

        self.app.push_screen(ConfirmDialog("Assemble kits", text, "Assemble"), go)

    def render_preview(self, preview: AssemblyPreview) -> Table:
        error = theme_colour(self.app, "error", "red")
        success = theme_colour(self.app, "success", "green")
        table = Table(box=None, padding=(0, 1), show_edge=False)
        # the SKUs whole, however narrow the pane (the help panel open at 80 columns)
        width = max((len(c.sku) for c in preview.components), default=9)
        table.add_column("component", no_wrap=True, min_width=width)
        for title in ("per kit", "needed", "usable", "short"):
            table.add_column(title, justify="right")
        for c in preview.components:
            table.add_row(
                c.sku,
                str(c.per_kit),
                str(c.needed),
                str(c.usable),
                Text(str(c.short), style=f"bold {error}") if c.short else Text("0", style="dim"),
            )
        verdict = (
            Text(f"✓ {preview.quantity} can be assembled", style=success)
            if preview.enough
            else Text(f"✗ only {preview.possible} can be assembled", style=f"bold {error}")
        )
        outer = Table.grid()
        outer.add_row(table)
        outer.add_row(
            Text.assemble(
                verdict,
                f" (components in date until {preview.fresh_until}: "
                f"{preview.min_shelf_life_days} days' shelf life)",
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
                title, file_name = f"Label for kit {serials[0]}", f"label-{serials[0]}.pdf"
            else:
                title = f"Labels for the {len(serials)} kits assembled"
                file_name = f"labels-{serials[0]}-{serials[-1]}.pdf"
            ask_labels(self, LabelRequest(serials, title, file_name), offer=True)


CHECK_CARD = "Scan the patient's course card, or check the patient reference and press Enter."


def ask_ship(screen: StockroomScreen, serial: str, patient: str | None, course: int | None) -> None:
    """Ship a kit: the carrier's tracking reference (typed or scanned), a confirmation,
    then ``kits.dispatch`` (Kits and the pick list)."""

    def confirm(values: dict[str, str] | None) -> None:
        if values is None:
            return
        text = (
            f"Ship kit {serial} to patient {patient or '?'} (course {course}) with tracking "
            f"{values['tracking'] or '(none)'}?\nThe kit leaves the stockroom on the ledger.\n"
            f"{CHECK_CARD}"
        )

        def go(yes: bool | None) -> None:
            if yes:
                today = screen.kitops.clock.today
                screen.change(_kit_summary("shipped"), kits.dispatch, serial,
                              tracking=values["tracking"], today=today)  # fmt: skip

        screen.app.push_screen(CourseCardConfirm("Ship kit", text, "Ship", course), go)

    fields = [FormField("tracking", "Carrier tracking reference")]
    screen.app.push_screen(FormDialog(f"Ship kit {serial}", fields, "Next"), confirm)


def ask_hand_over(
    screen: StockroomScreen, serial: str, patient: str | None, course: int | None
) -> None:
    """Hand a kit over in the clinic, after a confirmation naming the patient."""

    def go(yes: bool | None) -> None:
        if yes:
            screen.change(_kit_summary("handed over"), kits.dispatch, serial, handover=True,
                          today=screen.kitops.clock.today)  # fmt: skip

    text = (
        f"Hand kit {serial} to patient {patient or '?'} (course {course}) in the clinic now?"
        f"\n{CHECK_CARD}"
    )
    screen.app.push_screen(CourseCardConfirm("Hand over kit", text, "Hand over", course), go)


def _kit_summary(verb: str) -> Any:
    def summary(kit: Kit) -> str:
        return f"kit {kit.serial} {verb}: now {kit.status.replace('_', ' ')}"

    return summary


def _assembly_summary(assembly: Assembly) -> str:
    serials = ", ".join(k.serial for k in assembly.kits)
    return f"assembled {len(assembly.kits)} × {assembly.sku} at {assembly.location}: {serials}"
