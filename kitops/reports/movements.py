"""``report movements``: the ledger extract between two days, for audits.

Days are UTC calendar days, inclusive, as the ledger stores its timestamps; times are
printed in UTC. With ``--clinic``, a move is listed when it leaves or enters one of the
clinic's places.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from kitops.data.schema import LotRow, ProductRow, StockMoveRow
from kitops.domain.ledger import parse_date
from kitops.errors import InvalidInput
from kitops.reports.common import dialect_name, fetch, resolve_scope, utc_midnight, utc_minute
from kitops.services.dto.reports import Cell, Column, Kind, Report, ReportRequest, Section
from kitops.services.unit_of_work import UnitOfWork

MAX_DAYS = 3660
DEFAULT_DAYS = 30

MOVE_COLUMNS = (
    Column("id", "id", Kind.INT, in_table=False),
    Column("at", "at (UTC)"),
    Column("sku", "SKU"),
    Column("lot", "lot"),
    Column("from_location", "from"),
    Column("to_location", "to"),
    Column("quantity", "qty", Kind.INT),
    Column("reason", "reason"),
    Column("detail", "detail", in_table=False),
    Column("reference", "reference"),
    Column("actor", "actor", in_table=False),
)
SUMMARY_COLUMNS = (
    Column("reason", "reason"),
    Column("detail", "detail"),
    Column("moves", "moves", Kind.INT),
    Column("units", "units", Kind.INT),
)


def movements_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    with uow:
        scope = resolve_scope(uow, request)
        to_text, from_text = request.option("to"), request.option("from")
        last = parse_date(to_text, "to") if to_text else scope.as_of
        first = (
            parse_date(from_text, "from") if from_text else last - timedelta(days=DEFAULT_DAYS - 1)
        )
        if first > last:
            raise InvalidInput("from", from_text, f"is after --to {last}")
        if (last - first).days >= MAX_DAYS:
            raise InvalidInput("from", from_text, f"the period must be under {MAX_DAYS} days")
        stmt = (
            select(
                StockMoveRow.id,
                utc_minute(StockMoveRow.created_at, dialect_name(uow)),
                ProductRow.sku,
                LotRow.code,
                StockMoveRow.from_location_id,
                StockMoveRow.to_location_id,
                StockMoveRow.quantity,
                StockMoveRow.reason,
                StockMoveRow.detail,
                StockMoveRow.reference,
                StockMoveRow.actor,
            )
            .join(LotRow, LotRow.id == StockMoveRow.lot_id)
            .join(ProductRow, ProductRow.id == StockMoveRow.product_id)
            .where(StockMoveRow.created_at >= utc_midnight(first))
            .where(StockMoveRow.created_at < utc_midnight(last + timedelta(days=1)))
            .order_by(StockMoveRow.created_at, StockMoveRow.id)
        )
        if scope.clinic_code is not None or uow.scope_clinics() is not None:
            places = scope.physical_ids
            stmt = stmt.where(
                or_(
                    StockMoveRow.from_location_id.in_(places),
                    StockMoveRow.to_location_id.in_(places),
                )
            )
        rows = fetch(uow, stmt)
    code = {loc_id: row.code for loc_id, row in scope.locations.items()}
    moves: list[tuple[Cell, ...]] = []
    summary: dict[tuple[str, str], list[int]] = {}
    for move_id, at, sku, lot, source, target, qty, reason, detail, ref, actor in rows:
        moves.append(
            (
                move_id,
                str(at),
                sku,
                lot,
                code[source],
                code[target],
                qty,
                reason,
                detail,
                ref,
                actor,
            )
        )
        totals = summary.setdefault((reason, detail or ""), [0, 0])
        totals[0] += 1
        totals[1] += qty
    summary_rows: tuple[tuple[Cell, ...], ...] = tuple(
        (reason, detail, n, units) for (reason, detail), (n, units) in sorted(summary.items())
    )
    return Report(
        name="movements",
        title=f"Ledger moves {first} to {last}",
        as_of=scope.as_of,
        clinic=scope.clinic_code,
        parameters=(("from", first.isoformat()), ("to", last.isoformat())),
        sections=(
            Section("summary", "Moves and units per reason", SUMMARY_COLUMNS, summary_rows),
            Section("moves", "Every move, oldest first", MOVE_COLUMNS, tuple(moves)),
        ),
        notes=(
            f"{len(moves)} moves from {first} to {last} inclusive (UTC days and times)"
            + (
                f" leaving or entering a place of {scope.clinic_code}."
                if scope.clinic_code
                else "."
            ),
        ),
    )
