"""The cost of every receipt of a lot, and the currency rule for costs.

Each receipt (``kitops receive``, a purchase order's delivery, an ``import stock`` row)
keeps its own unit cost in ``lot_receipts``; the lot's ``unit_cost_minor`` is their
average weighted by quantity, which ``report valuation`` and the other reports value the
lot's units at. Units of one lot are one and the same on the shelf and move between
clinics, so a lot has one cost (the weighted average), not layers.

A cost is given in the receiving clinic's currency; another currency is refused unless
the caller says it is meant (``--foreign-currency``: the supplier invoiced in it). A lot
is costed in one currency: a receipt priced in another cannot be averaged with the
earlier ones and is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

import kitops.i18n as i18n
from kitops.data.repositories.locations import clinic_of
from kitops.data.schema import LocationRow, LotReceiptRow, LotRow
from kitops.domain.money import Money
from kitops.errors import Refused
from kitops.i18n import _
from kitops.services.unit_of_work import UnitOfWork

RECEIPT = "receipt"
OPENING = "opening"


class ForeignCurrency(Refused):
    """A cost in another currency than the clinic's. ``str()`` says how to mean it on
    the command line (``option``); ``plain`` says what is wrong without naming a flag,
    for a front end that words its own way (the terminal UI)."""

    def __init__(self, message: str, plain: str) -> None:
        super().__init__(message)
        self.plain = plain

    def __reduce__(self) -> tuple[object, ...]:  # picklable, for worker processes
        return (ForeignCurrency, (str(self), self.plain))


def check_cost_currency(
    uow: UnitOfWork,
    place: LocationRow,
    cost: Money,
    *,
    foreign_currency: bool,
    option: str,
    places: dict[int, LocationRow] | None = None,
) -> None:
    """Refuse (exit 1) a cost in another currency than the clinic of ``place`` keeps its
    money in, unless ``foreign_currency``; ``option`` says how to mean it. ``places``:
    every location by id, when the caller has read them already (a file of many rows)."""
    if foreign_currency:
        return
    clinic = clinic_of(place, places or {row.id: row for row in uow.locations.all()})
    if clinic is None or clinic.currency is None or clinic.currency == cost.currency:
        return
    plain = _(
        "cost {cost}: {currency} is not {clinic}'s currency ({clinic_currency}); "
        "give the cost in {clinic_currency}"
    ).format(
        cost=i18n.format_money(cost),
        currency=cost.currency,
        clinic=clinic.code,
        clinic_currency=clinic.currency,
    )
    raise ForeignCurrency(
        _("{plain}, or {option} if the supplier invoiced in {currency}").format(
            plain=plain, option=option, currency=cost.currency
        ),
        plain,
    )


def keep_receipt(
    uow: UnitOfWork,
    lot: LotRow,
    place: LocationRow,
    quantity: int,
    cost: Money | None,
    *,
    source: str = RECEIPT,
    reference: str | None = None,
    audit_id: int | None = None,
) -> None:
    """Record one receipt of ``lot`` with its cost (or none), and set the lot's cost to
    the weighted average of its costed receipts. The caller holds the lot row under an
    exclusive lock when ``cost`` is given (two receipts must not average crosswise)."""
    keep_receipts(uow, [(lot, place, quantity, cost)], source=source, reference=reference,
                  audit_id=audit_id)  # fmt: skip


def keep_receipts(
    uow: UnitOfWork,
    receipts: Sequence[tuple[LotRow, LocationRow, int, Money | None]],
    *,
    source: str = RECEIPT,
    reference: str | None = None,
    audit_id: int | None = None,
) -> None:
    """Record each receipt (lot, place, quantity, cost or none), and set each costed lot's
    cost to the weighted average of its costed receipts: the receipts are inserted
    together and the averages read in one grouped query, whatever their number. The
    caller holds every costed lot row under an exclusive lock."""
    costed: dict[int, LotRow] = {}
    for lot, _place, _quantity, cost in receipts:
        if cost is None:
            continue
        if lot.currency is not None and lot.currency != cost.currency:
            raise Refused(
                _(
                    "lot {lot} is costed in {currency} (its earlier receipts); a "
                    "receipt at {cost} cannot be averaged with them: give the "
                    "cost in {currency}, or none"
                ).format(lot=lot.code, currency=lot.currency, cost=i18n.format_money(cost))
            )
        costed[lot.id] = lot
        lot.currency = cost.currency  # the lot's later receipts are held to it
    uow.session.add_all(
        LotReceiptRow(
            lot_id=lot.id,
            location_id=place.id,
            quantity=quantity,
            unit_cost_minor=cost.amount_minor if cost else None,
            currency=cost.currency if cost else None,
            source=source,
            reference=reference[:120] if reference else None,
            audit_id=audit_id,
        )
        for lot, place, quantity, cost in receipts
    )
    if not costed:
        return
    uow.session.flush()
    ids = sorted(costed)
    for start in range(0, len(ids), _CHUNK):
        sums = uow.session.execute(
            select(
                LotReceiptRow.lot_id,
                func.sum(LotReceiptRow.quantity * LotReceiptRow.unit_cost_minor),
                func.sum(LotReceiptRow.quantity),
            )
            .where(
                LotReceiptRow.lot_id.in_(ids[start : start + _CHUNK]),
                LotReceiptRow.unit_cost_minor.is_not(None),
            )
            .group_by(LotReceiptRow.lot_id)
        )
        for lot_id, total, units in sums:
            costed[lot_id].unit_cost_minor = average_minor(int(total), int(units))


# lots per grouped query (SQLite binds each id as a parameter of its own)
_CHUNK = 500


def average_minor(total_minor: int, units: int) -> int:
    """``total_minor / units`` rounded half up to a whole minor unit."""
    return (2 * total_minor + units) // (2 * units)


def valued_minor(quantity: int, total_minor: int, units: int) -> int:
    """``quantity`` units at the average ``total_minor / units``, rounded half up once
    (not the rounded unit cost times the quantity)."""
    return (2 * quantity * total_minor + units) // (2 * units)
