"""The expiry sweep (a cron job): mark lots past expiry and put their stock aside.

Idempotent: a second run on the same day finds nothing to do and writes nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kitops.data.repositories import PostedMove
from kitops.data.schema import LocationRow, LotRow, StockBalanceRow
from kitops.domain.ledger import LotStatus, Move, MoveReason
from kitops.domain.locations import LocationKind
from kitops.domain.stock_rules import needs_expiring
from kitops.errors import InvalidInput
from kitops.services import dto
from kitops.services.locations import clinic_of
from kitops.services.stock import latest_clinic_today
from kitops.services.unit_of_work import UnitOfWork, retrying


@retrying
def sweep(uow: UnitOfWork, *, as_of: date | None = None, dry_run: bool = False) -> dto.SweepReport:
    """Mark lots past expiry on ``as_of`` (default: today on the latest clinic calendar)
    expired and move their stock to the clinic's quarantine. Expiring is for good, so a
    day after every clinic's today is refused unless ``dry_run``, which only reports what
    would expire then and writes nothing."""
    with uow:
        uow.require("expiry.sweep")
        latest = latest_clinic_today(uow)
        if as_of is not None and as_of > latest and not dry_run:
            raise InvalidInput(
                "as_of", as_of.isoformat(),
                f"is after today on every clinic's calendar ({latest}); expiring is for good, "
                "so a sweep cannot run ahead of time (--dry-run shows what would expire then)",
            )  # fmt: skip
        if as_of is not None and as_of != latest and not dry_run:
            uow.require("expiry.sweep_as_of")  # the job sweeps today; another day: a manager
        day = as_of or latest
        candidates = uow.session.scalars(
            select(LotRow)
            .where(LotRow.expiry < day)
            .where(LotRow.status.in_([LotStatus.RELEASED.value, LotStatus.QUARANTINE.value]))
            .order_by(LotRow.id)
            .with_for_update(key_share=True)
        ).all()
        to_mark = [
            lot for lot in candidates if needs_expiring(LotStatus(lot.status), lot.expiry, day)
        ]
        for lot in to_mark:
            lot.status = LotStatus.EXPIRED.value
            lot.status_reason = f"expiry sweep {day.isoformat()}"
        uow.session.flush()

        locations = {row.id: row for row in uow.locations.all()}
        quarantine_of_clinic: dict[int, LocationRow] = {}
        for row in sorted(locations.values(), key=lambda r: r.code):
            if row.kind == LocationKind.QUARANTINE.value:
                clinic = clinic_of(row, locations)
                if clinic is not None:
                    quarantine_of_clinic.setdefault(clinic.id, row)

        stranded = uow.session.execute(
            select(LotRow, StockBalanceRow.location_id, StockBalanceRow.quantity)
            .join(StockBalanceRow, StockBalanceRow.lot_id == LotRow.id)
            .where(LotRow.status == LotStatus.EXPIRED.value, StockBalanceRow.quantity > 0)
            .order_by(LotRow.id, StockBalanceRow.location_id)
        ).all()
        lines: list[dto.SweepLine] = []
        moves: list[PostedMove] = []
        marked_ids = {lot.id for lot in to_mark}
        moved_lots: set[int] = set()
        for lot, location_id, quantity in stranded:
            place = locations[location_id]
            if place.kind == LocationKind.QUARANTINE.value:
                if lot.id in marked_ids:
                    lines.append(
                        dto.SweepLine(lot.product.sku, lot.code, lot.expiry, True, 0, place.code,
                                      None, f"{quantity} already in quarantine at {place.code}")
                    )  # fmt: skip
                    moved_lots.add(lot.id)
                continue
            clinic = clinic_of(place, locations)
            target = quarantine_of_clinic.get(clinic.id) if clinic else None
            if target is not None:
                moves.append(
                    PostedMove(Move(lot.id, place.id, target.id, quantity), lot.product_id)
                )
            where = clinic.code if clinic else place.code
            lines.append(
                dto.SweepLine(
                    sku=lot.product.sku,
                    lot=lot.code,
                    expiry=lot.expiry,
                    marked_expired=lot.id in marked_ids,
                    moved=quantity if target else 0,
                    from_location=place.code,
                    to_location=target.code if target else None,
                    note=None if target else f"no quarantine location in {where}; left in place",
                )
            )
            moved_lots.add(lot.id)
        for lot in to_mark:
            if lot.id not in moved_lots:
                lines.append(dto.SweepLine(lot.product.sku, lot.code, lot.expiry, True, 0,
                                           None, None, "no stock on hand"))  # fmt: skip
        actionable = to_mark or moves
        if actionable and not dry_run:
            audit_id = uow.record(
                "expiry.sweep", "database", day.isoformat(),
                after={"lots_marked": [f"{lot.product.sku}/{lot.code}" for lot in to_mark],
                       "units_moved": sum(m.move.quantity for m in moves)},
            )  # fmt: skip
            uow.ledger.post(
                moves, reason=MoveReason.EXPIRY.value, actor=uow.actor,
                reference=f"expiry-sweep:{day.isoformat()}", audit_id=audit_id,
            )  # fmt: skip
            uow.commit()
        report = dto.SweepReport(
            as_of=day,
            lots_marked=len(to_mark),
            units_moved=sum(m.move.quantity for m in moves),
            lines=tuple(lines),
        )
    return report
