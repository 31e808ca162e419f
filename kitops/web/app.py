"""The application factory: ``create_app`` builds the FastAPI app ``kitops serve`` runs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TextIO

from fastapi import FastAPI

from kitops import __version__
from kitops.web.door import Door
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
) -> FastAPI:
    """The whole server: pages, ``/api/v1`` and ``/stripe/webhook``. ``door`` (tests) is
    an already open database; otherwise ``url`` is opened. ``webhook`` says which job user
    applies Stripe's events (default ``$KITOPS_WEBHOOK_USER``, else ``webhook``);
    ``webhook_only`` (``kitops stripe listen``) serves that endpoint alone; ``log``: where
    its one JSON line per request goes (standard error). ``server``: the app is a server
    process's (by default when it opens its own database, not a test's app): it settles
    its memory once started (``settle_memory``) and closes the database when it stops."""
    the_door = door if door is not None else open_door(url, gateway)
    serving = door is None if server is None else server

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if serving:
            settle_memory()
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

    api.install(app)  # /api/v1, /api/docs, and errors as problem details
    from kitops.web.pages import include_pages

    include_pages(app)  # the pages, their static files, login and logout
    from kitops.web.language import SessionLanguage

    app.add_middleware(SessionLanguage, door=the_door)  # each page in its user's language
    return app


def settle_memory() -> None:
    """Once the app is built: everything imported so far (FastAPI's, SQLAlchemy's and
    kitops's modules, classes, the routes' models, the mapped schema) lives as long as
    the process, so it is moved out of the collector's sight (``gc.freeze``). Each later
    full collection then walks only what requests made: on the 1,000,000-move database
    those collections were the slow tail of the dashboard's answers."""
    import gc

    gc.collect()
    gc.freeze()


def serve(db: Database, *, host: str, port: int, workers: int) -> None:
    """``kitops serve``: the app, built once here on the database the command opened and
    checked, served until SIGTERM or SIGINT: by uvicorn in this process (one worker), or
    by ``workers`` processes forked from this one once the app is built, which start
    with everything it imported (``kitops.web.server``)."""
    app = create_app(door=Door(db), server=True)
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
