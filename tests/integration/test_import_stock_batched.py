"""An opening-stock import costs a few statements whatever its length: the lots the file
names are read in one query, new lots are inserted in one batch once every row has
passed (PostgreSQL; SQLite a row at a time, in process), and the moves are posted once.
A bad row is reported as before and the whole file is refused with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from kitops.data.schema import LotRow, StockMoveRow
from kitops.services.imports import ImportRejected, import_file

HEADER = "sku,quantity,location,lot,expiry,status"


def _write(tmp_path: Path, name: str, lines: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return str(path)


def _statements_of(db, run) -> int:  # type: ignore[no-untyped-def]
    """Statements sent while ``run()`` runs. On SQLite an INSERT that must return each
    new row's id goes a row at a time (SQLAlchemy cannot match one statement's RETURNING
    rows to their rows there; an in-process call, no round trip): those are left out."""
    sqlite = db.engine.dialect.name == "sqlite"
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not (sqlite and statement.startswith("INSERT") and "RETURNING" in statement):
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
