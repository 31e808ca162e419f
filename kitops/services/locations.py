"""Location use cases: the clinic → stockroom → fridge/shelf tree."""

from __future__ import annotations

from collections.abc import Sequence

from kitops.data.repositories.locations import clinic_of
from kitops.data.schema import LocationRow
from kitops.domain.locations import (
    VIRTUAL_KINDS,
    LocationKind,
    check_placement,
    parse_location_code,
    parse_location_kind,
    parse_timezone,
)
from kitops.domain.money import currency_code
from kitops.domain.text import no_control
from kitops.domain.vat import parse_country
from kitops.errors import Conflict, InvalidInput
from kitops.i18n import UnknownLocale, _, parse_locale
from kitops.services.dto import stock as stock_dto
from kitops.services.unit_of_work import UnitOfWork


def check_locale(value: str, field: str = "locale") -> str:
    """``value`` as a stored locale tag (``de-at`` → ``de_AT``); bad input names ``field``."""
    try:
        return parse_locale(value)
    except UnknownLocale as error:
        raise InvalidInput(field, value, str(error)) from None


def location_dtos(rows: Sequence[LocationRow]) -> list[stock_dto.Location]:
    by_id = {row.id: row for row in rows}
    result = []
    for row in rows:
        clinic = clinic_of(row, by_id)
        parent = by_id.get(row.parent_id) if row.parent_id is not None else None
        result.append(
            stock_dto.Location(
                code=row.code,
                name=row.name,
                kind=row.kind,
                parent=parent.code if parent else None,
                clinic=clinic.code if clinic else None,
                timezone=clinic.timezone if clinic else None,
                currency=clinic.currency if clinic else None,
                virtual=LocationKind(row.kind) in VIRTUAL_KINDS,
                address=row.address,
                contact=row.contact,
                country=row.country,
                locale=clinic.locale if clinic else None,
            )
        )
    return result


def create_location(
    uow: UnitOfWork,
    code: str,
    name: str,
    *,
    parent: str | None = None,
    kind: str | None = None,
    timezone: str | None = None,
    currency: str | None = None,
    address: str | None = None,
    contact: str | None = None,
    country: str | None = None,
    locale: str | None = None,
) -> str:
    """Add a location inside the caller's transaction and return its code."""
    code = parse_location_code(code, "code")
    if not name.strip():
        raise InvalidInput("name", name, _("must not be empty"))
    no_control(name, "name")
    if len(name.strip()) > 200:
        raise InvalidInput("name", name[:40] + "...", _("must be at most 200 characters"))
    parent_row = (
        uow.locations.get(parse_location_code(parent, "parent"), "parent") if parent else None
    )
    if kind:
        location_kind = parse_location_kind(kind)
    else:
        location_kind = LocationKind.CLINIC if parent_row is None else LocationKind.SHELF
    zone = parse_timezone(timezone) if timezone else None
    money = currency_code(currency) if currency else None
    if money and location_kind is not LocationKind.CLINIC:
        raise InvalidInput("currency", currency, _("only a clinic has a currency"))
    papers = parse_clinic_papers(address=address, contact=contact, country=country)
    for field, value in papers.items():
        if value is not None and location_kind is not LocationKind.CLINIC:
            raise InvalidInput(field, value, _("only a clinic has one"))
    if locale is not None:
        locale = check_locale(locale)
        if location_kind is not LocationKind.CLINIC:
            raise InvalidInput("locale", locale, _("only a clinic has a locale"))
    check_placement(
        code,
        location_kind,
        parent_row.code if parent_row else None,
        LocationKind(parent_row.kind) if parent_row else None,
        zone,
    )
    if parent_row is not None:
        uow.check_place(parent_row, doing=_("add locations"))
    elif uow.scope_clinics() is not None:
        raise uow.scope_refusal(_("add a clinic"))
    if uow.locations.by_code(code) is not None:
        raise Conflict(_("location {code} already exists").format(code=code))
    row = uow.locations.add(
        LocationRow(
            code=code,
            name=name.strip(),
            kind=location_kind.value,
            parent_id=parent_row.id if parent_row else None,
            timezone=zone,
            currency=money,
            active=True,
            locale=locale,
            **papers,
        )
    )
    uow.record(
        "location.add", "location", code,
        after={"name": row.name, "kind": row.kind, "timezone": zone, "currency": money,
               "parent": parent_row.code if parent_row else None,
               **{k: v for k, v in {**papers, "locale": locale}.items() if v is not None}},
    )  # fmt: skip
    return row.code


def add_location(
    uow: UnitOfWork, code: str, name: str, **options: str | None
) -> stock_dto.Location:
    with uow:
        uow.require("location.edit")
        code = create_location(uow, code, name, **options)
        uow.commit()
        return next(d for d in location_dtos(uow.locations.all()) if d.code == code)


def list_locations(uow: UnitOfWork) -> list[stock_dto.Location]:
    """Every location; a user limited to clinics gets those clinics' places and the
    virtual locations (supplier, patient, scrap...)."""
    with uow:
        found = location_dtos(uow.locations.all())
        user = uow.user
        if user is None or user.clinics is None:
            return found
        mine = set(user.clinic_codes)
        return [row for row in found if row.clinic in mine or (row.virtual and not row.clinic)]


# --- a clinic's papers: delivery address, contact, country ---------------------------------

_PAPER_LIMITS = {"address": 300, "contact": 200}


def _paper_text(value: str | None, field: str) -> str | None:
    """Stripped text, ``None`` for blank; one line (commas separate an address's lines on
    the papers), at most the column's length."""
    if value is None:
        return None
    text = " ".join(value.split())
    no_control(value, field)
    if len(text) > _PAPER_LIMITS[field]:
        raise InvalidInput(
            field,
            text[:40] + "...",
            _("must be at most {limit} characters").format(limit=_PAPER_LIMITS[field]),
        )
    return text or None


def parse_clinic_papers(
    *, address: str | None = None, contact: str | None = None, country: str | None = None
) -> dict[str, str | None]:
    """What was given of a clinic's address, contact and country, checked; a blank value
    clears (``None`` in the result means "not given" for ``set_address``)."""
    return {
        "address": _paper_text(address, "address"),
        "contact": _paper_text(contact, "contact"),
        "country": parse_country(country) if country and country.strip() else None,
    }


def set_address(
    uow: UnitOfWork,
    code: str,
    *,
    address: str | None = None,
    contact: str | None = None,
    country: str | None = None,
) -> stock_dto.Location:
    """Set what a purchase order and a patient's calendar say of a clinic: its delivery
    address, its contact (phone, e-mail), its country (VAT rates). Options not given stay
    as they are; an empty text clears one."""
    given = {"address": address, "contact": contact, "country": country}
    if all(value is None for value in given.values()):
        raise InvalidInput("address", None, _("give --address, --contact or --country"))
    checked = parse_clinic_papers(address=address, contact=contact, country=country)
    with uow:
        uow.require("location.edit")
        row = uow.locations.clinic(code)
        uow.check_clinic(row, doing=_("change the address"))
        before = {field: getattr(row, field) for field, value in given.items()
                  if value is not None}  # fmt: skip
        for field in before:
            setattr(row, field, checked[field])
        after = {field: getattr(row, field) for field in before}
        uow.record("location.address", "location", row.code, before=before, after=after)
        uow.commit()
        return next(d for d in location_dtos(uow.locations.all()) if d.code == row.code)
