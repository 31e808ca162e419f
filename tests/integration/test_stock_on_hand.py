"""The stock on hand service's lines: frozen ``StockLine`` values like any other, in the
order Python gives them (clinic, SKU, earliest expiry, lot code, location: text by code
point on both backends, whatever PostgreSQL's collation), with the status and days of
each clinic's day."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from ledger_support import AS_OF

from kitops.services import stock
from kitops.services.dto.stock import StockLine
from kitops.services.operations import ReceiptInput, receive


def _key(line: StockLine) -> tuple[str, str, date, str, str]:
    return (line.clinic or "", line.sku, line.expiry or date.max, line.lot, line.location)


def test_lines_come_clinic_by_clinic_in_code_point_order(loaded, uow):
    expiry = (AS_OF + timedelta(days=300)).isoformat()
    # codes a locale's collation orders otherwise (punctuation ignored, digits before
    # letters or not); by code point: "-" < "0" < "Z" < "_"
    for code, place in (
        ("ZZ_1", "LON-FRIDGE"),
        ("ZZ-2", "ESX-FRIDGE"),
        ("ZZ01", "LON-SHELF"),
        ("ZZ-1", "VIE-FRIDGE"),
        ("ZZZ", "LON-FRIDGE"),
        ("ZZ-1", "LON-SHELF"),
    ):
        receive(uow(), ReceiptInput(place, sku="SERUM-5ML", lot=code, expiry=expiry,
                                    quantity=3), today=AS_OF)  # fmt: skip

    for unavailable in (False, True):
        lines = stock.stock_on_hand(uow(readonly=True), include_unavailable=unavailable,
                                    today=AS_OF)  # fmt: skip
        assert lines == sorted(lines, key=_key)
        assert {line.clinic for line in lines} == {"LON", "ESX", "VIE"}
    new = [
        (line.clinic, line.lot, line.location)
        for line in stock.stock_on_hand(uow(readonly=True), sku="SERUM-5ML",
                                        include_unavailable=True, today=AS_OF)
        if line.lot.startswith("ZZ")  # new serum lots wait in quarantine
    ]  # fmt: skip
    assert new == [
        ("ESX", "ZZ-2", "ESX-FRIDGE"),
        ("LON", "ZZ-1", "LON-SHELF"),
        ("LON", "ZZ01", "LON-SHELF"),
        ("LON", "ZZZ", "LON-FRIDGE"),
        ("LON", "ZZ_1", "LON-FRIDGE"),
        ("VIE", "ZZ-1", "VIE-FRIDGE"),
    ]


def test_each_line_is_a_frozen_stock_line_equal_to_one_built_by_hand(loaded, uow):
    lines = stock.stock_on_hand(uow(readonly=True), include_unavailable=True, today=AS_OF)
    assert lines
    for line in lines:
        assert type(line) is StockLine
        fields = {field.name: getattr(line, field.name) for field in dataclasses.fields(line)}
        assert vars(line) == fields
        assert StockLine(**fields) == line
        assert hash(StockLine(**fields)) == hash(line)
        assert line.days_to_expiry == (None if line.expiry is None else (line.expiry - AS_OF).days)
        assert line.available == (line.status == "released" and line.quantity > 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lines[0].quantity = 0  # type: ignore[misc]
    expired = [line for line in lines if line.expiry is not None and line.expiry < AS_OF]
    assert expired
    assert all(
        line.status in ("expired", "recalled", "quarantine") and not line.available
        for line in expired
    )
