"""Routes into an app without building them again."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """A router's routes into ``app`` as they are (their prefix and options set on the
    router), built once, when their module was imported. ``include_router`` would wrap
    the router and build every route again, models and all, for each app it goes into:
    lazily, on the first request that passes them, so a server's first page paid for
    the API's routes too."""
    app.router.routes.extend(router.routes)
