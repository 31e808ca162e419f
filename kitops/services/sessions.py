"""Clinic sessions of courses administered in the clinic: record one (consuming its vials
and its supplies at the course's clinic) and check that the clinic holds enough for the
sessions to come."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

import kitops.i18n as i18n
from kitops.data.repositories import PostedMove
from kitops.data.repositories.locations import subtree_ids
from kitops.data.schema import (
    CourseRow,
    LotRow,
    PlanSessionItemRow,
    ProductRow,
    SessionItemRow,
    SessionRow,
)
from kitops.domain.catalog import ProductKind
from kitops.domain.course_lifecycle import NEEDS_STOCK, status_after_session
from kitops.domain.courses import (
    Administered,
    CourseStatus,
    opened_vial_lasts,
    session_vials,
)
from kitops.domain.ledger import LotStatus, Move, MoveReason, is_usable, parse_date
from kitops.domain.locations import clinic_today
from kitops.errors import InvalidInput, Refused, TransientDatabaseError
from kitops.i18n import _
from kitops.i18n.labels import status_label
from kitops.services.dto import courses as courses_dto
from kitops.services.plans import calendar_of, to_domain
from kitops.services.unit_of_work import UnitOfWork, retrying


def _clinic_serum(uow: UnitOfWork, course: CourseRow) -> tuple[ProductRow, int]:
    """The serum product and vials per session of a clinic-administered course."""
    plan = to_domain(course.plan)
    if plan.administered is not Administered.CLINIC:
        raise Refused(
            _("course {course} ({plan}) is treated at home with kits").format(
                course=course.id, plan=plan.code
            )
        )
    serum = uow.session.scalars(
        select(ProductRow)
        .where(ProductRow.kind == ProductKind.SERUM_VIAL.value, ProductRow.active)
        .order_by(ProductRow.id)
    ).first()
    if serum is None or not serum.volume_ul:
        raise Refused(_("the catalogue has no serum vial to treat with"))
    vials = -(-plan.serum_ul_per_application // serum.volume_ul)
    return serum, vials


def session_supplies(uow: UnitOfWork, plan_id: int) -> list[tuple[ProductRow, int]]:
    """What each session of the plan uses besides its serum (``policy session-supplies``):
    (product, quantity), by SKU."""
    return [
        (product, quantity)
        for product, quantity in uow.session.execute(
            select(ProductRow, PlanSessionItemRow.quantity)
            .join(PlanSessionItemRow, PlanSessionItemRow.product_id == ProductRow.id)
            .where(PlanSessionItemRow.plan_id == plan_id)
            .order_by(ProductRow.sku)
        )
    ]


def _usable(
    uow: UnitOfWork, product_id: int, places: set[int], day: date
) -> list[tuple[LotRow, int, int]]:
    """(lot, place, quantity) of the product's released lots in date on ``day`` at the
    places, earliest expiry first (a lot without expiry, such as the single "-" lot of a
    product not tracked by lot, last)."""
    found: list[tuple[LotRow, int, int]] = []
    for place_id in sorted(places):
        for lot, qty in uow.ledger.on_hand(location_id=place_id, product_id=product_id):
            if is_usable(LotStatus(lot.status), lot.expiry, day):
                found.append((lot, place_id, qty))
    found.sort(key=lambda c: (c[0].expiry or date.max, c[0].code, c[1]))
    return found


def _take_supply(
    uow: UnitOfWork, product: ProductRow, quantity: int, places: set[int], day: date,
    clinic: str,
) -> list[tuple[LotRow, int, int]]:  # fmt: skip
    """FEFO shares (lot, place, quantity) of one session supply; refuses when the clinic
    holds too little of it released and in date that day."""
    shares = []
    need = quantity
    for lot, place_id, qty in _usable(uow, product.id, places, day):
        take = min(qty, need)
        shares.append((lot, place_id, take))
        need -= take
        if not need:
            return shares
    have = quantity - need
    raise Refused(
        _(
            "a session needs {quantity} × {sku}; {clinic} holds {have} "
            "released and in date on {day}"
        ).format(
            quantity=quantity, sku=product.sku, clinic=clinic, have=have, day=i18n.format_date(day)
        )
    )


def _locked_usable(uow: UnitOfWork, lot: LotRow, day: date) -> LotRow:
    """The lot again under the share lock a recall or quarantine must wait for: one that
    changed since it was picked sends the session round again."""
    lot = uow.lots.lock(lot, share=True)
    if not is_usable(LotStatus(lot.status), lot.expiry, day):
        raise TransientDatabaseError(
            _("lot {lot} became {status} while the session was recorded").format(
                lot=lot.code, status=status_label(lot.status)
            )
        )
    return lot


def _opened_vial(uow: UnitOfWork, course_id: int, session_no: int, day: date) -> LotRow | None:
    """The lot of the vial session ``session_no`` of the course opened, when its second
    half may serve a session on ``day``: opened within the days a vial's two halves may be
    apart, and its lot still released and in date, read under the share lock a recall
    must wait for. None: a fresh vial is opened (an opened vial's half whose lot was
    recalled, or that waited too long, is not used)."""
    row = uow.session.scalars(
        select(SessionRow).where(SessionRow.course_id == course_id,
                                 SessionRow.session_no == session_no)
    ).first()  # fmt: skip
    if row is None or row.quantity == 0 or not opened_vial_lasts(row.session_date, day):
        return None
    opened = uow.session.get(LotRow, row.lot_id)
    assert opened is not None
    lot = uow.lots.lock(opened, share=True)
    return lot if is_usable(LotStatus(lot.status), lot.expiry, day) else None


@retrying
def record_session(
    uow: UnitOfWork,
    course_id: int | str,
    *,
    on: str | date | None = None,
    today: date | None = None,
) -> courses_dto.SessionRecord:
    """Consume one clinic session's vials and its supplies (the plan's session supplies:
    a stamp, chlorhexidine...) at the course's clinic, FEFO among released lots in date
    that day, and record which lots served it (for the trace). A supply the clinic lacks
    refuses the whole session. A session is recorded when it happens: a day after the
    clinic's today (``today`` when given) is refused."""
    with uow:
        uow.require("session.record")
        course = uow.courses.get(course_id, lock=True)
        if course.status not in NEEDS_STOCK:
            raise Refused(_(
                "course {course} is {status}; a session is recorded only "
                "for a scheduled or active course"
            ).format(course=course.id, status=status_label(course.status)))  # fmt: skip
        serum, vials = _clinic_serum(uow, course)
        plan = to_domain(course.plan)
        done = (
            uow.session.scalar(
                select(func.count())
                .select_from(SessionRow)
                .where(SessionRow.course_id == course.id)
            )
            or 0
        )
        if done >= plan.applications:
            raise Refused(
                _("course {course} has had all {applications} sessions").format(
                    course=course.id, applications=plan.applications
                )
            )
        zone = course.clinic.timezone
        now = today or clinic_today(zone)
        day = on if isinstance(on, date) else parse_date(on, "date") if on else now
        if day > now:
            raise InvalidInput(
                "date", day.isoformat(),
                _(
                    "is in the future (today at {clinic} is {now}); record a "
                    "session when it happens"
                ).format(clinic=course.clinic.code, now=i18n.format_date(now)),
            )  # fmt: skip
        if day < course.start_date:
            raise InvalidInput("date", day.isoformat(),
                               _("course {course} starts on {start_date}").format(
                                   course=course.id,
                                   start_date=i18n.format_date(course.start_date),
                               ))  # fmt: skip
        locations = uow.locations.all()
        codes = {row.id: row.code for row in locations}
        clinic = course.clinic.code
        places = subtree_ids(course.clinic, locations)
        number = done + 1
        assert serum.volume_ul is not None
        _starts, finishes = session_vials(plan, serum.volume_ul, number)
        opened = _opened_vial(uow, course.id, finishes, day) if finishes else None
        if opened is not None:  # the second half of the vial its pair's session opened
            lot, place_id, vials = opened, None, 0
        else:
            candidates = _usable(uow, serum.id, places, day)
            pick = next((c for c in candidates if c[2] >= vials), None)
            if pick is None:
                raise Refused(
                    _("no released lot of {sku} in date on {day} at {clinic}").format(
                        sku=serum.sku, day=i18n.format_date(day), clinic=clinic
                    )
                )
            lot, place_id, _rest = pick
            lot = _locked_usable(uow, lot, day)
        supplies: list[tuple[ProductRow, LotRow, int, int]] = []
        for product, quantity in session_supplies(uow, course.plan_id):
            for share_lot, share_place, take in _take_supply(
                uow, product, quantity, places, day, clinic
            ):
                supplies.append((product, _locked_usable(uow, share_lot, day), share_place, take))
        audit_id = uow.record("session.record", "course", str(course.id),
                              after={"session": number, "date": day.isoformat(), "lot": lot.code,
                                     "vials": vials,
                                     "vial_opened_at_session": finishes if opened else None,
                                     "supplies": [{"sku": p.sku, "lot": s.code, "quantity": q}
                                                  for p, s, _, q in supplies]})  # fmt: skip
        patient = uow.locations.get("PATIENT")
        moves = []
        if place_id is not None:
            moves.append(PostedMove(Move(lot.id, place_id, patient.id, vials), serum.id))
        moves += [PostedMove(Move(s.id, at, patient.id, q), p.id) for p, s, at, q in supplies]
        if moves:
            uow.ledger.post(moves, reason=MoveReason.SESSION.value, actor=uow.actor,
                            reference=f"course:{course.id}", audit_id=audit_id)  # fmt: skip
        row = SessionRow(course_id=course.id, session_no=number, session_date=day,
                         lot_id=lot.id, quantity=vials, actor=uow.actor)  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        per_lot: dict[int, list[int]] = {}  # lot id → [product id, quantity]
        for product, supply_lot, _place, quantity in supplies:
            per_lot.setdefault(supply_lot.id, [product.id, 0])[1] += quantity
        for lot_id, (product_id, quantity) in per_lot.items():
            uow.session.add(SessionItemRow(session_id=row.id, lot_id=lot_id,
                                           product_id=product_id, quantity=quantity))  # fmt: skip
        status = status_after_session(course.id, course.status, number, plan.applications)
        if status != course.status:  # the first session starts it, the last completes it
            action = "course.complete" if status == CourseStatus.COMPLETED else "course.start"
            uow.record(action, "course", str(course.id), before={"status": course.status},
                       after={"status": status, "session": number})  # fmt: skip
            course.status = status
        uow.session.flush()
        result = courses_dto.SessionRecord(
            course.id, number, day, serum.sku, lot.code, vials,
            codes[place_id] if place_id is not None else clinic,
            supplies=tuple(
                courses_dto.SessionSupply(p.sku, s.code, q, codes[at]) for p, s, at, q in supplies
            ),
            vial_opened_at=finishes if opened else None,
        )  # fmt: skip
        uow.commit()
    return result


def check_sessions(uow: UnitOfWork, course: CourseRow, today: date) -> courses_dto.SessionCheck:
    """Whether the clinic holds enough in-date vials and session supplies for the sessions
    still to come: each remaining session, earliest first, takes of each the
    earliest-expiring units still in date on its day plus ``expiry_margin_days`` (as the
    demand report plans it)."""

    serum, _ = _clinic_serum(uow, course)
    margin = timedelta(days=uow.settings.expiry_margin_days())
    _, calendar = calendar_of(course)
    done = (
        uow.session.scalar(
            select(func.count()).select_from(SessionRow).where(SessionRow.course_id == course.id)
        )
        or 0
    )
    booked = uow.clinic_calendar.booked_session_days(CourseRow.id == course.id).get(course.id, {})
    # each remaining session on the day it is booked (moved off a closed or full day)
    dates = [booked.get(n, day) for n, day in enumerate(calendar.application_dates, start=1)]
    dates = dates[done:]
    plan = to_domain(course.plan)
    assert serum.volume_ul is not None
    # the vials each remaining session opens (a second half of a vial opens none)
    opens = [session_vials(plan, serum.volume_ul, n)[0]
             for n in range(done + 1, done + 1 + len(dates))]  # fmt: skip
    places = subtree_ids(course.clinic, uow.locations.all())
    short: set[date] = set()
    short_skus: list[str] = []
    needs = [
        (serum, opens),
        *((p, [q] * len(dates)) for p, q in session_supplies(uow, course.plan_id)),
    ]
    for product, per_session in needs:
        expiries: list[date] = []
        left: list[int] = []
        for place_id in places:
            for lot, qty in uow.ledger.on_hand(location_id=place_id, product_id=product.id):
                if lot.status == LotStatus.RELEASED.value:
                    expiries.append(lot.expiry or date.max)
                    left.append(qty)
        order = sorted(range(len(expiries)), key=expiries.__getitem__)
        product_short = False
        for day, need in zip(dates, per_session, strict=True):
            for i in order:
                if need and left[i] and expiries[i] >= max(day, today) + margin:
                    take = min(left[i], need)
                    left[i] -= take
                    need -= take
            if need:
                short.add(day)
                product_short = True
        if product_short:
            short_skus.append(product.sku)
    return courses_dto.SessionCheck(
        course_id=course.id, clinic=course.clinic.code, sessions_left=len(dates),
        covered=len(dates) - len(short), enough=not short,
        shortfall_dates=tuple(sorted(short)), short_skus=tuple(short_skus),
    )  # fmt: skip
