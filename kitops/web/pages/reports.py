"""Reports (managers and admins): every report of ``kitops report``, with its charts, on
a page whose options are in the query string, and its CSV, JSON and HTML downloads
(rendered exactly as ``kitops report --out`` writes them). A report's line section is
shown a page at a time (``offset`` in the query string: stable links to each page); its
totals and notes cover every line, and the downloads hold every line."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from kitops.errors import InvalidInput
from kitops.i18n import _
from kitops.reports.registry import REPORTS, ReportSpec, run_report
from kitops.services.dto.reports import NUMERIC, Report, ReportRequest, Window
from kitops.web.door import Caller
from kitops.web.pages.common import CurrentCaller, PageRoute, door, must_be_one_of, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DOWNLOADS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
             "html": "text/html; charset=utf-8"}  # fmt: skip


def _spec(name: str) -> ReportSpec:
    spec = REPORTS.get(name)
    if spec is None:
        raise InvalidInput("report", name, must_be_one_of(REPORTS))
    return spec


def _build(
    request: Request, caller: Caller, spec: ReportSpec, window: Window | None = None
) -> Report:
    query = request.query_params
    options = {o.name: query[o.name] for o in spec.options if query.get(o.name, "").strip()}
    asked = ReportRequest(clinic=query.get("clinic") or None,
                          as_of=query.get("as_of") or None, options=options,
                          window=window)  # fmt: skip
    return run_report(door(request).reading(caller), spec.name, asked)


# the lines a page shows of a report's line section (a report of a whole ledger has tens
# of thousands, one per lot); the other sections are short, and shown up to this many
SHOWN_ROWS = 500


def _offset(text: str | None) -> int:
    value = (text or "0").strip()
    if not value.isdigit():
        raise InvalidInput("offset", text, _("must be a whole number, 0 or more"))
    return int(value)


def _link(request: Request, offset: int) -> str:
    """This page's address (path and query) with the line section from ``offset``."""
    url = request.url.include_query_params(offset=offset)
    return f"{url.path}?{url.query}"


def _section(section: Any, request: Request) -> dict[str, Any]:
    from kitops.documents import report_files  # the files' text rules (loaded on first use)

    rows = section.rows if section.total is not None else section.rows[:SHOWN_ROWS]
    # the cells' HTML written here, escaped, rather than by the template: a page holds
    # thousands of cells and the template's loop costs ten times as much
    # (its words in the reader's language: titles, headings, stored words, figures)
    columns = section.columns
    opening = ['<td class="n">' if c.kind in NUMERIC else "<td>" for c in columns]
    cell = report_files.cell_text
    say = report_files.say
    shown = {
        "title": say(section.title),
        "columns": [(say(c.title), c.kind in NUMERIC) for c in columns],
        "rows": [
            Markup(
                "".join(
                    f"{td}{escape(cell(c, v))}</td>"
                    for td, c, v in zip(opening, columns, row, strict=True)
                )
            )
            for row in rows
        ],
        "total": section.lines_in_all,
        "first": section.offset + 1,
        "last": section.offset + len(rows),
        "previous": None,
        "next": None,
    }
    if section.total is not None:  # the line section: links to the pages either side
        if section.offset > 0:
            before = max(0, min(section.offset, section.total) - SHOWN_ROWS)
            shown["previous"] = _link(request, before)
        if section.offset + len(rows) < section.total:
            after = section.offset + len(rows)
            shown["next"] = _link(request, after)
    return shown


@router.get("/reports")
def reports_page(request: Request, caller: CurrentCaller) -> Response:
    return render(request, "reports.html", caller, reports=list(REPORTS.values()))


@router.get("/reports/{name}")
def report_page(request: Request, caller: CurrentCaller, name: str) -> Response:
    from kitops.documents import report_files  # charts and files (loaded on first use)

    spec = _spec(name)
    offset = _offset(request.query_params.get("offset"))
    report = _build(request, caller, spec, Window(offset, SHOWN_ROWS))
    # the downloads hold every line: the page's offset is not theirs
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "offset"])
    return render(
        request, "report.html", caller, spec=spec, report=report,
        title=report_files.say(report.title), notes=[report_files.say(n) for n in report.notes],
        options=report_files.options_said(report),
        option_names={o.name: report_files.option_name(o.name) for o in spec.options},
        charts=[Markup(report_files.chart_svg(chart)) for chart in report.charts],
        sections=[_section(s, request) for s in report.sections], downloads=list(DOWNLOADS),
        suffix=f"?{query}" if query else "", values=request.query_params,
    )  # fmt: skip


@router.get("/reports/{name}/download.{fmt}")
def report_download(request: Request, caller: CurrentCaller, name: str, fmt: str) -> Response:
    if fmt not in DOWNLOADS:
        raise InvalidInput("format", fmt, must_be_one_of(DOWNLOADS))
    from kitops.documents import report_files
    from kitops.i18n import use_clinic_locale
    from kitops.services.locales import document_locale

    # a file for one clinic in its locale (for every clinic: the reader's language)
    clinic = document_locale(door(request).reading(caller),
                             clinic=request.query_params.get("clinic") or None)  # fmt: skip
    with use_clinic_locale(clinic):
        report = _build(request, caller, _spec(name))
        body = report_files.render(report, fmt)
    return Response(
        body, media_type=DOWNLOADS[fmt],
        headers={"Content-Disposition":
                 f'attachment; filename="{report.name}-{report.as_of.isoformat()}.{fmt}"'},
    )  # fmt: skip
