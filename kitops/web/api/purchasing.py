"""``/api/v1/purchase-orders``: list, show, approve, send, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from kitops.services import purchasing
from kitops.services.dto import purchasing as purchasing_dto
from kitops.views import pages
from kitops.web.api import PREFIX
from kitops.web.api.common import (
    LIMIT_DEFAULT,
    Page,
    answer,
    body_digest,
    caller,
    change,
    check_limit,
    door_of,
    found,
    page,
    read_cursor,
)
from kitops.web.door import Caller

router = APIRouter(prefix=PREFIX, tags=["purchase orders"])


@router.get("/purchase-orders", response_model=Page[purchasing_dto.PurchaseOrder])
def list_orders(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    status: str = "open",
    clinic: str | None = None,
    search: str = "",
    limit: int = LIMIT_DEFAULT,
    cursor: str | None = None,
) -> Response:
    """Purchase orders with their lines, newest first: ``status`` open (the default),
    all, or one of draft|approved|sent|partial|received|cancelled."""
    offset, size = read_cursor(cursor), check_limit(limit)
    found_orders = pages.purchase_orders(
        door_of(request).reading(who), status=status, clinic=clinic, search=search,
        offset=offset, limit=size,
    )  # fmt: skip
    return page(request, found_orders.orders, found_orders.total, offset, size)


@router.get("/purchase-orders/{number}", response_model=purchasing_dto.PurchaseOrder)
def show_order(request: Request, number: str, who: Annotated[Caller, Depends(caller)]) -> Response:
    """One order with its lines and the arithmetic behind each."""
    with found("po"):
        return answer(purchasing.show_order(door_of(request).reading(who), number))


class CancelBody(BaseModel):
    reason: str


def _transition(action: str, summary: str) -> None:
    @router.post(
        f"/purchase-orders/{{number}}/{action}",
        response_model=purchasing_dto.PurchaseOrder,
        summary=summary,
    )
    def transition(
        request: Request,
        number: str,
        who: Annotated[Caller, Depends(caller)],
        digest: Annotated[str, Depends(body_digest)],
    ) -> Response:
        return change(
            request, who, digest, lambda uow: purchasing.change_status(uow, number, action),
            keys=("po",),
        )  # fmt: skip

    transition.__name__ = f"{action}_order"


_transition("approve", "Approve a draft (managers): the reorder job no longer changes it")
_transition("send", "Mark an approved order as sent to the supplier (managers)")


@router.post("/purchase-orders/{number}/cancel", response_model=purchasing_dto.PurchaseOrder)
def cancel_order(
    request: Request,
    number: str,
    body: CancelBody,
    who: Annotated[Caller, Depends(caller)],
    digest: Annotated[str, Depends(body_digest)],
) -> Response:
    """Cancel an open order (managers); its open lines stop counting as on order."""
    return change(
        request, who, digest,
        lambda uow: purchasing.change_status(uow, number, "cancel", reason=body.reason),
        keys=("po",),
    )  # fmt: skip
