"""What every page stands on: the templates, who is logged in, the CSRF check, and one
place that turns kitops' errors into pages (403 with the service's reason, 422 for bad
input, 409 for a refusal; never a traceback)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from kitops.domain import roles
from kitops.errors import InvalidInput, KitopsError, NotAllowed, Refused
from kitops.i18n import N_, _, current_locale, formats, gettext, ngettext
from kitops.i18n.labels import status_label, stored_text
from kitops.services import web_sessions
from kitops.web import sessions
from kitops.web.door import Caller, Door

HERE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
)
# `{{ _("Stock") }}` and `{{ _("{n} lines").format(n=...) }}` in the language in force for
# the request (kitops.i18n); placeholders are filled with str.format, as in the code
templates.env.install_gettext_callables(gettext, ngettext, newstyle=False)  # type: ignore[attr-defined]
log = logging.getLogger("kitops.web")

# the navigation: (path, label, the permission the page needs, or None: every user)
NAVIGATION = (
    ("/", N_("Dashboard"), None),
    ("/stock", N_("Stock"), None),
    ("/expiring", N_("Expiring"), None),
    ("/kits", N_("Kits"), None),
    ("/courses", N_("Courses"), None),
    ("/orders", N_("Orders"), None),
    ("/purchase-orders", N_("Purchase orders"), None),
    ("/reorder", N_("Reorder"), None),
    ("/reports", N_("Reports"), "report.run"),
    ("/audit", N_("Audit log"), "audit.read"),
    ("/users", N_("Users"), "user.manage"),
    ("/settings", N_("Settings"), "setting.set"),
)


def _money(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "amount") and hasattr(value, "currency"):
        return formats.money(value)
    return str(value)


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return formats.datetime(value.astimezone())
    return formats.date(value)


def _number(value: Any) -> str:
    return "" if value is None else formats.number(value)


def _language() -> str:
    """The page's ``lang`` attribute: the request's language (``de-AT``)."""
    return current_locale().replace("_", "-")


def must_be_one_of(values: Any, separator: str = "|") -> str:
    """The reason of an InvalidInput naming the allowed values: ``must be one of a|b``."""
    return _("must be one of {choices}").format(choices=separator.join(map(str, values)))


def _query(request: Request, **changes: object) -> str:
    """This page's query string with some parameters changed (None: removed)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


templates.env.filters["day"] = _day
templates.env.filters["money"] = _money
templates.env.filters["number"] = _number
templates.env.filters["status"] = status_label
templates.env.filters["stored"] = stored_text  # words kitops stored, in the reader's language
templates.env.globals["language"] = _language
templates.env.globals["query"] = _query
templates.env.globals["navigation"] = NAVIGATION


class LoginNeeded(Exception):
    """No valid session: the browser is sent to the login page."""


def door(request: Request) -> Door:
    found: Door = request.app.state.door
    return found


def caller(request: Request) -> Caller:
    """The logged-in user of this request (a valid, signed, not idle session)."""
    token = sessions.session_token(request)
    found = web_sessions.resume(door(request).db, token) if token else None
    if found is None:
        raise LoginNeeded()
    request.state.caller = found
    request.state.csrf = sessions.csrf_token(token or "")
    return Caller(found.user, found.role)


async def checked_form(request: Request) -> dict[str, str]:
    """A POSTed form whose CSRF token belongs to this browser's session (403 otherwise)."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    if not sessions.csrf_ok(sessions.session_token(request), values.get("csrf")):
        raise NotAllowed(
            _("this form has expired or came from another site: reload the page and try again"),
            actor="web", permission="web.csrf",
        )  # fmt: skip
    return values


def may(caller: Caller, permission: str) -> bool:
    """Whether the caller's role holds ``permission`` (to show a button; the service
    checks again when it is pressed)."""
    return roles.permission(permission).allows(roles.Role(caller.role))


def render(
    request: Request,
    template: str,
    caller: Caller | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    if request.headers.get("HX-Request") and "partial" in context:
        template = context["partial"]
    return templates.TemplateResponse(
        request, template,
        {"caller": caller, "csrf": getattr(request.state, "csrf", ""), "may": may,
         "path": request.url.path, **context},
        status_code=status_code,
    )  # fmt: skip


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    found = getattr(request.state, "caller", None)
    who = Caller(found.user, found.role) if found is not None else None
    return render(request, "error.html", who, status_code=status, title=title, message=message)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login = f"/login?next={quote(target, safe='')}"
    if request.headers.get("HX-Request"):  # htmx: the whole page goes, not only a table
        return Response(status_code=204, headers={"HX-Redirect": login})
    return RedirectResponse(login, status_code=303)


# Every page: never framed by another site (its buttons cannot be clicked through a
# disguise), not kept in the browser's cache (patient references stay off a shared tablet
# after logging out), and no address of a page sent to another site.
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


# what the services call a course, an order or a kit that does not exist, or that belongs
# to a clinic beyond the limits of the user asking: named in the page's address, not found
NOT_FOUND_FIELDS = frozenset({"course", "order", "serial"})


def _names_the_address(request: Request, error: InvalidInput) -> bool:
    """Whether ``error`` says that the thing this page's address names does not exist."""
    named = {str(value) for value in request.path_params.values()}
    return error.field in NOT_FOUND_FIELDS and str(error.value) in named


class PageRoute(APIRoute):
    """A page: errors become pages of their own, a missing login a redirect to it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            response = await answer(request)
            for name, value in PAGE_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginNeeded:
                return login_redirect(request)
            except NotAllowed as error:
                if not error.recorded and error.permission == "web.csrf":
                    error.recorded = True  # no session to name: logged by the server
                    log.warning("refused a form without a valid CSRF token: %s", request.url.path)
                return _error_page(request, 403, _("Not allowed"), str(error))
            except InvalidInput as error:
                if _names_the_address(request, error):
                    return _error_page(request, 404, _("Not found"), str(error))
                return _error_page(request, 422, _("Not understood"), str(error))
            except Refused as error:
                return _error_page(request, 409, _("Refused"), str(error))
            except KitopsError as error:
                return _error_page(request, 503, _("Not available"), str(error))

        return handle


CurrentCaller = Annotated[Caller, Depends(caller)]
CheckedForm = Annotated[dict[str, str], Depends(checked_form)]
