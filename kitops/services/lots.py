"""Lots: release, quarantine, recall, show and trace."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select, text, union_all

from kitops import faults
from kitops.data.repositories.locations import clinic_of
from kitops.data.schema import (
    AuditRow,
    CourseKitNeedRow,
    CourseRow,
    KitComponentRow,
    KitRow,
    LocationRow,
    LotRow,
    ProductRow,
    SessionItemRow,
    SessionRow,
    StockBalanceRow,
    StockMoveRow,
    SupplierRow,
)
from kitops.domain.kits import OUT, KitStatus
from kitops.domain.ledger import LotStatus, MoveReason
from kitops.domain.stock_rules import check_status_change
from kitops.errors import InvalidInput, Refused
from kitops.i18n import _
from kitops.services.dto import lots as lots_dto
from kitops.services.unit_of_work import UnitOfWork, retrying


def _detail(
    uow: UnitOfWork, lot: LotRow, locations: dict[int, LocationRow] | None = None
) -> lots_dto.LotDetail:
    """The lot with its product, supplier and on-hand by location: one statement."""
    if locations is None:
        locations = {row.id: row for row in uow.locations.all()}
    rows = uow.session.execute(
        select(
            ProductRow.sku,
            ProductRow.name,
            SupplierRow.code,
            StockBalanceRow.location_id,
            StockBalanceRow.quantity,
        )
        .select_from(ProductRow)
        .outerjoin(SupplierRow, SupplierRow.id == lot.supplier_id)
        .outerjoin(
            StockBalanceRow,
            (StockBalanceRow.lot_id == lot.id) & (StockBalanceRow.quantity > 0),
        )
        .where(ProductRow.id == lot.product_id)
        .order_by(StockBalanceRow.location_id)
    ).all()
    on_hand = []
    scope = uow.scope_places()
    for _sku, _name, _supplier, location_id, quantity in rows:
        if location_id is None or (scope is not None and location_id not in scope):
            continue  # no stock; or a user limited to clinics sees what its clinics hold
        place = locations[location_id]
        clinic = clinic_of(place, locations)
        on_hand.append(lots_dto.OnHand(place.code, clinic.code if clinic else None, quantity))
    sku, name, supplier = rows[0][0], rows[0][1], rows[0][2]
    return lots_dto.LotDetail(
        sku=sku,
        product=name,
        lot=lot.code,
        expiry=lot.expiry,
        status=lot.status,
        status_reason=lot.status_reason,
        supplier=supplier,
        receipt_ref=lot.receipt_ref,
        on_hand=tuple(on_hand),
        total_on_hand=sum(item.quantity for item in on_hand),
    )


log = logging.getLogger(__name__)

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
) -> lots_dto.LotDetail:
    """Release, quarantine or recall a lot everywhere at once (one row, one status)."""
    if target in (LotStatus.QUARANTINE, LotStatus.RECALLED) and not (reason or "").strip():
        raise InvalidInput(
            "reason",
            reason,
            _("say why the lot goes to {target} (--reason)").format(target=target.value),
        )
    with uow:
        uow.require(_PERMISSION.get(target, "lot.recall"))
        lot = uow.lots.lock(uow.lots.resolve(code, sku))
        if target is LotStatus.RELEASED:
            _refuse_release_beyond_scope(uow, lot)
        _refuse_returned_kit(uow, lot, target)
        current = LotStatus(lot.status)
        day = today or uow.locations.latest_clinic_today()
        check_status_change(lot.code, current, target, lot.expiry, day)
        before = {"status": current.value, "reason": lot.status_reason}
        lot.status = target.value
        lot.status_reason = (reason or "").strip()[:200] or None
        uow.session.flush()
        kits: list[str] = []
        released: list[dict[str, object]] = []
        if target is LotStatus.RECALLED:
            # imported here: the kits service (catalog, plans, reservations) is more than
            # a trace or a lot's detail needs to load
            from kitops.services.kits import flag_recalled_kits

            flagged = flag_recalled_kits(uow, lot.id)
            kits = [kit.serial for kit in flagged]
            # the courses that lose their kit, by number only (no patient reference)
            released = [
                {"kit": kit.serial, "course": kit.course_id, "part": kit.course_part}
                for kit in flagged
                if kit.status == KitStatus.RESERVED and kit.course_id is not None
            ]
        uow.record(
            f"lot.{target.value}", "lot", f"{lot.product.sku}/{lot.code}",
            before=before,
            after={"status": lot.status, "reason": lot.status_reason}
            | ({"kits": kits} if kits else {})
            | ({"released": released} if released else {}),
        )  # fmt: skip
        result = _detail(uow, lot)
        if target is LotStatus.RECALLED:
            now = datetime.now(UTC)
            codes = _location_codes(uow)
            mine = _clinic_codes_in_scope(uow)
            result = lots_dto.LotRecall(
                **{f.name: getattr(result, f.name) for f in dataclasses.fields(result)},
                kits_flagged=tuple(kits) if mine is None else _visible_serials(uow, kits),
                at_patients=_mine(_kits_at_patients(uow, lot, codes), mine),
                released=_mine(_released_kits(uow, [(entry, now) for entry in released]), mine),
                sessions=_mine(_sessions(uow, lot, codes), mine),
            )  # fmt: skip
        faults.point("lot.status:after_change")
        uow.commit()
        sku_code = f"{lot.product.sku}/{lot.code}"
    # the lot and who acted; never the reason, a person's free text
    fields = {"lot": sku_code, "status": target.value, "kits_flagged": len(kits)}
    log.info("lot %s %s by %s", sku_code, target.value, uow.audit_name, extra=fields)
    return result


def _refuse_release_beyond_scope(uow: UnitOfWork, lot: LotRow) -> None:
    """A lot is one row for every clinic: a user limited to clinics may always make it
    safer (quarantine, recall), but releases it only when no clinic outside theirs holds
    any of it."""
    scope = uow.scope_places()
    if scope is None:
        return
    held = uow.session.scalars(
        select(StockBalanceRow.location_id).where(
            StockBalanceRow.lot_id == lot.id, StockBalanceRow.quantity > 0
        )
    ).all()
    for location_id in held:
        if location_id not in scope:
            place = uow.session.get(LocationRow, location_id)
            assert place is not None
            uow.check_place(place, doing=_("release lot {lot}, held").format(lot=lot.code))


def _refuse_returned_kit(uow: UnitOfWork, lot: LotRow, target: LotStatus) -> None:
    """A kit back sealed from a patient waits in quarantine for `kit release`, which
    checks its component lots: its own lot is not released around it."""
    if target is LotStatus.RELEASED and uow.session.scalar(
        select(KitRow.serial).where(
            KitRow.lot_id == lot.id, KitRow.status == KitStatus.QUARANTINE.value
        )
    ):
        raise Refused(
            _(
                "lot {lot} is a kit back from a patient; release it with "
                "`kitops kit release {lot}`, which checks its component lots"
            ).format(lot=lot.code)
        )


FlowKey = tuple[int, int, str, str | None]


def _first_references(
    uow: UnitOfWork, lot_id: int, flows: list[FlowKey], shown: int
) -> dict[FlowKey, tuple[str, ...]]:
    """The first ``shown`` distinct references of each flow of a lot, in the database's
    order (on SQLite and a C-collated PostgreSQL database the order in which ``--json``
    lists them all): one statement, a few seeks of the covering index per flow (lot,
    from, to, reason, detail, reference), however many references the flow has.

    The flows are a list of values and one recursive part steps every flow at once from
    one reference to the next larger one, ``ORDER BY detail, reference LIMIT 1``: the
    index's own order, so PostgreSQL walks it without sorting or hashing the flow's
    references. Flows with a detail and flows without take a part each, as ``detail IS
    NULL`` is an index condition only when written so (and PostgreSQL's planner does not
    count it as an equality for ordering). One part per flow instead made PostgreSQL plan
    a statement that grows with the flows: 53 ms of planning for a lot with 110 flows."""
    if not flows or shown <= 0:
        return {}
    # Written as text: it is built for every trace, and SQLAlchemy expression objects
    # for a hundred flows cost more than the database's answer.
    params: dict[str, Any] = {"lot": lot_id, "shown": shown}
    ctes: list[str] = []
    selects: list[str] = []
    for named in (False, True):
        numbers = [n for n, flow in enumerate(flows) if (flow[3] is not None) == named]
        if not numbers:
            continue
        rows = []
        for number in numbers:
            src, dst, reason, detail = flows[number]
            params.update({f"n{number}": number, f"f{number}": src, f"t{number}": dst,
                           f"r{number}": reason})  # fmt: skip
            if named:
                params[f"d{number}"] = detail
            rows.append(
                f"(:n{number}, :f{number}, :t{number}, :r{number}"
                + (f", :d{number})" if named else ")")
            )
        group, refs = ("named", "named_refs") if named else ("plain", "plain_refs")
        columns = "flow, f, t, r, d" if named else "flow, f, t, r"
        match = (
            "m.lot_id = :lot AND m.from_location_id = g.f AND m.to_location_id = g.t "
            "AND m.reason = g.r AND " + ("m.detail = g.d" if named else "m.detail IS NULL")
        )
        step = "SELECT m.reference FROM stock_moves m WHERE " + match
        order = " ORDER BY m.detail, m.reference LIMIT 1"
        ctes.append(f"{group}({columns}) AS (VALUES {', '.join(rows)})")
        ctes.append(
            f"{refs}(flow, n, reference) AS ("
            f"SELECT g.flow, 1, ({step} AND m.reference IS NOT NULL{order}) FROM {group} g "
            f"UNION ALL SELECT r.flow, r.n + 1, ({step} AND m.reference > r.reference{order}) "
            f"FROM {refs} r JOIN {group} g ON g.flow = r.flow "
            f"WHERE r.n < :shown AND r.reference IS NOT NULL)"
        )
        selects.append(f"SELECT flow, n, reference FROM {refs} WHERE reference IS NOT NULL")
    statement = "WITH RECURSIVE " + ", ".join(ctes) + " " + " UNION ALL ".join(selects)
    found: dict[FlowKey, list[tuple[int, str]]] = {}
    for number, n, ref in uow.session.execute(text(statement), params):
        found.setdefault(flows[number], []).append((n, ref))
    return {key: tuple(ref for _n, ref in sorted(refs)) for key, refs in found.items()}


def _all_references(uow: UnitOfWork, lot_id: int) -> dict[FlowKey, tuple[str, ...]]:
    """Every distinct reference of every flow of a lot, sorted (``trace --json``)."""
    found: dict[FlowKey, list[str]] = {}
    for src, dst, reason, detail, reference in uow.session.execute(
        select(
            StockMoveRow.from_location_id,
            StockMoveRow.to_location_id,
            StockMoveRow.reason,
            StockMoveRow.detail,
            StockMoveRow.reference,
        )
        .where(StockMoveRow.lot_id == lot_id, StockMoveRow.reference.is_not(None))
        .distinct()
    ):
        if reference is not None:
            found.setdefault((src, dst, reason, detail), []).append(reference)
    return {key: tuple(sorted(refs)) for key, refs in found.items()}


def show(uow: UnitOfWork, code: str, *, sku: str | None = None) -> lots_dto.LotDetail:
    with uow:
        return _detail(uow, uow.lots.resolve(code, sku))


def trace(
    uow: UnitOfWork, code: str, *, sku: str | None = None, references: int | None = None
) -> lots_dto.Trace:
    """Where every unit of a lot came from, went and is now: on hand by location and
    every flow (from → to, reason) with quantities, dates and references.

    ``references`` (a number) lists only each flow's first references, in order, beside
    how many it has: what a screen shows of a lot in thousands of kits. ``None`` lists
    them all."""
    shown = references
    with uow:
        lot = uow.lots.resolve(code, sku)
        places = {row.id: row for row in uow.locations.all()}
        codes = _location_codes(uow, places)
        scope = uow.scope_places()  # a user limited to clinics: flows touching them only
        # An index-only scan of the covering index for the flows (with how many distinct
        # references each has), then their references: every one, or each flow's first.
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
                func.count(distinct(StockMoveRow.reference)),
            )
            .where(StockMoveRow.lot_id == lot.id)
            .group_by(*flow_key)
        ).all()
        grouped = [row for row in grouped if scope is None or row[0] in scope or row[1] in scope]
        if shown is None:
            listed = _all_references(uow, lot.id)
        else:  # each flow's first few, asked of the index flow by flow
            listed = _first_references(
                uow, lot.id, [(row[0], row[1], row[2], row[3]) for row in grouped if row[8]], shown
            )
        flows = [
            lots_dto.Flow(
                from_location=codes[src][0],
                to_location=codes[dst][0],
                reason=reason,
                detail=detail,
                quantity=int(qty),
                moves=int(moves),
                first=_aware(first),
                last=_aware(last),
                references=listed.get((src, dst, reason, detail), ()),
                reference_count=int(referenced),
            )
            for src, dst, reason, detail, qty, moves, first, last, referenced in grouped
        ]
        # The kits built with the lot (one statement serves the kit list and the kits
        # out with patients), and those whose own lot it is that are out now.
        components = list(
            uow.session.execute(
                select(KitRow, KitComponentRow.quantity)
                .join(KitComponentRow, KitComponentRow.kit_id == KitRow.id)
                .where(KitComponentRow.lot_id == lot.id)
                .order_by(KitRow.serial)
            ).all()
        )
        out_now = [(kit, int(qty)) for kit, qty in components if kit.status in OUT] + [
            (kit, 1)
            for kit in uow.session.scalars(
                select(KitRow).where(KitRow.lot_id == lot.id, KitRow.status.in_(OUT))
            )
        ]
        kit_rows = [
            (row.serial, row.status, row.recalled, row.course_id, row.lot_id, quantity)
            for row, quantity in components
            if scope is None or uow.visible_kit(row)
        ]
        # A kit that went out keeps its course in the ledger even after it came back.
        outings = _dispatches(
            uow, [row[4] for row in kit_rows if row[4]] + [k.lot_id for k, _ in out_now if k.lot_id]
        )
        course_ids = (
            {row[3] for row in kit_rows if row[3]}
            | {kit.course_id for kit, _ in out_now if kit.course_id}
            | {course for _, course, _ in outings.values() if course is not None}
        )
        patients = (
            dict(
                uow.session.execute(
                    select(CourseRow.id, CourseRow.patient_ref).where(CourseRow.id.in_(course_ids))
                ).all()
            )
            if course_ids
            else {}
        )  # a lot in no kit asks nothing more
        kit_uses = []
        in_kits_delivered = 0
        for serial, status, recalled, course_id, kit_lot_id, qty in kit_rows:
            times, course_out, _ = outings.get(kit_lot_id or 0, (0, None, None))
            in_kits_delivered += times * qty
            if course_id is None:
                course_id = course_out
            patient = patients.get(course_id) if course_id is not None else None
            kit_uses.append(lots_dto.KitUse(serial, status, recalled, course_id, patient, qty))
        mine = _clinic_codes_in_scope(uow)
        session_uses = _mine(_sessions(uow, lot, codes), mine)
        at_patients = _mine(_out_with_patients(out_now, outings, patients, codes), mine)
        detail_dto = _detail(uow, lot, places)
        audits = _recall_audits(uow, lot, detail_dto.sku)
        released = _mine(_released_kits(uow, audits), mine)
        flows.sort(key=lambda f: (f.first, f.from_location, f.to_location))

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
    return lots_dto.Trace(
        lot=detail_dto,
        received=total(frm="SUPPLIER") + total(frm="ADJUSTMENT", reason=MoveReason.OPENING.value),
        written_off=total(to="SCRAP"),
        # units that reached patients: the lot's own moves to PATIENT (clinic sessions, a
        # kit's own lot) and its units inside every kit that was shipped or handed over
        delivered=total(to="PATIENT") + in_kits_delivered,
        adjusted=adjusted,
        flows=tuple(flows),
        in_kits=total(to="ASSEMBLY") - total(frm="ASSEMBLY"),
        kits=tuple(kit_uses),
        sessions=session_uses,
        delivered_in_kits=in_kits_delivered,
        at_patients=at_patients,
        released=released,
    )


_T = TypeVar("_T", lots_dto.SessionUse, lots_dto.KitAtPatient, lots_dto.KitReleased)


def _visible_serials(uow: UnitOfWork, serials: list[str]) -> tuple[str, ...]:
    """The kits of ``serials`` the acting user sees (held in or made for its clinics)."""
    if not serials:
        return ()
    rows = uow.session.scalars(select(KitRow).where(KitRow.serial.in_(serials))).all()
    seen = {row.serial for row in rows if uow.visible_kit(row)}
    return tuple(serial for serial in serials if serial in seen)


def _clinic_codes_in_scope(uow: UnitOfWork) -> frozenset[str] | None:
    user = uow.user
    return None if user is None or user.clinics is None else frozenset(user.clinic_codes)


def _mine(items: tuple[_T, ...], mine: frozenset[str] | None) -> tuple[_T, ...]:
    """The entries of the acting user's clinics (all of them for a user with no limit)."""
    return items if mine is None else tuple(item for item in items if item.clinic in mine)


def _location_codes(
    uow: UnitOfWork, locations: dict[int, LocationRow] | None = None
) -> dict[int, tuple[str, str | None, str | None]]:
    """location id → (code, its clinic's code, its clinic's time zone)."""
    if locations is None:
        locations = {row.id: row for row in uow.locations.all()}
    out: dict[int, tuple[str, str | None, str | None]] = {}
    for place in locations.values():
        clinic = clinic_of(place, locations)
        out[place.id] = (
            place.code,
            clinic.code if clinic else None,
            clinic.timezone if clinic else place.timezone,
        )
    return out


def _local_day(moment: object, zone: str | None) -> date:
    aware = _aware(moment)
    return aware.astimezone(ZoneInfo(zone)).date() if zone else aware.date()


def _dispatches(
    uow: UnitOfWork, kit_lot_ids: list[int]
) -> dict[int, tuple[int, int | None, datetime | None]]:
    """kit lot id → (times it went to a patient, the course of the last time, when)."""
    found: dict[int, tuple[int, int | None, datetime | None]] = {}
    wanted = sorted(set(kit_lot_ids))
    for i in range(0, len(wanted), 500):
        rows = uow.session.execute(
            select(StockMoveRow.lot_id, StockMoveRow.reference, StockMoveRow.created_at)
            .where(
                StockMoveRow.lot_id.in_(wanted[i : i + 500]),
                StockMoveRow.reason == MoveReason.DISPATCH.value,
            )
            .order_by(StockMoveRow.created_at, StockMoveRow.id)
        ).all()
        for lot_id, reference, at in rows:
            times = found.get(lot_id, (0, None, None))[0] + 1
            course = (
                int(reference.split(":")[1])
                if reference and reference.startswith("course:")
                else None
            )
            found[lot_id] = (times, course, _aware(at))
    return found


def _kits_at_patients(
    uow: UnitOfWork, lot: LotRow, codes: dict[int, tuple[str, str | None, str | None]]
) -> tuple[lots_dto.KitAtPatient, ...]:
    """The kits holding the lot (or whose own lot it is) that are with a patient now."""
    out_now = OUT
    rows = list(
        uow.session.execute(
            select(KitRow, KitComponentRow.quantity)
            .join(KitComponentRow, KitComponentRow.kit_id == KitRow.id)
            .where(KitComponentRow.lot_id == lot.id, KitRow.status.in_(out_now))
        ).all()
    ) + [
        (kit, 1)
        for kit in uow.session.scalars(
            select(KitRow).where(KitRow.lot_id == lot.id, KitRow.status.in_(out_now))
        )
    ]
    if not rows:
        return ()
    outings = _dispatches(uow, [kit.lot_id for kit, _ in rows if kit.lot_id])
    course_ids = {kit.course_id for kit, _ in rows if kit.course_id}
    patients = dict(
        uow.session.execute(
            select(CourseRow.id, CourseRow.patient_ref).where(CourseRow.id.in_(course_ids))
        ).all()
    )
    return _out_with_patients(rows, outings, patients, codes)


def _out_with_patients(
    rows: list[tuple[KitRow, int]],
    outings: dict[int, tuple[int, int | None, datetime | None]],
    patients: dict[int, str],
    codes: dict[int, tuple[str, str | None, str | None]],
) -> tuple[lots_dto.KitAtPatient, ...]:
    """The kits out with patients, from their rows, dispatches and patients (a patient
    is named through the kit's own course)."""
    named = {kit.course_id for kit, _ in rows if kit.course_id}
    listed = []
    for kit, quantity in rows:
        _, course_out, when = outings.get(kit.lot_id or 0, (0, None, None))
        course_id = kit.course_id if kit.course_id is not None else course_out
        _, clinic, zone = codes[kit.location_id]
        listed.append(
            lots_dto.KitAtPatient(
                serial=kit.serial,
                course_id=course_id,
                part=kit.course_part,
                clinic=clinic,
                patient_ref=patients.get(course_id) if course_id in named else None,
                status=kit.status,
                went_out=_local_day(when, zone) if when is not None else None,
                tracking=kit.tracking,
                quantity=int(quantity),
            )
        )
    listed.sort(key=lambda k: (k.went_out or date.min, k.course_id or 0, k.serial))
    return tuple(listed)


def _recall_audits(uow: UnitOfWork, lot: LotRow, sku: str) -> list[tuple[dict[str, Any], datetime]]:
    """The course parts each recall of the lot took a reserved kit from, and when."""
    entries = []
    for after, at in uow.session.execute(
        select(AuditRow.after, AuditRow.at)
        .where(
            AuditRow.entity == "lot",
            AuditRow.entity_key == f"{sku}/{lot.code}",
            AuditRow.action == f"lot.{LotStatus.RECALLED.value}",
        )
        .order_by(AuditRow.id)
    ):
        for entry in (after or {}).get("released") or ():
            entries.append((entry, _aware(at)))
    return entries


def _released_kits(
    uow: UnitOfWork, entries: list[tuple[dict[str, Any], datetime]]
) -> tuple[lots_dto.KitReleased, ...]:
    """Each course part a recall took a reserved kit from: its clinic, patient, when it
    needs the kit, and the kit holding that part now, if any."""
    wanted = [
        (str(entry["kit"]), int(entry["course"]), int(entry["part"]), at)
        for entry, at in entries
        if entry.get("course") is not None and entry.get("part") is not None
    ]
    if not wanted:
        return ()
    course_ids = {course for _, course, _, _ in wanted}
    courses = {
        row.id: row
        for row in uow.session.scalars(select(CourseRow).where(CourseRow.id.in_(course_ids)))
    }
    needs = {
        (course, part): first
        for course, part, first in uow.session.execute(
            select(
                CourseKitNeedRow.course_id, CourseKitNeedRow.part, CourseKitNeedRow.first_use
            ).where(CourseKitNeedRow.course_id.in_(course_ids))
        )
    }
    holding = {
        (course, part): serial
        for course, part, serial in uow.session.execute(
            select(KitRow.course_id, KitRow.course_part, KitRow.serial).where(
                KitRow.course_id.in_(course_ids)
            )
        )
    }
    listed = []
    for serial, course_id, part, at in wanted:
        course = courses.get(course_id)
        zone = course.clinic.timezone if course else None
        listed.append(
            lots_dto.KitReleased(
                serial=serial,
                course_id=course_id,
                part=part,
                clinic=course.clinic.code if course else None,
                patient_ref=course.patient_ref if course else None,
                needed_from=needs.get((course_id, part)),
                recalled_on=_local_day(at, zone),
                now_kit=holding.get((course_id, part)),
            )
        )
    listed.sort(key=lambda r: (r.needed_from or date.max, r.course_id, r.part))
    return tuple(listed)


def _sessions(
    uow: UnitOfWork, lot: LotRow, codes: dict[int, tuple[str, str | None, str | None]]
) -> tuple[lots_dto.SessionUse, ...]:
    """Clinic sessions that used the lot: as their serum, or as a supply (a stamp...)."""
    columns = (SessionRow.course_id, CourseRow.patient_ref, SessionRow.session_no,
               SessionRow.session_date, CourseRow.clinic_id)  # fmt: skip
    serum = (
        select(*columns, SessionRow.quantity)
        .join(CourseRow, CourseRow.id == SessionRow.course_id)
        .where(SessionRow.lot_id == lot.id)
    )
    supply = (
        select(*columns, SessionItemRow.quantity)
        .join(SessionRow, SessionRow.id == SessionItemRow.session_id)
        .join(CourseRow, CourseRow.id == SessionRow.course_id)
        .where(SessionItemRow.lot_id == lot.id)
    )
    uses = list(uow.session.execute(union_all(serum, supply)).all())
    uses.sort(key=lambda use: (use[3], use[0], use[2]))
    return tuple(
        lots_dto.SessionUse(course_id, patient, number, day, qty, codes[clinic_id][0])
        for course_id, patient, number, day, clinic_id, qty in uses
    )


def _aware(value: object) -> datetime:
    """An aggregated timestamp as an aware UTC datetime, whatever the driver returned."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp, got {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)
