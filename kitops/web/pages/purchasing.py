"""Purchase orders: the list (filtered by status, supplier and clinic), one order with
its lines and money, approve / send / cancel for managers, and the PDF the supplier
receives (the same document as ``kitops po export --format pdf``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kitops.domain.purchasing import PO_STATUSES
from kitops.errors import InvalidInput
from kitops.i18n import formats
from kitops.services import locations, purchasing
from kitops.views import choices as choice_lists
from kitops.web.door import Caller
from kitops.web.pages.common import (
    CheckedForm,
    CurrentCaller,
    PageRoute,
    door,
    must_be_one_of,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATUSES = ("open", *PO_STATUSES)
ACTIONS = ("approve", "send", "cancel")


def _filters(request: Request, caller: Caller) -> dict[str, Any]:
    the_door = door(request)
    return {
        "clinics": choice_lists.choices(the_door.reading(caller)).clinics,
        "suppliers": purchasing.list_suppliers(the_door.reading(caller)),
        "statuses": STATUSES,
    }


@router.get("/purchase-orders")
def order_list(
    request: Request,
    caller: CurrentCaller,
    status: str | None = None,
    supplier: str | None = None,
    clinic: str | None = None,
) -> Response:
    status, supplier, clinic = status or None, supplier or None, clinic or None
    orders = purchasing.list_orders(
        door(request).reading(caller), status=status, supplier=supplier, clinic=clinic
    )
    return render(request, "po_list.html", caller, orders=orders, wanted_status=status,
                  supplier=supplier, clinic=clinic, **_filters(request, caller))  # fmt: skip


def _detail(
    request: Request, caller: Caller, number: str, *, status: int = 200, error: str | None = None
) -> Response:
    order = purchasing.show_order(door(request).reading(caller), number)
    places = locations.list_locations(door(request).reading(caller))
    zone = next((p.timezone for p in places if p.code == order.clinic and p.timezone), "UTC")
    return render(
        request, "po_detail.html", caller, order=order, error=error, status_code=status,
        made_at=_at(order.created_at, zone), sent_at=_at(order.sent_at, zone),
    )  # fmt: skip


def _at(moment: datetime | None, zone: str) -> str:
    """A moment on the clinic's clock, with its zone, in the reader's format:
    ``2026-11-22 12:00 GMT`` (neutral), ``22.11.2026, 12:00 GMT`` (de)."""
    if moment is None:
        return "–"
    local = moment.astimezone(ZoneInfo(zone))
    return f"{formats.datetime(local)} {local.tzname()}"


@router.get("/purchase-orders/{number}")
def order_detail(request: Request, caller: CurrentCaller, number: str) -> Response:
    return _detail(request, caller, number)


@router.get("/purchase-orders/{number}/pdf")
def order_pdf(request: Request, caller: CurrentCaller, number: str) -> Response:
    from kitops.documents.purchase_orders import order_pdf as pdf
    from kitops.i18n import use_clinic_locale
    from kitops.services.locales import document_locale

    paper = purchasing.order_paper(door(request).reading(caller), number)
    with use_clinic_locale(document_locale(door(request).reading(caller), clinic=paper.clinic)):
        body = pdf(paper)  # in the ordering clinic's locale, whoever asks
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{paper.number}.pdf"'},
    )


@router.post("/purchase-orders/{number}/{action}")
def order_action(
    request: Request, caller: CurrentCaller, form: CheckedForm, number: str, action: str
) -> Response:
    if action not in ACTIONS:
        raise InvalidInput("action", action, must_be_one_of(ACTIONS))
    reason = form.get("reason") if action == "cancel" else None
    try:
        done = purchasing.change_status(door(request).writing(caller), number, action,
                                        reason=reason)  # fmt: skip
    except InvalidInput as error:  # shown beside the form it came from
        return _detail(request, caller, number, status=422, error=str(error))
    return RedirectResponse(f"/purchase-orders/{done.number}", status_code=303)
