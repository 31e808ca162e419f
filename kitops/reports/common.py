"""What the report builders share: the clinics in scope and the report day, option
parsing with errors that name the field, the cost of a lot (a kit's is the cost of its
component lots), and ``Phrase``, a report's text that a person reads in their language.

A report's titles, column headings and notes are English, as its CSV and JSON carry
them (machine output, the same whatever the language); the table and the HTML page say
them in the language in force (``kitops.documents.report_files.say``). A heading without
figures is a literal marked with ``N_``; one with figures is a ``Phrase``: the English
text, filled, that also keeps its message id and values to be said again in German.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Self

from sqlalchemy import Date, cast, func, select

from kitops.data.repositories.locations import clinic_of
from kitops.data.schema import KitComponentRow, KitRow, LocationRow, LotRow
from kitops.domain.kits import SERVING, KitStatus
from kitops.domain.ledger import LotStatus, parse_date
from kitops.domain.locations import PHYSICAL_KINDS, LocationKind, clinic_today
from kitops.domain.money import Money
from kitops.errors import InvalidInput
from kitops.i18n import DEFAULT_LOCALE, _, formats
from kitops.services.dto.reports import ReportRequest
from kitops.services.unit_of_work import UnitOfWork


class Phrase(str):
    """English text filled from a message id (marked ``N_``) and its values, which keeps
    both so a person's view can say it in the language in force: ``Phrase(N_("Expiring
    within {days} days"), days=90)`` is the string ``"Expiring within 90 days"`` (what the
    CSV and JSON carry) with ``.msgid`` and ``.values``. A value may be a Phrase too, or a
    tuple of them (written with commas between)."""

    msgid: str
    values: dict[str, object]

    def __new__(cls, msgid: str, /, **values: object) -> Self:
        english = {
            key: ", ".join(map(str, value)) if isinstance(value, tuple) else value
            for key, value in values.items()
        }
        made = super().__new__(cls, msgid.format(**english))
        made.msgid = msgid
        made.values = dict(values)
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (_phrase, (self.msgid, self.values))


def _phrase(msgid: str, values: dict[str, object]) -> Phrase:
    return Phrase(msgid, **values)


class DayLabel(str):
    """A chart's label for a day (a week starting then): the English ``07 Dec`` the
    chart carries, with ``.day`` kept so a person's view writes it as the language in
    force writes a day and its month (``7. Dez.`` in German, ``4. Jän.`` in de_AT:
    ``kitops.documents.report_files.label``)."""

    day: date

    def __new__(cls, day: date) -> Self:
        made = super().__new__(cls, formats.day_month(day, DEFAULT_LOCALE))
        made.day = day
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (DayLabel, (self.day,))


NO_COST = "-"  # the currency shown for units whose lot has no recorded cost
# kit statuses whose kit lot is still on a shelf (the others went out or were dismantled)
KITS_ON_SHELF = (*SERVING, KitStatus.RECALLED.value, KitStatus.EXPIRED.value)


@dataclass(frozen=True)
class Place:
    """A location as the reports need it (plain values: a report outlives its session)."""

    id: int
    code: str
    kind: str
    timezone: str | None


@dataclass(frozen=True)
class Scope:
    """The clinics a report covers, the day it is judged on, and the location tree."""

    as_of: date
    clinic_code: str | None  # None: every clinic
    clinics: dict[int, Place]  # clinic id → clinic, only those in scope
    locations: dict[int, Place]  # every location
    clinic_of: dict[int, int | None]  # location id → its clinic's id

    @property
    def physical_ids(self) -> list[int]:
        """The physical locations of the clinics in scope."""
        kinds = {k.value for k in PHYSICAL_KINDS}
        return sorted(
            loc_id
            for loc_id, row in self.locations.items()
            if row.kind in kinds and self.clinic_of[loc_id] in self.clinics
        )

    def clinic_code_of(self, location_id: int) -> str:
        clinic_id = self.clinic_of.get(location_id)
        return self.locations[clinic_id].code if clinic_id is not None else "-"

    def code(self, location_id: int) -> str:
        return self.locations[location_id].code

    def location_id(self, code: str) -> int:
        return next(row.id for row in self.locations.values() if row.code == code)


def resolve_scope(uow: UnitOfWork, request: ReportRequest) -> Scope:
    """Clinics in scope and the report day: ``--as-of``, else today in the clinic's time
    zone, else the latest clinic's today (as the expiry sweep judges)."""
    rows = uow.locations.all()
    by_id = {row.id: row for row in rows}
    owner: dict[int, int | None] = {}
    for row in rows:
        clinic = clinic_of(row, by_id)
        owner[row.id] = clinic.id if clinic else None
    places = {r.id: Place(r.id, r.code, r.kind, r.timezone) for r in rows}
    all_clinics = {r.id: places[r.id] for r in rows if r.kind == LocationKind.CLINIC.value}
    chosen: LocationRow | None = None
    if request.clinic not in (None, ""):
        code = str(request.clinic).strip().upper()
        chosen = next((r for r in rows if r.code == code), None)
        if chosen is None:
            raise InvalidInput(
                "clinic",
                request.clinic,
                _("no location has this code (see `kitops location list`)"),
            )
        if chosen.kind != LocationKind.CLINIC.value:
            raise InvalidInput(
                "clinic", chosen.code, _("is a {kind}, not a clinic").format(kind=chosen.kind)
            )
    limit = uow.scope_clinics()
    if chosen is not None:
        uow.check_clinic(chosen, doing="run reports")
    elif limit is not None:
        # a user limited to clinics: its clinics only (a single one is as if chosen)
        all_clinics = {cid: place for cid, place in all_clinics.items() if cid in limit}
        if len(all_clinics) == 1:
            chosen = by_id[next(iter(all_clinics))]
    clinics = {chosen.id: places[chosen.id]} if chosen else all_clinics
    if isinstance(request.as_of, date):
        day = request.as_of
    elif request.as_of not in (None, ""):
        day = parse_date(str(request.as_of), "as_of")
    else:
        zones = {row.timezone for row in clinics.values()} or {None}
        day = max(clinic_today(zone) for zone in zones)
    return Scope(day, chosen.code if chosen else None, clinics, places, owner)


_SPAN = re.compile(r"([0-9]{1,4})\s*([dw]?)", re.ASCII)


def parse_days(value: str | None, field: str, *, low: int = 1, high: int = 3660) -> int:
    """``90``, ``90d`` or ``13w`` → days."""
    match = _SPAN.fullmatch((value or "").strip().lower())
    if not match:
        raise InvalidInput(field, value, _("must be a number of days such as 90, 90d or 13w"))
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if not low <= days <= high:
        raise InvalidInput(field, value, _("must be {low}-{high} days").format(low=low, high=high))
    return days


def parse_count(value: str | None, field: str, *, low: int, high: int) -> int:
    text = (value or "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(
            field,
            value,
            _("must be a whole number from {low} to {high}").format(low=low, high=high),
        )
    return int(text)


def money(amount_minor: int | None, currency: str | None) -> Money | None:
    if amount_minor is None or currency is None:
        return None
    return Money(int(amount_minor), currency)


@dataclass(frozen=True)
class UnitCost:
    amount_minor: int
    currency: str


def kit_costs(uow: UnitOfWork, kit_lot_ids: Iterable[int] | None = None) -> dict[int, UnitCost]:
    """Cost of one kit per kit lot id: the sum of its component lots' unit costs. A kit
    with a component of unknown cost, or components priced in two currencies, has none.
    ``None``: every kit still on a shelf."""
    stmt = (
        select(
            KitRow.lot_id,
            LotRow.currency,
            func.sum(KitComponentRow.quantity * LotRow.unit_cost_minor),
            func.count(),
            func.count(LotRow.unit_cost_minor),
        )
        .join(KitComponentRow, KitComponentRow.kit_id == KitRow.id)
        .join(LotRow, LotRow.id == KitComponentRow.lot_id)
        .group_by(KitRow.lot_id, LotRow.currency)
    )
    if kit_lot_ids is None:
        stmt = stmt.where(KitRow.status.in_(KITS_ON_SHELF))
        chunks: list[list[int] | None] = [None]
    else:
        wanted = sorted(set(kit_lot_ids))
        chunks = [wanted[i : i + 500] for i in range(0, len(wanted), 500)]
    found: dict[int, list[tuple[str | None, int | None, int, int]]] = {}
    for chunk in chunks:
        query = stmt if chunk is None else stmt.where(KitRow.lot_id.in_(chunk))
        for lot_id, currency, total, parts, costed in uow.session.execute(query):
            if lot_id is not None:
                found.setdefault(lot_id, []).append((currency, total, parts, costed))
    costs = {}
    for kit_lot, groups in found.items():
        if len(groups) == 1:
            code, amount, lines, priced = groups[0]
            if code is not None and amount is not None and lines == priced:
                costs[kit_lot] = UnitCost(int(amount), code)
    return costs


def lot_cost(
    lot_id: int, unit_minor: int | None, currency: str | None, kits: dict[int, UnitCost]
) -> UnitCost | None:
    if unit_minor is not None and currency is not None:
        return UnitCost(unit_minor, currency)
    return kits.get(lot_id)


_CHECKED: set[str] = set()


def make_money(amount_minor: int, currency: str) -> Money:
    """``Money(amount_minor, currency)``, checking each currency code once per process
    rather than once per cell: a report makes tens of thousands of them."""
    if currency not in _CHECKED:
        checked = Money(amount_minor, currency)
        _CHECKED.add(checked.currency)
        if checked.currency != currency:
            return checked
    value = object.__new__(Money)
    object.__setattr__(value, "amount_minor", amount_minor)
    object.__setattr__(value, "currency", currency)
    return value


def value_of(cost: UnitCost | None, quantity: int) -> Money | None:
    return None if cost is None else make_money(cost.amount_minor * quantity, cost.currency)


RELEASED = LotStatus.RELEASED.value
EXPIRED = LotStatus.EXPIRED.value


def usable_now(status: str, expiry: date | None, day: date) -> bool:
    return status == RELEASED and (expiry is None or expiry >= day)


def shown_status(status: str, expiry: date | None, day: date) -> str:
    """As ``stock`` shows it: a released lot past its expiry day reads as expired."""
    return EXPIRED if status == RELEASED and expiry is not None and expiry < day else status


def fetch(uow: UnitOfWork, stmt: Any) -> list[Any]:
    """Rows of a column query through SQLAlchemy Core (no ORM row processing): the large
    reads of the reports."""
    return list(uow.session.connection().execute(stmt).all())


class Totals:
    """Units and value summed per key and currency (``-`` for units without a cost)."""

    def __init__(self) -> None:
        self.units: dict[tuple[tuple[str, ...], str], int] = {}
        self.minor: dict[tuple[tuple[str, ...], str], int] = {}
        self.extra: dict[tuple[tuple[str, ...], str], dict[str, int]] = {}

    def add(
        self, key: tuple[str, ...], cost: UnitCost | None, quantity: int, **counts: int
    ) -> None:
        slot = (key, cost.currency if cost else NO_COST)
        units = self.units
        units[slot] = units.get(slot, 0) + quantity
        if cost is not None:
            self.minor[slot] = self.minor.get(slot, 0) + cost.amount_minor * quantity
        if counts:
            bucket = self.extra.get(slot)
            if bucket is None:
                bucket = self.extra[slot] = {}
            for name, n in counts.items():
                bucket[name] = bucket.get(name, 0) + n

    def items(self) -> list[tuple[tuple[str, ...], str, int, Money | None, dict[str, int]]]:
        out = []
        for slot in sorted(self.units, key=lambda s: (s[0], s[1] == NO_COST, s[1])):
            key, currency = slot
            value = make_money(self.minor[slot], currency) if slot in self.minor else None
            out.append((key, currency, self.units[slot], value, self.extra.get(slot, {})))
        return out


def dialect_name(uow: UnitOfWork) -> str:
    return uow.session.get_bind().dialect.name


def utc_day(column: Any, dialect: str) -> Any:
    """The UTC calendar day of a timestamp column, comparable with a ``Date`` column."""
    if dialect == "sqlite":
        return func.substr(column, 1, 10)  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
    return cast(func.timezone("UTC", column), Date)


def utc_month(column: Any, dialect: str) -> Any:
    """``'YYYY-MM'`` of a timestamp column, in UTC."""
    if dialect == "sqlite":
        return func.substr(column, 1, 7)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def utc_minute(column: Any, dialect: str) -> Any:
    """``'YYYY-MM-DD HH:MM'`` of a timestamp column, in UTC (formatted by the database)."""
    if dialect == "sqlite":
        return func.substr(column, 1, 16)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI")


def month_starts(as_of: date, months: int) -> list[date]:
    """The first days of the ``months`` calendar months ending with ``as_of``'s."""
    year, month = as_of.year, as_of.month
    starts = []
    for _month in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
