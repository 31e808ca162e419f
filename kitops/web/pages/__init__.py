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
    from kitops.web.pages import admin, dashboard, login, purchasing, reorder

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (login, dashboard, purchasing, reorder, admin):
        app.include_router(module.router, include_in_schema=False)
