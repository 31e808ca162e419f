"""The application factory: ``create_app`` builds the FastAPI app ``kitops serve`` runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from kitops import __version__
from kitops.web.door import Door

if TYPE_CHECKING:
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
) -> FastAPI:
    """The whole server: pages, ``/api/v1`` and ``/stripe/webhook``. ``door`` (tests) is
    an already open database; otherwise ``url`` is opened."""
    the_door = door if door is not None else open_door(url, gateway)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if door is None:
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
    from kitops.web.pages import include_pages

    include_pages(app)
    return app


def app_from_environment() -> FastAPI:
    """The app for uvicorn's workers (``kitops serve``): the database named by
    ``KITOPS_DATABASE_URL``, which the command sets before starting them."""
    return create_app(None)
