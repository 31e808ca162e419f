"""``kitops serve --workers N`` (PostgreSQL): the app is built once, in the command's own
process, and the N workers are forked from it, so they start with its imported modules
and its built app instead of each importing and building them again.

The process that forks them is gunicorn's arbiter (the well-worn pre-fork supervisor),
and each worker runs the app on uvicorn (``uvicorn-worker``'s worker class, as FastAPI's
own deployment notes show). The arbiter:

- forks a new worker when one dies (a crash, or killed by the kernel for memory);
- on SIGTERM, stops listening and lets every worker finish the requests it has begun
  (``GRACEFUL_S`` at most), then exits 0; on SIGINT (Ctrl-C reaches the whole process
  group) or SIGQUIT, it tells the workers to stop at once;
- kills a worker that stops answering its heartbeat for ``HEARTBEAT_S`` seconds (the
  event loop stuck) and forks a new one.

What is made before the fork is not shared in use afterwards: the database's pooled
connections. The command closes its own (the schema check's) before the first fork,
and each worker forgets whatever pool it inherited without touching the connections in
it (``Engine.dispose(close=False)``), so a worker only ever talks to PostgreSQL over
connections it opened itself.

The collector: once the app is built, the command moves everything it holds (the
imported modules, the app, its routes and models) out of the collector's sight
(``settle_memory``, ``gc.freeze``) before forking. The workers inherit that: their
full collections never walk those objects, and by never writing to them they leave
the pages shared with the arbiter and the other workers. Each worker's start
(the app's lifespan) then settles what the worker itself has added.
"""

from __future__ import annotations

import signal
import socket
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kitops.data.engine import Database

GRACEFUL_S = 20  # SIGTERM: how long the workers may take to finish what they have begun
# a worker whose event loop has not ticked for this long is killed and replaced (requests
# run in threads, so a slow report does not stop the loop)
HEARTBEAT_S = 60


class Worker(UvicornWorker):  # type: ignore[misc]
    """uvicorn in a forked worker, as ``kitops serve`` runs it with one: no access log
    (kitops logs nothing per request), uvicorn's choice of event loop and HTTP parser."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "auto", "http": "auto", "access_log": False,
        # stopping: requests still running after this are dropped, and the app's lifespan
        # ends (its database closed) before the arbiter's own limit kills the worker
        "timeout_graceful_shutdown": GRACEFUL_S - 5,
    }  # fmt: skip
    running = False  # uvicorn has taken over SIGTERM and SIGINT

    def init_signals(self) -> None:
        super().init_signals()
        # uvicorn answers SIGTERM and SIGINT (Ctrl-C reaches the workers too) with its
        # graceful shutdown, then passes the signal on to the handler it found: this one
        # lets the worker end with status 0, so the arbiter sees a worker that stopped as
        # asked, not one killed by a signal. Before uvicorn runs, it ends the worker.
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, self._stopped)

    def _stopped(self, _signum: int, _frame: object) -> None:
        if not self.running:
            sys.exit(0)

    def run(self) -> None:
        self.running = True
        super().run()

    def handle_exit(self, sig: int, frame: object) -> None:
        """SIGQUIT, the arbiter's "stop now" (it was sent SIGINT or SIGQUIT): uvicorn's
        own way out, instead of serving on until the arbiter kills it. As SIGTERM: a
        worker already stopping after Ctrl-C is not hurried into dropping its lifespan."""
        super().handle_exit(sig, frame)
        signal.raise_signal(signal.SIGTERM)


class Prefork(BaseApplication):  # type: ignore[misc]
    """gunicorn's arbiter around an app that is already built. Only the settings given
    here apply: no configuration file, no ``GUNICORN_CMD_ARGS``."""

    def __init__(self, app: FastAPI, settings: dict[str, Any]) -> None:
        self.application = app
        self.settings = settings
        super().__init__(prog="kitops serve")

    def load_config(self) -> None:
        for name, value in self.settings.items():
            if name in self.cfg.settings:  # control_socket_disable: gunicorn 25.1 and later
                self.cfg.set(name, value)

    def load(self) -> FastAPI:
        return self.application


def settings(host: str, port: int, workers: int, db: Database) -> dict[str, Any]:
    """gunicorn's settings for ``kitops serve``."""

    def post_fork(_arbiter: object, _worker: object) -> None:
        # in the new worker: forget the inherited pool, leave its connections alone
        db.engine.dispose(close=False)

    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "worker_class": f"{Worker.__module__}.{Worker.__qualname__}",
        "preload_app": True,  # the app exists before the arbiter starts: built once
        "graceful_timeout": GRACEFUL_S,
        "timeout": HEARTBEAT_S,
        "keepalive": 5,  # as uvicorn alone keeps an idle connection open
        "loglevel": "warning",  # a worker that died or was killed, never each start
        "errorlog": "-",
        "accesslog": None,
        "proc_name": "kitops",
        "control_socket_disable": True,  # no runtime control socket in the home folder
        "post_fork": post_fork,
    }


def refuse_a_taken_port(host: str, port: int) -> None:
    """One line and exit status 2 when the address is taken, as ``kitops stripe listen``
    says it (gunicorn's arbiter would try for five seconds, logging each failure)."""
    from kitops.errors import InvalidInput

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = f"cannot listen there ({error.strerror})"
            raise InvalidInput("--port", str(port), reason) from None


def serve_forked(app: FastAPI, db: Database, *, host: str, port: int, workers: int) -> None:
    """Serve ``app`` (built on ``db``) with ``workers`` processes forked from this one,
    until SIGTERM or SIGINT; exits the process (status 0 when stopped by a signal)."""
    from kitops.web.memory import settle_memory

    refuse_a_taken_port(host, port)
    db.dispose()  # the schema check's connection: closed here, never inherited
    server = Prefork(app, settings(host, port, workers, db))
    settle_memory()  # the last allocations before the fork (see the module's text)
    server.run()
