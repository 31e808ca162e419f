"""``/api/v1/reports``: every report of the registry, as the JSON ``kitops report NAME
--format json`` prints, with the report's line section (one line per lot, move...) a page
at a time: ``limit`` and ``cursor`` as in every API list, ``page`` saying the lines in all
and the ``next`` link. Totals and notes cover every line; the downloads of the pages
(``/reports/NAME/download.json``) and ``kitops report`` hold every line."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from kitops.errors import InvalidInput
from kitops.reports.registry import REPORTS, run_report
from kitops.services.dto.reports import ReportRequest, Window
from kitops.web.api import PREFIX
from kitops.web.api.common import caller, door_of, found, make_cursor, read_cursor
from kitops.web.door import Caller

router = APIRouter(prefix=PREFIX, tags=["reports"])
COMMON = ("clinic", "as_of", "limit", "cursor")
# lines of a report's line section per page (the reports page shows as many)
LINES_DEFAULT = 500
LINES_MAX = 1000


class ReportOptionInfo(BaseModel):
    name: str
    help: str
    default: str | None


class ReportInfo(BaseModel):
    name: str
    summary: str
    options: list[ReportOptionInfo]


@router.get("/reports", response_model=list[ReportInfo])
def list_reports(who: Annotated[Caller, Depends(caller)]) -> list[ReportInfo]:
    """The reports and their own options (each also takes ``clinic`` and ``as_of``)."""
    return [
        ReportInfo(
            name=spec.name,
            summary=spec.summary,
            options=[
                ReportOptionInfo(name=o.name, help=o.help, default=o.default) for o in spec.options
            ],
        )
        for spec in REPORTS.values()
    ]


@router.get("/reports/{name}", response_model=dict[str, Any])
def report(
    request: Request,
    name: str,
    who: Annotated[Caller, Depends(caller)],
    clinic: str | None = None,
    as_of: str | None = None,
    limit: int = LINES_DEFAULT,
    cursor: str | None = None,
) -> Response:
    """One report (managers): its sections' rows, totals and notes. The report's own
    options are query parameters of the same names (``within=60d``). The line section
    (``page.section``) holds ``limit`` lines (1-1000, default 500) from ``cursor``;
    ``page.total`` counts them all and ``page.next`` links the next page (null on the
    last)."""
    from kitops.documents.report_files import report_json  # loaded on first use

    offset = read_cursor(cursor)
    if not 1 <= limit <= LINES_MAX:
        raise InvalidInput("limit", limit, f"must be 1-{LINES_MAX}")
    options = {k: v for k, v in request.query_params.items() if k not in COMMON}
    asked = ReportRequest(clinic, as_of, options, Window(offset, limit))
    with found("report"):
        built = run_report(door_of(request).reading(who), name, asked)
    body = report_json(built)
    lines = next((s for s in built.sections if s.total is not None), None)
    if lines is not None:
        after = lines.offset + len(lines.rows)
        more = after < lines.lines_in_all and bool(lines.rows)
        body["page"] = {
            "section": lines.key, "total": lines.lines_in_all, "offset": lines.offset,
            "limit": limit,
            "next": str(request.url.include_query_params(cursor=make_cursor(after), limit=limit))
            if more else None,
        }  # fmt: skip
    return JSONResponse(body)
