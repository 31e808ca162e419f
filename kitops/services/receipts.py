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
    uow: UnitOfWork, place: LocationRow, cost: Money, *, foreign_currency: bool, option: str
) -> None:
    """Refuse (exit 1) a cost in another currency than the clinic of ``place`` keeps its
    money in, unless ``foreign_currency``; ``option`` says how to mean it."""
    if foreign_currency:
        return
    clinic = clinic_of(place, {row.id: row for row in uow.locations.all()})
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
    if cost is not None and lot.currency is not None and lot.currency != cost.currency:
        raise Refused(
            _(
                "lot {lot} is costed in {currency} (its earlier receipts); a "
                "receipt at {cost} cannot be averaged with them: give the "
                "cost in {currency}, or none"
            ).format(lot=lot.code, currency=lot.currency, cost=i18n.format_money(cost))
        )
    uow.session.add(
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
    )
    if cost is None:
        return
    uow.session.flush()
    total, units = uow.session.execute(
        select(
            func.sum(LotReceiptRow.quantity * LotReceiptRow.unit_cost_minor),
            func.sum(LotReceiptRow.quantity),
        ).where(LotReceiptRow.lot_id == lot.id, LotReceiptRow.unit_cost_minor.is_not(None))
    ).one()
    lot.unit_cost_minor = average_minor(int(total), int(units))
    lot.currency = cost.currency


def average_minor(total_minor: int, units: int) -> int:
    """``total_minor / units`` rounded half up to a whole minor unit."""
    return (2 * total_minor + units) // (2 * units)


def valued_minor(quantity: int, total_minor: int, units: int) -> int:
    """``quantity`` units at the average ``total_minor / units``, rounded half up once
    (not the rounded unit cost times the quantity)."""
    return (2 * quantity * total_minor + units) // (2 * units)
