"""Logging in and out: the user name and PIN or password, checked as the terminal UI
checks them (the same lock and audit rows; job users are refused).

Before logging in, the login page speaks the browser's language: its ``Accept-Language``
negotiated against the languages kitops has catalogs for (``visitor_locale``), else the
server's. With a session, the user's own language as every page (``SessionLanguage``)."""

from __future__ import annotations

import re
from functools import cache

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from kitops.errors import Refused
from kitops.i18n import DEFAULT_LOCALE, LOCALE_DIR, _, normalize_locale, use_locale
from kitops.services import web_sessions
from kitops.web import sessions
from kitops.web.pages.common import CheckedForm, CurrentCaller, PageRoute, door, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


_LANGUAGE_RANGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


def accepted_languages(header: str) -> list[str]:
    """An ``Accept-Language`` header's languages, most wanted first (``de-AT,de;q=0.8``
    → ``["de_AT", "de"]``); ``*``, a malformed range and ``q=0`` are left out."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        name, _sep, params = part.strip().partition(";")
        name = name.strip()
        if not _LANGUAGE_RANGE.match(name):
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if 0 < weight <= 1:
            wanted.append((-weight, index, normalize_locale(name)))
    return [name for _weight, _index, name in sorted(wanted)]


@cache
def catalog_locales() -> tuple[str, ...]:
    """The languages kitops speaks: English and each catalog in ``kitops/locale`` (read
    once per process: the catalogs ship with the code)."""
    found = sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())
    return (DEFAULT_LOCALE, *found)


def visitor_locale(request: Request) -> str | None:
    """The language of a visitor not logged in: the browser's ``Accept-Language``
    negotiated against kitops's catalogs (Babel's ``negotiate_locale``: ``de-DE`` reads
    ``de``); None with a session (the user's language is in force) or when nothing
    matches (the server's)."""
    if sessions.session_token(request) is not None:
        return None
    header = request.headers.get("accept-language", "")
    preferred = accepted_languages(header) if header else []
    if not preferred:
        return None
    from babel import negotiate_locale

    return negotiate_locale(preferred, list(catalog_locales()), sep="_")


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
    with use_locale(visitor_locale(request)):
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
    with use_locale(visitor_locale(request)):  # a refusal in the login page's language
        if not sessions.csrf_ok(sessions.login_cookie(request), csrf):
            expired = _("the login form had expired: please try again")
            return _login_page(request, target, name=name, status=403, message=expired)
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
