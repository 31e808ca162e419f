"""Stock on hand (filter by clinic, location, SKU, status; filtered and paged in the
query) and what expires in the next 30, 60 or 90 days: ``kitops.views.pages.stock_page``,
as the terminal UI's Stock screen reads it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kitops.errors import InvalidInput
from kitops.i18n import _
from kitops.views import choices as choice_lists
from kitops.views import pages
from kitops.web.pages.common import CurrentCaller, PageRoute, door, must_be_one_of, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50
EXPIRY_WINDOWS = (30, 60, 90)


def _offset(value: int) -> int:
    if value < 0:
        raise InvalidInput("offset", value, _("must be 0 or more"))
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
        raise InvalidInput(
            "status",
            status,
            must_be_one_of(pages.STOCK_SHOWS),
        )
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
    request: Request, caller: CurrentCaller, days: int = 30, clinic: str = "", offset: int = 0
) -> Response:
    """Usable lots expiring within ``days``, earliest first: the window and the page are
    the query's (a page of PAGE lines; the count and the units over every line)."""
    if days not in EXPIRY_WINDOWS:
        raise InvalidInput("days", days, _("must be 30, 60 or 90"))
    page = pages.stock_page(door(request).reading(caller), clinic=clinic or None,
                            show="expiring", sort="expiry", offset=_offset(offset), limit=PAGE,
                            within_days=days, count_units=True)  # fmt: skip
    offered = choice_lists.choices(door(request).reading(caller))
    return render(request, "expiring.html", caller, page=page, lines=page.lines, days=days,
                  clinic=clinic, windows=EXPIRY_WINDOWS, clinics=offered.clinics,
                  units=page.units or 0, size=PAGE)  # fmt: skip
