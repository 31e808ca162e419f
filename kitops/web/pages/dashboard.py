"""The dashboard: the terminal UI's tiles (``kitops.views.dashboard``), per clinic."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kitops.views import choices as choice_lists
from kitops.web.pages.common import CurrentCaller, PageRoute, door, render

router = APIRouter(route_class=PageRoute)


@router.get("/")
def dashboard_page(request: Request, caller: CurrentCaller, clinic: str | None = None) -> Response:
    from kitops.views import dashboard  # loaded by the first dashboard asked for

    the_door = door(request)
    clinic = clinic or None
    board = dashboard.overview(the_door.reading(caller), clinic=clinic)
    buying = dashboard.purchasing_overview(the_door.reading(caller), clinic=clinic)
    offered = choice_lists.choices(the_door.reading(caller))
    return render(request, "dashboard.html", caller, board=board, buying=buying,
                  clinic=clinic, clinics=offered.clinics)  # fmt: skip
