"""What every command shares: the chosen database, the acting user, a unit of work."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kitops import bootstrap
from kitops.cli import collector

if TYPE_CHECKING:
    from kitops.data.engine import Database
    from kitops.services.unit_of_work import UnitOfWork


@dataclass
class Context:
    db_url: str | None
    claimed: str | None = None  # --user / KITOPS_USER: a claim, proven before it counts
    pin_stdin: bool = False  # --pin-stdin: the claimed user's PIN is standard input's line
    locale: str | None = None  # --locale: this command speaks it, whoever acts
    _db: Database | None = field(default=None, repr=False)
    _user: str | None = field(default=None, repr=False)
    _schema_checked: bool = field(default=False, repr=False)

    def database(self, *, check_schema: bool = True) -> Database:
        """The database, refusing one whose schema is not at this code's head."""
        if self._db is None:
            self._db = bootstrap.database(self.db_url)
        if check_schema and not self._schema_checked:
            from kitops.data.migrate import ensure_current

            ensure_current(self._db)
            self._schema_checked = True  # once per command: nothing here changes it
        collector.resume()  # the imports are made: queries make garbage of their own
        return self._db

    def session_file(self) -> Path:
        from kitops.data.engine import resolve_url
        from kitops.services.identity import session_file

        return session_file(resolve_url(self.db_url))

    @property
    def user(self) -> str:
        """The acting user, proven once per command (``kitops.services.identity``)."""
        if self._user is None:
            from kitops.services.identity import read_token, resolve

            self._user = resolve(
                self.database(check_schema=False), self.claimed,
                token=read_token(self.session_file()), read_pin=self._read_pin,
                schema_current=self._schema_checked,
            )  # fmt: skip
            self._speak_users_language(self._user)
        return self._user

    def _speak_users_language(self, name: str) -> None:
        """From now on speak ``name``'s language (kitops.i18n.resolve_locale): theirs, else
        their clinic's locale, else the environment's, unless --locale chose one."""
        if self.locale is not None or not self._database_exists():
            return
        from sqlalchemy.exc import SQLAlchemyError

        from kitops.errors import KitopsError
        from kitops.i18n import resolve_locale, set_default_locale
        from kitops.services.locales import preference_of
        from kitops.services.unit_of_work import UnitOfWork

        try:
            # a lookup, not an act: nobody is identified (or audited) by it
            lookup = UnitOfWork(self.database(check_schema=False), name, readonly=True,
                                identify=False)  # fmt: skip
            found = preference_of(lookup, name)
        except (KitopsError, SQLAlchemyError):
            return  # a database kitops cannot read yet (`db upgrade`): the environment's
        set_default_locale(resolve_locale(user_language=found.user_language,
                                          clinic_locale=found.clinic_locale))  # fmt: skip

    def _database_exists(self) -> bool:
        """False for a SQLite file not made yet: looking a language up must not create it
        (`db restore` into a new place, `db upgrade` of a new database)."""
        import os

        from sqlalchemy.engine import make_url

        from kitops.data.engine import resolve_url

        url = make_url(resolve_url(self.db_url))
        if url.get_backend_name() != "sqlite" or not url.database:
            return True
        return url.database == ":memory:" or os.path.exists(url.database)

    def documents_for(self, **things: Any) -> AbstractContextManager[str]:
        """A block making documents for ``things`` (``kits=``, ``courses=``, ``places=``,
        ``clinic=``, ``purchase_order=``: kitops.services.locales.document_locale) in their
        clinic's locale; --locale, when given, wins."""
        from kitops.i18n import use_clinic_locale

        if self.locale is not None:
            return use_clinic_locale(None)
        from kitops.services.locales import document_locale

        return use_clinic_locale(document_locale(self.uow(readonly=True), **things))

    def _read_pin(self, name: str) -> str | None:
        """The PIN of ``name``: standard input's first line with --pin-stdin, else a
        hidden prompt on a terminal, else None."""
        if self.pin_stdin:
            try:
                line = sys.stdin.readline()
            except (OSError, ValueError):
                line = ""
            return line.rstrip("\r\n") or None
        try:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        except (OSError, ValueError):
            interactive = False
        if not interactive:
            return None
        from kitops.i18n import _

        value: str = click.prompt(_("PIN of {name}").format(name=name), hide_input=True, err=True)
        return value

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        from kitops.services.unit_of_work import UnitOfWork

        database = self.database()
        return UnitOfWork(database, self.user, readonly=readonly, bootstrap=_bootstrap_command())


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


pass_context = click.make_pass_decorator(Context)
