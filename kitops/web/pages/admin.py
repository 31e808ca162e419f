"""Admins' pages: users (list, add with a role and a PIN, enable or disable, change the
role: the services of ``kitops user``) and settings (every user reads them, as with
``kitops setting list``; admins change one at a time, a bad value shown beside it).

A bad value (422) or a refusal (409, such as disabling the last admin) is shown in place
on the page it came from; a user without the permission gets the 403 page, and the
service records the refusal in the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kitops.domain.roles import Role
from kitops.errors import InvalidInput, NotAllowed, Refused
from kitops.services import users
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

ROLES = tuple(role.value for role in Role)
USER_ACTIONS = ("enable", "disable", "role")


def _users_page(
    request: Request,
    caller: Caller,
    *,
    status: int = 200,
    error: str | None = None,
    about: str | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    found = users.list_users(door(request).reading(caller))
    return render(request, "users.html", caller, users=found, roles=ROLES, error=error,
                  about=about, entered=entered or {}, status_code=status)  # fmt: skip


def _in_place(error: Refused | InvalidInput) -> int:
    if isinstance(error, NotAllowed):
        raise error
    return 422 if isinstance(error, InvalidInput) else 409


@router.get("/users")
def user_list(request: Request, caller: CurrentCaller) -> Response:
    return _users_page(request, caller)


@router.post("/users")
def user_add(request: Request, caller: CurrentCaller, form: CheckedForm) -> Response:
    name, role = form.get("name", ""), form.get("role", "")
    try:
        users.add_user(door(request).writing(caller), name, role, form.get("pin", ""))
    except (InvalidInput, Refused) as error:
        # the PIN is never sent back; the name and role are, to correct them
        return _users_page(request, caller, status=_in_place(error), error=str(error),
                           about="new", entered={"name": name, "role": role})  # fmt: skip
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/{action}")
def user_change(
    request: Request, caller: CurrentCaller, form: CheckedForm, name: str, action: str
) -> Response:
    if action not in USER_ACTIONS:
        raise InvalidInput("action", action, must_be_one_of(USER_ACTIONS))
    uow = door(request).writing(caller)
    try:
        if action == "role":
            users.set_role(uow, name, form.get("role", ""))
        else:
            users.set_active(uow, name, action == "enable")
    except (InvalidInput, Refused) as error:
        return _users_page(request, caller, status=_in_place(error), error=str(error),
                           about=name)  # fmt: skip
    return RedirectResponse("/users", status_code=303)


def _settings_page(
    request: Request,
    caller: Caller,
    *,
    status: int = 200,
    error: str | None = None,
    about: str | None = None,
    entered: str | None = None,
) -> Response:
    found = users.list_settings(door(request).reading(caller))
    return render(request, "settings.html", caller, settings=found, error=error, about=about,
                  entered=entered, status_code=status)  # fmt: skip


@router.get("/settings")
def setting_list(request: Request, caller: CurrentCaller) -> Response:
    return _settings_page(request, caller)


@router.post("/settings/{key}")
def setting_change(
    request: Request, caller: CurrentCaller, form: CheckedForm, key: str
) -> Response:
    value = form.get("value", "")
    try:
        users.set_setting(door(request).writing(caller), key, value)
    except (InvalidInput, Refused) as error:
        return _settings_page(request, caller, status=_in_place(error), error=str(error),
                              about=key, entered=value)  # fmt: skip
    return RedirectResponse("/settings", status_code=303)
