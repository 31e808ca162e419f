"""``kitops serve``: the web pages, the JSON API and the Stripe webhook (``kitops.web``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kitops.cli.context import Context
from kitops.cli.help import command
from kitops.cli.output import say
from kitops.errors import InvalidInput
from kitops.i18n import N_, _

if TYPE_CHECKING:
    from kitops.payments.gateway import Gateway

pass_context = click.make_pass_decorator(Context)


@command("serve", help=N_("Serve the web pages, /api/v1 and /stripe/webhook until interrupted."))
@click.option("--host", default="127.0.0.1", show_default=True,
              help=N_("Address to bind (put a TLS reverse proxy in front of it)."))  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help=N_("Server processes (PostgreSQL only; SQLite takes one)."))  # fmt: skip
@pass_context
def serve(ctx: Context, host: str, port: int, workers: int) -> None:
    db = ctx.database()  # refuse a database at the wrong schema before listening
    if db.is_sqlite and workers > 1:
        raise InvalidInput("--workers", str(workers), _("SQLite is served by one worker"))
    # The web modules are imported here only: every other command starts without them.
    # The one import from the command line up into the server, declared in pyproject.toml.
    from kitops.web import app as web_app

    say(
        _("serving kitops on {url} ({database})").format(
            url=f"http://{host}:{port}", database=db.display_url
        )
    )
    web_app.serve(db, host=host, port=port, workers=workers)


# uvicorn's own log lines stay quiet, and kitops's lines about the webhook and its requests
# (README: Logs): `kitops stripe listen` writes one JSON line per request on standard error
# and nothing else
QUIET_LOGS = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"none": {"class": "logging.NullHandler"}},
    "loggers": {
        name: {"handlers": ["none"], "level": "CRITICAL", "propagate": False}
        for name in (
            "uvicorn",
            "uvicorn.error",
            "uvicorn.access",
            "kitops.web",
            "kitops.services.webhooks",
        )
    },
}


def listen_for_stripe(
    ctx: Context, *, gateway: Gateway, host: str, port: int, path: str, max_body: int
) -> None:
    """``kitops stripe listen``: the web app's webhook endpoint alone, on uvicorn, acting
    as the command's user. Says where it listens once the socket is bound."""
    import signal
    import socket

    import uvicorn

    from kitops.web.app import webhook_app

    app = webhook_app(ctx.database(), gateway, ctx.user, path, max_body)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise InvalidInput("--port", str(port), f"cannot listen there ({error.strerror})") from None
    sock.listen(128)  # a burst of events after an outage: no reset for the sixth caller
    bound = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=QUIET_LOGS, access_log=False, timeout_keep_alive=5,
                       lifespan="off")
    )  # fmt: skip
    # uvicorn stops gracefully on SIGTERM or SIGINT, then raises that signal again to the
    # handler it found: that one lets the command end with "stopped" and exit 0
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda _signum, _frame: None)
    say(_("listening for Stripe events on {url}").format(url=f"http://{host}:{bound}{path}"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    say(_("stopped"))
