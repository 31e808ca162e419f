"""Logging in and out: the user name and PIN or password, checked as the terminal UI
checks them (the same lock and audit rows; job users are refused)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kitops.errors import Refused
from kitops.i18n import _
from kitops.services import web_sessions
from kitops.web import sessions
from kitops.web.pages.common import CheckedForm, CurrentCaller, PageRoute, door, render

router = APIRouter(route_class=PageRoute)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(
    request: Request,
    target: str,
    *,
    message: str | None = None,
    name: str = "",
    status: int = 200,
) -> Response:
    nonce, new = sessions.login_nonce(request)
    request.state.csrf = sessions.csrf_token(nonce)
    response = render(request, "login.html", None, status_code=status, next=target,
                      message=message, name=name)  # fmt: skip
    if new:
        sessions.set_login_nonce(request, response, nonce)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, safe_next(next))


@router.post("/login")
def login(
    request: Request,
    name: str = Form(""),
    secret: str = Form("", alias="pin"),
    csrf: str = Form(""),
    next: str = Form("/"),
) -> Response:
    target = safe_next(next)
    if not sessions.csrf_ok(sessions.login_cookie(request), csrf):
        return _login_page(request, target, name=name, status=403,
                           message=_("the login form had expired: please try again"))  # fmt: skip
    try:
        token, _user = web_sessions.start(door(request).db, name, secret)
    except Refused as refusal:
        return _login_page(request, target, name=name, status=401, message=str(refusal))
    response = RedirectResponse(target, status_code=303)
    sessions.set_session(request, response, token)
    return response


@router.post("/logout")
def logout(request: Request, caller: CurrentCaller, form: CheckedForm) -> Response:
    token = sessions.session_token(request)
    if token:
        web_sessions.end(door(request).db, token)
    response = RedirectResponse("/login", status_code=303)
    sessions.clear_session(response)
    return response
