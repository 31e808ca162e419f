"""``/api/v1/reports``: every report of the registry, as the JSON ``kitops report NAME
--format json`` prints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from kitops.reports.registry import REPORTS, run_report
from kitops.services.dto.reports import ReportRequest
from kitops.web.api.common import caller, door_of, found
from kitops.web.door import Caller

router = APIRouter(tags=["reports"])
COMMON = ("clinic", "as_of")


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
) -> Response:
    """One report (managers): its sections' columns and rows, totals and charts' series.
    The report's own options are query parameters of the same names (``within=60d``)."""
    from kitops.documents.report_files import report_json  # loaded on first use

    options = {k: v for k, v in request.query_params.items() if k not in COMMON}
    with found("report"):
        built = run_report(
            door_of(request).reading(who), name, ReportRequest(clinic, as_of, options)
        )
    return JSONResponse(report_json(built))
