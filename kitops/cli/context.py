"""What every command shares: the chosen database, the acting user, a unit of work."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from kitops.data.engine import Database
    from kitops.services.unit_of_work import UnitOfWork

_OPEN: dict[str, Database] = {}


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass
class Context:
    db_url: str | None
    user: str
    _db: Database | None = field(default=None, repr=False)

    def database(self, *, check_schema: bool = True) -> Database:
        """The database, refusing one whose schema is not at this code's head."""
        if self._db is None:
            from kitops.data.engine import open_database, resolve_url

            url = resolve_url(self.db_url)
            if url not in _OPEN:
                _OPEN[url] = open_database(url)
            self._db = _OPEN[url]
        if check_schema:
            from kitops.data.migrate import ensure_current

            ensure_current(self._db)
        return self._db

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        from kitops.services.unit_of_work import UnitOfWork

        return UnitOfWork(
            self.database(), self.user, readonly=readonly, bootstrap=_bootstrap_command()
        )


# Commands that work on a database with no users yet; every other one refuses, saying how
# to create the first admin (the service layer refuses every change but these anyway).
BOOTSTRAP_COMMANDS = {("user", "add"), ("demo",), ("db", "check")}


def _bootstrap_command() -> bool:
    current = click.get_current_context(silent=True)
    names: list[str] = []
    while current is not None and current.parent is not None:
        names.append(current.info_name or "")
        current = current.parent
    return tuple(reversed(names)) in BOOTSTRAP_COMMANDS


def close_databases() -> None:
    while _OPEN:
        _, db = _OPEN.popitem()
        db.dispose()


pass_context = click.make_pass_decorator(Context)


def user_option_default() -> str:
    return os.environ.get("KITOPS_USER") or default_user()
