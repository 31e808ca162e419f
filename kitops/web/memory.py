"""The server's memory once its app is built (used by a single server process and by the
pre-fork arbiter alike, ``kitops.web.server``)."""

from __future__ import annotations


def settle_memory() -> None:
    """Once the app is built: everything imported so far (FastAPI's, SQLAlchemy's and
    kitops's modules, classes, the routes' models, the mapped schema) lives as long as
    the process, so it is moved out of the collector's sight (``gc.freeze``). Each later
    full collection then walks only what requests made: on the 1,000,000-move database
    those collections were the slow tail of the dashboard's answers."""
    import gc

    gc.collect()
    gc.freeze()
