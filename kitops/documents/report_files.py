"""A report as a terminal table, CSV, JSON or one self-contained HTML page.

Every format prints the cells of the report's sections and nothing else, so the numbers
agree by construction (and a test checks it). Money is ``12.50 GBP`` in the table and the
page, an amount column plus a ``<column>_currency`` column in the CSV, and
``{"amount_minor": 1250, "currency": "GBP"}`` in the JSON. The page inlines its CSS and
its charts (SVG drawn by pygal, without pygal's tooltip script), so it fetches nothing.
Rendering libraries are imported when a format needs them.
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

from kitops.domain.money import Money
from kitops.domain.text import json_text, visible
from kitops.errors import InvalidInput
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
        raise InvalidInput("format", value, f"must be one of {'|'.join(FORMATS)}")
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


def text(value: Cell) -> str:
    """A cell as the table and the page show it."""
    if value is None:
        return ""
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def amount(value: Money) -> str:
    """``Money(1250, "GBP")`` → ``"12.50"``."""
    return str(value.amount)


def _heading(report: Report) -> str:
    where = report.clinic or "all clinics"
    options = "".join(f", {key} {value}" for key, value in report.parameters)
    return f"{report.title}: {where}, as of {report.as_of}{options}"


# --- table ---------------------------------------------------------------------------


def render_table(report: Report, *, width: int = TABLE_WIDTH) -> str:
    """Plain fixed-width tables, one per section, never wider than ``width``: numbers and
    dates keep their full width (right-aligned), text columns give way with an ellipsis.
    (Laid out here rather than by rich: a report can have tens of thousands of lines.)"""
    out = textwrap.wrap(visible(_heading(report)), width=width)
    for section in report.sections:
        if not section.rows:
            out += ["", f"{visible(section.title)}: nothing to show"]
            continue
        columns = [c for c in section.columns if c.in_table]
        index = [section.columns.index(c) for c in columns]
        cells = [[visible(text(row[i])) for i in index] for row in section.rows]
        widths = [
            max([len(column.title), *(len(row[n]) for row in cells)])
            for n, column in enumerate(columns)
        ]
        cap = _text_cap(columns, widths, width)
        widths = [
            w if c.kind is not Kind.TEXT else max(len(c.title), min(w, cap))
            for c, w in zip(columns, widths, strict=True)
        ]
        right = [c.kind in NUMERIC for c in columns]

        out += ["", f"{section.title} ({len(section.rows)})"]
        out.append(_line([c.title for c in columns], widths, right))
        out.append("─" * (sum(widths) + 2 * (len(widths) - 1)))
        out += [_line(row, widths, right) for row in cells]
    out.append("")
    out += [textwrap.fill(visible(note), width=width) for note in report.notes]
    return "\n".join(out) + "\n"


def _line(values: list[str], widths: list[int], right: list[bool]) -> str:
    parts = []
    for value, size, to_right in zip(values, widths, right, strict=True):
        shown = value if len(value) <= size else value[: size - 1] + "…"
        parts.append(shown.rjust(size) if to_right else shown.ljust(size))
    return "  ".join(parts).rstrip()


def _text_cap(columns: list[Column], widths: list[int], width: int) -> int:
    """The widest a text column may be for the table to fit ``width`` (two characters
    between columns): the largest cap whose capped text widths fit what numbers leave."""
    room = width - 2 * (len(columns) - 1)
    room -= sum(w for c, w in zip(columns, widths, strict=True) if c.kind is not Kind.TEXT)
    text_widths = sorted(w for c, w in zip(columns, widths, strict=True) if c.kind is Kind.TEXT)
    if sum(text_widths) <= room or not text_widths:
        return max(widths, default=0)
    cap = max(text_widths)
    while cap > 1 and sum(min(w, cap) for w in text_widths) > room:
        cap -= 1
    return cap


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
            cells.append(text(value))
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
        y_title=chart.y_title,
        show_minor_x_labels=True,
        print_values=False,
        margin=18,
        include_x_axis=True,
        title=chart.title,
    )
    graph.x_labels = list(chart.x_labels)
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
        graph.add(series.name, list(series.values))
    svg: str = graph.render(is_unicode=True)
    # pygal leaves an inline config script for its (absent) tooltip code: a static page
    # needs neither
    return _SCRIPT.sub("", svg)


def _table(section: Section) -> dict[str, Any]:
    return {
        "key": section.key,
        "title": section.title,
        "columns": [{"title": c.title, "numeric": c.kind in NUMERIC} for c in section.columns],
        "rows": [[text(v) for v in row] for row in section.rows],
    }


def render_html(report: Report) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    return template.render(
        heading=_heading(report),
        report=report,
        parameters=dict(report.parameters),
        charts=[Markup(chart_svg(chart)) for chart in report.charts],
        sections=[_table(section) for section in report.sections],
    )


def export_report(report: Report, fmt: str, out: str) -> ReportExport:
    """Write a report to ``out`` in one of the reports' file formats (csv, json, html),
    rendered exactly as ``kitops report --out`` writes it."""
    chosen = parse_format(fmt)
    if chosen == "table":
        raise InvalidInput("format", fmt, "must be csv, json or html for a file")
    if not out.strip():
        raise InvalidInput("out", out, "give the file to write")
    path = Path(out.strip()).expanduser()
    content = render(report, chosen)
    try:
        path.write_text(content, encoding="utf-8")
    except OSError as error:
        raise InvalidInput("out", out, error.strerror or "cannot be written") from None
    return ReportExport(report.name, chosen, str(path), len(content.encode("utf-8")))
