"""The application factory: ``create_app`` builds the FastAPI app ``kitops serve`` runs."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TextIO

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from kitops import __version__
from kitops.web.door import Door
from kitops.web.memory import settle_memory
from kitops.web.request_log import RequestLog
from kitops.web.webhook import WebhookConfig

if TYPE_CHECKING:
    from kitops.data.engine import Database
    from kitops.payments.gateway import Gateway


def open_door(url: str | None, gateway: Callable[[], Gateway] | None = None) -> Door:
    """Open the database the way the command line does (``--db``, then
    ``KITOPS_DATABASE_URL``, then the user data folder) and refuse a schema that is not at
    this code's head."""
    from kitops.bootstrap import open_checked

    return Door(open_checked(url), gateway)


def create_app(
    url: str | None = None,
    *,
    door: Door | None = None,
    gateway: Callable[[], Gateway] | None = None,
    webhook: WebhookConfig | None = None,
    webhook_only: bool = False,
    log: TextIO | None = None,
    server: bool | None = None,
    api_later: bool = False,
) -> FastAPI:
    """The whole server: pages, ``/api/v1`` and ``/stripe/webhook``. ``door`` (tests) is
    an already open database; otherwise ``url`` is opened. ``webhook`` says which job user
    applies Stripe's events (default ``$KITOPS_WEBHOOK_USER``, else ``webhook``);
    ``webhook_only`` (``kitops stripe listen``) serves that endpoint alone; ``log``: where
    its one JSON line per request goes (standard error). ``server``: the app is a server
    process's (by default when it opens its own database, not a test's app): it settles
    its memory once started (``settle_memory``) and closes the database when it stops.
    ``api_later`` (``kitops serve``): the API's routes are built once the server answers
    (``ApiLater``); by default they exist before the app is returned."""
    the_door = door if door is not None else open_door(url, gateway)
    serving = door is None if server is None else server
    later: ApiLater | None = None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if serving:
            settle_memory()
        if later is not None:
            later.start()
        yield
        if serving:
            the_door.close()

    app = FastAPI(
        title="kitops",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.door = the_door
    app.add_middleware(RequestLog)  # a line per request, its id on every line (kitops.logs)
    from kitops.web.webhook import install_webhook

    hook = webhook or WebhookConfig(os.environ.get("KITOPS_WEBHOOK_USER", "").strip() or "webhook")
    install_webhook(app, the_door, hook, log=log)
    if webhook_only:
        return app
    from kitops.web import api

    api.install_errors(app)  # errors as problem details, on the pages' forms too
    if api_later:
        later = ApiLater(app)
        app.add_middleware(WaitForApi, ready=later.ready)
    else:
        api.install_routes(app)  # /api/v1 and /api/docs
    from kitops.web.pages import include_pages

    include_pages(app)  # the pages, their static files, login and logout
    from kitops.web.language import SessionLanguage

    app.add_middleware(SessionLanguage, door=the_door)  # each page in its user's language
    return app


def serve(db: Database, *, host: str, port: int, workers: int) -> None:
    """``kitops serve``: the app, built once here on the database the command opened and
    checked, served until SIGTERM or SIGINT: by uvicorn in this process (one worker), or
    by ``workers`` processes forked from this one once the app is built, which start
    with everything it imported (``kitops.web.server``)."""
    app = create_app(door=Door(db), server=True, api_later=True)
    if workers > 1:
        from kitops.web.server import serve_forked

        serve_forked(app, db, host=host, port=port, workers=workers)
        return
    import signal

    import uvicorn

    # uvicorn stops gracefully on SIGTERM or SIGINT, then raises that signal again to the
    # handler it found: this one lets the command end with status 0, as the workers do
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda _signum, _frame: None)
    uvicorn.run(
        app, host=host, port=port, log_level="warning", access_log=False, log_config=None
    )  # its lines through kitops's own handler (kitops.logs)


def webhook_app(db: Database, gateway: Gateway, user: str, path: str, max_body: int) -> FastAPI:
    """``kitops stripe listen``: the webhook endpoint alone, on an open database, applying
    events as ``user`` with this gateway."""
    return create_app(
        door=Door(db, lambda: gateway), webhook=WebhookConfig(user, path, max_body),
        webhook_only=True,
    )  # fmt: skip


log = logging.getLogger(__name__)
API_WAIT_S = 30.0  # an API request that arrives while the routes are being built waits


class ApiLater:
    """``kitops serve``: the app answers its pages and the Stripe webhook at once, and
    builds the API's routes (with their models, about half of what building the app
    costs) in a thread of its own as soon as it has started: in the server process, or
    in each worker once forked (an import must not be under way in another thread when
    a process forks). An API request that arrives before they are ready waits for them
    (``WaitForApi``)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.ready = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._build, name="kitops-api", daemon=True).start()

    def _build(self) -> None:
        from kitops.web import api

        try:
            api.install_routes(self.app)
        except Exception as error:  # the pages go on; the API answers 404, logged once
            log.error("the API could not be built: %s: %s", type(error).__name__, error)
        finally:
            self.ready.set()
        settle_memory()


class WaitForApi:
    """Hold a request under ``/api`` until the API's routes exist (``ApiLater``); every
    other request, and every request once they exist, passes straight on."""

    def __init__(self, app: ASGIApp, ready: threading.Event) -> None:
        self.app = app
        self.ready = ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            not self.ready.is_set()
            and scope["type"] == "http"
            and str(scope.get("path", "")).startswith("/api")
        ):
            await run_in_threadpool(self.ready.wait, API_WAIT_S)
        await self.app(scope, receive, send)
