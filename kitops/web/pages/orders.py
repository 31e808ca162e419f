"""Orders and payments: the list, one order with its lines, payments and refunds, and a
refund at Stripe for managers (money only, or the kits back sealed or written off)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kitops.errors import InvalidInput, KitopsError
from kitops.i18n import N_, _, formats
from kitops.services import orders
from kitops.views import choices as choice_lists
from kitops.views import pages
from kitops.web.pages.common import (
    CheckedForm,
    CurrentCaller,
    PageRoute,
    door,
    must_be_one_of,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50
RESTOCK = {
    "none": N_("money only: the kits stay with the patient"),
    "sealed": N_("the kits come back sealed: back in stock, the course is cancelled"),
    "write-off": N_("the kits were opened: written off, the course is cancelled"),
}


@router.get("/orders")
def orders_page(
    request: Request,
    caller: CurrentCaller,
    clinic: str = "",
    status: str = "",
    q: str = "",
    offset: int = 0,
) -> Response:
    if offset < 0:
        raise InvalidInput("offset", offset, _("must be 0 or more"))
    page = pages.orders_page(door(request).reading(caller), clinic=clinic or None,
                             status=status or None, search=q.strip(), offset=offset,
                             limit=PAGE)  # fmt: skip
    offered = choice_lists.choices(door(request).reading(caller))
    return render(request, "orders.html", caller, page=page, clinic=clinic, status=status, q=q,
                  clinics=offered.clinics, size=PAGE, partial="_orders_table.html")  # fmt: skip


@router.get("/orders/{order_id}")
def order_page(request: Request, caller: CurrentCaller, order_id: str) -> Response:
    order = orders.show_order(door(request).reading(caller), order_id)
    return render(request, "order.html", caller, order=order, restock=RESTOCK,
                  done=request.query_params.get("done"))  # fmt: skip


@router.post("/orders/{order_id}/refund")
def refund_order(
    request: Request, caller: CurrentCaller, form: CheckedForm, order_id: str
) -> Response:
    restock = form.get("restock", "none")
    if restock not in RESTOCK:
        raise InvalidInput("restock", restock, must_be_one_of(RESTOCK))
    the_door = door(request)
    gateway: Any
    try:
        gateway = the_door.gateway()
    except KitopsError:
        gateway = None  # the service checks the order first, then names what is missing
    # typed as the manager's locale writes it (12,50 in German), passed on as 12.50
    typed = form.get("amount", "").strip()
    amount = str(formats.parse_decimal_input(typed, "amount")) if typed else None
    order = orders.refund_order(the_door.writing(caller), gateway, order_id, amount=amount,
                                restock=None if restock == "none" else restock)  # fmt: skip
    return RedirectResponse(f"/orders/{order.id}?done=refund", status_code=303)
