"""The manager's door: server-rendered pages, one router per area, each page at a
stable URL whose filters are in the query string (so it can be bookmarked and shared).
htmx swaps a list when its filters change; every page works without JavaScript."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"


def include_pages(app: FastAPI) -> None:
    """Add the pages and their static files (htmx, the stylesheet) to ``app``."""
    from kitops.web.pages import (
        admin,
        audit,
        dashboard,
        kits,
        login,
        lots,
        orders,
        purchasing,
        reorder,
        reports,
        stock,
    )
    from kitops.web.routing import add_routes

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    pages = (login, dashboard, stock, lots, kits, orders, purchasing, reorder, reports, audit,
             admin)  # fmt: skip
    for module in pages:
        add_routes(app, module.router)
