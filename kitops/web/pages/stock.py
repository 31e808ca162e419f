"""Stock on hand (filter by clinic, location, SKU, status; filtered and paged in the
query) and what expires in the next 30, 60 or 90 days: ``kitops.views.pages.stock_page``,
as the terminal UI's Stock screen reads it."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kitops.errors import InvalidInput
from kitops.views import choices as choice_lists
from kitops.views import pages
from kitops.views.dto import StockPage
from kitops.web.door import Caller
from kitops.web.pages.common import CurrentCaller, PageRoute, door, render

router = APIRouter(route_class=PageRoute)

PAGE = 50
EXPIRY_WINDOWS = (30, 60, 90)
# the most lines the expiring page lists (90 days of a clinic group's stock)
EXPIRING_MOST = 5000


def _every_line(
    request: Request,
    caller: Caller,
    *,
    clinic: str | None,
    search: str,
    show: str,
    sort: str,
    within_days: int | None = None,
) -> StockPage:
    """Up to EXPIRING_MOST lines of stock, read a page at a time (the read side answers
    a page of at most a thousand lines); ``within_days``: sorted by expiry, stop once
    the lines lie past that many days."""
    the_door = door(request)
    found = pages.stock_page(the_door.reading(caller), clinic=clinic, search=search,
                             show=show, sort=sort, offset=0, limit=EXPIRING_MOST)  # fmt: skip
    lines = list(found.lines)
    while found.lines and len(lines) < min(found.total, EXPIRING_MOST):
        last = lines[-1].days_to_expiry
        if within_days is not None and last is not None and last > within_days:
            break
        found = pages.stock_page(the_door.reading(caller), clinic=clinic, search=search,
                                 show=show, sort=sort, offset=len(lines),
                                 limit=EXPIRING_MOST - len(lines))  # fmt: skip
        lines += found.lines
    return replace(found, lines=tuple(lines), offset=0)


def _offset(value: int) -> int:
    if value < 0:
        raise InvalidInput("offset", value, "must be 0 or more")
    return value


@router.get("/stock")
def stock_page(
    request: Request,
    caller: CurrentCaller,
    clinic: str = "",
    location: str = "",
    sku: str = "",
    q: str = "",
    status: str = "all",
    sort: str = "expiry",
    offset: int = 0,
) -> Response:
    if status not in pages.STOCK_SHOWS:
        raise InvalidInput("status", status, f"must be one of {'|'.join(pages.STOCK_SHOWS)}")
    page = pages.stock_page(door(request).reading(caller), clinic=clinic or None,
                            location=location.strip() or None, sku=sku.strip() or None,
                            search=q.strip(), show=status, sort=sort, offset=_offset(offset),
                            limit=PAGE)  # fmt: skip
    offered = choice_lists.choices(door(request).reading(caller))
    return render(
        request, "stock.html", caller, page=page, clinic=clinic, location=location, sku=sku,
        q=q, status=status, sort=sort, statuses=pages.STOCK_SHOWS, sorts=pages.STOCK_SORTS,
        clinics=offered.clinics,
        places=[p for p in offered.places if not clinic or p.clinic == clinic],
        size=PAGE, partial="_stock_table.html",
    )  # fmt: skip


@router.get("/expiring")
def expiring_page(
    request: Request, caller: CurrentCaller, days: int = 30, clinic: str = ""
) -> Response:
    if days not in EXPIRY_WINDOWS:
        raise InvalidInput("days", days, "must be 30, 60 or 90")
    found = _every_line(request, caller, clinic=clinic or None, search="", show="expiring",
                        sort="expiry", within_days=days)  # fmt: skip
    lines = [
        line for line in found.lines
        if line.days_to_expiry is not None and line.days_to_expiry <= days
    ]  # fmt: skip
    offered = choice_lists.choices(door(request).reading(caller))
    return render(request, "expiring.html", caller, lines=lines, days=days, clinic=clinic,
                  windows=EXPIRY_WINDOWS, clinics=offered.clinics,
                  units=sum(line.quantity for line in lines))  # fmt: skip
