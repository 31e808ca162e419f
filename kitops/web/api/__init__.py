"""The JSON API under ``/api/v1``: bearer tokens, problem details, cursor pages,
idempotent POSTs; Swagger UI at ``/api/docs`` from assets kitops ships."""

from __future__ import annotations

from fastapi import FastAPI

from kitops.web import problems
from kitops.web.api import kits, lots, purchasing, reports, stock
from kitops.web.api.docs import install_docs

PREFIX = "/api/v1"


def install(app: FastAPI) -> None:
    """Add the API, its docs and the problem-details error handlers to ``app``."""
    problems.install(app)
    # each router straight into the app: every route's models are built once more per
    # router it passes through
    for module in (stock, lots, kits, purchasing, reports):
        app.include_router(module.router, prefix=PREFIX)
    install_docs(app)
