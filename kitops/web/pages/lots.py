"""A lot: its trace (where every unit came from, went and is now), and release,
quarantine or recall for managers, with the courses a recall reaches."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput
from kitops.services import lots
from kitops.web.pages.common import (
    CheckedForm,
    CurrentCaller,
    PageRoute,
    door,
    must_be_one_of,
    render,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ACTIONS = {"release": LotStatus.RELEASED, "quarantine": LotStatus.QUARANTINE,
           "recall": LotStatus.RECALLED}  # fmt: skip


def lot_url(code: str, sku: str | None) -> str:
    return f"/lots/{quote(code, safe='')}" + (f"?sku={quote(sku, safe='')}" if sku else "")


@router.get("/lots/{code}")
def lot_page(request: Request, caller: CurrentCaller, code: str, sku: str = "") -> Response:
    trace = lots.trace(door(request).reading(caller), code, sku=sku or None)
    return render(request, "lot.html", caller, trace=trace, lot=trace.lot,
                  done=request.query_params.get("done"))  # fmt: skip


@router.post("/lots/{code}/status")
def change_lot_status(
    request: Request, caller: CurrentCaller, form: CheckedForm, code: str
) -> Response:
    action = form.get("action", "")
    target = ACTIONS.get(action)
    if target is None:
        raise InvalidInput("action", action, must_be_one_of(ACTIONS))
    sku = form.get("sku") or None
    changed = lots.change_status(door(request).writing(caller), code, target,
                                 reason=form.get("reason"), sku=sku)  # fmt: skip
    url = lot_url(changed.lot, changed.sku)
    return RedirectResponse(f"{url}{'&' if '?' in url else '?'}done={action}", status_code=303)
