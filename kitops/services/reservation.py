"""Reserving one course's kit(s) in as few SQL statements as possible: the path a busy
clinic takes many times a minute from several terminals.

:func:`reserve_course_kits` does what ``fulfilment.fulfil_course`` would do for the
common case: a scheduled home course holding no kit yet, where no mixed-lot kit could be
the better answer. It takes the earliest-expiring kit at the course's clinic whose every
vial lasts until its last day of use plus the expiry margin, locking the course and
writing the audit row, all or nothing.

* On PostgreSQL, for a one-kit course whose need dates are stored
  (``course_kit_needs``, written when the course is created), one self-contained
  statement does it all outside a transaction block: it checks and locks the course,
  takes the kit with ``FOR UPDATE SKIP LOCKED``, share-locks and re-checks the kit's
  component lots (``FOR SHARE SKIP LOCKED``: never waiting, so never crosswise with a
  recall) and inserts the audit row.
* Otherwise one ``SELECT`` locks the course and reads what its needs depend on (plan,
  clinic time zone, the kit recipe's vials, the margin); the needs come from the course
  calendar (memoised, and stored for next time); one ``UPDATE … RETURNING`` per kit
  takes it and one ``INSERT`` writes the audit row, in the caller's transaction; before
  any kit is taken, the component lots of the kits that might serve are share-locked and
  re-checked (:func:`lock_kit_lots`), and only kits whose every lot is released are taken.

A kit one of whose component lots is quarantined, recalled or expired is never reserved,
even when that change is being made at the same moment.

It answers ``None`` as soon as the common case does not apply, having reserved nothing:
the caller then goes on with the general path, which explains refusals, checks mixed-lot
kits vial by vial and waits for rows other terminals hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Update,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import aliased

from kitops.data.schema import (
    AuditRow,
    CourseKitNeedRow,
    CourseRow,
    KitComponentRow,
    KitRow,
    LocationRow,
    LotRow,
    PlanRow,
    ProductRow,
    RecipeLineRow,
    SettingRow,
    utcnow,
)
from kitops.domain.catalog import ProductKind, parse_non_negative_int
from kitops.domain.courses import (
    DEFAULT_EXPIRY_MARGIN_DAYS,
    Administered,
    CourseStatus,
    KitNeed,
    Plan,
    course_calendar,
    kit_needs,
    parse_weekdays,
)
from kitops.domain.ledger import LotStatus
from kitops.domain.roles import Role, allows
from kitops.services import dto
from kitops.services.plans import plan_of
from kitops.services.unit_of_work import UnitOfWork

_kit_product = aliased(ProductRow)
_clinic = aliased(LocationRow)
_vial = aliased(ProductRow)


def _first_serum_line(column: Any) -> Any:
    """A column of the kit recipe's first serum-vial line (as ``serum_per_kit`` reads it)."""
    return (
        select(column)
        .select_from(RecipeLineRow)
        .join(_vial, _vial.id == RecipeLineRow.component_product_id)
        .where(
            RecipeLineRow.kit_product_id == PlanRow.kit_product_id,
            _vial.kind == ProductKind.SERUM_VIAL.value,
            _vial.volume_ul.is_not(None),
        )
        .order_by(RecipeLineRow.position)
        .limit(1)
        .correlate(PlanRow)
        .scalar_subquery()
    )


_held = aliased(KitRow)

_COURSE = (
    select(
        CourseRow.status,
        CourseRow.patient_ref,
        CourseRow.start_date,
        CourseRow.weekdays,
        CourseRow.clinic_id,
        _clinic.code,
        _clinic.timezone,
        PlanRow.code,
        PlanRow.name,
        PlanRow.applications_per_week,
        PlanRow.weeks,
        PlanRow.serum_ul_per_application,
        PlanRow.administered,
        PlanRow.kit_product_id,
        _kit_product.sku,
        PlanRow.kits_per_course,
        PlanRow.default_weekdays,
        PlanRow.checkin_weeks,
        PlanRow.followup_months,
        _first_serum_line(RecipeLineRow.quantity),
        _first_serum_line(_vial.volume_ul),
        select(SettingRow.value).where(SettingRow.key == "expiry_margin_days").scalar_subquery(),
        exists().where(_held.course_id == CourseRow.id),
        exists().where(CourseKitNeedRow.course_id == CourseRow.id),
    )
    .join(PlanRow, PlanRow.id == CourseRow.plan_id)
    .join(_clinic, _clinic.id == CourseRow.clinic_id)
    .outerjoin(_kit_product, _kit_product.id == PlanRow.kit_product_id)
    .where(CourseRow.id == bindparam("course_id"))
    .with_for_update(key_share=True, of=CourseRow)
)


_part = aliased(KitComponentRow)
_part_lot = aliased(LotRow)


def parts_released(kit: Any) -> ColumnElement[bool]:
    """The kit's every component lot is released, as the statement's snapshot sees it (a
    quarantined, recalled or expired lot keeps its kits from being reserved; a recall
    also flags them). Cheap, and what a read-only preview uses; a reservation also locks
    the lots and re-checks them (:func:`lock_kit_lots`)."""
    return ~exists().where(
        _part.kit_id == kit.id,
        _part_lot.id == _part.lot_id,
        _part_lot.status != LotStatus.RELEASED.value,
    )


def parts_within(kit: Any, usable: list[int] | None = None) -> ColumnElement[bool]:
    """The kit's every component lot is among the ``usable`` lots (the ids
    :func:`lock_kit_lots` answered; without them, an expanding bind parameter
    ``usable``)."""
    among: Any = usable if usable is not None else bindparam("usable", expanding=True)
    return ~exists().where(_part.kit_id == kit.id, _part.lot_id.not_in(among))


def lock_kit_lots(connection: Connection, *kits: ColumnElement[bool]) -> list[int]:
    """Share-lock the component lots of the kits matching ``kits`` (PostgreSQL ``FOR
    SHARE``, in id order, as ``Lots.share_lock_all``) and answer the ids of those that are
    released: a release, quarantine or recall of any of them waits until this transaction
    ends, or has committed and is seen here. Taken before any kit row is locked, so that a
    recall (lot row, then its kits) and a reservation never take the two crosswise; a
    reservation then takes only kits whose every component lot is among the answer
    (:func:`parts_within`), lots a kit assembled meanwhile may hold included."""
    holding = (
        select(KitComponentRow.lot_id)
        .join(KitRow, KitRow.id == KitComponentRow.kit_id)
        .where(*kits)
    )
    rows = connection.execute(
        select(LotRow.id, LotRow.status)
        .where(LotRow.id.in_(holding))
        .order_by(LotRow.id)
        .with_for_update(read=True)
    )
    return [lot_id for lot_id, status in rows if status == LotStatus.RELEASED.value]


def _reserve_statement() -> Update:
    """Take the earliest kit at the clinic whose earliest vial lasts to ``last`` and whose
    every component lot is among the ``usable`` ones (locked by :func:`lock_kit_lots`),
    unless a kit whose earliest vial ends in [``first``, ``last``) exists (it might fit
    vial by vial and would be the earlier-expiring answer)."""
    places = (
        select(LocationRow.id.label("id"))
        .where(LocationRow.id == bindparam("p_clinic"))
        .cte("places", recursive=True)
    )
    child = aliased(LocationRow)
    places = places.union_all(select(child.id).where(child.parent_id == places.c.id))
    in_clinic = select(places.c.id).scalar_subquery()
    free = and_(
        KitRow.status == "available",
        KitRow.product_id == bindparam("p_product"),
        ~KitRow.recalled,
    )
    other = aliased(KitRow)
    sooner = exists().where(
        other.status == "available",
        other.product_id == bindparam("p_product"),
        ~other.recalled,
        other.location_id.in_(in_clinic),
        other.expiry >= bindparam("first", type_=KitRow.expiry.type),
        other.expiry < bindparam("last", type_=KitRow.expiry.type),
        parts_released(other),
    )
    pick = (
        select(KitRow.id)
        .where(free, KitRow.location_id.in_(in_clinic), KitRow.expiry >= bindparam("last"))
        .where(parts_within(KitRow))
        .where(~sooner)
        .order_by(KitRow.expiry, KitRow.id)
        .limit(1)
        .with_for_update(skip_locked=True, key_share=True)
        .scalar_subquery()
    )
    return (
        update(KitRow)
        .where(KitRow.id == pick, KitRow.status == "available", ~KitRow.recalled)
        .values(
            status="reserved",
            course_id=bindparam("p_course", type_=Integer),
            course_part=bindparam("p_part", type_=Integer),
        )
        .returning(KitRow.serial, KitRow.expiry)
    )


_RESERVE = _reserve_statement()

# PostgreSQL, a one-kit course with stored needs: the course's check and lock, the same
# choice of kit as _RESERVE, the reservation and the audit row, in one atomic statement.
# The kit's component lots are share-locked (FOR SHARE, as lock_kit_lots) and re-checked
# in it: a lot whose release, quarantine or recall is under way at that moment (locked,
# so skipped) or has committed since the statement began (its newest row version is
# re-checked) leaves the kit untaken, the statement answers nothing and the general path
# decides, waiting for that change. The statement never waits on a lot, so taking the kit
# row first cannot deadlock with a recall (lot row, then its kits).
_RESERVE_AND_AUDIT = """
WITH RECURSIVE this_course AS (
    SELECT c.id, c.patient_ref, c.clinic_id, p.kit_product_id
    FROM courses AS c JOIN plans AS p ON p.id = c.plan_id
    WHERE c.id = %(p_course)s AND c.status = 'scheduled'
      AND EXISTS (SELECT 1 FROM users AS acting WHERE acting.name = %(actor)s
                  AND acting.active AND acting.role = ANY(%(roles)s))
      AND p.administered = 'home' AND p.kit_product_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM kits AS held WHERE held.course_id = c.id)
    FOR NO KEY UPDATE OF c
),
this_need AS (
    SELECT n.part, n.first_use,
           n.earliest_vial_last_use + margin.days AS first_until,
           n.last_use + margin.days AS last_until
    FROM course_kit_needs AS n,
         (SELECT COALESCE((SELECT CAST(value AS integer) FROM settings
                           WHERE key = 'expiry_margin_days'), %(default_margin)s) AS days) AS margin
    WHERE n.course_id = %(p_course)s
      AND NOT EXISTS (SELECT 1 FROM course_kit_needs AS other
                      WHERE other.course_id = %(p_course)s AND other.part <> n.part)
),
places(id) AS (
    SELECT clinic_id FROM this_course
    UNION ALL
    SELECT child.id FROM locations AS child JOIN places ON child.parent_id = places.id
),
pick AS (
    SELECT kit.id FROM kits AS kit
    WHERE kit.status = 'available' AND kit.product_id = (SELECT kit_product_id FROM this_course)
      AND NOT kit.recalled AND kit.location_id IN (SELECT id FROM places)
      AND kit.expiry >= (SELECT last_until FROM this_need)
      AND NOT EXISTS (
          SELECT 1 FROM kit_components AS part JOIN lots AS lot ON lot.id = part.lot_id
          WHERE part.kit_id = kit.id AND lot.status <> 'released'
      )
      AND NOT EXISTS (
          SELECT 1 FROM kits AS sooner
          WHERE sooner.status = 'available'
            AND sooner.product_id = (SELECT kit_product_id FROM this_course)
            AND NOT sooner.recalled AND sooner.location_id IN (SELECT id FROM places)
            AND sooner.expiry >= (SELECT first_until FROM this_need)
            AND sooner.expiry < (SELECT last_until FROM this_need)
            AND NOT EXISTS (
                SELECT 1 FROM kit_components AS part JOIN lots AS lot ON lot.id = part.lot_id
                WHERE part.kit_id = sooner.id AND lot.status <> 'released'
            )
      )
    ORDER BY kit.expiry, kit.id
    LIMIT 1
    FOR NO KEY UPDATE OF kit SKIP LOCKED
),
parts AS (
    SELECT part.lot_id FROM kit_components AS part WHERE part.kit_id = (SELECT id FROM pick)
),
usable AS MATERIALIZED (
    SELECT lot.id FROM lots AS lot
    WHERE lot.id IN (SELECT lot_id FROM parts) AND lot.status = 'released'
    ORDER BY lot.id
    FOR SHARE OF lot SKIP LOCKED
),
taken AS (
    UPDATE kits SET status = 'reserved', course_id = %(p_course)s,
                    course_part = (SELECT part FROM this_need)
    FROM pick
    WHERE kits.id = pick.id AND kits.status = 'available' AND NOT kits.recalled
      AND (SELECT count(*) FROM usable) = (SELECT count(*) FROM parts)
    RETURNING kits.serial, kits.expiry, kits.course_part AS part
),
logged AS (
    INSERT INTO audit_log (at, actor, action, entity, entity_key, after)
    SELECT %(at)s, %(actor)s, 'course.fulfil', 'course', CAST(%(p_course)s AS text),
           json_build_object('kits', json_build_object(CAST(taken.part AS text), taken.serial))
    FROM taken
)
SELECT taken.serial, taken.expiry, taken.part, this_need.first_use, this_need.last_until,
       this_course.patient_ref, clinic.code
FROM taken, this_need, this_course, locations AS clinic
WHERE clinic.id = this_course.clinic_id
"""
# the acting user must be active in a role that may fulfil (kitops.domain.roles); anyone
# else gets nothing from the statement and the general path refuses them properly
_FULFILLERS = sorted(role.value for role in Role if allows(role, "course.fulfil"))
_STORE_NEEDS = insert(CourseKitNeedRow.__table__)  # type: ignore[arg-type]
_AUDIT = insert(AuditRow.__table__).values(  # type: ignore[arg-type]
    at=bindparam("at"),
    actor=bindparam("actor"),
    action=literal("course.fulfil"),
    entity=literal("course"),
    entity_key=bindparam("key"),
    after=bindparam("after", type_=AuditRow.__table__.c.after.type),
)


@lru_cache(maxsize=8192)
def course_kit_needs(
    plan: Plan, start: date, weekdays: str, zone: str, vial_ul: int, vials: int, margin: int
) -> tuple[KitNeed, ...]:
    """The kit needs of a course, memoised: many courses share plan, start day and clinic."""
    calendar = course_calendar(plan, start, parse_weekdays(weekdays), zone)
    return tuple(kit_needs(plan, calendar, vial_ul, vials, margin))


@dataclass(frozen=True)
class _Facts:
    """What a course's reservation depends on, read in one statement."""

    course_id: int
    patient: str
    clinic_id: int
    clinic_code: str
    kit_product_id: int
    needs: tuple[KitNeed, ...]  # margin included

    def line(self, need: KitNeed, serial: str, expiry: date) -> dto.FulfilLine:
        return dto.FulfilLine(
            course_id=self.course_id, patient_ref=self.patient, clinic=self.clinic_code,
            part=need.part, first_use=need.first_use, needed_until=need.last_needed,
            kit=serial, kit_expiry=expiry, reason=None,
        )  # fmt: skip


def with_margin(needs: tuple[KitNeed, ...], margin: int) -> tuple[KitNeed, ...]:
    days = timedelta(days=margin)
    return tuple(
        KitNeed(need.part, need.first_use, tuple(day + days for day in need.vial_needed_until))
        for need in needs
    )


def store_kit_needs(connection: Connection, course_id: int, needs: tuple[KitNeed, ...]) -> None:
    """Store a course's need dates (``needs`` computed with no margin)."""
    if needs:
        connection.execute(
            _STORE_NEEDS,
            [
                {
                    "course_id": course_id,
                    "part": need.part,
                    "first_use": need.first_use,
                    "earliest_vial_last_use": min(need.vial_needed_until),
                    "last_use": need.last_needed,
                }
                for need in needs
            ],
        )


def forget_kit_needs(connection: Connection, kit_product_id: int) -> None:
    """A kit recipe changed: the stored needs of courses using it may no longer hold (the
    general path computes and stores them again on the next fulfil)."""
    connection.execute(
        delete(CourseKitNeedRow).where(
            CourseKitNeedRow.course_id.in_(
                select(CourseRow.id)
                .join(PlanRow, PlanRow.id == CourseRow.plan_id)
                .where(PlanRow.kit_product_id == kit_product_id)
            )
        )
    )


def _facts(connection: Connection, course_id: int) -> _Facts | None:
    """Lock the course and read its facts when it is a scheduled home course holding no
    kit yet; its need dates are stored on the way when they are not yet."""
    row = connection.execute(_COURSE, {"course_id": course_id}).first()
    if row is None:
        return None
    (status, patient, start, weekdays, clinic_id, clinic_code, zone, *plan_columns,
     vials, vial_ul, margin_text, held, stored) = row  # fmt: skip
    plan = plan_of(*plan_columns[:6], *plan_columns[7:])
    kit_product_id = plan_columns[6]
    if (
        status != CourseStatus.SCHEDULED.value
        or held
        or plan.administered is not Administered.HOME
        or kit_product_id is None
        or not vials
        or not vial_ul
        or zone is None
    ):
        return None
    margin = (
        DEFAULT_EXPIRY_MARGIN_DAYS
        if margin_text is None
        else parse_non_negative_int(margin_text, "expiry_margin_days")
    )
    use = course_kit_needs(plan, start, weekdays, zone, vial_ul, vials, 0)
    if not use:
        return None
    if not stored:
        store_kit_needs(connection, course_id, use)
    return _Facts(
        course_id, patient, clinic_id, clinic_code, kit_product_id, with_margin(use, margin)
    )


def reserve_atomically(uow: UnitOfWork, course_id: int) -> dto.FulfilReport | None:
    """PostgreSQL, outside any enclosing transaction: reserve the kit of a one-kit course
    whose need dates are stored in one statement, or answer ``None`` having done nothing."""
    if uow.in_use or uow.db.engine.dialect.name != "postgresql":
        return None
    row = uow.run_atomic(
        _RESERVE_AND_AUDIT,
        {
            "p_course": course_id,
            "at": utcnow(),
            "actor": uow.actor,
            "roles": _FULFILLERS,
            "default_margin": DEFAULT_EXPIRY_MARGIN_DAYS,
        },
    )
    if row is None:
        return None
    serial, expiry, part, first_use, until, patient, clinic = row
    line = dto.FulfilLine(
        course_id=course_id, patient_ref=patient, clinic=clinic, part=part,
        first_use=first_use, needed_until=until, kit=serial, kit_expiry=expiry, reason=None,
    )  # fmt: skip
    return dto.FulfilReport(served=(line,), unserved=())


def reserve_course_kits(uow: UnitOfWork, course_id: int) -> dto.FulfilReport | None:
    """Reserve every kit of a scheduled home course that holds none yet, or answer
    ``None`` (having reserved nothing) when the general path must decide."""
    connection = uow.session.connection()
    facts = _facts(connection, course_id)
    if facts is None:
        return None
    usable = lock_kit_lots(
        connection,
        KitRow.status == "available",
        KitRow.product_id == facts.kit_product_id,
        ~KitRow.recalled,
        KitRow.expiry >= min(need.vial_needed_until[0] for need in facts.needs),
    )
    served: list[dto.FulfilLine] = []
    for need in facts.needs:
        taken = connection.execute(
            _RESERVE,
            {
                "p_clinic": facts.clinic_id,
                "p_product": facts.kit_product_id,
                "first": need.vial_needed_until[0],
                "last": need.last_needed,
                "p_course": facts.course_id,
                "p_part": need.part,
                "usable": usable,
            },
        ).first()
        if taken is None:
            if served:  # the general path must not see half a course: undo ours
                connection.execute(
                    update(KitRow)
                    .where(KitRow.course_id == course_id, KitRow.status == "reserved")
                    .values(status="available", course_id=None, course_part=None)
                )
            return None
        served.append(facts.line(need, *taken))
    connection.execute(
        _AUDIT,
        {
            "at": utcnow(),
            "actor": uow.actor,
            "key": str(course_id),
            "after": {"kits": {line.part: line.kit for line in served}},
        },
    )
    return dto.FulfilReport(served=tuple(served), unserved=())
