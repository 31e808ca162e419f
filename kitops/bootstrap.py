"""Wiring: the one place that opens the database and builds the payment gateway.

The command line, the terminal UI and the jobs take both from here; services receive
them (a unit of work over the database, a ``Gateway``) and never build them. Nothing
heavy is imported at module top: ``import kitops.cli`` loads neither SQLAlchemy nor
Stripe (tests/test_architecture.py checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kitops.i18n import _

if TYPE_CHECKING:
    from email.message import EmailMessage

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


# the command whose lines an operator reads by default (journald): the server logs at INFO;
# every other command at WARNING, so nothing changes on screen, and a job run's stderr
# stays its one JSON line (set KITOPS_LOG_LEVEL=INFO for its start and end lines)
_INFO_COMMANDS = frozenset({"serve"})


def configure_logging(command: str | None) -> None:
    """The logs of this process (``kitops.logs``) for the command about to run:
    ``KITOPS_LOG_LEVEL`` (default INFO for ``serve``, else WARNING) and
    ``KITOPS_LOG_FORMAT`` (``text`` or ``json``), on standard error; the terminal UI's go
    to ``$KITOPS_LOG_FILE``, else ``kitops-tui.log`` in the user data folder, never over
    its screen. A bad value: ``InvalidInput`` naming the variable (exit 2)."""
    import os
    from pathlib import Path

    from kitops import logs
    from kitops.errors import InvalidInput

    file: Path | None = None
    if os.environ.get("KITOPS_LOG_FILE", "").strip():
        file = Path(os.environ["KITOPS_LOG_FILE"].strip())
    elif command == "tui":
        from platformdirs import user_data_dir

        file = Path(user_data_dir("kitops", appauthor=False)) / "kitops-tui.log"
    try:
        logs.configure("INFO" if command in _INFO_COMMANDS else "WARNING", file=file)
    except logs.BadSetting as bad:
        reason = _("must be one of {choices}").format(choices="|".join(bad.choices))
        raise InvalidInput(bad.variable, bad.value, reason) from None


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


def mailer() -> Callable[[EmailMessage], None]:
    """The SMTP server the alerts go through, from the environment: ``KITOPS_SMTP_HOST``
    (required), ``KITOPS_SMTP_PORT`` (587), ``KITOPS_SMTP_SECURITY`` (``starttls``, ``tls``
    or ``none``), ``KITOPS_SMTP_TIMEOUT`` (seconds, 20), ``KITOPS_SMTP_USER`` and
    ``KITOPS_SMTP_PASSWORD`` (or its 0600 file ``KITOPS_SMTP_PASSWORD_FILE``),
    ``KITOPS_SMTP_FROM`` (the sender's address)."""
    import os
    import smtplib
    import socket
    import ssl

    from kitops import secrets
    from kitops.errors import InvalidInput
    from kitops.services.alerts import MailFailed

    host = os.environ.get("KITOPS_SMTP_HOST", "").strip()
    if not host:
        raise MailFailed(_("no mail server: set KITOPS_SMTP_HOST (README: Email alerts)"))
    port_text = os.environ.get("KITOPS_SMTP_PORT", "587").strip()
    if not port_text.isdigit():
        raise InvalidInput("KITOPS_SMTP_PORT", port_text, _("must be a port number"))
    security = os.environ.get("KITOPS_SMTP_SECURITY", "starttls").strip().lower()
    if security not in ("starttls", "tls", "none"):
        raise InvalidInput("KITOPS_SMTP_SECURITY", security, _("must be starttls, tls or none"))
    user = os.environ.get("KITOPS_SMTP_USER", "").strip() or None
    password = secrets.from_env("KITOPS_SMTP_PASSWORD")
    sender = os.environ.get("KITOPS_SMTP_FROM", "").strip() or f"kitops@{socket.getfqdn()}"
    timeout_text = os.environ.get("KITOPS_SMTP_TIMEOUT", "20").strip()
    try:
        timeout = float(timeout_text)
    except ValueError:
        raise InvalidInput("KITOPS_SMTP_TIMEOUT", timeout_text, _("must be seconds")) from None

    def send(message: EmailMessage) -> None:
        if "From" not in message:
            message["From"] = sender
        try:
            if security == "tls":
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, int(port_text), timeout=timeout, context=ssl.create_default_context()
                )
            else:
                server = smtplib.SMTP(host, int(port_text), timeout=timeout)
            with server:
                if security == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if user and password:
                    server.login(user, password)
                server.send_message(message)
        except (smtplib.SMTPException, OSError) as problem:
            raise MailFailed(
                _("the mail server {server} did not take the alert: {problem}").format(
                    server=f"{host}:{port_text}", problem=str(problem)[:200]
                )
            ) from None

    return send
