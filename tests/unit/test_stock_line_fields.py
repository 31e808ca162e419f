"""A stock line's fields are filled by name in one dict per line (``_line_fields``): the
names and their order must be the StockLine's own."""

from __future__ import annotations

from dataclasses import fields

from kitops.services.dto.stock import StockLine
from kitops.services.stock import STOCK_FIELDS, _line_fields


def test_each_line_is_given_exactly_a_stock_lines_fields_in_their_order():
    row = tuple(f"value {n}" for n in range(len(STOCK_FIELDS)))
    (given,) = _line_fields([row])  # type: ignore[list-item]
    assert tuple(given) == STOCK_FIELDS == tuple(field.name for field in fields(StockLine))
    assert tuple(given.values()) == row
