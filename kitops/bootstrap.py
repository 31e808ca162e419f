"""Wiring: the one place that opens the database and builds the payment gateway.

The command line, the terminal UI and the jobs take both from here; services receive
them (a unit of work over the database, a ``Gateway``) and never build them. Nothing
heavy is imported at module top: ``import kitops.cli`` loads neither SQLAlchemy nor
Stripe (tests/test_architecture.py checks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kitops.i18n import _

if TYPE_CHECKING:
    from kitops.data.engine import Database
    from kitops.payments.gateway import Gateway
    from kitops.services.unit_of_work import UnitOfWork

_OPEN: dict[str, Database] = {}


def database(url: str | None) -> Database:
    """The database at ``url`` (None: ``$KITOPS_DATABASE_URL``, its file, else the default
    in the user data folder), opened once per process and shared by every caller until
    ``close_databases``. The schema is not checked here (``kitops.data.migrate``)."""
    from kitops.data.engine import open_database, resolve_url

    resolved = resolve_url(url)
    if resolved not in _OPEN:
        _OPEN[resolved] = open_database(resolved)
    return _OPEN[resolved]


def close_databases() -> None:
    """Dispose of every database ``database`` opened (the command line does at exit)."""
    while _OPEN:
        _, db = _OPEN.popitem()
        db.dispose()


def open_checked(url: str | None) -> Database:
    """A database of its own for a long-running front end, opened the way the command line
    does (``--db``, then ``KITOPS_DATABASE_URL``, then the user data folder); a schema not
    at this code's head is refused (and the database closed again)."""
    from kitops.data.engine import open_database, resolve_url
    from kitops.data.migrate import ensure_current

    db = open_database(resolve_url(url))
    try:
        ensure_current(db)
    except BaseException:
        db.dispose()
        raise
    return db


class Stockroom:
    """An open database and the person acting on it, for a long-running front end
    (the terminal UI): hands out one unit of work per use case. Its database is its own
    (not shared through ``database``): closing the UI disposes of it."""

    def __init__(self, db: Database, actor: str) -> None:
        self._db = db
        self.actor = actor

    @classmethod
    def open(cls, url: str | None, actor: str) -> Stockroom:
        """Open the database the way the command line does (``--db``, then
        ``KITOPS_DATABASE_URL``, then the user data folder) and refuse a schema that is
        not at this code's head, or a login bound to a job user (the TUI is for people)."""
        from kitops.services.identity import refuse_job_login

        db = open_checked(url)
        try:
            refuse_job_login(db, _("the TUI is for people"))
        except BaseException:
            db.dispose()
            raise
        return cls(db, actor)

    @property
    def display_url(self) -> str:
        return self._db.display_url

    @property
    def label(self) -> str:
        """A short name for a status line: the backend and the database's name."""
        url = self._db.engine.url
        name = (url.database or "").replace("\\", "/").rsplit("/", 1)[-1]
        backend = "SQLite" if self._db.is_sqlite else "PostgreSQL"
        return f"{backend} {name}".strip()

    def reading(self) -> UnitOfWork:
        from kitops.services.unit_of_work import UnitOfWork

        return UnitOfWork(self._db, self.actor, readonly=True)

    def writing(self) -> UnitOfWork:
        from kitops.services.unit_of_work import UnitOfWork

        return UnitOfWork(self._db, self.actor)

    def close(self) -> None:
        self._db.dispose()


def payments_problem() -> str | None:
    """Why payments cannot be taken from this process (``KITOPS_STRIPE_API_KEY`` missing
    or malformed), or None when they can. Reads the environment only; loads no Stripe."""
    from kitops.payments.gateway import PaymentsNotConfigured, StripeConfig

    try:
        StripeConfig.from_env()
    except PaymentsNotConfigured as problem:
        return str(problem)
    return None


def payment_gateway(*, need_webhook_secret: bool = False) -> Gateway:
    """The Stripe gateway configured from the environment (raises ``PaymentsNotConfigured``
    with the one-line reason when it cannot be). ``need_webhook_secret``: the webhook
    listener also needs ``KITOPS_STRIPE_WEBHOOK_SECRET``."""
    from kitops.payments.stripe_gateway import StripeGateway

    return StripeGateway.from_env(need_webhook_secret=need_webhook_secret)
