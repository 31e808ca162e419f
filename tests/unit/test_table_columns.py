"""The command line's tables, laid out column by column (``kitops.cli.output``): each
distinct cell written and measured once, each line one format. They print exactly what
writing every cell one by one and laying the rows out with ``text_table.render`` prints,
whatever the cells hold: nothing, numbers equal across types (1, 1.0, True, Decimals of
other places), days, control characters, wide characters, a width to give way to, a
language's labels and formats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitops.cli import output
from kitops.domain import text_table
from kitops.domain.money import Money
from kitops.i18n import N_, use_locale

COLUMNS = [N_("clinic"), N_("location"), N_("SKU"), N_("lot"), N_("expiry"), N_("days"),
           N_("status"), N_("qty")]  # fmt: skip
RIGHT = ("days", "qty")


def one_by_one(columns, rows, *, right=(), labels=None, width=100):
    """Every cell written on its own, the rows laid out by ``text_table.render``: the
    layout the column-by-column one must match byte for byte."""
    labels = labels or {}
    headings = [output.visible(output.translated(column)) for column in columns]
    fixed = [column in right for column in columns]
    cells = []
    for row in rows:
        row = [*row[: len(columns)], *[None] * (len(columns) - len(row))]
        line = []
        for column, cell in zip(columns, row, strict=True):
            if column in labels:
                line.append("" if cell is None else output.visible(labels[column](cell)))
            elif column in right and column not in output.ROW_NUMBERS:
                line.append(output.quantity_text(cell))
            else:
                line.append(output.cell_text(cell))
        cells.append(line)
    for row in rows[:10]:
        for n, cell in zip(range(len(fixed)), row, strict=False):
            fixed[n] = fixed[n] or isinstance(cell, dt.date)
    return text_table.render(headings, cells, right=[c in right for c in columns],
                             shrinkable=[not f for f in fixed], width=width)  # fmt: skip


STOCK = [
    ("LON", "LON-FRIDGE", "SERUM-5ML", "PTT6-A0519", dt.date(2027, 1, 5), 30, "released", 12),
    ("LON", "LON-SHELF", "STAMP-1.2", "DS12-2311", None, None, "released", 1250),
    ("ESX", "ESX-QUAR", "SERUM-5ML", "PTT6-C0115", dt.date(2026, 10, 1), -66, "quarantine", 3),
    ("VIE", "VIE-FRIDGE", "SERUM-5ML", "PTT6-A0519", dt.date(2027, 1, 5), 30, "expired", 7),
]


@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("width", [100, 60, 30])
def test_stock_table_prints_as_cell_by_cell(monkeypatch, locale, width) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    labels = {"status": output.status_label}
    with use_locale(locale):
        expected = one_by_one(COLUMNS, STOCK, right=RIGHT, labels=labels, width=width)
        assert output.table_lines(COLUMNS, STOCK, right=RIGHT, labels=labels) == expected
        cells = [list(column) for column in zip(*STOCK, strict=True)]
        assert output.column_lines(COLUMNS, cells, right=RIGHT, labels=labels) == expected


def test_cells_equal_across_types_print_as_each_is() -> None:
    columns = [N_("what"), N_("qty")]
    rows = [
        (1, 1),
        (True, 1.0),
        (Decimal("1.0"), Decimal("1.00")),
        (Decimal("1.00"), True),
        (1.0, Decimal("1")),
        (None, None),
    ]
    expected = one_by_one(columns, rows, right=("qty",))
    assert output.table_lines(columns, rows, right=("qty",)) == expected
    assert [line.split() for line in expected[2:]] == [
        ["1", "1"], ["True", "1.0"], ["1.0", "1.00"], ["1.00", "True"], ["1.0", "1"], []
    ]  # fmt: skip


def test_control_and_wide_characters_and_money_print_as_cell_by_cell(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    columns = [N_("name"), N_("note"), N_("amount")]
    rows = [
        ("Kühlschrank Süd", "a\x1b[1Ab", Money(31500, "EUR")),
        ("数量", "\u202eevil", Money(5, "GBP")),
        ("plain", ["a", "list"], None),
        ("short",),
    ]
    for locale in ("en", "de"):
        with use_locale(locale):
            expected = one_by_one(columns, rows, right=("amount",), width=40)
            assert output.table_lines(columns, rows, right=("amount",)) == expected
    assert "\x1b" not in "\n".join(expected)


def test_no_rows_prints_the_headings_and_the_rule() -> None:
    expected = one_by_one(COLUMNS, [], right=RIGHT)
    assert output.table_lines(COLUMNS, [], right=RIGHT) == expected
    assert len(expected) == 2


cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2000, 2000),
    st.text(max_size=12),
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**6,
                min_value=-(10**6)),
)  # fmt: skip


@given(
    rows=st.lists(st.lists(cell, min_size=0, max_size=4), max_size=25),
    width=st.integers(20, 120),
    locale=st.sampled_from(["en", "de"]),
)
def test_any_table_prints_as_cell_by_cell(rows, width, locale) -> None:
    columns = [N_("clinic"), N_("lot"), N_("days"), N_("qty")]
    right = ("days", "qty")
    import os

    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        with use_locale(locale):
            assert output.table_lines(columns, rows, right=right) == one_by_one(
                columns, rows, right=right, width=width
            )
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def _printed(capsys, emit, *args) -> str:
    capsys.readouterr()
    emit(*args)
    return capsys.readouterr().out


def test_json_records_print_as_the_json_of_their_dataclasses(capsys) -> None:
    from kitops.services.dto.stock import StockLine
    from kitops.services.stock import STOCK_FIELDS

    lines = [
        StockLine("LON", "LON-FRIDGE", "SERUM-5ML", "Serum 5 ml", "PTT6-A0519",
                  dt.date(2027, 1, 5), 30, "released", True, 1),
        StockLine(None, "SCRAP", "STAMP-1.2", "Stempel \u201eGröße\u201c \x9b", "a\x1bb",
                  None, None, "expired", False, 1250),
        StockLine("VIE", "VIE-FRIDGE", "数量", "\u2028", "L", dt.date(2026, 1, 1), -1,
                  "quarantine", True, 0),
    ]  # fmt: skip
    rows = [tuple(vars(line).values()) for line in lines]
    for some in (lines, lines[:1], []):
        expected = _printed(capsys, output.emit_json, some)
        got = _printed(capsys, output.emit_json_records, STOCK_FIELDS, rows[: len(some)])
        assert got == expected


@given(
    rows=st.lists(
        st.tuples(st.one_of(st.none(), st.booleans(), st.integers(-3, 3)),
                  st.one_of(st.none(), st.text(max_size=6), st.dates())),
        max_size=12,
    )
)  # fmt: skip
def test_any_json_records_print_as_emit_json(rows) -> None:
    import io
    from contextlib import redirect_stdout

    records = [{"a%s": first, "b": second} for first, second in rows]
    with redirect_stdout(io.StringIO()) as expected:
        output.emit_json(records)
    with redirect_stdout(io.StringIO()) as got:
        output.emit_json_records(["a%s", "b"], rows)
    assert got.getvalue() == expected.getvalue()
