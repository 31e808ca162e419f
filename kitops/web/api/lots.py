"""``/api/v1/lots``: a lot, its trace, and releasing, quarantining or recalling it (a
recall answers with the kits flagged and the courses that lose their kit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from kitops.domain.ledger import LotStatus
from kitops.services import lots
from kitops.services.dto import lots as lots_dto
from kitops.web.api import PREFIX
from kitops.web.api.common import answer, body_digest, caller, change, door_of, found
from kitops.web.door import Caller

router = APIRouter(prefix=PREFIX, tags=["lots"])


@router.get("/lots/{code}", response_model=lots_dto.LotDetail)
def show_lot(
    request: Request, code: str, who: Annotated[Caller, Depends(caller)], sku: str | None = None
) -> Response:
    """One lot: product, expiry, status and where it is on hand (``sku`` when two
    products share the lot code)."""
    with found("lot"):
        return answer(lots.show(door_of(request).reading(who), code, sku=sku))


@router.get("/lots/{code}/trace", response_model=lots_dto.Trace)
def trace_lot(
    request: Request, code: str, who: Annotated[Caller, Depends(caller)], sku: str | None = None
) -> Response:
    """Where every unit of the lot came from, went, and is now."""
    with found("lot"):
        return answer(lots.trace(door_of(request).reading(who), code, sku=sku))


class StatusBody(BaseModel):
    reason: str | None = None  # required to quarantine or recall
    sku: str | None = None


def _status_route(target: LotStatus, path: str, summary: str) -> None:
    model = lots_dto.LotRecall if target is LotStatus.RECALLED else lots_dto.LotDetail

    @router.post(f"/lots/{{code}}/{path}", response_model=model, summary=summary)
    def set_status(
        request: Request,
        code: str,
        body: StatusBody,
        who: Annotated[Caller, Depends(caller)],
        digest: Annotated[str, Depends(body_digest)],
    ) -> Response:
        return change(
            request, who, digest,
            lambda uow: lots.change_status(uow, code, target, reason=body.reason, sku=body.sku),
            keys=("lot",),
        )  # fmt: skip

    set_status.__name__ = f"{path}_lot"


_status_route(LotStatus.RELEASED, "release", "Release a lot (managers)")
_status_route(LotStatus.QUARANTINE, "quarantine", "Quarantine a lot (managers; give a reason)")
_status_route(
    LotStatus.RECALLED, "recall",
    "Recall a lot (managers; give a reason): the answer lists the kits flagged, the kits at "
    "patients, and the courses whose reserved kit was released",
)  # fmt: skip
