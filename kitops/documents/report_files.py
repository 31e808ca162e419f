"""A report as a terminal table, CSV, JSON or one self-contained HTML page.

Every format prints the cells of the report's sections and nothing else, so the numbers
agree by construction (and a test checks it). Money is ``12.50 GBP`` in the table and the
page (as the language in force writes it: ``€ 12,50`` in de_AT), an amount column plus a
``<column>_currency`` column in the CSV, and ``{"amount_minor": 1250, "currency": "GBP"}``
in the JSON.

The table and the page are for people: their titles, headings, notes, chart titles and
dates, amounts and counts are in the language in force (``say``, ``text``). The CSV and
the JSON are for programs: English and plain, the same bytes whatever the language.

The page inlines its CSS and its charts (SVG drawn by pygal, without pygal's tooltip
script), so it fetches nothing. Rendering libraries are imported when a format needs them.
"""

from __future__ import annotations

import csv
import io
import re
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kitops.domain import text_table
from kitops.domain.money import Money
from kitops.domain.text import json_text, visible
from kitops.errors import InvalidInput
from kitops.i18n import DEFAULT_LOCALE, _, current_locale, formats, pgettext
from kitops.services.csvfiles import FORMULA_STARTS, CsvCell, write_csv
from kitops.services.dto import as_json
from kitops.services.dto.reports import NUMERIC, ChartKind, Kind, ReportExport

if TYPE_CHECKING:
    from kitops.services.dto.reports import Cell, Chart, Column, Report, Section

FORMATS = ("table", "csv", "json", "html")
TABLE_WIDTH = 100


def parse_format(value: str | None) -> str:
    chosen = (value or "table").strip().lower()
    if chosen not in FORMATS:
        raise InvalidInput(
            "format", value, _("must be one of {choices}").format(choices="|".join(FORMATS))
        )
    return chosen


def render(report: Report, fmt: str, *, width: int = TABLE_WIDTH) -> str:
    chosen = parse_format(fmt)
    if chosen == "csv":
        return render_csv(report)
    if chosen == "json":
        return render_json(report)
    if chosen == "html":
        return render_html(report)
    return render_table(report, width=width)


def say(value: str) -> str:
    """A report's title, heading or note in the language in force. Reports write them in
    English (what the CSV and JSON carry); a literal was marked with ``N_`` where the
    report was built, and text with figures in it is a ``kitops.reports.common.Phrase``
    (it keeps its message id and values, read here by name: documents do not import the
    report builders), whose figures are written as the language writes them."""
    msgid = getattr(value, "msgid", None)
    values = getattr(value, "values", None)
    if not isinstance(msgid, str) or not isinstance(values, dict):
        return _(value) if value else value
    return _(msgid).format(**{key: _said(item) for key, item in values.items()})


def label(value: str) -> str:
    """A chart's x label for people: a day (``kitops.reports.common.DayLabel``, read by
    its ``day``) with its month's abbreviation as the language in force writes it
    (``07 Dec``; ``7. Dez.`` in German), any other label said (``say``)."""
    day = getattr(value, "day", None)
    if isinstance(day, date):
        return formats.day_month(day)
    return say(value)


def _said(value: object) -> object:
    if isinstance(value, tuple):
        return ", ".join(str(_said(item)) for item in value)
    if isinstance(value, str):
        return say(value) if hasattr(value, "msgid") else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal | date):
        return text(value)
    return value


def text(value: Cell | Decimal) -> str:
    """A cell as the table and the page show it: dates, amounts and counts as the
    language in force writes them (``2026-12-04``, ``12.50 GBP``, ``1250`` in the neutral
    English; ``4.12.2026``, ``€ 12,50``, ``1.250`` in de_AT)."""
    if value is None:
        return ""
    if isinstance(value, Money):
        return formats.money(value)
    if isinstance(value, date):
        return formats.date(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return formats.number(value)
    return str(value)


_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


def _shown_values(key: str) -> dict[str, str]:
    """Stored values a column holds (a lot's status, a wastage reason...), as a person
    reads them in the language in force: the table and the page only."""
    if key == "status":
        return {
            "quarantine": pgettext("lot status", "quarantine"),
            "released": pgettext("lot status", "released"),
            "recalled": pgettext("lot status", "recalled"),
            "expired": pgettext("lot status", "expired"),
        }
    if key == "bucket":
        return {"expired": pgettext("lot status", "expired")}
    if key == "what":
        return {
            "vials": pgettext("wasted item", "vials"),
            "stamps": pgettext("wasted item", "stamps"),
            "consumables": pgettext("wasted item", "consumables"),
            "kits": pgettext("wasted item", "kits"),
        }
    if key == "reason":
        return {
            "damaged": pgettext("write-off reason", "damaged"),
            "opened": pgettext("write-off reason", "opened"),
            "expired": pgettext("write-off reason", "expired"),
            "other": pgettext("write-off reason", "other"),
            "expired_on_shelf": pgettext("write-off reason", "expired on shelf"),
            "receipt": pgettext("move reason", "receipt"),
            "opening": pgettext("move reason", "opening balance"),
            "transfer": pgettext("move reason", "transfer"),
            "count": pgettext("move reason", "count"),
            "write_off": pgettext("move reason", "write-off"),
            "expiry": pgettext("move reason", "expiry"),
            "kit_assembly": pgettext("move reason", "kit assembly"),
            "kit_disassembly": pgettext("move reason", "kit disassembly"),
            "dispatch": pgettext("move reason", "dispatch"),
            "return": pgettext("move reason", "return"),
            "session": pgettext("move reason", "session"),
        }
    return {}


def cell_text(column: Column, value: Cell) -> str:
    """A cell of ``column`` as the table and the page show it: ``text``, and a stored
    value (a status, a reason) in the language in force. English keeps the stored word."""
    if isinstance(value, str) and current_locale() != DEFAULT_LOCALE:
        if column.kind is Kind.DECIMAL and _DECIMAL.fullmatch(value):
            return formats.number(Decimal(value))  # "37.5" ml: 37,5 in German
        return _shown_values(column.key).get(value, value)
    return text(value)


def plain(value: Cell) -> str:
    """A cell as the CSV writes it, whatever the language: ISO dates, ``12.50 GBP``."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def amount(value: Money) -> str:
    """``Money(1250, "GBP")`` → ``"12.50"``."""
    return str(value.amount)


def _heading(report: Report) -> str:
    """The report's heading line in the CSV: English, whatever the language."""
    where = report.clinic or "all clinics"
    options = "".join(f", {key} {value}" for key, value in report.parameters)
    return f"{report.title}: {where}, as of {report.as_of}{options}"


def option_name(key: str) -> str:
    """A report option's name as a person reads it in the language in force (the CSV
    and the JSON keep the English key: ``within``, ``weeks``...)."""
    names = {
        "within": pgettext("report option", "within"),
        "days": pgettext("report option", "days"),
        "weeks": pgettext("report option", "weeks"),
        "months": pgettext("report option", "months"),
        "from": pgettext("report option", "from"),
        "to": pgettext("report option", "to"),
    }
    return names.get(key, key)


def option_value(value: str) -> str:
    """A report option's value as a person reads it: a count or an ISO day written as
    the language in force writes them (``2026-11-01``: ``1.11.2026`` in German)."""
    if value.isdigit():
        return formats.number(int(value))
    try:
        return formats.date(date.fromisoformat(value))
    except ValueError:
        return value


def options_said(report: Report) -> list[tuple[str, str]]:
    """The report's options, name and value, as a person reads them."""
    return [(option_name(key), option_value(value)) for key, value in report.parameters]


def heading(report: Report) -> str:
    """The report's heading line for people, in the language in force: its title, the
    clinic, the day and its options (``…, as of 2026-11-22, within 90``)."""
    options = "".join(f", {key} {value}" for key, value in options_said(report))
    if report.clinic:
        said = _("{title}: {clinic}, as of {date}").format(
            title=say(report.title), clinic=report.clinic, date=formats.date(report.as_of)
        )
    else:
        said = _("{title}: all clinics, as of {date}").format(
            title=say(report.title), date=formats.date(report.as_of)
        )
    return said + options


def section_count(section: Section) -> str:
    """``Lots and kits (12)``: a section's title and its lines, for people."""
    return _("{title} ({count})").format(
        title=say(section.title), count=formats.number(len(section.rows))
    )


# --- table ---------------------------------------------------------------------------


def render_table(report: Report, *, width: int = TABLE_WIDTH) -> str:
    """Plain fixed-width tables, one per section, never wider than ``width``: numbers and
    dates keep their full width (right-aligned), text columns give way with an ellipsis.
    (Laid out by ``kitops.domain.text_table``, as the command line's tables are, rather
    than by rich: a report can have tens of thousands of lines.)"""
    out = textwrap.wrap(visible(heading(report)), width=width)
    for section in report.sections:
        if not section.rows:
            out += [
                "",
                _("{title}: nothing to show").format(title=visible(say(section.title))),
            ]
            continue
        columns = [c for c in section.columns if c.in_table]
        titles = [visible(say(c.title)) for c in columns]
        index = [section.columns.index(c) for c in columns]
        cells = [
            [visible(cell_text(section.columns[i], row[i])) for i in index] for row in section.rows
        ]
        out += ["", visible(section_count(section))]
        out += text_table.render(
            titles,
            cells,
            right=[c.kind in NUMERIC for c in columns],
            shrinkable=[c.kind is Kind.TEXT for c in columns],
            width=width,
        )
    out.append("")
    out += [textwrap.fill(visible(say(note)), width=width) for note in report.notes]
    return "\n".join(out) + "\n"


# --- CSV -----------------------------------------------------------------------------


def csv_header(columns: tuple[Column, ...]) -> list[str]:
    header = []
    for column in columns:
        header.append(column.key)
        if column.kind is Kind.MONEY:
            header.append(f"{column.key}_currency")
    return header


def csv_cells(columns: tuple[Column, ...], row: tuple[Cell, ...]) -> list[CsvCell]:
    """A row's cells for the CSV: counts and amounts as numbers, the rest as text (which
    ``csvfiles.write_csv`` escapes when a spreadsheet would read it as a formula)."""
    cells: list[CsvCell] = []
    for column, value in zip(columns, row, strict=True):
        if column.kind is Kind.MONEY:
            if isinstance(value, Money):
                cells += [Decimal(amount(value)), value.currency]
            else:
                cells += ["", ""]
        elif column.kind is Kind.INT and isinstance(value, int):
            cells.append(value)
        else:
            cells.append(plain(value))
    return cells


def render_csv(report: Report) -> str:
    """Each section as a block: a ``# key: title`` line, the header, the rows, a blank
    line (spreadsheets open it as is; ``read_csv_sections`` reads it back)."""
    rows: list[list[CsvCell]] = [[f"# {_heading(report)}"]]
    for section in report.sections:
        rows.append([])
        rows.append([f"# {section.key}: {section.title}"])
        rows.append(list(csv_header(section.columns)))
        rows += [csv_cells(section.columns, row) for row in section.rows]
    return write_csv(rows)


def _unescaped(cell: str) -> str:
    """A cell as it was before ``csv_cell`` escaped it against formulas."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def read_csv_sections(content: str) -> dict[str, list[dict[str, str]]]:
    """The sections of a report CSV, by key, as dicts of the header's names."""
    sections: dict[str, list[dict[str, str]]] = {}
    current: str | None = None
    header: list[str] | None = None
    for cells in csv.reader(io.StringIO(content)):
        if not cells:
            current, header = None, None
        elif cells[0].startswith("# ") and len(cells) == 1:
            key = cells[0][2:].split(":", 1)[0]
            if ":" in cells[0] and " " not in key and current is None:
                current = key
                sections[current] = []
        elif current is not None and header is None:
            header = cells
        elif current is not None and header is not None:
            sections[current].append(dict(zip(header, map(_unescaped, cells), strict=True)))
    return sections


# --- JSON ----------------------------------------------------------------------------


def json_cell(value: Cell) -> Any:
    if isinstance(value, Money):
        return as_json(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def report_json(report: Report) -> dict[str, Any]:
    return {
        "report": report.name,
        "title": report.title,
        "as_of": report.as_of.isoformat(),
        "clinic": report.clinic,
        "parameters": dict(report.parameters),
        "sections": {
            section.key: [
                {c.key: json_cell(v) for c, v in zip(section.columns, row, strict=True)}
                for row in section.rows
            ]
            for section in report.sections
        },
        "notes": list(report.notes),
    }


def render_json(report: Report) -> str:
    return json_text(report_json(report), indent=2) + "\n"


# --- HTML ----------------------------------------------------------------------------

_TEMPLATES = Path(__file__).parent / "templates"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
# Colours for the charts, in series order (legible on white, distinct in grey print).
PALETTE = ("#2f6f8f", "#d08c2e", "#6a9a3a", "#a23b5b", "#6d5ea8", "#3a8f83", "#8f6a3a")


def chart_svg(chart: Chart) -> str:
    """One chart as an inline ``<svg>`` element: no XML declaration, no script."""
    import pygal
    from pygal.style import Style

    style = Style(
        background="white",
        plot_background="white",
        foreground="#333",
        foreground_strong="#111",
        foreground_subtle="#bbb",
        colors=PALETTE,
        font_family="system-ui, -apple-system, 'Segoe UI', sans-serif",
        label_font_size=11,
        major_label_font_size=11,
        legend_font_size=12,
        title_font_size=14,
    )
    kinds = {
        ChartKind.BAR: pygal.Bar,
        ChartKind.STACKED_BAR: pygal.StackedBar,
        ChartKind.LINE: pygal.Line,
    }
    graph = kinds[chart.kind](
        js=[],
        disable_xml_declaration=True,
        style=style,
        width=900,
        height=380,
        explicit_size=False,
        legend_at_bottom=True,
        legend_at_bottom_columns=6,
        x_label_rotation=30 if len(chart.x_labels) > 8 else 0,
        y_title=say(chart.y_title),
        show_minor_x_labels=True,
        print_values=False,
        margin=18,
        include_x_axis=True,
        title=say(chart.title),
    )
    graph.x_labels = [label(x) for x in chart.x_labels]
    # whole units: integer ticks, about ten of them (stacked bars: up to the largest sum)
    sums = [sum(values) for values in zip(*(s.values for s in chart.series), strict=True)]
    top = max(
        sums
        if chart.kind is ChartKind.STACKED_BAR
        else [v for s in chart.series for v in s.values],
        default=0,
    )
    step = max(1, -(-top // 10))
    graph.y_labels = list(range(0, top + step + 1, step))
    for series in chart.series:
        graph.add(say(series.name), list(series.values))
    svg: str = graph.render(is_unicode=True)
    # pygal leaves an inline config script for its (absent) tooltip code: a static page
    # needs neither
    return _SCRIPT.sub("", svg)


def _table(section: Section) -> dict[str, Any]:
    return {
        "key": section.key,
        "title": say(section.title),
        "columns": [{"title": say(c.title), "numeric": c.kind in NUMERIC} for c in section.columns],
        "rows": [
            [cell_text(c, v) for c, v in zip(section.columns, row, strict=True)]
            for row in section.rows
        ],
    }


def template_environment() -> Any:
    """Jinja2 with kitops' translations installed (``jinja2.ext.i18n``): a template's
    ``{{ _("...") }}`` and ``{% trans %}`` speak the language in force when it renders."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from kitops import i18n

    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    return env


def render_html(report: Report) -> str:
    from markupsafe import Markup

    template = template_environment().get_template("report.html.j2")
    page: str = template.render(
        lang=current_locale().replace("_", "-"),
        heading=heading(report),
        title=say(report.title),
        as_of=formats.date(report.as_of),
        report=report,
        parameters=dict(options_said(report)),
        charts=[Markup(chart_svg(chart)) for chart in report.charts],
        sections=[_table(section) for section in report.sections],
        notes=[say(note) for note in report.notes],
    )
    return page


def export_report(report: Report, fmt: str, out: str) -> ReportExport:
    """Write a report to ``out`` in one of the reports' file formats (csv, json, html),
    rendered exactly as ``kitops report --out`` writes it."""
    chosen = parse_format(fmt)
    if chosen == "table":
        raise InvalidInput("format", fmt, _("must be csv, json or html for a file"))
    if not out.strip():
        raise InvalidInput("out", out, _("give the file to write"))
    path = Path(out.strip()).expanduser()
    content = render(report, chosen)
    try:
        path.write_text(content, encoding="utf-8")
    except OSError as error:
        raise InvalidInput("out", out, error.strerror or _("cannot be written")) from None
    return ReportExport(report.name, chosen, str(path), len(content.encode("utf-8")))
