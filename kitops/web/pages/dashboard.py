"""The dashboard: the terminal UI's tiles (``kitops.views.dashboard``), per clinic."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kitops.views import choices as choice_lists
from kitops.web.pages.common import CurrentCaller, PageRoute, door, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The reorder tile (a dry run of the reorder job) is asked beside the board: two
# independent reads, each in its own unit of work and connection, as they always were, so
# the page waits for the longer of the two instead of their sum. Bounded: under load the
# tiles queue here rather than open a connection each.
_beside = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kitops-dashboard")


@router.get("/")
def dashboard_page(request: Request, caller: CurrentCaller, clinic: str | None = None) -> Response:
    from kitops.views import dashboard  # loaded by the first dashboard asked for

    the_door = door(request)
    clinic = clinic or None
    if clinic:  # refused once, before any tile is asked
        dashboard.check_clinic(the_door.reading(caller), clinic)
    buying_soon = _beside.submit(
        dashboard.purchasing_overview, the_door.reading(caller), clinic=clinic
    )
    try:
        board = dashboard.overview(the_door.reading(caller), clinic=clinic)
        offered = choice_lists.choices(the_door.reading(caller))
    except BaseException:
        wait([buying_soon])  # nothing left running behind a refused page
        raise
    buying = buying_soon.result()
    return render(request, "dashboard.html", caller, board=board, buying=buying,
                  clinic=clinic, clinics=offered.clinics)  # fmt: skip
