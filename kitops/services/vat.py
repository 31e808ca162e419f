"""VAT rates as data, per country and kind of product: what a purchase order charges.

``vat set GB serum_vial 20`` keeps 2000 basis points for serum vials delivered to a clinic
in Great Britain; ``vat list`` shows them all. A purchase order line whose kind has no rate
in the delivery clinic's country prints "VAT not set" (kitops never guesses a rate).
"""

from __future__ import annotations

from sqlalchemy import select

from kitops.data.schema import VatRateRow
from kitops.domain.catalog import parse_kind
from kitops.domain.vat import parse_country, parse_rate, rate_decimal
from kitops.services.dto.vat import VatRate
from kitops.services.unit_of_work import UnitOfWork


def _dto(row: VatRateRow) -> VatRate:
    return VatRate(row.country, row.product_kind, rate_decimal(row.rate_bp), row.rate_bp)


def set_rate(uow: UnitOfWork, country: str, kind: str, rate: str | int) -> VatRate:
    """Set (or change) the VAT rate of ``kind`` products delivered in ``country``."""
    code = parse_country(country)
    product_kind = parse_kind(kind).value
    rate_bp = parse_rate(rate)
    with uow:
        uow.require("vat.set")
        row = uow.session.get(VatRateRow, (code, product_kind))
        before = {"rate_bp": row.rate_bp} if row is not None else None
        if row is None:
            row = VatRateRow(country=code, product_kind=product_kind, rate_bp=rate_bp)
            uow.session.add(row)
        else:
            row.rate_bp = rate_bp
        uow.session.flush()
        uow.record("vat.set", "vat_rate", f"{code}/{product_kind}", before=before,
                   after={"rate_bp": rate_bp})  # fmt: skip
        result = _dto(row)
        uow.commit()
    return result


def list_rates(uow: UnitOfWork, country: str | None = None) -> list[VatRate]:
    with uow:
        stmt = select(VatRateRow).order_by(VatRateRow.country, VatRateRow.product_kind)
        if country:
            stmt = stmt.where(VatRateRow.country == parse_country(country))
        return [_dto(row) for row in uow.session.scalars(stmt)]
