"""The JSON API under ``/api/v1``: bearer tokens, problem details, cursor pages,
idempotent POSTs; Swagger UI at ``/api/docs`` from assets kitops ships."""

from __future__ import annotations

from fastapi import FastAPI

from kitops.web import problems

PREFIX = "/api/v1"


def install(app: FastAPI) -> None:
    """Add the API, its docs and the problem-details error handlers to ``app``."""
    install_errors(app)
    install_routes(app)


def install_errors(app: FastAPI) -> None:
    """The problem-details error handlers: in place before the app's first request (the
    app builds its error handling once, then)."""
    problems.install(app)


def install_routes(app: FastAPI) -> None:
    """The routes under ``/api/v1`` and the docs. ``kitops serve`` adds them once it
    already answers (``kitops.web.app.ApiLater``): the routes' models are most of what
    building the app costs."""
    from kitops.web.api import kits, lots, purchasing, reports, stock
    from kitops.web.api.docs import install_docs
    from kitops.web.routing import add_routes

    for module in (stock, lots, kits, purchasing, reports):
        add_routes(app, module.router)
    install_docs(app)
