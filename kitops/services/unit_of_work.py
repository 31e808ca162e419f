"""The unit of work: one transaction, rolled back unless committed.

Repositories hang off it so a service reads as the stockroom's story:
``with uow: lot = uow.lots.find(...); uow.ledger.post(...); uow.commit()``.
Database failures leave here as kitops errors with one clear line.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Self, TypeVar, cast, overload

from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from kitops import faults, logs
from kitops.data.engine import Database
from kitops.data.repositories.locations import clinic_of, subtree_ids
from kitops.data.schema import CourseRow, KitRow, LocationRow, UserClinicRow, UserRow
from kitops.domain import roles
from kitops.errors import (
    Conflict,
    DatabaseUnavailable,
    KitopsError,
    NotAllowed,
    TransientDatabaseError,
)
from kitops.i18n import _

if TYPE_CHECKING:
    from kitops.data.repositories import (
        Audit,
        ClinicCalendar,
        Courses,
        Kits,
        Ledger,
        Locations,
        Lots,
        Orders,
        Plans,
        Products,
        PurchaseOrders,
        Settings,
        Suppliers,
        Users,
    )

# PostgreSQL: serialization_failure, deadlock_detected; unique_violation only when two
# writers raced to create the same balance row.
_RETRY_SQLSTATES = {"40001", "40P01"}
RETRY_ATTEMPTS = 8


def _is_transient(error: sa_exc.SQLAlchemyError) -> bool:
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return True
    return sqlstate == "23505" and "pk_stock_balances" in str(getattr(error, "orig", ""))


def _is_lost_connection(error: sa_exc.SQLAlchemyError) -> bool:
    """The server ended the session (57P01-57P03: terminated, shut down) or the link broke
    (class 08); the transaction it carried was rolled back by the server."""
    if getattr(error, "connection_invalidated", False):
        return True
    sqlstate = str(getattr(getattr(error, "orig", None), "sqlstate", None) or "")
    return sqlstate.startswith(("57P0", "08"))


def translate(error: sa_exc.SQLAlchemyError) -> KitopsError:
    """One line a stockroom person can act on, for a database-level failure."""
    detail = str(getattr(error, "orig", error)).strip().splitlines()[0]
    connecting = isinstance(error, sa_exc.DBAPIError) and error.statement is None
    if connecting and "locked" not in detail:
        # raised while connecting: no statement ran (server down, database missing,
        # authentication refused)
        return DatabaseUnavailable(
            _("cannot connect to the database: {detail}").format(detail=detail)
        )
    if _is_transient(error):
        return TransientDatabaseError(
            _(
                "the database stayed busy with concurrent changes; nothing was changed: {detail}"
            ).format(detail=detail)
        )
    if isinstance(error, sa_exc.IntegrityError):
        return Conflict(_("the database refused the change: {detail}").format(detail=detail))
    if _is_lost_connection(error):
        return DatabaseUnavailable(
            _(
                "the connection to the database was lost ({detail}); nothing "
                "was changed, run the command again"
            ).format(detail=detail)
        )
    if "locked" in detail or "busy" in detail:
        return DatabaseUnavailable(
            _("the database is busy with another writer; nothing was changed, try again")
        )
    return DatabaseUnavailable(
        _("database error, nothing was changed: {detail}").format(detail=detail)
    )


P = ParamSpec("P")
T = TypeVar("T")


def retrying(operation: Callable[P, T]) -> Callable[P, T]:
    """Run a whole use case again when the database reports a transient conflict.

    Each attempt is a fresh transaction, so every check is made again on current data;
    after ``RETRY_ATTEMPTS`` the last error is raised with its one-line message.
    """

    @functools.wraps(operation)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return operation(*args, **kwargs)
            except TransientDatabaseError:
                if attempt == RETRY_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.002, 0.01) * attempt)
        raise AssertionError("unreachable")

    return wrapper


R = TypeVar("R")


class _Repository(Generic[R]):
    """One of a unit of work's repositories (``uow.courses``): made on the session when
    it is first used in a transaction, its module imported then, so that a command loads
    the repositories it uses and no others. A user limited to clinics gets the ``scoped``
    class of ``kitops.services.scoped_repositories`` in its place."""

    def __init__(self, module: str, name: str, *, scoped: str | None = None) -> None:
        self.module = f"kitops.data.repositories.{module}"
        self.name = name
        self.scoped = scoped
        self.attr = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...

    @overload
    def __get__(self, uow: UnitOfWork, owner: type) -> R: ...

    def __get__(self, uow: UnitOfWork | None, owner: type) -> Self | R:
        if uow is None:
            return self
        if self.scoped is not None and uow.user is not None and uow.user.scoped:
            from kitops.services import scoped_repositories

            made = scoped_repositories.scoped(self.scoped, uow)
        else:
            made = getattr(import_module(self.module), self.name)(uow.session)
        uow.__dict__[self.attr] = made  # kept until the next transaction
        return cast(R, made)


@dataclass(frozen=True)
class ActingUser:
    """Who acts, in which role, limited to which clinics (their location ids and codes;
    None: every clinic, ``kitops user set-clinics``)."""

    name: str
    role: roles.Role
    clinics: frozenset[int] | None = None
    clinic_codes: tuple[str, ...] = ()

    @property
    def scoped(self) -> bool:
        return self.clinics is not None


class UnitOfWork:
    """One transaction, acting as ``actor``.

    Entering the outermost block identifies the actor: an active user (``self.user``), or
    refused (``NotAllowed``) when unknown or disabled. On a database with no users yet
    ``self.user`` is None: reads pass when ``bootstrap`` (the default; the command line
    clears it for every command but a few), and ``require`` lets only the first admin's
    creation and the demo data through. ``identify=False`` identifies nobody: for logging
    in, and for bookkeeping on behalf of an actor the caller has just identified (a
    job's lease, a token's last use, a web session's row).
    ``via`` names the API token the user acts through: the audit log then names the actor
    ``USER (token NAME)`` (``audit_name``).
    """

    session: Session
    # its repositories, each made on the session when first used in a transaction
    products: _Repository[Products] = _Repository("catalog", "Products")
    locations: _Repository[Locations] = _Repository("locations", "Locations")
    lots: _Repository[Lots] = _Repository("lots", "Lots")
    suppliers: _Repository[Suppliers] = _Repository("purchasing", "Suppliers")
    settings: _Repository[Settings] = _Repository("settings", "Settings")
    ledger: _Repository[Ledger] = _Repository("stock", "Ledger")
    audit: _Repository[Audit] = _Repository("audit", "Audit")
    courses: _Repository[Courses] = _Repository("courses", "Courses", scoped="ScopedCourses")
    clinic_calendar: _Repository[ClinicCalendar] = _Repository("clinic_calendar", "ClinicCalendar")
    kits: _Repository[Kits] = _Repository("kits", "Kits", scoped="ScopedKits")
    plans: _Repository[Plans] = _Repository("plans", "Plans")
    orders: _Repository[Orders] = _Repository("orders", "Orders", scoped="ScopedOrders")
    purchase_orders: _Repository[PurchaseOrders] = _Repository(
        "purchasing", "PurchaseOrders", scoped="ScopedPurchaseOrders"
    )
    users: _Repository[Users] = _Repository("users", "Users")

    def __init__(
        self,
        db: Database,
        actor: str,
        *,
        readonly: bool = False,
        identify: bool = True,
        bootstrap: bool = True,
        via: str | None = None,
    ) -> None:
        self.db = db
        self.actor = actor
        self.via = via  # the API token this unit of work acts through, if any
        self.readonly = readonly
        self.identify = identify
        self.bootstrap = bootstrap
        self.user: ActingUser | None = None
        self._granted: str | None = None
        self._depth = 0

    def __enter__(self) -> Self:
        # A use case entered inside another (the demo loader composes several) joins the
        # outer transaction: only the outermost block commits or rolls back.
        self._depth += 1
        if self._depth > 1:
            return self
        factory = self.db.read_sessions if self.readonly else self.db.write_sessions
        self.session = factory()
        for name in _REPOSITORIES:  # the last transaction's, on its session
            self.__dict__.pop(name, None)
        self._granted = None
        self.user = None
        self.__dict__.pop("_scope_places", None)
        if self.identify:
            try:
                self.user = self._identify()
            except BaseException as error:
                self._depth -= 1
                try:
                    self.session.rollback()
                finally:
                    self.session.close()
                if isinstance(error, NotAllowed):
                    self.record_refusal(error)
                elif isinstance(error, sa_exc.SQLAlchemyError):
                    raise translate(error) from error
                raise
            if self.user is not None:  # the user on every log line from here (kitops.logs)
                logs.set_actor(self.audit_name)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, NotAllowed) and not exc.recorded:
            self.record_refusal(exc)
        if isinstance(exc, sa_exc.SQLAlchemyError):
            raise translate(exc) from exc

    # --- who is acting, and may they ------------------------------------------------------

    def _identify(self) -> ActingUser | None:
        # one round trip: the user and the clinics it is limited to (one row per clinic)
        rows = self.session.execute(
            select(UserRow.role, UserRow.active, LocationRow.id, LocationRow.code)
            .select_from(UserRow)
            .outerjoin(UserClinicRow, UserClinicRow.user_id == UserRow.id)
            .outerjoin(LocationRow, LocationRow.id == UserClinicRow.location_id)
            .where(UserRow.name == self.actor)
            .order_by(LocationRow.code)
        ).all()
        found = rows[0] if rows else None
        if found is not None:
            if not found.active:
                raise NotAllowed(
                    _(
                        "user {actor} is disabled; an admin can enable it again "
                        "(`kitops user enable {actor}`)"
                    ).format(actor=self.actor),
                    actor=self.actor, permission="user.active", role=found.role,
                )  # fmt: skip
            limited = [(row.id, row.code) for row in rows if row.id is not None]
            return ActingUser(
                self.actor, roles.Role(found.role),
                frozenset(i for i, _ in limited) if limited else None,
                tuple(code for _, code in limited),
            )  # fmt: skip
        if self.session.scalar(select(UserRow.id).limit(1)) is None:
            if self.bootstrap:
                return None
            raise NotAllowed(roles.bootstrap_message(), actor=self.actor, permission="user.known")
        raise NotAllowed(
            _(
                "{actor!r} is not a kitops user (set --user or KITOPS_USER "
                "to yours; an admin adds users with `kitops user add NAME "
                "--role ROLE`)"
            ).format(actor=self.actor),
            actor=self.actor, permission="user.known",
        )  # fmt: skip

    # --- clinic scoping -------------------------------------------------------------------
    #
    # A user limited to some clinics sees and acts on those clinics only. Lists narrow to
    # them (``scope_places``, ``scope_clinics``); acting on a place or a clinic outside them
    # is refused (``NotAllowed``, audited like any refusal); a course, kit or order of
    # another clinic reads as not found (``visible_clinic``).

    def scope_clinics(self) -> frozenset[int] | None:
        """The clinics (location ids) the acting user is limited to; None: all of them."""
        user = self.user
        return None if user is None else user.clinics

    def scope_places(self) -> set[int] | None:
        """Every location within the acting user's clinics (None: no limit)."""
        clinics = self.scope_clinics()
        if clinics is None:
            return None
        cached: set[int] | None = self.__dict__.get("_scope_places")
        if cached is None:
            rows = self.locations.all()
            cached = set()
            for row in rows:
                if row.id in clinics:
                    cached |= subtree_ids(row, rows)
            self.__dict__["_scope_places"] = cached
        return cached

    def narrow_places(self, places: set[int] | None) -> set[int] | None:
        """``places`` (None: everywhere) within the acting user's clinics."""
        scope = self.scope_places()
        if scope is None:
            return places
        return set(scope) if places is None else places & scope

    def visible_clinic(self, clinic_id: int | None) -> bool:
        """Whether the acting user sees things of this clinic (a course, an order)."""
        clinics = self.scope_clinics()
        return clinics is None or (clinic_id is not None and clinic_id in clinics)

    def visible_kit(self, kit: KitRow) -> bool:
        """Whether the acting user sees this kit: held within its clinics, or made for a
        course of one of them."""
        places = self.scope_places()
        if places is None or kit.location_id in places:
            return True
        if kit.course_id is None:
            return False
        clinic_id = self.session.scalar(
            select(CourseRow.clinic_id).where(CourseRow.id == kit.course_id)
        )
        return self.visible_clinic(clinic_id)

    def scope_refusal(self, text: str) -> NotAllowed:
        """The refusal of a user limited to clinics doing ``text`` (``receive stock at
        clinic ESX``): raise it."""
        user = self.user
        assert user is not None
        mine = ", ".join(user.clinic_codes)
        return NotAllowed(
            _("{user} may not {doing}: {user} is limited to {mine}").format(
                user=user.name,
                doing=text,
                mine=mine,
            ),
            actor=self.actor, permission="clinic.scope", role=user.role.value,
        )  # fmt: skip

    def clinic_filter(self, code: str, doing: str) -> LocationRow:
        """The clinic a list is asked for, refused when outside the acting user's."""
        row = self.locations.clinic(code)
        self.check_clinic(row, doing=doing)
        return row

    def check_clinic(self, clinic: LocationRow, *, doing: str | None = None) -> None:
        """Go on only if ``clinic`` is one of the acting user's clinics."""
        if not self.visible_clinic(clinic.id):
            raise self.scope_refusal(
                _("{doing} at clinic {clinic}").format(doing=doing or _("act"), clinic=clinic.code)
            )

    def check_place(self, place: LocationRow, *, doing: str | None = None) -> None:
        """Go on only if ``place`` lies within one of the acting user's clinics; the refusal
        names the clinic that holds it."""
        scope = self.scope_places()
        if scope is None or place.id in scope:
            return
        by_id = {row.id: row for row in self.locations.all()}
        clinic = clinic_of(place, by_id)
        doing = doing or _("act")
        if clinic is not None:
            text = _("{doing} at clinic {clinic}").format(doing=doing, clinic=clinic.code)
        else:
            text = _("{doing} at location {location}").format(doing=doing, location=place.code)
        raise self.scope_refusal(text)

    def require(self, permission: str, *, doing: str | None = None) -> None:
        """Go on only if the acting user's role holds ``permission``
        (``kitops.domain.roles``); otherwise raise ``NotAllowed`` (exit 1), which rolls this
        transaction back and is recorded in the audit log in a transaction of its own.

        Called at the start of every changing use case, inside its ``with uow:`` block. A
        use case run inside another one's transaction is not checked again: the outer one
        was. Outside a block it checks in a short transaction of its own.
        """
        if not self.in_use:
            with self:
                self.require(permission, doing=doing)
            return
        if self._depth > 1 and self._granted is not None:
            return  # only a check of the outermost use case covers those inside it
        wanted = roles.permission(permission)
        user = self.user
        if user is None:
            if not self.identify:
                raise RuntimeError("a unit of work that identifies nobody cannot require")
            if permission in roles.BOOTSTRAP:
                self._granted = permission if self._depth == 1 else None
                return
            raise NotAllowed(roles.bootstrap_message(), actor=self.actor, permission=permission)
        if wanted.allows(user.role):
            self._granted = permission if self._depth == 1 else None
            return
        raise NotAllowed(
            roles.refusal(user.name, user.role, permission, doing=doing),
            actor=self.actor, permission=permission, role=user.role.value,
        )  # fmt: skip

    def record_refusal(self, error: NotAllowed, *, after: dict[str, Any] | None = None) -> None:
        """The refusal's audit row, in a short transaction of its own (the refused one has
        been rolled back). A database too busy to take it does not turn the refusal into
        another error."""
        from kitops.data.repositories.audit import Audit

        error.recorded = True
        try:
            with self.db.write_sessions() as session:
                Audit(session).record(
                    actor=self.audit_name[:64], action="access.refused", entity="permission",
                    entity_key=error.permission,
                    after={"role": error.role, "reason": str(error)[:500], **(after or {})},
                )  # fmt: skip
                session.commit()
        except sa_exc.SQLAlchemyError:
            pass

    @property
    def audit_name(self) -> str:
        """The actor as the audit log names it: ``USER`` or ``USER (token NAME)``."""
        return self.actor if self.via is None else f"{self.actor} (token {self.via})"

    @property
    def in_use(self) -> bool:
        """True inside a ``with uow:`` block (an enclosing use case's transaction)."""
        return self._depth > 0

    def run_atomic(self, sql: str, parameters: dict[str, Any]) -> tuple[Any, ...] | None:
        """Run one self-contained statement that does a whole use case (its checks, locks,
        changes and audit row) outside any transaction block, on a pooled driver connection
        in autocommit, and return its first row.

        The hot path for PostgreSQL: one round trip, no ORM session. ``sql`` uses the
        driver's ``%(name)s`` placeholders. Failures leave as the same one-line kitops
        errors as any other database failure; nothing is written by a failed statement.
        """
        if self._depth:
            raise RuntimeError("run_atomic would escape the enclosing transaction")
        pooled = self.db.engine.raw_connection()
        try:
            driver = pooled.driver_connection
            assert driver is not None
            driver.autocommit = True
            try:
                with driver.cursor() as cursor:
                    cursor.execute(sql, parameters)
                    row = cursor.fetchone()
            finally:
                if not driver.closed:
                    driver.autocommit = False
            return tuple(row) if row is not None else None
        except self.db.engine.dialect.loaded_dbapi.Error as error:
            lost = self.db.engine.dialect.is_disconnect(error, pooled, None)
            if lost:
                pooled.invalidate(error)
            wrapped = sa_exc.DBAPIError.instance(
                sql, parameters, error, self.db.engine.dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
            )  # fmt: skip
            raise translate(wrapped) from error
        finally:
            pooled.close()

    def commit(self) -> None:
        if self.readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        if self._depth > 1:
            self.session.flush()  # the outermost block commits
            return
        faults.point("uow:before_commit")
        try:
            self.session.commit()
        except sa_exc.SQLAlchemyError as error:
            raise translate(error) from error
        faults.point("uow:after_commit")

    def record(
        self,
        action: str,
        entity: str,
        key: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> int:
        """Write the audit row for this transaction's change and return its id."""
        row = self.audit.record(
            actor=self.audit_name, action=action, entity=entity, entity_key=key,
            before=before, after=after,
        )  # fmt: skip
        return row.id


_REPOSITORIES = tuple(
    name for name, value in vars(UnitOfWork).items() if isinstance(value, _Repository)
)
