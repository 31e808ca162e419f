"""Alembic, driven from code: upgrade, current revision and the head check.

``HEAD_REVISION`` names the newest migration so the everyday head check needs one
small query and no Alembic import; a test keeps it equal to the scripts' head.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kitops.errors import DatabaseNotReady
from kitops.i18n import _

if TYPE_CHECKING:
    from alembic.config import Config

    from kitops.data.engine import Database

HEAD_REVISION = "0029"


def migrations_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "migrations", here / "_migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise DatabaseNotReady(_("the migration scripts are missing from this installation"))


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(db), revision)


def downgrade(db: Database, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(db), revision)


def current_revision(db: Database) -> str | None:
    """The schema's revision; None for a database Alembic has not set up. One statement:
    a missing ``alembic_version`` table is told by the error (no catalog lookup first)."""
    with db.engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError as error:
            if _no_such_table(error):
                return None
            raise


def _no_such_table(error: DBAPIError) -> bool:
    """PostgreSQL's undefined_table, or SQLite's "no such table"."""
    if getattr(error.orig, "sqlstate", None) == "42P01":
        return True
    return str(error.orig).startswith("no such table")


def ensure_current(db: Database) -> None:
    """Refuse to work on a database whose schema is not at this code's head."""
    revision = current_revision(db)
    if revision == HEAD_REVISION:
        return
    where = db.display_url
    if revision is None:
        raise DatabaseNotReady(
            _("the database at {where} is not set up; run `kitops db upgrade` first").format(
                where=where
            )
        )
    if revision.isdigit() and revision > HEAD_REVISION:
        raise DatabaseNotReady(
            _(
                "the database at {where} is at schema revision {revision}, "
                "newer than this kitops ({needed}); install the "
                "kitops release that wrote it"
            ).format(where=where, revision=revision, needed=HEAD_REVISION)
        )
    raise DatabaseNotReady(
        _(
            "the database at {where} is at schema revision {revision}, "
            "this kitops needs {needed}; run `kitops db upgrade` "
            "(after a backup: `kitops db backup PATH`)"
        ).format(where=where, revision=revision, needed=HEAD_REVISION)
    )
