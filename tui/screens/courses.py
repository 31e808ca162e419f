"""Courses: the list with the selected course's calendar, kits and payment status;
fulfil one (or check a clinic course's vials); pause, resume, reschedule, complete or
cancel it; create a course with a live preview of its application calendar; run the
batch assignment for a window and review what was served and what was not, with the
reason."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
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

from kitops.domain.course_lifecycle import FINISHED
from kitops.errors import KitopsError
from kitops.i18n import N_, _, current_locale, formats, ngettext, pgettext
from kitops.i18n import gettext as translated
from kitops.i18n.labels import audit_details, stored_text
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
from ..widgets import Field, FilterSelect, KitopsFooter, cell, theme_colour

ALL = "all"
COMPLETED = N_("completed: nothing left to do")
ENDED_EARLY = N_("ended early: applications left")
ENDINGS = (COMPLETED, ENDED_EARLY)
# a course's stored status, as a person reads it
COURSE_STATUS = {
    "scheduled": N_("scheduled"),
    "active": N_("active"),
    "paused": N_("paused"),
    "completed": N_("completed"),
    "ended_early": N_("ended early"),
    "cancelled": N_("cancelled"),
}
# a kit's stored status, as a person reads it (as the Kits screen names them)
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
# an order's stored status, as a person reads it (as the Orders screen names them)
ORDER_STATUS = {
    "open": N_("open"),
    "pending": N_("pending"),
    "failed": N_("failed"),
    "paid": N_("paid"),
    "partially_refunded": N_("partly refunded"),
    "refunded": N_("refunded"),
    "cancelled": N_("cancelled"),
}
EVENT_KINDS = {
    "application": N_("application"),
    "checkin": N_("checkin"),
    "followup": N_("followup"),
}


def headings() -> tuple[str, ...]:
    """The list's column headings in the language in force."""
    return (pgettext("column: a number", "No"), _("Patient"), _("Plan"), _("Kits"), _("Clinic"),
            _("Start"), _("Days"), _("Status"))  # fmt: skip


PREVIEW_HEADINGS = (N_("#"), N_("When"), N_("What"))
BATCH_HEADINGS = (N_("Course"), N_("Patient"), N_("Clinic"), N_("Kit no"), N_("First use"),
                  N_("Result"))  # fmt: skip
# the changes of a course's status, the latest shown under it in the detail
LIFE_ACTIONS = frozenset(
    f"course.{action}"
    for action in ("start", "pause", "resume", "reschedule", "complete", "end_early", "cancel")
)


def course_status(status: str) -> str:
    """A course's stored status in the language in force."""
    return (
        translated(COURSE_STATUS[status]) if status in COURSE_STATUS else status.replace("_", " ")
    )


def kit_status(status: str) -> str:
    """A kit's stored status in the language in force."""
    return translated(KIT_STATUS[status]) if status in KIT_STATUS else status.replace("_", " ")


def order_status(status: str) -> str:
    """An order's stored status in the language in force."""
    return translated(ORDER_STATUS[status]) if status in ORDER_STATUS else status.replace("_", " ")


def _babel_locale() -> str:
    """The locale in force as Babel knows it (one it does not know reads as en_GB)."""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(current_locale())
    except (UnknownLocaleError, ValueError):
        return "en_GB"
    return current_locale()


def day_short(day: date) -> str:
    """``Sun 28 Mar`` (neutral), ``So., 28. März`` (de)."""
    if current_locale() == "en":
        return day.strftime("%a %d %b")
    from babel.dates import format_skeleton

    return str(format_skeleton("MMMEd", day, locale=_babel_locale()))


def when(at: datetime) -> str:
    """A calendar moment with its weekday: ``Wed 25 Nov 2026 10:00`` (neutral),
    ``Mi., 25. Nov. 2026 10:00`` (de)."""
    if current_locale() == "en":
        return at.strftime("%a %d %b %Y %H:%M")
    from babel.dates import format_skeleton

    return f"{format_skeleton('yMMMEd', at, locale=_babel_locale())} {at:%H:%M}"


def moved_note(event: CalendarEvent) -> str:
    """`` (moved from Sun 28 Mar: LON is closed on Sundays)`` for a clinic visit booked off
    its calendar day, else ""."""
    if event.moved_from is None:
        return ""
    if event.moved_because:
        note = _("moved from {day}: {why}").format(
            day=day_short(event.moved_from), why=stored_text(event.moved_because)
        )
    else:
        note = _("moved from {day}").format(day=day_short(event.moved_from))
    return f" ({note})"


# a refusal's command-line hint → what does it on this screen
SCREEN_HINTS = (
    (
        re.compile(r"`--early --reason TEXT` ends it early"),
        N_('"ended early" with a reason ends it'),
    ),
    (re.compile(r"\(--reason TEXT\)"), N_("(the Reason field)")),
    (re.compile(r"`kitops course resume \d+ --from DATE`"), N_("s (Resume)")),
)


def in_screen_words(text: str) -> str:
    """A service's refusal with its command-line hints put as this screen's keys and fields."""
    for pattern, words in SCREEN_HINTS:
        text = pattern.sub(translated(words), text)
    return text


def _listed(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) < 2:
        return "".join(items)
    return _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


class CoursesScreen(ListScreen):
    MODE = "courses"
    AUTO_FOCUS = "#courses"
    TABLE = "courses"
    NOUN = N_("courses")
    WHAT = N_("a course")
    LIST_TAB = "list"
    # at 80 columns the footer holds the filter, fulfil, the course's life and ctrl+n;
    # orders (the detail names `o`) and the batch (a tab) are in F1's list; `s` pauses
    # a running course and resumes a paused one, the footer says which
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "fulfil", N_("Fulfil")),
        Binding("s", "pause", N_("Pause")),
        Binding("s", "resume", N_("Resume")),
        Binding("m", "reschedule", N_("Reschedule")),
        Binding("c", "complete", N_("Complete")),
        Binding("x", "cancel_course", N_("Cancel")),
        Binding("o", "orders", N_("Orders"), show=False),
        Binding("ctrl+n", "show_tab('new')", N_("New")),
        Binding("ctrl+b", "show_tab('batch')", N_("Batch"), show=False),
        Binding("n", "page(1)", N_("Next page"), show=False),
        Binding("p", "page(-1)", N_("Prev page"), show=False),
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
            with TabPane(_("Courses"), id="list"):
                with Horizontal(classes="filter-bar"):
                    yield Field(placeholder=_("filter: patient, plan, course number…"), id="filter")
                    yield FilterSelect(
                        [(_("All courses"), ALL)], value=ALL, allow_blank=False, id="status"
                    )
                yield Label("", id="page-status", classes="page-status")
                table: DataTable[Any] = DataTable(
                    id="courses", cursor_type="row", zebra_stripes=True, classes="loadable"
                )
                # kits held right after the plan: at 80 columns only the end of
                # "scheduled" is cut, never the kits a course still lacks
                for label in headings():
                    table.add_column(label)
                yield table
                with VerticalScroll(classes="detail"):
                    yield Static("", id="course-detail")
            with TabPane(_("New course"), id="new"), VerticalScroll():
                with Horizontal(classes="form-row"):
                    yield self._field("patient", _("Patient reference"), _("e.g. P-LON-0107"))
                    plan: Select[str] = Select([], prompt=_("Plan"), id="plan")
                    plan.border_title = _("Plan")
                    yield plan
                with Horizontal(classes="form-row"):
                    yield self._field("start", _("Start (YYYY-MM-DD)"), "YYYY-MM-DD")
                    clinic: Select[str] = Select([], prompt=_("Clinic"), id="clinic")
                    clinic.border_title = _("Clinic")
                    yield clinic
                    yield self._field("weekdays", _("Weekdays"), _("plan default, e.g. mon,thu"))
                # the button before the read-only preview: Tab goes from the form to it
                with Horizontal(classes="buttons"):
                    yield Button(_("Create course"), id="create", variant="primary")
                yield Static("", id="preview-message", classes="message")
                events: DataTable[Any] = DataTable(id="preview-events", cursor_type="row")
                events.border_title = _("Calendar preview")
                for label in PREVIEW_HEADINGS:
                    events.add_column(translated(label))
                yield events
            with TabPane(_("Batch"), id="batch"), VerticalScroll():
                with Horizontal(classes="form-row"):
                    yield self._field(
                        "days", _("Due within (days)"), "14", value="14", restrict=r"[0-9]*"
                    )
                    scope: Select[str] = Select(
                        [(_("All clinics"), ALL)], value=ALL, allow_blank=False, id="batch-clinic"
                    )
                    scope.border_title = _("Clinic")
                    yield scope
                    yield Button(_("Reserve kits…"), id="run-batch", variant="primary")
                yield Static("", id="batch-message", classes="message")
                batch: DataTable[Any] = DataTable(id="batch-lines", cursor_type="row")
                for label in BATCH_HEADINGS:
                    batch.add_column(translated(label))
                yield batch
                yield Static("", id="batch-reason", classes="message")
        yield KitopsFooter()

    @staticmethod
    def _field(
        name: str, title: str, placeholder: str, value: str = "", restrict: str | None = None
    ) -> Field:
        widget = Field(value=value, placeholder=placeholder, id=name, restrict=restrict)
        widget.border_title = title
        return widget

    def on_mount(self) -> None:
        self.table.loading = True
        self.table.focus()
        self.query_one("#start", Input).value = (
            self.kitops.clock.day() + timedelta(days=1)
        ).isoformat()

    filter_loaded = False  # the list's status filter has its choices

    def fill_filter(self) -> None:
        """The list's status filter: its choices before the list is first loaded."""
        choices = self.kitops.choices
        if choices is None or self.filter_loaded:
            return
        self.filter_loaded = True
        status = self.query_one("#status", Select)
        status.set_options(
            [(_("All courses"), ALL), *[(course_status(s), s) for s in choices.course_statuses]]
        )
        status.value = ALL

    def fill_forms(self) -> None:
        """The New course and Batch tabs' choices (plans, clinics): after the list's first
        page is on the screen (a scanned course card shows its course first), or at once
        when one of those tabs is opened."""
        choices = self.kitops.choices
        if choices is None or self.forms_loaded:
            return
        self.fill_filter()
        self.forms_loaded = True
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
        scope.set_options([(_("All clinics"), ALL), *[(c.code, c.code) for c in choices.clinics]])
        scope.value = self.kitops.clinic or ALL

    def apply_options(self, **options: Any) -> None:
        self.fill_filter()
        if "tab" in options:
            self.action_show_tab(options["tab"])
        # a scanned course card's course, asked for by its number, not searched for, while
        # the filter field still shows the number unchanged
        self.exact = int(options["course"]) if options.get("course") else None
        if self.exact is not None:  # whatever its status
            options.setdefault("search", str(self.exact))
            self.query_one("#status", Select).value = ALL
        if "search" in options:
            self.set_filter(str(options["search"]))
            self.action_show_tab("list")
        if "select" in options:
            self.select_id = int(options["select"])
        self.page_offset = 0

    def action_show_tab(self, tab: str) -> None:
        if tab != "list":
            self.fill_forms()
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
        self.fill_filter()
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
        if not self.forms_loaded:
            self.call_after_refresh(self.fill_forms)

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
            formats.date(row.start),
            row.weekdays,
            cell(course_status(row.status), style),
        )

    def row_id(self, row: CourseSummary) -> int:
        return row.id

    def page_hint(self) -> str:
        return " · " + _("f: fulfil · ctrl+n: new · ctrl+b: batch")

    @on(TabbedContent.TabActivated, "#tabs")
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id != "list":  # a click on the tab: its form needs its choices
            self.fill_forms()

    @on(Select.Changed, "#status")
    def status_changed(self) -> None:
        if self.filter_loaded:
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
                (
                    _("course {course} · {patient}").format(
                        course=course.id, patient=course.patient_ref
                    ),
                    "bold",
                ),
                " · "
                + _("{plan} at {clinic} · {start} → {end} ({weekdays})").format(
                    plan=course.plan,
                    clinic=course.clinic,
                    start=formats.date(course.start),
                    end=formats.date(course.end),
                    weekdays=course.weekdays,
                )
                + " · ",
                (course_status(course.status), "bold" if course.status == "paused" else ""),
                f" ({course.status_reason})" if course.status_reason else "",
                " " + _("since {day}").format(day=formats.date(course.paused_on))
                if course.paused_on
                else "",
            )
        )
        kits = ", ".join(
            _("kit {part}: {serial} ({status}, exp {expiry})").format(
                part=k.course_part,
                serial=k.serial,
                status=_("returned opened") if k.status == "written_off" else kit_status(k.status),
                expiry=formats.date(k.expiry),
            )
            for k in course.kits
        )
        outer.add_row(
            _("kits: {kits} · sessions: {sessions}").format(
                kits=kits or _("none reserved"), sessions=formats.number(course.sessions_recorded)
            )
        )
        outer.add_row(self.payment_line(message.detail))
        last = next((h for h in reversed(course.history) if h.action in LIFE_ACTIONS), None)
        if last is not None:
            at = last.at.strftime("%d %b %H:%M")
            if current_locale() != "en":
                at = formats.datetime(last.at)
            outer.add_row(
                Text(
                    _("last change: {at} {actor} {action}: {what}").format(
                        at=at,
                        actor=last.actor,
                        action=last.action,
                        what=audit_details(last.details),
                    ),
                    style="dim",
                )
            )
        events = Table(box=None, padding=(0, 1), show_header=False)
        events.add_column(no_wrap=True)
        events.add_column()
        for event in course.events:
            kind = EVENT_KINDS.get(event.kind)
            events.add_row(
                when(event.at),
                f"{translated(kind) if kind else event.kind} {event.number}: "
                f"{event.note}{moved_note(event)}",
            )
        outer.add_row(events)
        self.query_one("#course-detail", Static).update(outer)

    def payment_line(self, detail: CourseDetail) -> Text:
        """The course's payment status: its live order (or the latest), what is paid and
        what is due."""
        if not detail.orders:
            return Text(_("payment: no order yet (o: orders, then c: new order)"), style="dim")
        live = [o for o in detail.orders if o.status not in ("cancelled", "refunded")]
        order = (live or list(detail.orders))[0]
        colour = {
            "paid": theme_colour(self.app, "success", "green"),
            "failed": theme_colour(self.app, "warning", "yellow"),
            "pending": theme_colour(self.app, "warning", "yellow"),
        }.get(order.status, "")
        count = len(detail.orders)
        return Text.assemble(
            _("payment: "),
            (
                _("order {order} {status}").format(
                    order=order.id, status=order_status(order.status)
                ),
                f"bold {colour}".strip(),
            ),
            " · "
            + _("paid {paid} of {total}").format(
                paid=formats.money(order.paid), total=formats.money(order.total)
            ),
            ", " + _("refunded {amount}").format(amount=formats.money(order.refunded))
            if order.refunded.amount_minor
            else "",
            ", " + _("due {amount}").format(amount=formats.money(order.outstanding))
            if order.outstanding.amount_minor
            else "",
            " · " + ngettext("{n} order", "{n} orders", count).format(n=formats.number(count))
            if count > 1
            else "",
            " " + _("(o: orders)"),
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
                ngettext(
                    "course {course}: {clinic} holds vials for the {n} session left",
                    "course {course}: {clinic} holds vials for all {n} sessions left",
                    check.sessions_left,
                ).format(
                    course=check.course_id,
                    clinic=check.clinic,
                    n=formats.number(check.sessions_left),
                ),
                title=_("Clinic course"),
            )
        else:
            dates = ", ".join(formats.date(d) for d in check.shortfall_dates[:6])
            self.notify(
                ngettext(
                    "course {course}: vials for {covered} of {n} session at {clinic}; "
                    "short on {dates}",
                    "course {course}: vials for {covered} of {n} sessions at {clinic}; "
                    "short on {dates}",
                    check.sessions_left,
                ).format(
                    course=check.course_id,
                    covered=formats.number(check.covered),
                    n=formats.number(check.sessions_left),
                    clinic=check.clinic,
                    dates=dates,
                ),
                title=_("Clinic course"),
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
                    lambda c: _("course {course} cancelled; its reserved kits are free").format(
                        course=c.id
                    ),
                    courses.cancel_course,
                    course.id,
                )

        text = _("Cancel course {course} of {patient}? Its reserved kits go back.").format(
            course=course.id, patient=course.patient_ref
        )
        self.app.push_screen(ConfirmDialog(_("Cancel course"), text, _("Cancel course")), go)

    # --- what a person decides: pause, resume, reschedule, complete --------------------

    def action_pause(self) -> None:
        course = self.selected()
        if course is None:
            return
        fields = [FormField("reason", _("Reason"), placeholder=_("e.g. patient travelling"))]

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.change(
                    _paused_summary,
                    courses.pause_course,
                    course.id,
                    reason=values["reason"] or None,
                    today=self.kitops.clock.today,
                )

        title = _("Pause course {course} of {patient}").format(
            course=course.id, patient=course.patient_ref
        )
        self.app.push_screen(FormDialog(title, fields, _("Pause")), done)

    def action_resume(self) -> None:
        self._move_dialog(
            N_("Resume course {course} of {patient}"), N_("Resume"), courses.resume_course
        )

    def action_reschedule(self) -> None:
        self._move_dialog(
            N_("Reschedule course {course} of {patient}"),
            N_("Reschedule"),
            courses.reschedule_course,
        )

    def _move_dialog(self, heading: str, verb: str, service: Any) -> None:
        """Resume or reschedule: the day the remaining applications restart, and their
        weekdays (blank: the course's own). ``heading`` and ``verb`` are marked with N_."""
        course = self.selected()
        if course is None:
            return
        fields = [
            FormField(
                "start",
                _("From (YYYY-MM-DD)"),
                (self.kitops.clock.day() + timedelta(days=1)).isoformat(),
                placeholder="YYYY-MM-DD",
            ),
            FormField(
                "weekdays",
                _("Weekdays (now {weekdays})").format(weekdays=course.weekdays),
                placeholder=_("as now"),
            ),
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

        title = translated(heading).format(course=course.id, patient=course.patient_ref)
        self.app.push_screen(FormDialog(title, fields, translated(verb)), done)

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
            FormField("reason", _("Reason (needed to end early)")),
            FormField(
                "how",
                _("Ends"),
                translated(ENDED_EARLY if early else COMPLETED),
                options=tuple(translated(ending) for ending in ENDINGS),
            ),
        ]

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.change(
                    _completed_summary,
                    courses.complete_course,
                    course.id,
                    early=values["how"] == translated(ENDED_EARLY),
                    reason=values["reason"] or None,
                    today=self.kitops.clock.today,
                )

        title = _("Complete course {course} of {patient}").format(
            course=course.id, patient=course.patient_ref
        )
        self.app.push_screen(FormDialog(title, fields, _("Complete")), done)

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
            text = _("fill in {fields} to see the calendar").format(fields=self.missing())
            self.say("#preview-message", text)
            return
        self.preview(**request)

    def missing(self) -> str:
        """What the form still needs before a calendar can be shown."""
        gaps = [
            name
            for name, empty in (
                (_("the plan"), self.query_one("#plan", Select).value is Select.NULL),
                (_("the start date"), not self.query_one("#start", Input).value.strip()),
                (_("the clinic"), self.query_one("#clinic", Select).value is Select.NULL),
            )
            if empty
        ]
        return _listed(gaps) or _("the form")

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
        names = {
            "plan": preview.plan,
            "clinic": preview.clinic,
            "start": formats.date(preview.start),
            "end": formats.date(preview.end),
            "weekdays": preview.weekdays,
            "n": formats.number(preview.kits),
        }
        if preview.kits:
            text = ngettext(
                "{plan} at {clinic}: {start} → {end} on {weekdays}, {n} kit",
                "{plan} at {clinic}: {start} → {end} on {weekdays}, {n} kits",
                preview.kits,
            )
        else:
            text = _("{plan} at {clinic}: {start} → {end} on {weekdays}, treated in clinic")
        self.say("#preview-message", text.format(**names))
        table = self.query_one("#preview-events", DataTable)
        table.clear()
        for event in preview.events:
            table.add_row(
                f"{event.kind[0].upper()}{event.number}",
                when(event.at),
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
            self.say("#preview-message", _("choose a plan, a clinic and a start date"), "error")
            return
        self.change(
            lambda c: _("course {course} created for {patient} ({plan}); press f to fulfil").format(
                course=c.id, patient=c.patient_ref, plan=c.plan
            ),
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
            ngettext(
                "{n} kit due within {days} days and not yet reserved; {served} would be "
                "served, {unserved} not. Reserve kits… runs the batch.",
                "{n} kits due within {days} days and not yet reserved; {served} would be "
                "served, {unserved} not. Reserve kits… runs the batch.",
                served + unserved,
            ).format(
                n=formats.number(served + unserved),
                days=formats.number(message.days),
                served=formats.number(served),
                unserved=formats.number(unserved),
            ),
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
            if line.kit:
                got = _("would get {kit}").format(kit=line.kit) if would else line.kit
                result = cell(got, success)
            else:
                result = cell(_("not served: {reason}").format(reason=line.reason), f"bold {error}")
            table.add_row(
                line.course_id,
                line.patient_ref,
                line.clinic,
                line.part,
                formats.date(line.first_use),
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

        if scope:
            text = _(
                "Reserve kits for every home course due within {days} days at {clinic}? "
                "Each gets the earliest-expiring kit that fits."
            )
        else:
            text = _(
                "Reserve kits for every home course due within {days} days? Each gets the "
                "earliest-expiring kit that fits."
            )
        text = text.format(days=formats.number(days), clinic=scope)
        self.app.push_screen(ConfirmDialog(_("Batch assignment"), text, _("Reserve kits")), go)

    def changed(self, result: Any) -> None:
        on_batch = self.query_one("#tabs", TabbedContent).active == "batch"
        if isinstance(result, FulfilReport) and on_batch:
            self.say(
                "#batch-message",
                ngettext(
                    "reserved {n} kit; {unserved} not served",
                    "reserved {n} kits; {unserved} not served",
                    len(result.served),
                ).format(
                    n=formats.number(len(result.served)),
                    unserved=formats.number(len(result.unserved)),
                ),
                "ok",
            )
            self.show_batch(result, would=False)
            self.batch_done = True
        elif isinstance(result, ScheduleChange) and result.out_not_lasting:
            self.notify(
                "\n".join(
                    _("kit {serial} (kit {part}) is {status} and no longer lasts: {why}").format(
                        serial=note.serial,
                        part=note.part,
                        status=kit_status(note.status),
                        why=note.why,
                    )
                    for note in result.out_not_lasting
                ),
                title=_("Kits with the patient"),
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
    kits = ", ".join(
        _("kit {part}: {serial}").format(part=line.part, serial=line.kit) for line in report.served
    )
    course = report.served[0].course_id if report.served else "?"
    return _("course {course} reserved {kits}").format(course=course, kits=kits)


def _batch_summary(report: FulfilReport) -> str:
    return _("batch: {served} served, {unserved} not served").format(
        served=formats.number(len(report.served)), unserved=formats.number(len(report.unserved))
    )


def _kits_word(serials: tuple[str, ...]) -> str:
    if not serials:
        return ""
    return "; " + _("back to stock: {serials}").format(serials=", ".join(serials))


def _paused_summary(change: StatusChange) -> str:
    course = change.course
    return _(
        "course {course} paused ({reason}); it reserves no new kit until resumed, its kits "
        "stay held"
    ).format(course=course.id, reason=course.status_reason)


def _completed_summary(change: StatusChange) -> str:
    course = change.course
    why = f" ({course.status_reason})" if course.status_reason else ""
    status = course_status(course.status)
    return _("course {course} {status}").format(course=course.id, status=status) + (
        f"{why}{_kits_word(change.kits_released)}"
    )


def _moved_summary(change: ScheduleChange) -> str:
    """What moved, and each reserved kit that went back to the shelf and why."""
    course = change.course
    lines = [
        _(
            "course {course}: applications from {first} on restart on {start} ({weekdays}); "
            "ends {end}; {status}"
        ).format(
            course=course.id,
            first=change.first_moved,
            start=formats.date(change.start),
            weekdays=change.weekdays,
            end=formats.date(course.end),
            status=course_status(course.status),
        )
    ]
    lines += [
        _("kit {serial} (kit {part}) released back to stock: {why}").format(
            serial=note.serial, part=note.part, why=note.why
        )
        for note in change.released
    ]
    return "\n".join(lines)
