"""An opening-stock import costs a few statements whatever its length: the lots the file
names are read in one query, new lots are inserted in one batch once every row has
passed (PostgreSQL; SQLite a row at a time, in process), and the moves are posted once.
A bad row is reported as before and the whole file is refused with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from kitops.data.schema import LotReceiptRow, LotRow, StockMoveRow
from kitops.services.imports import ImportRejected, import_file

HEADER = "sku,quantity,location,lot,expiry,status"


def _write(tmp_path: Path, name: str, lines: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return str(path)


def _statements_of(db, run) -> int:  # type: ignore[no-untyped-def]
    """Statements sent while ``run()`` runs. On SQLite an INSERT of rows whose ids are
    needed goes a row at a time (SQLAlchemy cannot match one statement's RETURNING rows to
    their rows there; an in-process call, no round trip): INSERTs are left out there."""
    sqlite = db.engine.dialect.name == "sqlite"
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not (sqlite and statement.startswith("INSERT")):
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def test_the_statements_an_import_sends_do_not_grow_with_its_rows(loaded, uow, tmp_path):
    def rows(prefix: str, n: int) -> list[str]:
        # new lots at two places, one lot on two rows, and an untracked product
        lines = [f"SERUM-5ML,{1 + i % 5},LON-FRIDGE,{prefix}-{i:04d},2031-06-30," for i in range(n)]
        lines.append(f"SERUM-5ML,2,ESX-FRIDGE,{prefix}-0000,2031-06-30,")
        lines.append("CHX-0.5,3,LON-SHELF,,,")
        return lines

    small = _write(tmp_path, "small.csv", rows("SM", 20))
    large = _write(tmp_path, "large.csv", rows("LG", 400))
    few = _statements_of(loaded, lambda: import_file(uow(), "stock", small))
    many = _statements_of(loaded, lambda: import_file(uow(), "stock", large))
    assert many == few, (few, many)

    with uow(readonly=True) as reading:
        made = reading.session.scalar(
            select(func.count()).select_from(LotRow).where(LotRow.code.like("LG-%"))
        )
        moves = reading.session.scalar(
            select(func.count())
            .select_from(StockMoveRow)
            .join(LotRow, LotRow.id == StockMoveRow.lot_id)
            .where(LotRow.code.like("LG-%"))
        )
    assert made == 400  # LG-0000 once, though two rows name it
    assert moves == 401


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_lot_made_by_one_row_is_the_lot_of_the_next_and_a_bad_row_writes_nothing(
    loaded, uow, tmp_path, dry_run
):
    path = _write(
        tmp_path,
        "stock.csv",
        [
            "SERUM-5ML,4,LON-FRIDGE,NEW-0001,2031-06-30,",  # line 2: a new lot
            "SERUM-5ML,4,ESX-FRIDGE,NEW-0001,2031-07-31,",  # line 3: the same lot, other expiry
            "SERUM-5ML,0,LON-FRIDGE,NEW-0002,2031-06-30,",  # line 4: zero: NEW-0002 not made
            "SERUM-5ML,1,LON-FRIDGE,NEW-0002,2031-08-31,",  # line 5: fine on its own
        ],
    )
    with uow(readonly=True) as reading:
        lots_before = reading.session.scalar(select(func.count()).select_from(LotRow))
        moves_before = reading.session.scalar(select(func.count()).select_from(StockMoveRow))
    with pytest.raises(ImportRejected) as refused:
        import_file(uow(), "stock", path, dry_run=dry_run)
    problems = {int(p.split(":")[0].split()[1]): p for p in refused.value.problems}
    assert set(problems) == {3, 4}, problems  # line 4 made no lot for line 5 to clash with
    assert "NEW-0001" in problems[3], problems[3]
    assert "2031-07-31" in problems[3], problems[3]
    assert "quantity '0'" in problems[4], problems[4]
    with uow(readonly=True) as reading:
        assert reading.session.scalar(select(func.count()).select_from(LotRow)) == lots_before
        moves_after = reading.session.scalar(select(func.count()).select_from(StockMoveRow))
        assert moves_after == moves_before


def test_costed_rows_keep_their_receipts_and_averages_in_statements_that_do_not_grow(
    loaded, uow, tmp_path
):
    header = f"{HEADER},unit_cost,currency"

    def costed(name: str, prefix: str, n: int) -> str:
        # each lot on two rows, at two costs: its cost is their average
        lines = [f"SERUM-5ML,{1 + i % 3},LON-FRIDGE,{prefix}-{i // 2:04d},2031-06-30,,"
                 f"{30 + (i % 2) * 6}.00,GBP" for i in range(n)]  # fmt: skip
        path = tmp_path / name
        path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
        return str(path)

    few = _statements_of(loaded, lambda: import_file(uow(), "stock", costed("s.csv", "CS", 20)))
    many = _statements_of(loaded, lambda: import_file(uow(), "stock", costed("l.csv", "CL", 400)))
    assert many == few, (few, many)

    with uow(readonly=True) as reading:
        lots = [
            (lot.code, lot.unit_cost_minor, lot.currency)
            for lot in reading.session.scalars(select(LotRow).where(LotRow.code.like("CL-%")))
        ]
        receipts = reading.session.scalar(
            select(func.count())
            .select_from(LotReceiptRow)
            .join(LotRow, LotRow.id == LotReceiptRow.lot_id)
            .where(LotRow.code.like("CL-%"))
        )
    assert len(lots) == 200
    assert receipts == 400
    # row 2k: (1 + 2k % 3) units at 30.00, row 2k + 1: (1 + (2k + 1) % 3) units at 36.00
    for code, unit_cost_minor, currency in lots:
        k = int(code.split("-")[1])
        first, second = 1 + (2 * k) % 3, 1 + (2 * k + 1) % 3
        total = first * 3000 + second * 3600
        units = first + second
        assert (unit_cost_minor, currency) == ((2 * total + units) // (2 * units), "GBP"), code

    # a later file's receipt is averaged with the earlier ones
    later = tmp_path / "later.csv"
    later.write_text(f"{header}\nSERUM-5ML,3,LON-FRIDGE,CL-0000,2031-06-30,,48.00,GBP\n")
    import_file(uow(), "stock", str(later))
    with uow(readonly=True) as reading:
        cost = reading.session.scalar(
            select(LotRow.unit_cost_minor).where(LotRow.code == "CL-0000")
        )
    assert cost == (1 * 3000 + 2 * 3600 + 3 * 4800) // 6  # 4100, exact


def test_a_row_in_another_currency_than_the_lots_earlier_receipts_is_refused(loaded, uow, tmp_path):
    header = f"{HEADER},unit_cost,currency"
    first = tmp_path / "first.csv"
    first.write_text(f"{header}\nSERUM-5ML,2,LON-FRIDGE,CUR-0001,2031-06-30,,30.00,GBP\n")
    import_file(uow(), "stock", str(first))
    second = tmp_path / "second.csv"
    second.write_text(
        f"{header}\nSERUM-5ML,2,LON-FRIDGE,CUR-0002,2031-06-30,,30.00,GBP\n"
        "SERUM-5ML,2,LON-FRIDGE,CUR-0001,2031-06-30,,30.00,EUR\n"
    )
    with pytest.raises(ImportRejected) as refused:
        import_file(uow(), "stock", str(second), foreign_currency=True)
    assert any("CUR-0001" in p and "GBP" in p for p in refused.value.problems), refused.value
    with uow(readonly=True) as reading:
        assert reading.session.scalars(select(LotRow).where(LotRow.code == "CUR-0002")).all() == []
