"""Reports (managers and admins): every report of ``kitops report``, with its charts, on
a page whose options are in the query string, and its CSV, JSON and HTML downloads
(rendered exactly as ``kitops report --out`` writes them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from kitops.errors import InvalidInput
from kitops.reports.registry import REPORTS, ReportSpec, run_report
from kitops.services.dto.reports import NUMERIC, Report, ReportRequest
from kitops.web.door import Caller
from kitops.web.pages.common import CurrentCaller, PageRoute, door, render

router = APIRouter(route_class=PageRoute)

DOWNLOADS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
             "html": "text/html; charset=utf-8"}  # fmt: skip


def _spec(name: str) -> ReportSpec:
    spec = REPORTS.get(name)
    if spec is None:
        raise InvalidInput("report", name, f"must be one of {'|'.join(REPORTS)}")
    return spec


def _build(request: Request, caller: Caller, spec: ReportSpec) -> Report:
    query = request.query_params
    options = {o.name: query[o.name] for o in spec.options if query.get(o.name, "").strip()}
    asked = ReportRequest(clinic=query.get("clinic") or None,
                          as_of=query.get("as_of") or None, options=options)  # fmt: skip
    return run_report(door(request).reading(caller), spec.name, asked)


# the most lines a section shows on the page: a report of a whole ledger (tens of
# thousands of lots) is read in its downloads, which always hold every line
SHOWN_ROWS = 500


def _section(section: Any) -> dict[str, Any]:
    from kitops.documents import report_files  # the files' text rules (loaded on first use)

    numeric = NUMERIC
    return {
        "title": section.title,
        "columns": [(c.title, c.kind in numeric) for c in section.columns],
        "rows": [[report_files.text(v) for v in row] for row in section.rows[:SHOWN_ROWS]],
        "total": len(section.rows),
    }


@router.get("/reports")
def reports_page(request: Request, caller: CurrentCaller) -> Response:
    return render(request, "reports.html", caller, reports=list(REPORTS.values()))


@router.get("/reports/{name}")
def report_page(request: Request, caller: CurrentCaller, name: str) -> Response:
    from kitops.documents import report_files  # charts and files (loaded on first use)

    spec = _spec(name)
    report = _build(request, caller, spec)
    query = request.url.query
    return render(
        request, "report.html", caller, spec=spec, report=report,
        charts=[Markup(report_files.chart_svg(chart)) for chart in report.charts],
        sections=[_section(s) for s in report.sections], downloads=list(DOWNLOADS),
        suffix=f"?{query}" if query else "", values=request.query_params,
    )  # fmt: skip


@router.get("/reports/{name}/download.{fmt}")
def report_download(request: Request, caller: CurrentCaller, name: str, fmt: str) -> Response:
    if fmt not in DOWNLOADS:
        raise InvalidInput("format", fmt, f"must be one of {'|'.join(DOWNLOADS)}")
    from kitops.documents import report_files

    report = _build(request, caller, _spec(name))
    return Response(
        report_files.render(report, fmt), media_type=DOWNLOADS[fmt],
        headers={"Content-Disposition":
                 f'attachment; filename="{report.name}-{report.as_of.isoformat()}.{fmt}"'},
    )  # fmt: skip
