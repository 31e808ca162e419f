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
from kitops.i18n import N_, _
from kitops.reports.common import (
    Phrase,
    dialect_name,
    fetch,
    resolve_scope,
    utc_midnight,
    utc_minute,
)
from kitops.services.dto.reports import Cell, Column, Kind, Report, ReportRequest, Section
from kitops.services.unit_of_work import UnitOfWork

MAX_DAYS = 3660
DEFAULT_DAYS = 30

MOVE_COLUMNS = (
    Column("id", N_("id"), Kind.INT, in_table=False),
    Column("at", N_("at (UTC)")),
    Column("sku", N_("SKU")),
    Column("lot", N_("lot")),
    Column("from_location", N_("from")),
    Column("to_location", N_("to")),
    Column("quantity", N_("qty"), Kind.INT),
    Column("reason", N_("reason")),
    Column("detail", N_("detail"), in_table=False),
    Column("reference", N_("reference")),
    Column("actor", N_("actor"), in_table=False),
)
SUMMARY_COLUMNS = (
    Column("reason", N_("reason")),
    Column("detail", N_("detail")),
    Column("moves", N_("moves"), Kind.INT),
    Column("units", N_("units"), Kind.INT),
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
            raise InvalidInput("from", from_text, _("is after --to {last}").format(last=last))
        if (last - first).days >= MAX_DAYS:
            raise InvalidInput(
                "from",
                from_text,
                _("the period must be under {days} days").format(days=MAX_DAYS),
            )
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
        title=Phrase(N_("Ledger moves {first} to {last}"), first=first, last=last),
        as_of=scope.as_of,
        clinic=scope.clinic_code,
        parameters=(("from", first.isoformat()), ("to", last.isoformat())),
        sections=(
            Section("summary", N_("Moves and units per reason"), SUMMARY_COLUMNS, summary_rows),
            Section("moves", N_("Every move, oldest first"), MOVE_COLUMNS, tuple(moves)),
        ),
        notes=(
            Phrase(
                N_(
                    "{moves} moves from {first} to {last} inclusive (UTC days and times) "
                    "leaving or entering a place of {clinic}."
                ),
                moves=len(moves),
                first=first,
                last=last,
                clinic=scope.clinic_code,
            )
            if scope.clinic_code
            else Phrase(
                N_("{moves} moves from {first} to {last} inclusive (UTC days and times)."),
                moves=len(moves),
                first=first,
                last=last,
            ),
        ),
    )
