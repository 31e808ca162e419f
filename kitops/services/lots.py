"""Lots: release, quarantine, recall, show and trace."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from kitops import faults
from kitops.data.schema import (
    CourseRow,
    KitComponentRow,
    KitRow,
    LocationRow,
    LotRow,
    SessionRow,
    StockBalanceRow,
    StockMoveRow,
)
from kitops.domain.catalog import parse_sku
from kitops.domain.ledger import UNTRACKED_LOT_CODE, LotStatus, MoveReason, parse_lot_code
from kitops.domain.stock_rules import check_status_change
from kitops.errors import InvalidInput, Refused
from kitops.services import dto
from kitops.services.locations import clinic_of
from kitops.services.stock import latest_clinic_today
from kitops.services.unit_of_work import UnitOfWork, retrying


def resolve_lot(
    uow: UnitOfWork, code: str, sku: str | None = None, *, lock: bool = False
) -> LotRow:
    """The lot with this code; ``sku`` settles a code that two products share."""
    # "-" names the single lot of a product that is not lot-tracked (with --sku)
    lot_code = UNTRACKED_LOT_CODE if code.strip() == UNTRACKED_LOT_CODE else parse_lot_code(code)
    candidates = list(uow.lots.with_code(lot_code, lock=lock))
    if sku:
        product = uow.products.get(parse_sku(sku))
        candidates = [lot for lot in candidates if lot.product_id == product.id]
    if not candidates:
        raise InvalidInput("lot", code, "no lot has this code" + (f" for {sku}" if sku else ""))
    if len(candidates) > 1:
        skus = sorted(lot.product.sku for lot in candidates)
        raise InvalidInput("lot", code, f"is a lot of {', '.join(skus)}; add --sku to choose")
    return candidates[0]


def _detail(uow: UnitOfWork, lot: LotRow) -> dto.LotDetail:
    locations = {row.id: row for row in uow.locations.all()}
    rows = uow.session.execute(
        select(StockBalanceRow.location_id, StockBalanceRow.quantity)
        .where(StockBalanceRow.lot_id == lot.id, StockBalanceRow.quantity > 0)
        .order_by(StockBalanceRow.location_id)
    ).all()
    on_hand = []
    for location_id, quantity in rows:
        place = locations[location_id]
        clinic = clinic_of(place, locations)
        on_hand.append(dto.OnHand(place.code, clinic.code if clinic else None, quantity))
    supplier = None
    if lot.supplier_id is not None:
        from kitops.data.schema import SupplierRow

        supplier = uow.session.get(SupplierRow, lot.supplier_id)
    return dto.LotDetail(
        sku=lot.product.sku,
        product=lot.product.name,
        lot=lot.code,
        expiry=lot.expiry,
        status=lot.status,
        status_reason=lot.status_reason,
        supplier=supplier.code if supplier else None,
        receipt_ref=lot.receipt_ref,
        on_hand=tuple(on_hand),
        total_on_hand=sum(item.quantity for item in on_hand),
    )


_PERMISSION = {
    LotStatus.RELEASED: "lot.release",
    LotStatus.QUARANTINE: "lot.quarantine",
    LotStatus.RECALLED: "lot.recall",
}


@retrying
def change_status(
    uow: UnitOfWork,
    code: str,
    target: LotStatus,
    *,
    reason: str | None = None,
    sku: str | None = None,
    today: date | None = None,
) -> dto.LotDetail:
    """Release, quarantine or recall a lot everywhere at once (one row, one status)."""
    if target in (LotStatus.QUARANTINE, LotStatus.RECALLED) and not (reason or "").strip():
        raise InvalidInput("reason", reason, f"say why the lot goes to {target.value} (--reason)")
    with uow:
        uow.require(_PERMISSION.get(target, "lot.recall"))
        lot = uow.lots.lock(resolve_lot(uow, code, sku))
        _refuse_returned_kit(uow, lot, target)
        current = LotStatus(lot.status)
        day = today or latest_clinic_today(uow)
        check_status_change(lot.code, current, target, lot.expiry, day)
        before = {"status": current.value, "reason": lot.status_reason}
        lot.status = target.value
        lot.status_reason = (reason or "").strip()[:200] or None
        uow.session.flush()
        kits: list[str] = []
        if target is LotStatus.RECALLED:
            from kitops.services.kits import mark_recalled

            kits = mark_recalled(uow, lot.id)
        uow.record(
            f"lot.{target.value}", "lot", f"{lot.product.sku}/{lot.code}",
            before=before,
            after={"status": lot.status, "reason": lot.status_reason}
            | ({"kits": kits} if kits else {}),
        )  # fmt: skip
        result = _detail(uow, lot)
        faults.point("lot.status:after_change")
        uow.commit()
    return result


def _refuse_returned_kit(uow: UnitOfWork, lot: LotRow, target: LotStatus) -> None:
    """A kit back sealed from a patient waits in quarantine for `kit release`, which
    checks its component lots: its own lot is not released around it."""
    if target is LotStatus.RELEASED and uow.session.scalar(
        select(KitRow.serial).where(KitRow.lot_id == lot.id, KitRow.status == "quarantine")
    ):
        raise Refused(
            f"lot {lot.code} is a kit back from a patient; release it with "
            f"`kitops kit release {lot.code}`, which checks its component lots"
        )


def show(uow: UnitOfWork, code: str, *, sku: str | None = None) -> dto.LotDetail:
    with uow:
        return _detail(uow, resolve_lot(uow, code, sku))


def trace(uow: UnitOfWork, code: str, *, sku: str | None = None) -> dto.Trace:
    """Where every unit of a lot came from, went and is now: on hand by location and
    every flow (from → to, reason) with quantities, dates and references."""
    with uow:
        lot = resolve_lot(uow, code, sku)
        codes = dict(uow.session.execute(select(LocationRow.id, LocationRow.code)).all())
        # Two index-only scans of the covering index: the flows, then their references.
        flow_key = (
            StockMoveRow.from_location_id,
            StockMoveRow.to_location_id,
            StockMoveRow.reason,
            StockMoveRow.detail,
        )
        grouped = uow.session.execute(
            select(
                *flow_key,
                func.sum(StockMoveRow.quantity),
                func.count(),
                func.min(StockMoveRow.created_at),
                func.max(StockMoveRow.created_at),
            )
            .where(StockMoveRow.lot_id == lot.id)
            .group_by(*flow_key)
        ).all()
        references: dict[tuple[int, int, str, str | None], list[str]] = {}
        for src, dst, reason, detail, reference in uow.session.execute(
            select(*flow_key, StockMoveRow.reference)
            .where(StockMoveRow.lot_id == lot.id, StockMoveRow.reference.is_not(None))
            .distinct()
        ):
            if reference is not None:
                references.setdefault((src, dst, reason, detail), []).append(reference)
        flows = [
            dto.Flow(
                from_location=codes[src],
                to_location=codes[dst],
                reason=reason,
                detail=detail,
                quantity=int(qty),
                moves=int(moves),
                first=_aware(first),
                last=_aware(last),
                references=tuple(sorted(references.get((src, dst, reason, detail), ()))),
            )
            for src, dst, reason, detail, qty, moves, first, last in grouped
        ]
        kit_rows = uow.session.execute(
            select(KitRow.serial, KitRow.status, KitRow.recalled, KitRow.course_id,
                   KitRow.lot_id, KitComponentRow.quantity)
            .join(KitComponentRow, KitComponentRow.kit_id == KitRow.id)
            .where(KitComponentRow.lot_id == lot.id)
            .order_by(KitRow.serial)
        ).all()  # fmt: skip
        # A kit that went out keeps its course in the ledger even after it came back.
        dispatched = dict(
            uow.session.execute(
                select(StockMoveRow.lot_id, StockMoveRow.reference).where(
                    StockMoveRow.lot_id.in_([row[4] for row in kit_rows if row[4]]),
                    StockMoveRow.reason == MoveReason.DISPATCH.value,
                )
            ).all()
        )
        course_ids = {row[3] for row in kit_rows if row[3]} | {
            int(ref.split(":")[1])
            for ref in dispatched.values()
            if ref and ref.startswith("course:")
        }
        patients = dict(
            uow.session.execute(
                select(CourseRow.id, CourseRow.patient_ref).where(CourseRow.id.in_(course_ids))
            ).all()
        )
        kit_uses = []
        for serial, status, recalled, course_id, kit_lot_id, qty in kit_rows:
            reference = (dispatched.get(kit_lot_id) if kit_lot_id else None) or ""
            if course_id is None and reference.startswith("course:"):
                course_id = int(reference.split(":")[1])
            patient = patients.get(course_id) if course_id is not None else None
            kit_uses.append(dto.KitUse(serial, status, recalled, course_id, patient, qty))
        session_uses = tuple(
            dto.SessionUse(course_id, patient, number, day, qty)
            for course_id, patient, number, day, qty in uow.session.execute(
                select(SessionRow.course_id, CourseRow.patient_ref, SessionRow.session_no,
                       SessionRow.session_date, SessionRow.quantity)
                .join(CourseRow, CourseRow.id == SessionRow.course_id)
                .where(SessionRow.lot_id == lot.id)
                .order_by(SessionRow.session_date, SessionRow.course_id)
            )
        )  # fmt: skip
        flows.sort(key=lambda f: (f.first, f.from_location, f.to_location))
        detail_dto = _detail(uow, lot)

    def total(to: str | None = None, frm: str | None = None, reason: str | None = None) -> int:
        return sum(
            f.quantity
            for f in flows
            if (to is None or f.to_location == to)
            and (frm is None or f.from_location == frm)
            and (reason is None or f.reason == reason)
        )

    adjusted = total(frm="ADJUSTMENT", reason=MoveReason.COUNT.value) - total(
        to="ADJUSTMENT", reason=MoveReason.COUNT.value
    )
    return dto.Trace(
        lot=detail_dto,
        received=total(frm="SUPPLIER") + total(frm="ADJUSTMENT", reason=MoveReason.OPENING.value),
        written_off=total(to="SCRAP"),
        delivered=total(to="PATIENT"),
        adjusted=adjusted,
        flows=tuple(flows),
        in_kits=total(to="ASSEMBLY") - total(frm="ASSEMBLY"),
        kits=tuple(kit_uses),
        sessions=session_uses,
    )


def _aware(value: object) -> datetime:
    """An aggregated timestamp as an aware UTC datetime, whatever the driver returned."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp, got {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)
