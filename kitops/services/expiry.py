"""The expiry sweep (a cron job): mark lots past expiry and put their stock aside.

Kits follow their stock: a kit still available or reserved whose own lot (the serial) is
expired is marked `expired` and its record moves with its unit to quarantine; a reserved
one loses its course, and the report says which course needs another kit.

Idempotent: a second run on the same day finds nothing to do and writes nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kitops.data.repositories import PostedMove
from kitops.data.repositories.locations import clinic_of
from kitops.data.schema import KitRow, LocationRow, LotRow, StockBalanceRow
from kitops.domain.kits import SHELVED_USABLE, KitStatus
from kitops.domain.ledger import LotStatus, Move, MoveReason
from kitops.domain.locations import LocationKind
from kitops.domain.stock_rules import needs_expiring
from kitops.errors import InvalidInput
from kitops.i18n import _
from kitops.services.dto import sweep as sweep_dto
from kitops.services.unit_of_work import UnitOfWork, retrying


@retrying
def sweep(
    uow: UnitOfWork, *, as_of: date | None = None, dry_run: bool = False
) -> sweep_dto.SweepReport:
    """Mark lots past expiry on ``as_of`` (default: today on the latest clinic calendar)
    expired and move their stock to the clinic's quarantine. Expiring is for good, so a
    day after every clinic's today is refused unless ``dry_run``, which only reports what
    would expire then and writes nothing."""
    with uow:
        uow.require("expiry.sweep")
        latest = uow.locations.latest_clinic_today()
        if as_of is not None and as_of > latest and not dry_run:
            raise InvalidInput(
                "as_of", as_of.isoformat(),
                _(
                    "is after today on every clinic's calendar ({latest}); "
                    "expiring is for good, so a sweep cannot run ahead of time "
                    "(--dry-run shows what would expire then)"
                ).format(latest=latest),
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
        lines: list[sweep_dto.SweepLine] = []
        moves: list[PostedMove] = []
        marked_ids = {lot.id for lot in to_mark}
        moved_lots: set[int] = set()
        for lot, location_id, quantity in stranded:
            place = locations[location_id]
            if place.kind == LocationKind.QUARANTINE.value:
                if lot.id in marked_ids:
                    lines.append(
                        sweep_dto.SweepLine(
                            lot.product.sku, lot.code, lot.expiry, True, 0, place.code, None,
                            _("{quantity} already in quarantine at {place}").format(
                                quantity=quantity, place=place.code))
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
                sweep_dto.SweepLine(
                    sku=lot.product.sku,
                    lot=lot.code,
                    expiry=lot.expiry,
                    marked_expired=lot.id in marked_ids,
                    moved=quantity if target else 0,
                    from_location=place.code,
                    to_location=target.code if target else None,
                    note=None
                    if target
                    else _("no quarantine location in {where}; left in place").format(where=where),
                )
            )
            moved_lots.add(lot.id)
        for lot in to_mark:
            if lot.id not in moved_lots:
                lines.append(sweep_dto.SweepLine(lot.product.sku, lot.code, lot.expiry, True, 0,
                                                 None, None, _("no stock on hand")))  # fmt: skip
        kits = _expired_kits(uow, moves, locations)
        actionable = to_mark or moves or kits
        if actionable and not dry_run:
            for kit, place_id, _when in kits:
                kit.status = KitStatus.EXPIRED.value
                kit.location_id = place_id
                kit.course_id = None
                kit.course_part = None
            uow.session.flush()
            audit_id = uow.record(
                "expiry.sweep", "database", day.isoformat(),
                after={"lots_marked": [f"{lot.product.sku}/{lot.code}" for lot in to_mark],
                       "units_moved": sum(m.move.quantity for m in moves),
                       "kits_expired": [line.serial for *_, line in kits],
                       "reservations_released": {line.serial: [line.course_id, line.course_part]
                                                 for *_, line in kits if line.course_id}},
            )  # fmt: skip
            uow.ledger.post(
                moves, reason=MoveReason.EXPIRY.value, actor=uow.actor,
                reference=f"expiry-sweep:{day.isoformat()}", audit_id=audit_id,
            )  # fmt: skip
            uow.commit()
        report = sweep_dto.SweepReport(
            as_of=day,
            lots_marked=len(to_mark),
            units_moved=sum(m.move.quantity for m in moves),
            lines=tuple(lines),
            kits_expired=len(kits),
            reservations_released=sum(1 for *_, line in kits if line.course_id is not None),
            kits=tuple(line for *_, line in kits),
        )
    return report


def _expired_kits(
    uow: UnitOfWork, moves: list[PostedMove], locations: dict[int, LocationRow]
) -> list[tuple[KitRow, int, sweep_dto.SweepKit]]:
    """The kits still `available`, `reserved` or in `quarantine` (back sealed from a
    patient) whose own lot is expired (locked), each
    with where its unit goes (this sweep's move) or already is (put aside by an earlier
    sweep, or left in place where a clinic has no quarantine location)."""
    rows = uow.session.scalars(
        select(KitRow)
        .join(LotRow, LotRow.id == KitRow.lot_id)
        .where(
            KitRow.status.in_(SHELVED_USABLE),
            LotRow.status == LotStatus.EXPIRED.value,
        )
        .order_by(KitRow.id)
        .with_for_update(of=KitRow, key_share=True)
    ).all()
    going = {m.move.lot_id: m.move.to_location_id for m in moves}
    physical = uow.locations.physical_ids()
    found: list[tuple[KitRow, int, sweep_dto.SweepKit]] = []
    for row in rows:
        target = going.get(row.lot_id) if row.lot_id is not None else None
        if target is None:
            places = uow.session.scalars(
                select(StockBalanceRow.location_id).where(
                    StockBalanceRow.lot_id == row.lot_id,
                    StockBalanceRow.quantity > 0,
                    StockBalanceRow.location_id.in_(physical),
                )
            ).all()
            target = places[0] if len(places) == 1 else row.location_id
        place = locations[target]
        notes = []
        if row.course_id is not None:
            notes.append(
                _("course {course} part {part} lost its kit").format(
                    course=row.course_id, part=row.course_part
                )
            )
        if place.kind != LocationKind.QUARANTINE.value:
            clinic = clinic_of(place, locations)
            where = clinic.code if clinic else place.code
            notes.append(_("no quarantine location in {where}; left in place").format(where=where))
        line = sweep_dto.SweepKit(
            serial=row.serial,
            sku=row.product.sku,
            status_before=row.status,
            from_location=locations[row.location_id].code,
            to_location=place.code,
            course_id=row.course_id,
            course_part=row.course_part,
            note="; ".join(notes) or None,
        )
        found.append((row, target, line))
    return found
