"""Purchase orders: the list, one order with approve, send and cancel for managers, and
the order as the supplier reads it (PDF)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kitops.documents.purchase_orders import order_pdf
from kitops.errors import InvalidInput
from kitops.services import purchasing
from kitops.views import choices as choice_lists
from kitops.views import pages
from kitops.web.pages.common import CheckedForm, CurrentCaller, PageRoute, door, render

router = APIRouter(route_class=PageRoute)

ACTIONS = ("approve", "send", "cancel")


@router.get("/purchase-orders")
def purchase_orders_page(
    request: Request, caller: CurrentCaller, status: str = "open", clinic: str = "", q: str = ""
) -> Response:
    found = pages.purchase_orders(door(request).reading(caller), status=status,
                                  clinic=clinic or None, search=q)  # fmt: skip
    offered = choice_lists.choices(door(request).reading(caller))
    return render(request, "purchase_orders.html", caller, page=found, status=status,
                  clinic=clinic, q=q, statuses=pages.PO_FILTERS, clinics=offered.clinics,
                  partial="_purchase_orders_table.html")  # fmt: skip


@router.get("/purchase-orders/{number}")
def purchase_order_page(request: Request, caller: CurrentCaller, number: str) -> Response:
    order = purchasing.show_order(door(request).reading(caller), number)
    return render(request, "purchase_order.html", caller, order=order,
                  done=request.query_params.get("done"))  # fmt: skip


@router.get("/purchase-orders/{number}/pdf")
def purchase_order_pdf(request: Request, caller: CurrentCaller, number: str) -> Response:
    paper = purchasing.order_paper(door(request).reading(caller), number)
    return Response(
        order_pdf(paper), media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{paper.number}.pdf"'},
    )  # fmt: skip


@router.post("/purchase-orders/{number}/status")
def change_purchase_order(
    request: Request, caller: CurrentCaller, form: CheckedForm, number: str
) -> Response:
    action = form.get("action", "")
    if action not in ACTIONS:
        raise InvalidInput("action", action, f"must be one of {'|'.join(ACTIONS)}")
    order = purchasing.change_status(door(request).writing(caller), number, action,
                                     reason=form.get("reason"))  # fmt: skip
    url = f"/purchase-orders/{quote(order.number, safe='')}?done={action}"
    return RedirectResponse(url, status_code=303)
