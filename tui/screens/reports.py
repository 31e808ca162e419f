"""Reports: any report of the registry (``kitops.reports.registry``) with its
clinic, as-of day and own options; each section as a table a page at a time, each of
the report's charts drawn in the terminal (plotext, through textual-plotext), and the
report exported to a CSV, JSON or HTML file by the reports' own formats.

The report is built once per run in a worker (one read-only unit of work); paging and
switching between tables and charts only redraw what is already in memory."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Header, Input, Select, Static
from textual_plotext import PlotextPlot

from kitops.documents.report_files import (
    cell_text,
    export_report,
    heading,
    label,
    option_name,
    say,
)
from kitops.errors import KitopsError
from kitops.i18n import N_, _
from kitops.i18n import gettext as translated
from kitops.reports.registry import REPORTS, run_report
from kitops.services.dto.reports import (
    NUMERIC,
    Chart,
    ChartKind,
    Report,
    ReportExport,
    ReportRequest,
    Section,
)
from kitops.views import pages

from ..base import StockroomScreen, count
from ..modals import FormDialog, FormField
from ..widgets import Field, KitopsFooter

ALL = "all"
PAGE = pages.PAGE_SIZE
EXPORT_FORMATS = ("csv", "json", "html")
MAX_X_LABELS = 6  # readable at 80 columns


class ReportsScreen(StockroomScreen):
    MODE = "reports"
    AUTO_FOCUS = "#report-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "next_view", N_("Table/chart")),
        Binding("e", "export", N_("Export")),
        Binding("ctrl+o", "focus_form", N_("Options")),
        Binding("n", "page(1)", N_("Next page"), show=False),
        Binding("p", "page(-1)", N_("Prev page"), show=False),
    ]

    class Loaded(Message):
        def __init__(self, report: Report) -> None:
            super().__init__()
            self.report = report

    class Exported(Message):
        def __init__(self, export: ReportExport) -> None:
            super().__init__()
            self.export = export

    def __init__(self) -> None:
        super().__init__()
        self.report: Report | None = None
        self.views: list[tuple[str, str]] = []  # (key, label): "section:KEY" | "chart:KEY"
        self.view = ""
        self.page_offset = 0
        self.forms_loaded = False
        self._options_for = ""
        self._wanted_view: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="form-row"):
            report: Select[str] = Select(
                [(translated(spec.label), name) for name, spec in REPORTS.items()],
                value="stock",
                allow_blank=False,
                id="report",
            )
            report.border_title = _("Report")
            yield report
            clinic: Select[str] = Select(
                [(_("All clinics"), ALL)], value=ALL, allow_blank=False, id="report-clinic"
            )
            clinic.border_title = _("Clinic")
            yield clinic
            as_of = Field(placeholder=_("today"), id="as-of", restrict=r"[0-9-]*")
            as_of.border_title = _("As of")
            yield as_of
        with Horizontal(classes="form-row", id="report-options"):
            yield Horizontal(id="option-fields")
            view: Select[str] = Select([], prompt=_("View"), id="view", allow_blank=True)
            view.border_title = _("Show")
            yield view
        yield Static("", id="report-status", classes="message")
        table: DataTable[Any] = DataTable(
            id="report-table", cursor_type="row", zebra_stripes=True, classes="loadable"
        )
        yield table
        yield PlotextPlot(id="report-chart")
        yield KitopsFooter()

    def on_mount(self) -> None:
        self.query_one("#report-chart").display = False
        fixed = self.kitops.clock.fixed
        if fixed is not None:
            self.query_one("#as-of", Input).value = fixed.isoformat()
        self.show_options("stock")

    def fill_forms(self) -> None:
        choices = self.kitops.choices
        if choices is None or self.forms_loaded:
            return
        self.forms_loaded = True
        clinic = self.query_one("#report-clinic", Select)
        clinic.set_options([(_("All clinics"), ALL), *[(c.code, c.code) for c in choices.clinics]])
        clinic.value = self.kitops.clinic or ALL

    def apply_options(self, **options: Any) -> None:
        self.fill_forms()
        if "report" in options and options["report"] in REPORTS:
            self.query_one("#report", Select).value = options["report"]
            self.show_options(options["report"])
        if "view" in options:
            self._wanted_view = str(options["view"])

    # --- the form ----------------------------------------------------------------------

    def chosen(self) -> str:
        value = self.query_one("#report", Select).value
        return str(value) if value is not Select.NULL else "stock"

    def show_options(self, name: str) -> None:
        """The chosen report's own options as fields (``--weeks``, ``--within``...)."""
        if name == self._options_for:
            return
        self._options_for = name
        box = self.query_one("#option-fields", Horizontal)
        box.remove_children()
        fields = []
        for option in REPORTS[name].options:
            field = Field(
                value=option.default or "",
                placeholder=option.metavar,
                id=f"opt-{option.name}",
                classes="report-option",
            )
            field.border_title = option_name(option.name)  # in the reader's language
            field.tooltip = _(option.help)
            fields.append(field)
        if fields:
            box.mount(*fields)
        box.display = bool(fields)

    def request(self) -> tuple[str, ReportRequest]:
        name = self.chosen()
        clinic = self.query_one("#report-clinic", Select).value
        options = {
            option.name: field.value.strip() or None
            for option in REPORTS[name].options
            for field in self.query(f"#opt-{option.name}").results(Input)
        }
        as_of = self.query_one("#as-of", Input).value.strip() or None
        return name, ReportRequest(
            clinic=None if clinic in (ALL, Select.NULL) else str(clinic),
            as_of=as_of,
            options=options,
        )

    @on(Select.Changed, "#report")
    def report_changed(self, event: Select.Changed) -> None:
        # the report chosen now: a change still queued from an earlier value (the one
        # composed, before another screen asked for a report) must not bring back that
        # report's fields over the chosen one's
        if event.value is not Select.NULL and event.value == self.chosen():
            self.show_options(str(event.value))
            self.page_offset = 0
            self.call_after_refresh(self.action_refresh_data)

    @on(Select.Changed, "#report-clinic")
    def clinic_changed(self) -> None:
        if self.forms_loaded:
            self.action_refresh_data()

    @on(Input.Submitted, "#as-of, .report-option")
    def form_submitted(self) -> None:
        self.action_refresh_data()
        self.query_one("#report-table").focus()

    def action_focus_form(self) -> None:
        self.query_one("#report", Select).focus()

    # --- running -----------------------------------------------------------------------

    def refresh_data(self) -> None:
        self.fill_forms()
        name, request = self.request()
        self.say(_("running report {name}…").format(name=name))
        self.load(name, request)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, name: str, request: ReportRequest) -> None:
        self.post_message(self.Loaded(run_report(self.stockroom.reading(), name, request)))

    def on_reports_screen_loaded(self, message: Loaded) -> None:
        report = message.report
        previous = self.view
        self.report = report
        self.views = [
            (f"section:{s.key}", f"{say(s.title)} ({count(len(s.rows))})") for s in report.sections
        ] + [
            (f"chart:{c.key}", _("Chart: {title}").format(title=say(c.title)))
            for c in report.charts
        ]
        keys = [key for key, _label in self.views]
        wanted = self._wanted_view
        self._wanted_view = None
        if wanted and wanted.isdigit() and int(wanted) < len(keys):
            wanted = keys[int(wanted)]
        if wanted == "chart" and report.charts:
            wanted = f"chart:{report.charts[0].key}"
        self.view = next((v for v in (wanted, previous) if v in keys), keys[0] if keys else "")
        view = self.query_one("#view", Select)
        with view.prevent(Select.Changed):
            view.set_options([(label, key) for key, label in self.views])
            if self.view:
                view.value = self.view
        self.query_one("#report-table").loading = False
        self.show_view()

    @on(Select.Changed, "#view")
    def view_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and event.value != self.view:
            self.view = str(event.value)
            self.page_offset = 0
            self.show_view()

    def action_next_view(self) -> None:
        if not self.views:
            return
        keys = [key for key, _label in self.views]
        index = keys.index(self.view) if self.view in keys else -1
        self.query_one("#view", Select).value = keys[(index + 1) % len(keys)]

    def action_page(self, step: int) -> None:
        section = self.section()
        if section is None:
            return
        target = self.page_offset + step * PAGE
        if 0 <= target < len(section.rows):
            self.page_offset = target
            self.show_view()

    def section(self) -> Section | None:
        if self.report is None or not self.view.startswith("section:"):
            return None
        key = self.view.split(":", 1)[1]
        return next((s for s in self.report.sections if s.key == key), None)

    def chart(self) -> Chart | None:
        if self.report is None or not self.view.startswith("chart:"):
            return None
        key = self.view.split(":", 1)[1]
        return next((c for c in self.report.charts if c.key == key), None)

    def show_view(self) -> None:
        report = self.report
        if report is None:
            return
        table = self.query_one("#report-table", DataTable)
        plot = self.query_one("#report-chart", PlotextPlot)
        said = heading(report)  # title, clinic, day and options in the reader's language
        chart = self.chart()
        if chart is not None:
            table.display = False
            plot.display = True
            draw(plot, chart)
            self.say(said + _(" · v: next view · e: export"))
            return
        plot.display = False
        table.display = True
        section = self.section()
        table.clear(columns=True)
        if section is None:
            self.say(said)
            return
        shown = [(i, c) for i, c in enumerate(section.columns) if c.in_table]
        rows = section.rows[self.page_offset : self.page_offset + PAGE]
        cells = [[cell_text(column, row[i]) for i, column in shown] for row in rows]
        titles = [say(column.title) for _i, column in shown]
        # numbers right-aligned: padded to the widest on the page (or the title)
        widths = [
            max([len(titles[n]), *(len(line[n]) for line in cells)]) for n in range(len(shown))
        ]
        right = [column.kind in NUMERIC for _i, column in shown]

        def padded(value: str, width: int, to_right: bool) -> Text:
            return Text(value.rjust(width) if to_right else value)  # Text: never markup

        for (_i, column), title, width, to_right in zip(shown, titles, widths, right, strict=True):
            table.add_column(padded(title, width, to_right), key=column.key)
        for line in cells:
            table.add_row(*map(padded, line, widths, right))
        total = len(section.rows)
        first = self.page_offset + 1 if rows else 0
        paging = _(" · n/p: page") if total > PAGE else ""
        lines = (
            _("{first}–{last} of {total}").format(
                first=count(first), last=count(self.page_offset + len(rows)), total=count(total)
            )
            if total
            else _("nothing to show")
        )
        notes = (
            _(" · {n} note(s) in the export").format(n=len(report.notes)) if report.notes else ""
        )
        views = _(" · v: next view · e: export")
        self.say(f"{said} · {say(section.title)}: {lines}{paging}{views}{notes}")

    def say(self, message: str, kind: str = "") -> None:
        widget = self.query_one("#report-status", Static)
        widget.set_classes(f"message {kind}".strip())
        widget.update(Text(message))

    def show_refusal(self, error: BaseException, worker: Any = None) -> bool:
        """A bad as-of day or option reads under the form; the last report stays."""
        if getattr(worker, "group", None) == "load" and isinstance(error, KitopsError):
            self.say(str(error), "error")
            return True
        return False

    # --- export ------------------------------------------------------------------------

    def action_export(self) -> None:
        report = self.report
        if report is None:
            self.notify(_("Run a report first"), severity="warning")
            return
        fields = [
            FormField("format", _("Format"), "csv", options=EXPORT_FORMATS),
            FormField(
                "out",
                _("File (default: in the current folder)"),
                placeholder=f"{report.name}-{report.as_of}.FORMAT",
            ),
        ]

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            out = values["out"] or f"{report.name}-{report.as_of}.{values['format']}"
            self.export(report, values["format"], out)

        title = _("Export report {name}").format(name=report.name)
        self.app.push_screen(FormDialog(title, fields, _("Export")), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def export(self, report: Report, fmt: str, out: str) -> None:
        """The file in the reader's language; a report for one clinic in the clinic's
        locale, as ``kitops report --clinic`` writes it (``document_locale``)."""
        from kitops.i18n import use_clinic_locale
        from kitops.services.locales import document_locale

        tag = document_locale(self.stockroom.reading(), clinic=report.clinic)
        with use_clinic_locale(tag):
            done = export_report(report, fmt, out)
        self.post_message(self.Exported(done))

    def on_reports_screen_exported(self, message: Exported) -> None:
        done = message.export
        self.notify(
            _("report {report} ({format}, {bytes} bytes) written to {path}").format(
                report=done.report, format=done.format, bytes=count(done.bytes), path=done.path
            ),
            title=_("Exported"),
            timeout=8,
        )


def draw(plot: PlotextPlot, chart: Chart) -> None:
    """One report chart as terminal bars: grouped for BAR, stacked for STACKED_BAR, lines
    for LINE, with the series as the legend and whole units on the y axis."""
    plt = plot.plt
    plt.clear_figure()
    title = say(chart.title)
    plt.title(title if chart.y_title == "units" else f"{title} ({say(chart.y_title)})")
    labels = [label(x) for x in chart.x_labels]  # a week's day as the reader writes it
    values = [list(series.values) for series in chart.series]
    names = [say(series.name) for series in chart.series]
    if not labels or not values:
        plt.title(_("{title}: nothing to draw").format(title=title))
    elif chart.kind is ChartKind.STACKED_BAR:
        plt.stacked_bar(labels, values, labels=names)  # type: ignore[call-arg]
    elif chart.kind is ChartKind.BAR:
        plt.multiple_bar(labels, values, labels=names)  # type: ignore[call-arg]
    else:
        for name, series in zip(names, values, strict=True):
            plt.plot(labels, series, label=name)
    top = max(
        [sum(column) for column in zip(*values, strict=True)]
        if chart.kind is ChartKind.STACKED_BAR
        else [v for series in values for v in series],
        default=0,
    )
    step = max(1, -(-top // 5))
    plt.yticks(list(range(0, top + step + 1, step)))
    if labels:  # at most six x labels, fixed (plotext's own choice varies between runs)
        every = max(1, -(-len(labels) // MAX_X_LABELS))
        plt.xticks(list(range(1, len(labels) + 1, every)), labels[::every])
    plot.refresh()
