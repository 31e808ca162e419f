"""``/api/v1/stock``, ``/api/v1/receipts`` and ``/api/v1/counts``: what is on hand, stock
arriving (with its lot and expiry) and count sheets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kitops.domain.ledger import parse_date
from kitops.errors import InvalidInput
from kitops.services import operations
from kitops.services.dto import stock as stock_dto
from kitops.views import pages
from kitops.web.api import PREFIX
from kitops.web.api.common import (
    LIMIT_DEFAULT,
    Page,
    body_digest,
    caller,
    change,
    check_limit,
    door_of,
    page,
    read_cursor,
)
from kitops.web.door import Caller

router = APIRouter(prefix=PREFIX, tags=["stock"])

STATUSES = ("usable", "unusable", "released", "quarantine", "expired", "recalled")
# the API's status filter as the stock page's query names it (a released lot past its day
# reads as expired, so "released" lists what is usable)
SHOWS = {"usable": "usable", "unusable": "unusable", "released": "usable",
         "quarantine": "quarantine", "expired": "expired", "recalled": "recalled"}  # fmt: skip


@router.get("/stock", response_model=Page[stock_dto.StockLine])
def list_stock(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    clinic: str | None = None,
    location: str | None = None,
    sku: str | None = None,
    status: Annotated[str | None, Query(description="|".join(STATUSES))] = None,
    as_of: Annotated[str | None, Query(description="judge expiry on this day")] = None,
    limit: int = LIMIT_DEFAULT,
    cursor: str | None = None,
) -> Response:
    """Stock on hand per lot and location, earliest expiry first (then SKU, lot and
    location), filtered and paged in the query. ``location`` takes a clinic or any
    location below one (its whole subtree); expiry is judged on ``as_of`` (YYYY-MM-DD;
    default: today in each clinic)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", status, f"must be one of {'|'.join(STATUSES)}")
    offset, size = read_cursor(cursor), check_limit(limit)
    found = pages.stock_page(
        door_of(request).reading(who), clinic=clinic or None, location=location or None,
        sku=sku or None, show=SHOWS[status] if status else "all", offset=offset, limit=size,
        today=parse_date(as_of, "as_of") if as_of else None,
    )  # fmt: skip
    return page(request, found.lines, found.total, offset, size)


class ReceiptBody(BaseModel):
    """Stock arriving at a physical location: SKU, lot and expiry (or a GS1 scan that
    carries them), quantity; optionally against a purchase order, at a unit cost."""

    location: str
    sku: str | None = None
    lot: str | None = None
    expiry: str | None = Field(None, description="YYYY-MM-DD")
    quantity: int | None = None
    scan: str | None = Field(None, description="a GS1 barcode's text (SKU, lot, expiry)")
    po: str | None = None
    cost: str | None = Field(None, description="unit cost, e.g. 12.50")
    currency: str | None = None
    accept_short_dated: bool = False
    confirm_over_receipt: bool = False
    foreign_currency: bool = False


@router.post("/receipts", response_model=stock_dto.Receipt, status_code=201)
def receive(
    request: Request,
    body: ReceiptBody,
    who: Annotated[Caller, Depends(caller)],
    digest: Annotated[str, Depends(body_digest)],
) -> Response:
    """Receive stock (stockroom staff and up). Send an ``Idempotency-Key`` so a retry
    never receives twice."""
    given = operations.ReceiptInput(**body.model_dump())
    return change(request, who, digest, lambda uow: operations.receive(uow, given), status=201)


class CountedBody(BaseModel):
    sku: str
    lot: str = ""
    counted: int


class CountBody(BaseModel):
    """A count sheet for one location; with ``full`` every lot on record there that is
    not on the sheet counts as zero."""

    location: str
    lines: list[CountedBody]
    full: bool = False


@router.post("/counts", response_model=stock_dto.CountReport)
def apply_count(
    request: Request,
    body: CountBody,
    who: Annotated[Caller, Depends(caller)],
    digest: Annotated[str, Depends(body_digest)],
) -> Response:
    """Apply a count sheet at one location in one transaction (stockroom staff and up)."""
    sheet = [
        operations.CountedLine(index, line.sku, line.lot, line.counted)
        for index, line in enumerate(body.lines, start=1)
    ]
    return change(
        request, who, digest, lambda uow: operations.count(uow, body.location, sheet,
                                                           full=body.full)
    )  # fmt: skip
