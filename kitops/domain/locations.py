"""The location tree: clinic → stockroom → fridge/shelf, plus virtual locations.

Every move has a source and a destination. Stock enters from ``SUPPLIER``, leaves to
``PATIENT``, is destroyed into ``SCRAP`` and appears or vanishes in counts through
``ADJUSTMENT``. Virtual locations hold no balance; physical ones never go negative.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from kitops.errors import InvalidInput
from kitops.i18n import _


class LocationKind(StrEnum):
    CLINIC = "clinic"
    STOCKROOM = "stockroom"
    FRIDGE = "fridge"
    SHELF = "shelf"
    QUARANTINE = "quarantine"
    SUPPLIER = "supplier"
    PATIENT = "patient"
    SCRAP = "scrap"
    ADJUSTMENT = "adjustment"
    ASSEMBLY = "assembly"


PHYSICAL_KINDS = frozenset(
    {
        LocationKind.CLINIC,
        LocationKind.STOCKROOM,
        LocationKind.FRIDGE,
        LocationKind.SHELF,
        LocationKind.QUARANTINE,
    }
)
VIRTUAL_KINDS = frozenset(set(LocationKind) - PHYSICAL_KINDS)

# The virtual locations every database has (created by migrations 0001 and 0004).
VIRTUAL_LOCATIONS: dict[str, tuple[LocationKind, str]] = {
    "SUPPLIER": (LocationKind.SUPPLIER, "Suppliers (stock received)"),
    "PATIENT": (LocationKind.PATIENT, "Patients (stock delivered)"),
    "SCRAP": (LocationKind.SCRAP, "Scrap (written off)"),
    "ADJUSTMENT": (LocationKind.ADJUSTMENT, "Inventory adjustment (counts)"),
    "ASSEMBLY": (LocationKind.ASSEMBLY, "Kit assembly (components in, kits out)"),
}

# Which kinds may sit directly under which parent kind.
_ALLOWED_PARENTS: dict[LocationKind, frozenset[LocationKind]] = {
    LocationKind.STOCKROOM: frozenset({LocationKind.CLINIC}),
    LocationKind.FRIDGE: frozenset({LocationKind.CLINIC, LocationKind.STOCKROOM}),
    LocationKind.SHELF: frozenset({LocationKind.CLINIC, LocationKind.STOCKROOM}),
    LocationKind.QUARANTINE: frozenset({LocationKind.CLINIC, LocationKind.STOCKROOM}),
}

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")


def parse_location_code(value: str, field: str = "location") -> str:
    code = value.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(
            field, value, _("must be 1-32 letters, digits, '.', '_' or '-', starting alphanumeric")
        )
    return code


def parse_location_kind(value: str, field: str = "kind") -> LocationKind:
    try:
        kind = LocationKind(value.strip().lower())
    except ValueError:
        kind = None
    if kind is None or kind in VIRTUAL_KINDS:
        choices = "|".join(sorted(k.value for k in PHYSICAL_KINDS))
        raise InvalidInput(field, value, _("must be one of {choices}").format(choices=choices))
    return kind


def parse_timezone(value: str, field: str = "timezone") -> str:
    name = value.strip()
    problem = _("is not an IANA time zone such as Europe/London")
    if len(name) > 64:  # the longest IANA name has 32 characters; the error shows a prefix
        raise InvalidInput(
            field,
            name[:40] + "...",
            _("{problem} (it has {n} characters)").format(problem=problem, n=len(name)),
        )
    # checked against the list first: ZoneInfo() of an odd name opens files by that name
    if name not in available_timezones():
        raise InvalidInput(field, value, problem)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(field, value, problem) from None
    return name


def check_placement(
    code: str,
    kind: LocationKind,
    parent_code: str | None,
    parent_kind: LocationKind | None,
    timezone: str | None,
) -> None:
    """Clinics are roots with a time zone; everything else hangs under a clinic."""
    if kind is LocationKind.CLINIC:
        if parent_code is not None:
            raise InvalidInput("parent", parent_code, _("a clinic is a top-level location"))
        if timezone is None:
            raise InvalidInput(
                "timezone",
                None,
                _("clinic {code} needs a time zone (--timezone)").format(code=code),
            )
        return
    if timezone is not None:
        raise InvalidInput("timezone", timezone, _("only a clinic has a time zone"))
    if parent_code is None or parent_kind is None:
        raise InvalidInput(
            "parent", None, _("a {kind} needs a parent location (--parent)").format(kind=kind.value)
        )
    allowed = _ALLOWED_PARENTS.get(kind, frozenset())
    if parent_kind not in allowed:
        names = " or ".join(sorted(k.value for k in allowed))
        raise InvalidInput(
            "parent",
            parent_code,
            _("is a {parent_kind}; a {kind} goes under a {names}").format(
                parent_kind=parent_kind.value, kind=kind.value, names=names
            ),
        )


def clinic_today(timezone: str | None) -> date:
    """The date on the clinic's own calendar (the server's when it has no zone)."""
    if timezone is None:
        return date.today()
    return datetime.now(ZoneInfo(timezone)).date()
