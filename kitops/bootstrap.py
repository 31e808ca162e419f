"""Wiring: the only place that opens the database and builds the payment gateway.

``Stockroom`` is a long-running front end's handle (the terminal UI): an open database
and the person acting on it, handing out one unit of work per use case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kitops.data.engine import Database
    from kitops.payments.gateway import Gateway


class Stockroom:
    """An open database and the person acting on it, for a long-running front end
    (the terminal UI): hands out one unit of work per use case."""

    def __init__(self, db: Database, actor: str) -> None:
        self._db = db
        self.actor = actor

    @classmethod
    def open(cls, url: str | None, actor: str) -> Stockroom:
        """Open the database the way the command line does (``--db``, then
        ``KITOPS_DATABASE_URL``, then the user data folder) and refuse a schema that is
        not at this code's head, or a login bound to a job user (the TUI is for people)."""
        from kitops.data.engine import open_database, resolve_url
        from kitops.data.migrate import ensure_current
        from kitops.services.identity import refuse_job_login

        db = open_database(resolve_url(url))
        try:
            ensure_current(db)
            refuse_job_login(db, "the TUI is for people")
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
        return UnitOfWork(self._db, self.actor, readonly=True)

    def writing(self) -> UnitOfWork:
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


def payment_gateway() -> Gateway:
    """The Stripe gateway configured from the environment, as the command line builds it
    (raises ``PaymentsNotConfigured`` with the one-line reason when it cannot be)."""
    from kitops.payments.stripe_gateway import StripeGateway

    return StripeGateway.from_env()
