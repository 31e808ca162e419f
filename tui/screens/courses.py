"""Courses: the list with the selected course's calendar, kits and payment status;
fulfil one (or check a clinic course's vials); pause, resume, reschedule, complete or
cancel it; create a course with a live preview of its application calendar; run the
batch assignment for a window and review what was served and what was not, with the
reason."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, ClassVar, cast

from rich.table import Table
from rich.text import Text
from textual import events, on, work
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

from kitops.domain.course_lifecycle import FINISHED
from kitops.errors import KitopsError
from kitops.services import courses, fulfilment
from kitops.services.dto.courses import (
    CalendarEvent,
    Course,
    FulfilLine,
    FulfilReport,
    ScheduleChange,
    SessionCheck,
    StatusChange,
)
from kitops.views import pages, previews
from kitops.views.dto import CourseDetail, CoursePage, CoursePreview, CourseSummary

from .. import lists
from ..errors import describe
from ..lists import ListScreen
from ..modals import ConfirmDialog, ErrorDialog, FormDialog, FormField
from ..switching import SteadyFooter, keep_styles
from ..widgets import Field, cell, theme_colour

ALL = "all"
COMPLETED = "completed: nothing left to do"
ENDED_EARLY = "ended early: applications left"
ENDINGS = (COMPLETED, ENDED_EARLY)
# the changes of a course's status, the latest shown under it in the detail
LIFE_ACTIONS = frozenset(
    f"course.{action}"
    for action in ("start", "pause", "resume", "reschedule", "complete", "end_early", "cancel")
)


def moved_note(event: CalendarEvent) -> str:
    """`` (moved from Sun 28 Mar: LON is closed on Sundays)`` for a clinic visit booked off
    its calendar day, else ""."""
    if event.moved_from is None:
        return ""
    why = f": {event.moved_because}" if event.moved_because else ""
    return f" (moved from {event.moved_from.strftime('%a %d %b')}{why})"


# a refusal's command-line hint → what does it on this screen
SCREEN_HINTS = (
    (re.compile(r"`--early --reason TEXT` ends it early"), '"ended early" with a reason ends it'),
    (re.compile(r"\(--reason TEXT\)"), "(the Reason field)"),
    (re.compile(r"`kitops course resume \d+ --from DATE`"), "s (Resume)"),
)


def in_screen_words(text: str) -> str:
    """A service's refusal with its command-line hints put as this screen's keys and fields."""
    for pattern, words in SCREEN_HINTS:
        text = pattern.sub(words, text)
    return text


class CoursesScreen(ListScreen):
    MODE = "courses"
    AUTO_FOCUS = "#courses"
    TABLE = "courses"
    NOUN = "courses"
    WHAT = "a course"
    LIST_TAB = "list"
    # at 80 columns the footer holds the filter, fulfil, the course's life and ctrl+n;
    # orders (the detail names `o`) and the batch (a tab) are in F1's list; `s` pauses
    # a running course and resumes a paused one, the footer says which
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "fulfil", "Fulfil"),
        Binding("s", "pause", "Pause"),
        Binding("s", "resume", "Resume"),
        Binding("m", "reschedule", "Reschedule"),
        Binding("c", "complete", "Complete"),
        Binding("x", "cancel_course", "Cancel"),
        Binding("o", "orders", "Orders", show=False),
        Binding("ctrl+n", "show_tab('new')", "New"),
        Binding("ctrl+b", "show_tab('batch')", "Batch", show=False),
        Binding("n", "page(1)", "Next page", show=False),
        Binding("p", "page(-1)", "Prev page", show=False),
    ]

    class Loaded(Message):
        def __init__(self, page: CoursePage) -> None:
            super().__init__()
            self.page = page

    class Detail(Message):
        def __init__(self, detail: CourseDetail) -> None:
            super().__init__()
            self.detail = detail

    class Previewed(Message):
        def __init__(self, preview: CoursePreview) -> None:
            super().__init__()
            self.preview = preview

    class Checked(Message):
        def __init__(self, check: SessionCheck) -> None:
            super().__init__()
            self.check = check

    class DuePreview(Message):
        def __init__(self, report: FulfilReport, days: int) -> None:
            super().__init__()
            self.report = report
            self.days = days

    def __init__(self) -> None:
        super().__init__()
        self.forms_loaded = False
        self.batch_done = False
        self.batch_lines: list[FulfilLine] = []
        self.shown: Course | None = None  # the course in the detail pane
        self._preview_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="list", id="tabs"):
            with TabPane("Courses", id="list"):
                with Horizontal(classes="filter-bar"):
                    yield Field(placeholder="filter: patient, plan, course number…", id="filter")
                    yield Select([("All courses", ALL)], value=ALL, allow_blank=False, id="status")
                yield Label("", id="page-status", classes="page-status")
                table: DataTable[Any] = DataTable(
                    id="courses", cursor_type="row", zebra_stripes=True, classes="loadable"
                )
                # kits held right after the plan: at 80 columns only the end of
                # "scheduled" is cut, never the kits a course still lacks
                for label in ("No", "Patient", "Plan", "Kits", "Clinic", "Start", "Days", "Status"):
                    table.add_column(label)
                yield table
                with VerticalScroll(classes="detail"):
                    yield Static("", id="course-detail")
            with TabPane("New course", id="new"), VerticalScroll():
                with Horizontal(classes="form-row"):
                    yield self._field("patient", "Patient reference", "e.g. P-LON-0107")
                    plan: Select[str] = Select([], prompt="Plan", id="plan")
                    plan.border_title = "Plan"
                    yield plan
                with Horizontal(classes="form-row"):
                    yield self._field("start", "Start (YYYY-MM-DD)", "YYYY-MM-DD")
                    clinic: Select[str] = Select([], prompt="Clinic", id="clinic")
                    clinic.border_title = "Clinic"
                    yield clinic
                    yield self._field("weekdays", "Weekdays", "plan default, e.g. mon,thu")
                # the button before the read-only preview: Tab goes from the form to it
                with Horizontal(classes="buttons"):
                    yield Button("Create course", id="create", variant="primary")
                yield Static("", id="preview-message", classes="message")
                events: DataTable[Any] = DataTable(id="preview-events", cursor_type="row")
                events.border_title = "Calendar preview"
                for label in ("#", "When", "What"):
                    events.add_column(label)
                yield events
            with TabPane("Batch", id="batch"), VerticalScroll():
                with Horizontal(classes="form-row"):
                    yield self._field(
                        "days", "Due within (days)", "14", value="14", restrict=r"[0-9]*"
                    )
                    scope: Select[str] = Select(
                        [("All clinics", ALL)], value=ALL, allow_blank=False, id="batch-clinic"
                    )
                    scope.border_title = "Clinic"
                    yield scope
                    yield Button("Reserve kits…", id="run-batch", variant="primary")
                yield Static("", id="batch-message", classes="message")
                batch: DataTable[Any] = DataTable(id="batch-lines", cursor_type="row")
                for label in ("Course", "Patient", "Clinic", "Kit no", "First use", "Result"):
                    batch.add_column(label)
                yield batch
                yield Static("", id="batch-reason", classes="message")
        yield SteadyFooter()

    @staticmethod
    def _field(
        name: str, title: str, placeholder: str, value: str = "", restrict: str | None = None
    ) -> Field:
        widget = Field(value=value, placeholder=placeholder, id=name, restrict=restrict)
        widget.border_title = title
        return widget

    @on(events.ScreenResume)
    def resume_as_styled(self, event: events.ScreenResume) -> None:
        keep_styles(event)

    def on_mount(self) -> None:
        self.table.loading = True
        self.table.focus()
        self.query_one("#start", Input).value = (
            self.kitops.clock.day() + timedelta(days=1)
        ).isoformat()

    def fill_forms(self) -> None:
        choices = self.kitops.choices
        if choices is None or self.forms_loaded:
            return
        self.forms_loaded = True
        status = self.query_one("#status", Select)
        status.set_options([("All courses", ALL), *[(s, s) for s in choices.course_statuses]])
        status.value = ALL
        plan = self.query_one("#plan", Select)
        plan.set_options([(p.code, p.code) for p in choices.plans])
        if choices.plans:
            plan.value = choices.plans[0].code
        clinic = self.query_one("#clinic", Select)
        clinic.set_options([(c.code, c.code) for c in choices.clinics])
        chosen = self.kitops.clinic or (choices.clinics[0].code if choices.clinics else None)
        if chosen:
            clinic.value = chosen
        scope = self.query_one("#batch-clinic", Select)
        scope.set_options([("All clinics", ALL), *[(c.code, c.code) for c in choices.clinics]])
        scope.value = self.kitops.clinic or ALL

    def apply_options(self, **options: Any) -> None:
        self.fill_forms()
        if "tab" in options:
            self.action_show_tab(options["tab"])
        # a scanned course card's course, asked for by its number, not searched for, while
        # the filter field still shows the number unchanged
        self.exact = int(options["course"]) if options.get("course") else None
        if self.exact is not None:  # whatever its status
            options.setdefault("search", str(self.exact))
            self.query_one("#status", Select).value = ALL
        if "search" in options:
            self.query_one("#filter", Input).value = str(options["search"])
            self.action_show_tab("list")
        if "select" in options:
            self.select_id = int(options["select"])
        self.page_offset = 0

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        focus = {"list": "#courses", "new": "#patient", "batch": "#days"}[tab]
        self.query_one(focus).focus()
        if tab == "batch" and self.ready:
            self.load_due(self.batch_scope(), self.kitops.clock.today, self.batch_days())
        if tab == "new":
            self.preview_later()

    # --- the list --------------------------------------------------------------------

    exact: int | None = None

    def refresh_data(self) -> None:
        self.fill_forms()
        status = self.query_one("#status", Select).value
        search = self.query_one("#filter", Input).value
        if self.exact is not None and search != str(self.exact):
            self.exact = None  # the filter was edited: what it says is a search
        self.load(
            clinic=self.kitops.clinic,
            status=None if status in (ALL, Select.NULL) else str(status),
            search="" if self.exact is not None else search,
            course=self.exact,
            offset=self.page_offset,
        )
        if self.query_one("#tabs", TabbedContent).active == "batch":
            if self.batch_done:  # keep showing what the batch just did
                self.batch_done = False
            else:
                self.load_due(self.batch_scope(), self.kitops.clock.today, self.batch_days())

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, **query: Any) -> None:
        self.post_message(self.Loaded(pages.courses_page(self.stockroom.reading(), **query)))

    def on_courses_screen_loaded(self, message: Loaded) -> None:
        page = message.page
        self.take_page(page.courses, page.total, page.offset)
        self.refresh_bindings()

    def row_cells(self, row: CourseSummary) -> tuple[Any, ...]:
        style = "dim" if row.status in FINISHED else ""
        kits = f"{row.kits_held}/{row.kits_needed}" if row.kits_needed else "–"  # in clinic
        short = row.kits_needed and row.kits_held < row.kits_needed
        return (
            cell(row.id, style, "right"),
            cell(row.patient_ref, style),
            row.plan,
            cell(kits, theme_colour(self.app, "warning", "yellow") if short else ""),
            row.clinic,
            row.start.isoformat(),
            row.weekdays,
            cell(row.status.replace("_", " "), style),
        )

    def row_id(self, row: CourseSummary) -> int:
        return row.id

    def page_hint(self) -> str:
        return " · f: fulfil · ctrl+n: new · ctrl+b: batch"

    @on(Select.Changed, "#status")
    def status_changed(self) -> None:
        if self.forms_loaded:
            self.reload_from_start()

    @on(DataTable.RowHighlighted, "#courses")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.rows):
            course_id = self.rows[event.cursor_row].id
            self.detail_later(lambda: self.load_detail(course_id))
        self.refresh_bindings()  # `s` pauses or resumes the course now highlighted

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`s` is Pause on a course that is not paused, Resume on a paused one."""
        if action in ("pause", "resume"):
            course = self._highlighted()
            paused = course is not None and course.status == "paused"
            return paused if action == "resume" else not paused
        return True

    def _highlighted(self) -> CourseSummary | None:
        """The row under the cursor, without a word to the user when there is none."""
        if not self.is_mounted:
            return None
        row = self.table.cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load_detail(self, course_id: int) -> None:
        self.post_message(self.Detail(previews.course_detail(self.stockroom.reading(), course_id)))

    def on_courses_screen_detail(self, message: Detail) -> None:
        course = self.shown = message.detail.course
        outer = Table.grid()
        outer.add_row(
            Text.assemble(
                (f"course {course.id} · {course.patient_ref}", "bold"),
                f" · {course.plan} at {course.clinic} · {course.start} → {course.end} "
                f"({course.weekdays}) · ",
                (course.status.replace("_", " "), "bold" if course.status == "paused" else ""),
                f" ({course.status_reason})" if course.status_reason else "",
                f" since {course.paused_on}" if course.paused_on else "",
            )
        )
        kits = ", ".join(
            f"kit {k.course_part}: {k.serial} ("
            + ("returned opened" if k.status == "written_off" else k.status.replace("_", " "))
            + f", exp {k.expiry})"
            for k in course.kits
        )
        outer.add_row(f"kits: {kits or 'none reserved'} · sessions: {course.sessions_recorded}")
        outer.add_row(self.payment_line(message.detail))
        last = next((h for h in reversed(course.history) if h.action in LIFE_ACTIONS), None)
        if last is not None:
            outer.add_row(
                Text(
                    f"last change: {last.at.strftime('%d %b %H:%M')} {last.actor} "
                    f"{last.action}: {last.what}",
                    style="dim",
                )
            )
        events = Table(box=None, padding=(0, 1), show_header=False)
        events.add_column(no_wrap=True)
        events.add_column()
        for event in course.events:
            events.add_row(
                event.at.strftime("%a %d %b %Y %H:%M"),
                f"{event.kind} {event.number}: {event.note}{moved_note(event)}",
            )
        outer.add_row(events)
        self.query_one("#course-detail", Static).update(outer)

    def payment_line(self, detail: CourseDetail) -> Text:
        """The course's payment status: its live order (or the latest), what is paid and
        what is due."""
        if not detail.orders:
            return Text("payment: no order yet (o: orders, then c: new order)", style="dim")
        live = [o for o in detail.orders if o.status not in ("cancelled", "refunded")]
        order = (live or list(detail.orders))[0]
        colour = {
            "paid": theme_colour(self.app, "success", "green"),
            "failed": theme_colour(self.app, "warning", "yellow"),
            "pending": theme_colour(self.app, "warning", "yellow"),
        }.get(order.status, "")
        return Text.assemble(
            "payment: ",
            (f"order {order.id} {order.status.replace('_', ' ')}", f"bold {colour}".strip()),
            f" · paid {order.paid} of {order.total}",
            f", refunded {order.refunded}" if order.refunded.amount_minor else "",
            f", due {order.outstanding}" if order.outstanding.amount_minor else "",
            f" · {len(detail.orders)} orders" if len(detail.orders) > 1 else "",
            " (o: orders)",
        )

    def action_orders(self) -> None:
        course = self.selected()
        if course is not None:
            self.kitops.open_screen("orders", course=course.id)

    # --- fulfil and cancel -------------------------------------------------------------

    def selected(self) -> CourseSummary | None:
        return cast("CourseSummary | None", super().selected())

    def action_fulfil(self) -> None:
        course = self.selected()
        if course is None:
            return
        if not course.kits_needed:
            self.check_clinic(course.id, self.kitops.clock.today)
            return
        self.change(
            _fulfil_summary, fulfilment.fulfil_course, course.id, today=self.kitops.clock.today
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="check")
    def check_clinic(self, course_id: int, today: Any) -> None:
        check = fulfilment.check_clinic_course(self.stockroom.reading(), course_id, today=today)
        self.post_message(self.Checked(check))

    def on_courses_screen_checked(self, message: Checked) -> None:
        check = message.check
        if check.enough:
            self.notify(
                f"course {check.course_id}: {check.clinic} holds vials for all "
                f"{check.sessions_left} sessions left",
                title="Clinic course",
            )
        else:
            dates = ", ".join(d.isoformat() for d in check.shortfall_dates[:6])
            self.notify(
                f"course {check.course_id}: vials for {check.covered} of {check.sessions_left} "
                f"sessions at {check.clinic}; short on {dates}",
                title="Clinic course",
                severity="warning",
                timeout=10,
            )

    def action_cancel_course(self) -> None:
        course = self.selected()
        if course is None:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.change(
                    lambda c: f"course {c.id} cancelled; its reserved kits are free",
                    courses.cancel_course,
                    course.id,
                )

        text = f"Cancel course {course.id} of {course.patient_ref}? Its reserved kits go back."
        self.app.push_screen(ConfirmDialog("Cancel course", text, "Cancel course"), go)

    # --- what a person decides: pause, resume, reschedule, complete --------------------

    def action_pause(self) -> None:
        course = self.selected()
        if course is None:
            return
        fields = [FormField("reason", "Reason", placeholder="e.g. patient travelling")]

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.change(
                    _paused_summary,
                    courses.pause_course,
                    course.id,
                    reason=values["reason"] or None,
                    today=self.kitops.clock.today,
                )

        title = f"Pause course {course.id} of {course.patient_ref}"
        self.app.push_screen(FormDialog(title, fields, "Pause"), done)

    def action_resume(self) -> None:
        self._move_dialog("Resume", courses.resume_course)

    def action_reschedule(self) -> None:
        self._move_dialog("Reschedule", courses.reschedule_course)

    def _move_dialog(self, verb: str, service: Any) -> None:
        """Resume or reschedule: the day the remaining applications restart, and their
        weekdays (blank: the course's own)."""
        course = self.selected()
        if course is None:
            return
        fields = [
            FormField(
                "start",
                "From (YYYY-MM-DD)",
                (self.kitops.clock.day() + timedelta(days=1)).isoformat(),
                placeholder="YYYY-MM-DD",
            ),
            FormField("weekdays", f"Weekdays (now {course.weekdays})", placeholder="as now"),
        ]

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.change(
                    _moved_summary,
                    service,
                    course.id,
                    values["start"],
                    weekdays=values["weekdays"] or None,
                    today=self.kitops.clock.today,
                )

        title = f"{verb} course {course.id} of {course.patient_ref}"
        self.app.push_screen(FormDialog(title, fields, verb), done)

    def action_complete(self) -> None:
        course = self.selected()
        if course is None:
            return
        shown = self.shown
        early = (
            shown is not None
            and shown.id == course.id
            and shown.end > self.kitops.clock.day()
            and course.status not in FINISHED
        )
        # the reason first: typed, then Enter ends the course as proposed
        fields = [
            FormField("reason", "Reason (needed to end early)"),
            FormField("how", "Ends", ENDED_EARLY if early else COMPLETED, options=ENDINGS),
        ]

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.change(
                    _completed_summary,
                    courses.complete_course,
                    course.id,
                    early=values["how"] == ENDED_EARLY,
                    reason=values["reason"] or None,
                    today=self.kitops.clock.today,
                )

        title = f"Complete course {course.id} of {course.patient_ref}"
        self.app.push_screen(FormDialog(title, fields, "Complete"), done)

    # --- a new course ------------------------------------------------------------------

    def course_request(self) -> dict[str, Any] | None:
        plan = self.query_one("#plan", Select).value
        clinic = self.query_one("#clinic", Select).value
        start = self.query_one("#start", Input).value.strip()
        if plan is Select.NULL or clinic is Select.NULL or not start:
            return None
        return {
            "plan": str(plan),
            "clinic": str(clinic),
            "start": start,
            "weekdays": self.query_one("#weekdays", Input).value.strip() or None,
        }

    @on(Input.Changed, "#start, #weekdays")
    @on(Select.Changed, "#plan, #clinic")
    def preview_later(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(lists.PREVIEW_DELAY, self.start_preview)

    def start_preview(self) -> None:
        if not self.ready:
            return
        request = self.course_request()
        if request is None:
            # never a calendar for what the form no longer says
            self.workers.cancel_group(self, "preview")
            self.query_one("#preview-events", DataTable).clear()
            self.say("#preview-message", f"fill in {self.missing()} to see the calendar")
            return
        self.preview(**request)

    def missing(self) -> str:
        """What the form still needs before a calendar can be shown."""
        gaps = [
            name
            for name, empty in (
                ("the plan", self.query_one("#plan", Select).value is Select.NULL),
                ("the start date", not self.query_one("#start", Input).value.strip()),
                ("the clinic", self.query_one("#clinic", Select).value is Select.NULL),
            )
            if empty
        ]
        return " and ".join(gaps) or "the form"

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def preview(self, **request: Any) -> None:
        self.post_message(
            self.Previewed(previews.preview_course(self.stockroom.reading(), **request))
        )

    def on_courses_screen_previewed(self, message: Previewed) -> None:
        preview = message.preview
        request = self.course_request()
        if request is None or (request["plan"], request["clinic"]) != (
            preview.plan,
            preview.clinic,
        ):
            return  # the form changed since: its own preview follows
        kits = f", {preview.kits} kit(s)" if preview.kits else ", treated in clinic"
        self.say(
            "#preview-message",
            f"{preview.plan} at {preview.clinic}: {preview.start} → {preview.end} "
            f"on {preview.weekdays}{kits}",
        )
        table = self.query_one("#preview-events", DataTable)
        table.clear()
        for event in preview.events:
            table.add_row(
                f"{event.kind[0].upper()}{event.number}",
                event.at.strftime("%a %d %b %Y %H:%M"),
                event.note + moved_note(event),
            )

    def show_refusal(self, error: BaseException, worker: Any = None) -> bool:
        if getattr(worker, "group", None) == "preview" and isinstance(error, KitopsError):
            self.say("#preview-message", str(error), "error")
            self.query_one("#preview-events", DataTable).clear()
            return True
        if getattr(worker, "group", None) == "write" and isinstance(error, KitopsError):
            text = in_screen_words(str(error))
            if text != str(error):  # a command-line hint, said as this screen does it
                problem = describe(error)
                self.app.push_screen(ErrorDialog(problem.title, text, problem.severity))
                return True
        return False

    @on(Input.Submitted, "#patient, #start, #weekdays")
    @on(Button.Pressed, "#create")
    def create(self) -> None:
        request = self.course_request()
        if request is None:
            self.say("#preview-message", "choose a plan, a clinic and a start date", "error")
            return
        self.change(
            lambda c: f"course {c.id} created for {c.patient_ref} ({c.plan}); press f to fulfil",
            courses.create_course,
            self.query_one("#patient", Input).value,
            request["plan"],
            request["start"],
            request["clinic"],
            weekdays=request["weekdays"],
        )

    # --- the batch -------------------------------------------------------------------

    def batch_scope(self) -> str | None:
        scope = self.query_one("#batch-clinic", Select).value
        return None if scope in (ALL, Select.NULL) else str(scope)

    def batch_days(self) -> int:
        text = self.query_one("#days", Input).value.strip()
        return int(text) if text.isdigit() else 14

    @on(Input.Changed, "#days")
    @on(Select.Changed, "#batch-clinic")
    def batch_scope_changed(self) -> None:
        if self.forms_loaded and self.query_one("#tabs", TabbedContent).active == "batch":
            self.load_due(self.batch_scope(), self.kitops.clock.today, self.batch_days())

    @work(thread=True, exclusive=True, exit_on_error=False, group="due")
    def load_due(self, clinic: str | None, today: Any, days: int) -> None:
        report = fulfilment.preview_due(
            self.stockroom.reading(), within_days=days, clinic=clinic, today=today
        )
        self.post_message(self.DuePreview(report, days))

    def on_courses_screen_due_preview(self, message: DuePreview) -> None:
        report = message.report
        served, unserved = len(report.served), len(report.unserved)
        self.say(
            "#batch-message",
            f"{served + unserved} kit(s) due within {message.days} days and not yet "
            f"reserved; {served} would be served, {unserved} not. "
            "Reserve kits… runs the batch.",
        )
        self.show_batch(report, would=True)

    def show_batch(self, report: FulfilReport, *, would: bool) -> None:
        """The batch's lines, served first, each unserved with its reason."""
        self.batch_lines = [*report.served, *report.unserved]
        table = self.query_one("#batch-lines", DataTable)
        table.clear()
        success = theme_colour(self.app, "success", "green")
        error = theme_colour(self.app, "error", "red")
        for line in self.batch_lines:
            result = (
                cell(f"{'would get ' if would else ''}{line.kit}", success)
                if line.kit
                else cell(f"not served: {line.reason}", f"bold {error}")
            )
            table.add_row(
                line.course_id,
                line.patient_ref,
                line.clinic,
                line.part,
                line.first_use.isoformat(),
                result,
            )
        self.query_one("#batch-reason", Static).update("")

    @on(DataTable.RowHighlighted, "#batch-lines")
    def batch_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.batch_lines):
            reason = self.batch_lines[event.cursor_row].reason
            self.query_one("#batch-reason", Static).update(Text(reason or ""))

    @on(Button.Pressed, "#run-batch")
    def run_batch(self) -> None:
        days = self.batch_days()
        scope = self.batch_scope()

        def go(yes: bool | None) -> None:
            if yes:
                self.change(
                    _batch_summary,
                    fulfilment.fulfil_due,
                    within_days=days,
                    clinic=scope,
                    today=self.kitops.clock.today,
                )

        text = (
            f"Reserve kits for every home course due within {days} days"
            f"{' at ' + scope if scope else ''}? Each gets the earliest-expiring kit that fits."
        )
        self.app.push_screen(ConfirmDialog("Batch assignment", text, "Reserve kits"), go)

    def changed(self, result: Any) -> None:
        on_batch = self.query_one("#tabs", TabbedContent).active == "batch"
        if isinstance(result, FulfilReport) and on_batch:
            self.say(
                "#batch-message",
                f"reserved {len(result.served)} kit(s); {len(result.unserved)} not served",
                "ok",
            )
            self.show_batch(result, would=False)
            self.batch_done = True
        elif isinstance(result, ScheduleChange) and result.out_not_lasting:
            self.notify(
                "\n".join(
                    f"kit {note.serial} (kit {note.part}) is {note.status.replace('_', ' ')} "
                    f"and no longer lasts: {note.why}"
                    for note in result.out_not_lasting
                ),
                title="Kits with the patient",
                severity="warning",
                timeout=12,
            )
        elif isinstance(result, Course):
            self.select_id = result.id
            self.query_one("#patient", Input).value = ""
            self.action_show_tab("list")

    def say(self, where: str, text: str, kind: str = "") -> None:
        widget = self.query_one(where, Static)
        widget.set_classes(f"message {kind}".strip())
        widget.update(Text(text))


def _fulfil_summary(report: FulfilReport) -> str:
    kits = ", ".join(f"kit {line.part}: {line.kit}" for line in report.served)
    course = report.served[0].course_id if report.served else "?"
    return f"course {course} reserved {kits}"


def _batch_summary(report: FulfilReport) -> str:
    return f"batch: {len(report.served)} served, {len(report.unserved)} not served"


def _kits_word(serials: tuple[str, ...]) -> str:
    return f"; back to stock: {', '.join(serials)}" if serials else ""


def _paused_summary(change: StatusChange) -> str:
    course = change.course
    return (
        f"course {course.id} paused ({course.status_reason}); it reserves no new kit "
        "until resumed, its kits stay held"
    )


def _completed_summary(change: StatusChange) -> str:
    course = change.course
    why = f" ({course.status_reason})" if course.status_reason else ""
    status = course.status.replace("_", " ")
    return f"course {course.id} {status}{why}{_kits_word(change.kits_released)}"


def _moved_summary(change: ScheduleChange) -> str:
    """What moved, and each reserved kit that went back to the shelf and why."""
    course = change.course
    lines = [
        f"course {course.id}: applications from {change.first_moved} on restart on "
        f"{change.start} ({change.weekdays}); ends {course.end}; "
        f"{course.status.replace('_', ' ')}"
    ]
    lines += [
        f"kit {note.serial} (kit {note.part}) released back to stock: {note.why}"
        for note in change.released
    ]
    return "\n".join(lines)
