"""Who reads which language: a clinic's locale, a user's own language, and the two a
person's screens are resolved from (``kitops.i18n.resolve_locale``).

A clinic's locale is the language and formats of its documents (labels, purchase orders,
patients' calendars, course cards, its reports) and of its staff's screens when they set
no language of their own. Any locale Babel knows is accepted; its texts stay English
until kitops ships a catalog for its language (``kitops.i18n.has_catalog``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select

from kitops.data.repositories.locations import clinic_of
from kitops.data.schema import (
    CourseRow,
    KitRow,
    LocationRow,
    PurchaseOrderRow,
    UserClinicRow,
    UserRow,
    UserSessionRow,
)
from kitops.domain.locations import LocationKind
from kitops.errors import InvalidInput
from kitops.i18n import _, resolve_locale, use_clinic_locale
from kitops.services.unit_of_work import UnitOfWork, retrying

if TYPE_CHECKING:
    from kitops.data.engine import Database
    from kitops.services.dto import stock as stock_dto
    from kitops.services.dto import users as users_dto

# Every command looks its user's language up here (``preference_of``) before it runs: what
# only changing a locale or making a document needs (the users' and locations' services,
# their DTOs, the course and order number parsers) is imported where it is used.

T = TypeVar("T")


@dataclass(frozen=True)
class LocalePreference:
    """What a user's screens are resolved from: their own language and their clinic's
    locale (the one clinic they are limited to, else the database's only clinic)."""

    user_language: str | None = None
    clinic_locale: str | None = None


def preference_of(uow: UnitOfWork, name: str) -> LocalePreference:
    """The language ``name`` chose and the locale of their clinic (nothing known: empty)."""
    with uow:
        row = uow.users.find(name)
        if row is None:
            return LocalePreference()
        mine = uow.session.scalars(
            select(LocationRow.locale)
            .join(UserClinicRow, UserClinicRow.location_id == LocationRow.id)
            .where(UserClinicRow.user_id == row.id)
        ).all()
        if not mine:
            # not limited to clinics: the database's clinic, when it has just one
            mine = uow.session.scalars(
                select(LocationRow.locale)
                .where(LocationRow.kind == LocationKind.CLINIC.value, LocationRow.active)
                .limit(2)
            ).all()
        clinic = mine[0] if len(mine) == 1 else None
        return LocalePreference(row.language, clinic)


@retrying
def set_clinic_locale(uow: UnitOfWork, code: str, locale: str | None) -> stock_dto.Location:
    """Set (``None``: clear) the locale of clinic ``code``: its documents' language and
    formats, and its staff's screens when they choose none. Admins, within their clinics."""
    from kitops.services.locations import check_locale, location_dtos

    wanted = check_locale(locale) if locale is not None else None
    with uow:
        uow.require("location.edit", doing=_("change a clinic's locale"))
        row = uow.locations.clinic(code)
        uow.check_clinic(row, doing=_("change the locale"))
        before = row.locale
        row.locale = wanted
        uow.record("location.set_locale", "location", row.code,
                   before={"locale": before}, after={"locale": wanted})  # fmt: skip
        uow.commit()
        return next(d for d in location_dtos(uow.locations.all()) if d.code == row.code)


@retrying
def set_user_language(uow: UnitOfWork, name: str, language: str | None) -> users_dto.User:
    """Set (``None``: clear, back to the clinic's locale or the environment's) the
    language ``name`` reads kitops in. Any user may set their own; an admin anyone's."""
    from kitops.services import users as users_service
    from kitops.services.locations import check_locale

    wanted = check_locale(language, "language") if language is not None else None
    with uow:
        own = uow.user is not None and uow.user.name == name.strip()
        if not own:
            uow.require("user.manage", doing=_("set another user's language"))
        row: UserRow = uow.users.get(name, lock=True)
        before = row.language
        row.language = wanted
        uow.record("user.set_language", "user", row.name,
                   before={"language": before}, after={"language": wanted})  # fmt: skip
        result = users_service.user_dto(
            row, users_service.clinics_of(uow, [row.id]).get(row.id, ())
        )
        uow.commit()
    return result


def web_session_locale(db: Database, token: str) -> str:
    """The language of the user whose web session ``token`` is: theirs, else their
    clinic's locale, else the server's environment's (also for no such session). A lookup
    only: whether the session is still valid is the page's own check
    (``web_sessions.resume``)."""
    # the database keeps the token's SHA-256 only, as kitops.services.web_sessions writes it
    digest = hashlib.sha256(token.encode()).hexdigest()
    reading = UnitOfWork(db, "web", identify=False, readonly=True)
    with reading:
        name = reading.session.scalar(
            select(UserRow.name)
            .join(UserSessionRow, UserSessionRow.user_id == UserRow.id)
            .where(UserSessionRow.token_hash == digest, UserSessionRow.identity == "web")
        )
    if name is None:
        return resolve_locale()
    found = preference_of(UnitOfWork(db, name, identify=False, readonly=True), name)
    return resolve_locale(user_language=found.user_language, clinic_locale=found.clinic_locale)


def document_locale(
    uow: UnitOfWork,
    *,
    clinic: str | None = None,
    places: Sequence[str] = (),
    kits: Sequence[str] = (),
    courses: Sequence[str | int] = (),
    purchase_order: str | None = None,
) -> str | None:
    """The locale documents for these things are made in (``use_clinic_locale``): their
    clinic's, when they all belong to one clinic and it has a locale; None otherwise (the
    language in force). Lenient: what names nothing is left to the document's own check,
    which refuses it with the usual line."""
    from kitops.domain.courses import parse_course_id
    from kitops.domain.purchasing import parse_po

    with uow:
        rows = uow.locations.all()
        by_id = {row.id: row for row in rows}
        by_code = {row.code: row for row in rows}
        clinic_ids: set[int | None] = set()

        def place(row: LocationRow | None) -> None:
            found = clinic_of(row, by_id) if row is not None else None
            clinic_ids.add(found.id if found is not None else None)

        for code in ([clinic] if clinic else []) + list(places):
            place(by_code.get(code.strip().upper()))
        course_ids = [n for n in (_number(c, parse_course_id) for c in courses) if n is not None]
        if kits:
            found_kits = uow.session.execute(
                select(KitRow.serial, KitRow.location_id, CourseRow.clinic_id)
                .outerjoin(CourseRow, CourseRow.id == KitRow.course_id)
                .where(KitRow.serial.in_([s.strip().upper() for s in kits]))
            ).all()
            for _serial, location_id, course_clinic in found_kits:
                if course_clinic is not None:
                    clinic_ids.add(course_clinic)
                else:
                    place(by_id.get(location_id))
        if course_ids:
            clinic_ids.update(uow.session.scalars(
                select(CourseRow.clinic_id).where(CourseRow.id.in_(course_ids))
            ))  # fmt: skip
        if purchase_order:
            number = _number(purchase_order, parse_po)
            if number is not None:
                clinic_ids.add(uow.session.scalar(
                    select(PurchaseOrderRow.clinic_id).where(PurchaseOrderRow.id == number)
                ))  # fmt: skip
        if len(clinic_ids) != 1:
            return None
        (only,) = clinic_ids
        row = by_id.get(only) if only is not None else None
        return row.locale if row is not None else None


def _number(value: str | int, parse: Callable[[str | int], int]) -> int | None:
    try:
        return parse(value)
    except InvalidInput:
        return None


def in_clinic_locale(make: Callable[..., T], **things: Any) -> Callable[..., T]:
    """``make(uow, ...)`` (a document writer: labels, a purchase order...) made in the
    locale of the clinic ``things`` belong to (``document_locale``, looked up with the
    same unit of work first); for the terminal UI, whose workers hand a unit of work."""

    def made(uow: UnitOfWork, *args: Any, **kwargs: Any) -> T:
        with use_clinic_locale(document_locale(uow, **things)):
            return make(uow, *args, **kwargs)

    return made
