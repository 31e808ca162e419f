"""The audit log (managers and admins): who did what, newest first, filtered by user,
action and day in the query string."""

from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kitops.errors import InvalidInput
from kitops.i18n import _
from kitops.services import users
from kitops.web.pages.common import CurrentCaller, PageRoute, door, must_be_one_of, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LIMITS = (100, 500, 2000)


def _since(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("since", value, _("must be a date, YYYY-MM-DD")) from None


def _facts(values: dict[str, object] | None) -> str:
    return json.dumps(values, sort_keys=True, default=str) if values else ""


@router.get("/audit")
def audit_page(
    request: Request,
    caller: CurrentCaller,
    user: str = "",
    action: str = "",
    since: str = "",
    limit: int = 100,
) -> Response:
    if limit not in LIMITS:
        raise InvalidInput(
            "limit",
            limit,
            must_be_one_of(LIMITS, ", "),
        )
    entries = users.read_audit(door(request).reading(caller), user=user.strip() or None,
                               since=_since(since.strip()), action=action.strip() or None,
                               limit=limit)  # fmt: skip
    entries.reverse()
    return render(request, "audit.html", caller, entries=entries, user=user, action=action,
                  since=since, limit=limit, limits=LIMITS, facts=_facts,
                  partial="_audit_table.html")  # fmt: skip
