"""``kitops serve``: the web pages, the JSON API and the Stripe webhook (``kitops.web``)."""

from __future__ import annotations

import os

import click

from kitops.cli.context import Context
from kitops.cli.output import say
from kitops.errors import InvalidInput

pass_context = click.make_pass_decorator(Context)

URL_VARIABLE = "KITOPS_DATABASE_URL"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (put a TLS reverse proxy in front of it).")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (PostgreSQL only; SQLite takes one).")  # fmt: skip
@pass_context
def serve(ctx: Context, host: str, port: int, workers: int) -> None:
    """Serve the web pages, /api/v1 and /stripe/webhook until interrupted."""
    db = ctx.database()  # refuse a database at the wrong schema before listening
    if db.is_sqlite and workers > 1:
        raise InvalidInput("--workers", str(workers), "SQLite is served by one worker")
    # The web modules are imported here only: every other command starts without them.
    # The one import from the command line up into the server, declared in pyproject.toml.
    import uvicorn

    from kitops.web import app as web_app

    os.environ.pop(f"{URL_VARIABLE}_FILE", None)  # the workers read the URL, not both
    os.environ[URL_VARIABLE] = db.url
    say(f"serving kitops on http://{host}:{port} ({db.display_url})")
    uvicorn.run(
        f"{web_app.__name__}:app_from_environment", factory=True, host=host, port=port,
        workers=workers, log_level="warning", access_log=False,
    )  # fmt: skip
