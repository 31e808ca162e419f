"""Database administration: migrations, the ledger check, backups and restores."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import OperationalError

from kitops import faults
from kitops.data import migrate
from kitops.data.engine import Database, busy_timeout_ms, open_database
from kitops.data.schema import (
    KitRow,
    LocationRow,
    LotRow,
    ProductRow,
    StockBalanceRow,
    StockMoveRow,
)
from kitops.domain.catalog import ProductKind
from kitops.domain.kits import GONE, ON_A_SHELF, SERVING, KitStatus
from kitops.domain.ledger import LotStatus, compare_balances
from kitops.errors import DatabaseNotReady, InvalidInput, Refused
from kitops.filemodes import create_empty
from kitops.i18n import _, ngettext
from kitops.services.dto import database as database_dto
from kitops.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def upgrade(db: Database, actor: str | None = None) -> tuple[str | None, str | None]:
    """Migrate to head; returns the revisions before and after.

    With ``actor`` (the command line), an admin may, and so may the database's owner
    whoever they act as (the operating-system account owning the SQLite file, or on
    PostgreSQL a login role that owns the database or is a superuser). A database with no
    users yet (new, or from before users existed) is upgraded for anyone: `make run` does
    so on a new machine."""
    if actor is not None and not is_database_owner(db) and inspect(db.engine).has_table("users"):
        UnitOfWork(db, actor, readonly=True).require("db.upgrade")
    before = migrate.current_revision(db)
    log.info("db upgrade from %s", before or "empty", extra={"revision": before})
    migrate.upgrade(db)
    after = migrate.current_revision(db)
    log.info("db upgraded from %s to %s", before or "empty", after,
             extra={"revision": after, "from_revision": before})  # fmt: skip
    return before, after


def is_database_owner(db: Database) -> bool:
    """Whether this process is the database's owner: on SQLite the operating-system account
    that owns the file (or none exists yet), on PostgreSQL a login role that is (a member
    of) the database's owner, or a superuser."""
    if db.is_sqlite:
        name = db.engine.url.database or ""
        if not name or name == ":memory:" or name.startswith("file:"):
            return True
        try:
            return Path(name).expanduser().stat().st_uid == os.geteuid()
        except FileNotFoundError:
            return True  # created now, by this account
    with db.engine.connect() as conn:
        owner = conn.execute(
            text(
                "SELECT pg_has_role(session_user, d.datdba, 'MEMBER') FROM pg_database d "
                "WHERE d.datname = current_database()"
            )
        ).scalar()
    return bool(owner)


def current(db: Database) -> tuple[str | None, str]:
    return migrate.current_revision(db), migrate.HEAD_REVISION


def check(uow: UnitOfWork) -> database_dto.CheckReport:
    """Every balance must equal the sum of its moves and none may be negative; a kit is
    one unit in one place or none at all, and its record (status, place) agrees with the
    ledger."""
    with uow:
        physical = uow.locations.physical_ids()
        recorded = uow.ledger.balances()
        expected = uow.ledger.sums_by_balance_key(physical)
        differences = compare_balances(recorded, expected)
        moves = uow.session.scalar(select(func.count()).select_from(StockMoveRow)) or 0
        problems = []
        if differences:
            lots = {
                lot_id: (sku, code)
                for lot_id, sku, code in uow.session.execute(
                    select(LotRow.id, ProductRow.sku, LotRow.code).join(ProductRow)
                )
            }
            codes = dict(uow.session.execute(select(LocationRow.id, LocationRow.code)).all())
            for diff in differences:
                sku, code = lots.get(diff.lot_id, ("?", f"#{diff.lot_id}"))
                problems.append(
                    database_dto.BalanceProblem(
                        sku=sku,
                        lot=code,
                        location=codes.get(diff.location_id, f"#{diff.location_id}"),
                        recorded=diff.recorded,
                        from_moves=diff.from_moves,
                        problem=diff.problem,
                    )
                )
        problems.extend(_kits_not_one_unit(uow, physical))
        problems.extend(_kits_off_the_ledger(uow, physical))
    return database_dto.CheckReport(
        ok=not problems,
        balances_checked=len(set(recorded) | set(expected)),
        moves=moves,
        problems=tuple(problems),
    )


def check_headline(report: database_dto.CheckReport) -> str:
    """One line for what ``check`` found: balances off the ledger, kits not one unit, kit
    records that disagree with the ledger."""
    kits = [p.problem for p in report.problems if p.problem.startswith(_KIT_PROBLEM)]
    units = sum(1 for text in kits if text.endswith(_NOT_ONE_UNIT))
    parts = []
    if len(report.problems) > len(kits):
        n = len(report.problems) - len(kits)
        parts.append(
            ngettext(
                "{n} balances do not match the ledger", "{n} balances do not match the ledger", n
            ).format(n=n)
        )
    if units:
        parts.append(
            ngettext(
                "{n} kits are not one unit or none", "{n} kits are not one unit or none", units
            ).format(n=units)
        )
    if len(kits) > units:
        n = len(kits) - units
        parts.append(
            ngettext(
                "{n} kit records disagree with the ledger",
                "{n} kit records disagree with the ledger",
                n,
            ).format(n=n)
        )
    return "; ".join(parts)


_KIT_PROBLEM = "kit "  # how a kit's problem line starts (``_kits_...``)
_NOT_ONE_UNIT = "a kit is one unit or none"  # how ``_kits_not_one_unit``'s lines end


def _kits_not_one_unit(uow: UnitOfWork, physical: set[int]) -> list[database_dto.BalanceProblem]:
    """Kits come only from assembly, one unit each: a kit's stock on hand, over all
    places, is 1 (in the stockroom) or 0 (gone out, written off, taken apart)."""
    total = func.sum(StockBalanceRow.quantity)
    rows = uow.session.execute(
        select(ProductRow.sku, LotRow.code, total, func.min(LocationRow.code))
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .join(ProductRow, ProductRow.id == LotRow.product_id)
        .join(LocationRow, LocationRow.id == StockBalanceRow.location_id)
        .where(
            ProductRow.kind == ProductKind.KIT.value,
            StockBalanceRow.location_id.in_(physical),
            StockBalanceRow.quantity != 0,
        )
        .group_by(ProductRow.sku, LotRow.code)
        .having(total != 1)
        .order_by(LotRow.code)
    ).all()
    return [
        database_dto.BalanceProblem(sku=sku, lot=serial, location=place, recorded=units,
                                    from_moves=units,
                                    problem=f"{_KIT_PROBLEM}{serial} holds {units} units; "
                                            f"{_NOT_ONE_UNIT}")
        for sku, serial, units, place in rows
    ]  # fmt: skip


# A kit in the stockroom has its one unit where its record says; one that went out, was
# taken apart or written off has none on hand.
_KITS_ON_A_SHELF = ON_A_SHELF
_KITS_GONE = GONE
# An available or reserved kit whose own lot is one of these should have been marked
# (`expired` by the expiry sweep, `recalled` by a recall); an expired kit's lot is one.
_LOTS_OUT_OF_USE = (LotStatus.EXPIRED.value, LotStatus.RECALLED.value)


def _kits_off_the_ledger(uow: UnitOfWork, physical: set[int]) -> list[database_dto.BalanceProblem]:
    """Kit records agree with the ledger: an available, reserved, recalled, expired or
    quarantined (returned sealed) kit
    has its one unit at the place it records, a kit that is gone has none on hand, an
    available or reserved kit's own lot is neither expired nor recalled, and an expired
    kit's is (only the expiry sweep expires a kit, with its lot). A kit whose stock is not
    one unit or none is left to ``_kits_not_one_unit``."""
    codes: dict[int, str] = dict(
        uow.session.execute(select(LocationRow.id, LocationRow.code)).all()
    )
    on_hand: dict[int, dict[int, int]] = {}
    for lot_id, location_id, quantity in uow.session.execute(
        select(StockBalanceRow.lot_id, StockBalanceRow.location_id, StockBalanceRow.quantity).where(
            StockBalanceRow.lot_id.in_(select(KitRow.lot_id).where(KitRow.lot_id.is_not(None))),
            StockBalanceRow.location_id.in_(physical),
            StockBalanceRow.quantity != 0,
        )
    ):
        on_hand.setdefault(lot_id, {})[location_id] = quantity
    rows = uow.session.execute(
        select(KitRow.serial, KitRow.status, KitRow.location_id, LotRow.id, ProductRow.sku,
               LotRow.status)
        .join(ProductRow, ProductRow.id == KitRow.product_id)
        .join(LotRow, LotRow.id == KitRow.lot_id)
        .order_by(KitRow.serial)
    ).all()  # fmt: skip
    problems = []
    for serial, status, location_id, lot_id, sku, lot_status in rows:
        held = on_hand.get(lot_id, {})
        if sum(held.values()) not in (0, 1):
            continue  # a kit is one unit or none: reported as such
        where = codes.get(location_id, f"#{location_id}")
        free = status in SERVING
        lot_out = lot_status in _LOTS_OUT_OF_USE
        text = None
        shown, units = where, held.get(location_id, 0)
        if status in _KITS_ON_A_SHELF and not held:
            text = f"is {status} at {where} but the ledger has none on hand"
        elif status in _KITS_ON_A_SHELF and location_id not in held:
            (elsewhere,) = held
            text = (f"is {status} at {where} but the ledger has its unit at "
                    f"{codes.get(elsewhere, f'#{elsewhere}')}")  # fmt: skip
        elif status in _KITS_GONE and held:
            (elsewhere,) = held
            shown, units = codes.get(elsewhere, f"#{elsewhere}"), 1
            text = f"is {status} but the ledger still has its unit at {shown}"
        elif (free and lot_out) or (status == KitStatus.EXPIRED and not lot_out):
            text = f"is {status} at {where} but its own lot {serial} is {lot_status}"
        if text is not None:
            problems.append(
                database_dto.BalanceProblem(
                    sku=sku, lot=serial, location=shown, recorded=units, from_moves=units,
                    problem=f"{_KIT_PROBLEM}{serial} {text}")
            )  # fmt: skip
    return problems


# --- backups ------------------------------------------------------------------------------
#
# SQLite: `backup` copies through the online backup API in one step (one read transaction,
# so a consistent snapshot while others write) into a file beside the target, which is
# made self-contained (rollback journal, no -wal beside it), fsynced and then linked into
# place. `restore` copies the backup the same way into a file beside the live database,
# checks, upgrades and verifies it there, and only then swaps it in with one rename; the
# replaced file stays beside it. PostgreSQL has its own tools: pg_dump and pg_restore.


@dataclass(frozen=True)
class Restore:
    """What ``db restore`` did."""

    source: str
    target: str
    backup_revision: str
    revision: str
    replaced: str | None
    balances_checked: int
    moves: int


def _connection_options(db: Database) -> list[str]:
    url = db.engine.url
    parts = []
    if url.host:
        parts.append(f"--host={url.host}")
    if url.port:
        parts.append(f"--port={url.port}")
    if url.username:
        parts.append(f"--username={url.username}")
    return parts


def pg_dump_command(db: Database, path: str = "PATH") -> str:
    options = _connection_options(db)
    return " ".join(["pg_dump", "--format=custom", f"--file={path}", *options,
                     db.engine.url.database or ""])  # fmt: skip


def pg_restore_command(db: Database, path: str = "PATH") -> str:
    options = _connection_options(db)
    return " ".join(["pg_restore", "--clean", "--if-exists", "--no-owner", *options,
                     f"--dbname={db.engine.url.database or ''}", path])  # fmt: skip


def _sqlite_file(db: Database) -> Path:
    name = db.engine.url.database or ""
    if not name or name == ":memory:" or name.startswith("file:"):
        raise InvalidInput("database", db.display_url, _("is not a SQLite database file"))
    return Path(name).expanduser().resolve()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # some filesystems cannot sync a directory; the rename is atomic all the same
    with contextlib.suppress(OSError):
        _fsync(path)


def _single_file(path: Path, timeout: float = 5.0) -> None:
    """Switch a SQLite file to a rollback journal: everything in the one file, no -wal."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=timeout)
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    finally:
        conn.close()


def _link_new(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target``, never overwriting a file that appeared."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise Refused(
            _("{target} already exists; choose a new file for the backup").format(target=target)
        ) from None
    except OSError:  # a filesystem without hard links
        if target.exists():
            raise Refused(
                _("{target} already exists; choose a new file for the backup").format(target=target)
            ) from None
        os.replace(source, target)


def _file_path(path: str) -> Path:
    """``path`` as a file path the system can look up (a name too long for it, or with a
    NUL, is bad input rather than an error half-way)."""
    try:
        found = Path(path).expanduser()
        found.exists()
    except (OSError, ValueError, RuntimeError) as error:
        shown = path if len(path) <= 60 else path[:40] + "..."
        reason = getattr(error, "strerror", None) or str(error)
        raise InvalidInput(
            "path", shown, _("is not a usable file name ({reason})").format(reason=reason)
        ) from None
    return found


def backup(db: Database, path: str, actor: str | None = None) -> Path:
    """A consistent copy of a SQLite database via its online backup API (an admin or the
    job user may, when ``actor`` is given)."""
    if actor is not None:
        UnitOfWork(db, actor, readonly=True).require("db.backup")
    target = _file_path(path)
    if not db.is_sqlite:
        raise Refused(
            _(
                "PostgreSQL is backed up with pg_dump: {command} (restore: see "
                "`kitops db restore --help`)"
            ).format(command=pg_dump_command(db, str(target)))
        )
    if target.exists():
        raise Refused(
            _("{target} already exists; choose a new file for the backup").format(target=target)
        )
    if not target.parent.is_dir():
        raise InvalidInput("path", path, _("its folder does not exist"))
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    raw = db.engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        create_empty(partial)  # the umask's mode (kitops.filemodes), not SQLite's 0644
        destination = sqlite3.connect(partial, isolation_level=None)
        try:
            source.backup(destination)  # all pages in one step: one read transaction
        finally:
            destination.close()
        _single_file(partial)
        _fsync(partial)
        _link_new(partial, target)
        _fsync_dir(target.parent)
    except sqlite3.Error as error:
        raise Refused(
            _("the backup failed, nothing was written: {error}").format(error=error)
        ) from None
    finally:
        raw.close()
        partial.unlink(missing_ok=True)
    return target


def _read_backup(source: Path, copy: Path, busy_ms: int) -> None:
    """Copy the backup file into ``copy`` through the backup API (reads its -wal too)."""
    try:
        conn = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        conn = sqlite3.connect(source)
    try:
        conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
        destination = sqlite3.connect(copy, isolation_level=None)
        try:
            conn.backup(destination)
        finally:
            destination.close()
    finally:
        conn.close()


def _backup_revision(copy: Path, shown: str) -> str:
    """The schema revision of a copied backup; refuses anything that is not kitops'."""
    not_kitops = _("is not a kitops database (make one with `kitops db backup`)")
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        tables = {
            name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not {"alembic_version", "stock_moves", "stock_balances"} <= tables:
            raise InvalidInput("path", shown, not_kitops)
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        quick = conn.execute("PRAGMA quick_check").fetchone()
    finally:
        conn.close()
    if row is None or not isinstance(row[0], str):
        raise InvalidInput("path", shown, not_kitops)
    if quick is None or quick[0] != "ok":
        raise Refused(
            _("the backup {shown} is damaged ({problem}); not restored").format(
                shown=shown, problem=quick[0] if quick else "?"
            )
        )
    revision: str = row[0]
    if not revision.isdigit():
        raise InvalidInput(
            "path",
            shown,
            _("has an unknown schema revision {revision!r}").format(revision=revision),
        )
    if revision > migrate.HEAD_REVISION:
        raise Refused(
            _(
                "the backup {shown} is at schema revision {revision}, newer "
                "than this kitops ({needed}); restore it with the "
                "kitops release that wrote it"
            ).format(shown=shown, revision=revision, needed=migrate.HEAD_REVISION)
        )
    return revision


def in_use(db: Database) -> Refused:
    """The refusal of a restore whose SQLite file another program holds locked."""
    return _in_use(_sqlite_file(db))


def _in_use(target: Path) -> Refused:
    return Refused(
        _(
            "{target} is in use by another kitops program (the TUI, "
            "`stripe listen`, a job); stop it and restore again; nothing "
            "was changed"
        ).format(target=target)
    )


def _swap_in(target: Path, ready: Path) -> Path | None:
    """Put ``ready`` in place of ``target`` with one rename; the old file is kept aside."""
    if not target.exists():
        os.replace(ready, target)
        _fsync_dir(target.parent)
        return None
    in_use = _in_use(target)
    try:
        # Folds the -wal into the file and removes it; SQLite allows this only when no
        # other connection has the database open.
        _single_file(target, timeout=1.0)
    except sqlite3.OperationalError:
        raise in_use from None
    except sqlite3.DatabaseError:
        pass  # not a database at all: it is kept aside all the same
    if any(target.with_name(target.name + end).exists() for end in ("-wal", "-journal")):
        raise in_use
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = target.with_name(f"{target.name}.replaced-{stamp}")
    if aside.exists():
        aside = target.with_name(f"{aside.name}-{os.getpid()}")
    try:
        os.link(target, aside)
    except OSError:  # no hard links here: a copy, before anything is replaced
        shutil.copy2(target, aside)
    os.replace(ready, target)
    _fsync_dir(target.parent)
    return aside


def restore(
    db: Database,
    path: str,
    actor: str,
    *,
    confirm: Callable[[Path], object] | None = None,
) -> Restore:
    """Replace the SQLite database with a backup, all at once or not at all.

    The backup is copied beside the database, checked (a kitops database, not from a
    newer kitops, undamaged), upgraded to this kitops' schema, its ledger verified and the
    restore recorded in its audit log; only then ``confirm(target)`` is asked (when a
    database is there to replace) and the copy renamed over the database.
    """
    if not db.is_sqlite:
        raise Refused(
            _("PostgreSQL is restored with pg_restore: {command}, then `kitops db check`").format(
                command=pg_restore_command(db, path)
            )
        )
    source = _file_path(path)
    if not source.is_file():
        raise InvalidInput("path", path, _("no such file"))
    target = _sqlite_file(db)
    if source.resolve() == target:
        raise InvalidInput("path", path, _("is the database itself"))
    if not target.parent.is_dir():
        raise InvalidInput("database", db.display_url, _("its folder does not exist"))
    try:
        if target.exists() and inspect(db.engine).has_table("users"):
            UnitOfWork(db, actor).require("db.restore")  # an admin replaces a live database
    except OperationalError as error:
        # a reader holds the file in rollback-journal mode: opening it (which switches it
        # to WAL) waits for the lock and gives up
        if "locked" in str(error.orig):
            raise _in_use(target) from None
        raise
    db.dispose()  # this process keeps no connection to the file being replaced
    busy_ms = busy_timeout_ms()
    ready = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    _remove_abandoned_copies(target)
    for leftover in _sidecars(ready):
        leftover.unlink(missing_ok=True)
    try:
        try:
            create_empty(ready)  # the umask's mode (kitops.filemodes), not SQLite's 0644
            _read_backup(source, ready, busy_ms)
        except sqlite3.DatabaseError as error:
            raise InvalidInput(
                "path",
                path,
                _("is not a SQLite database (a `kitops db backup` file): {error}").format(
                    error=error
                ),
            ) from None
        backup_revision = _backup_revision(ready, path)
        faults.point("db.restore:after_copy")
        _check_schema(ready, backup_revision, path)
        copy = open_database(f"sqlite:///{ready}")
        try:
            if backup_revision != migrate.HEAD_REVISION:
                migrate.upgrade(copy)
            _restore_guards(ready)
            report = check(UnitOfWork(copy, actor, readonly=True, identify=False))
            if not report.ok:
                raise Refused(
                    _(
                        "the backup {path} fails the ledger check ({n} balances do "
                        "not match its moves; `kitops --db sqlite:///{source} db "
                        "check` lists them); not restored"
                    ).format(path=path, n=len(report.problems), source=source)
                )
            with UnitOfWork(copy, actor, identify=False) as uow:
                uow.record("db.restore", "database", target.name,
                           after={"backup": str(source), "backup_revision": backup_revision,
                                  "revision": migrate.HEAD_REVISION})  # fmt: skip
                uow.commit()
        finally:
            copy.dispose()
        _single_file(ready)
        _fsync(ready)
        if confirm is not None and target.exists() and target.stat().st_size > 0:
            confirm(target)
        replaced = _swap_in(target, ready)
    except DatabaseNotReady as error:
        raise Refused(
            _("the backup {path} could not be upgraded: {error}").format(path=path, error=error)
        ) from None
    finally:
        for leftover in _sidecars(ready):
            leftover.unlink(missing_ok=True)
    return Restore(
        source=str(source),
        target=str(target),
        backup_revision=backup_revision,
        revision=migrate.HEAD_REVISION,
        replaced=str(replaced) if replaced else None,
        balances_checked=report.balances_checked,
        moves=report.moves,
    )


def _remove_abandoned_copies(target: Path) -> None:
    """Delete the ``.restoring-<pid>`` copies (and their -wal/-shm/-journal) that restores
    killed before their end left beside ``target``: those whose process is gone. A copy of
    a restore still running (its process alive) is left alone."""
    prefix = f".{target.name}.restoring-"
    for path in target.parent.glob(f"{prefix}*"):
        pid_text = path.name.removeprefix(prefix).split("-", 1)[0]
        if not pid_text.isdigit() or _process_alive(int(pid_text)):
            continue
        path.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this restore's own name: a leftover of an earlier process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


# --- the backup's schema against its revision ---------------------------------------------

SchemaObjects = dict[tuple[str, str], object]


def _schema_objects(path: Path) -> SchemaObjects:
    """Every table (its columns), index (table, uniqueness, columns, partial clause),
    trigger and view (their SQL, whitespace and case folded) of a SQLite file, by type and
    name; SQLite's own ``sqlite_*`` tables are left out."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        found: SchemaObjects = {}
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for kind, name, table, sql in rows:
            if kind == "table":
                found[(kind, name)] = tuple(
                    (col[1], str(col[2]).upper(), col[3], col[5])
                    for col in conn.execute(f'PRAGMA table_info("{name}")')
                )
            elif kind == "index":
                columns = tuple(c[2] for c in conn.execute(f'PRAGMA index_info("{name}")'))
                found[(kind, name)] = (table, columns, _folded(sql))
            else:
                found[(kind, name)] = (table, _folded(sql))
        return found
    finally:
        conn.close()


def _folded(sql: str | None) -> str:
    return " ".join((sql or "").lower().replace("(", " ( ").replace(")", " ) ").split())


@dataclass(frozen=True)
class _Reference:
    objects: SchemaObjects
    triggers: dict[str, str]  # name → the CREATE TRIGGER statement, as the migration wrote it


_REFERENCES: dict[str, _Reference] = {}


def _reference(revision: str) -> _Reference:
    """The schema objects of a database migrated from nothing to ``revision`` with this
    kitops' migrations (built once per process, in a temporary file)."""
    if revision not in _REFERENCES:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="kitops-reference-") as folder:
            path = Path(folder) / "reference.db"
            reference = open_database(f"sqlite:///{path}")
            try:
                migrate.upgrade(reference, revision)
            finally:
                reference.dispose()
            conn = sqlite3.connect(path)
            try:
                triggers = dict(
                    conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                )
            finally:
                conn.close()
            _REFERENCES[revision] = _Reference(_schema_objects(path), triggers)
    return _REFERENCES[revision]


def _check_schema(copy: Path, revision: str, shown: str) -> None:
    """Refuse a backup whose tables, indexes, triggers or views are not exactly those its
    schema revision creates: a dropped append-only trigger, an added one, a missing index
    (a ledger edited to agree with its balances passes the ledger check, not this)."""
    expected = _reference(revision).objects
    actual = _schema_objects(copy)
    problems = [f"its {kind} {name} is missing" for (kind, name) in expected
                if (kind, name) not in actual]  # fmt: skip
    problems += [f"it has an extra {kind} {name}" for (kind, name) in actual
                 if (kind, name) not in expected]  # fmt: skip
    problems += [f"its {kind} {name} differs" for (kind, name), shape in expected.items()
                 if (kind, name) in actual and actual[(kind, name)] != shape]  # fmt: skip
    if problems:
        if len(problems) > 1:
            message = _(
                "the backup {shown} does not have the schema of its revision "
                "{revision}: {problem} (and {more} more differences); not restored"
            )
        else:
            message = _(
                "the backup {shown} does not have the schema of its revision "
                "{revision}: {problem}; not restored"
            )
        raise Refused(
            message.format(
                shown=shown, revision=revision, problem=problems[0], more=len(problems) - 1
            )
        )


def _restore_guards(copy: Path) -> None:
    """Create again, from this kitops' own migrations, the triggers it owns (the
    append-only guards on the ledger and the audit log), whatever the copy held."""
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for name, sql in _reference(migrate.HEAD_REVISION).triggers.items():
            conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _sidecars(path: Path) -> list[Path]:
    return [path, *(path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal"))]
