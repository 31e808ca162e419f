"""Each request speaks its logged-in user's language (``kitops.i18n.use_locale``): theirs,
else their clinic's locale, else the server's environment's
(``kitops.services.locales.web_session_locale``). A request without a session (the login
page, the API, the webhook) speaks the server's language.

An ASGI middleware, so the language is set in the request's own context before any route
or dependency runs, and each concurrent request keeps its own (a context variable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from kitops.i18n import use_locale
from kitops.web import sessions

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from kitops.web.door import Door


class SessionLanguage:
    def __init__(self, app: ASGIApp, door: Door) -> None:
        self.app = app
        self.door = door

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = sessions.session_token(Request(scope)) if scope["type"] == "http" else None
        if token is None:
            await self.app(scope, receive, send)
            return
        from kitops.services.locales import web_session_locale

        tag = await run_in_threadpool(web_session_locale, self.door.db, token)
        with use_locale(tag):
            await self.app(scope, receive, send)
