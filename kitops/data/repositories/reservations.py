"""Kit reservation SQL: the statements that take a kit for a course, and the repository
(:class:`KitReservations`) the fulfilment service calls them through.

The rules stay with their owners: whether a course may be served and what it needs
(``kitops.domain.courses``: its calendar, ``kit_needs``, ``fits``), who may fulfil
(``kitops.domain.roles``, checked by the service), the audit row's content (the service,
through ``uow.record``). This module only finds, locks and takes rows.

* In the caller's transaction, on every database: :meth:`KitReservations.course_facts`
  locks the course and reads what its needs depend on in one ``SELECT``;
  :meth:`KitReservations.lock_lots_of_free` share-locks and re-checks the component lots
  of the kits that might serve, before any kit row is locked; :meth:`KitReservations.take_lasting`
  takes the earliest kit at the clinic whose every vial lasts, unless a mixed-lot kit might
  be the earlier-expiring answer; :meth:`KitReservations.take_kit` and
  :meth:`KitReservations.take_earliest` are the general path's steps.
* :func:`reserve_alone` is the PostgreSQL form of a whole one-kit reservation: one
  self-contained statement, outside any transaction block, for a one-kit course whose need
  dates are stored (``course_kit_needs``, written when the course is created). It checks
  and locks the course, takes the kit with ``FOR UPDATE SKIP LOCKED``, share-locks and
  re-checks the kit's component lots (``FOR SHARE SKIP LOCKED``: never waiting, so never
  crosswise with a recall) and inserts the audit row. It is kept as one statement because
  it is what keeps single-course throughput on PostgreSQL (one round trip, no
  ``BEGIN``/``COMMIT``; ``benchmarks/fulfil_throughput.py``): the service's steps in a
  transaction take a round trip each (begin, the role check, the course, the lots, the
  kit, the audit row, commit). It restates no more than it must to stay one statement:
  the roles that may fulfil are given to it by the service (from ``kitops.domain.roles``)
  and it only looks the acting user up among them; the need dates are the ones the domain
  computed and stored (it adds the expiry margin setting to them, and "fits" is then the
  kit's expiry against the last day, with the same mixed-lot exception as
  :func:`_reserve_statement`); the conditions of the common case (a scheduled home course
  holding no kit, one kit need) are those ``reservation.common_case`` checks; and the
  audit row is the one ``uow.record`` writes for the same change (the action is given,
  the kits by part). Other databases have no such statement: it answers ``None`` there, and the
  service goes on in a transaction, which is also what it does whenever the statement
  answers nothing.

A kit one of whose component lots is quarantined, recalled or expired is never reserved,
even when that change is being made at the same moment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Table,
    Update,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import aliased

from kitops.data.schema import (
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
)
from kitops.domain.catalog import ProductKind
from kitops.domain.course_lifecycle import NEEDS_STOCK
from kitops.domain.courses import Administered, KitNeed
from kitops.domain.kits import KitStatus
from kitops.domain.ledger import LotStatus

_AVAILABLE = KitStatus.AVAILABLE.value
_RESERVED = KitStatus.RESERVED.value

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
        CourseRow.reschedules,
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
        KitRow.status == _AVAILABLE,
        KitRow.product_id == bindparam("p_product"),
        ~KitRow.recalled,
    )
    other = aliased(KitRow)
    sooner = exists().where(
        other.status == _AVAILABLE,
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
        .where(KitRow.id == pick, KitRow.status == _AVAILABLE, ~KitRow.recalled)
        .values(
            status=_RESERVED,
            course_id=bindparam("p_course", type_=Integer),
            course_part=bindparam("p_part", type_=Integer),
        )
        .returning(KitRow.serial, KitRow.expiry)
    )


_RESERVE = _reserve_statement()

# PostgreSQL, a one-kit course with stored needs: the course's check and lock, the same
# choice of kit as _RESERVE, the reservation and the audit row, in one atomic statement.
# The choice is one index scan: the earliest free kit at the clinic whose earliest vial
# lasts to the need's first vial day is taken only when its kit expiry also lasts to the
# last day; otherwise it is a kit that might fit vial by vial and would be the
# earlier-expiring answer (_RESERVE's "sooner" kit), and the statement answers nothing
# for the service's transaction to decide. Like the kit itself, such a kit another
# terminal holds at that moment is passed over (SKIP LOCKED).
# The kit's component lots are share-locked (FOR SHARE, as lock_kit_lots) and re-checked
# in it: a lot whose release, quarantine or recall is under way at that moment (locked,
# so skipped) or has committed since the statement began (its newest row version is
# re-checked) leaves the kit untaken, the statement answers nothing and the service's
# transaction decides, waiting for that change. The statement never waits on a lot, so
# taking the kit row first cannot deadlock with a recall (lot row, then its kits).
# The pick's component check is written to run per candidate kit, after the clinic filter
# (the clinic's places as one array, OFFSET 0 keeping the NOT EXISTS a per-row subplan):
# left to itself the planner turns it into an anti-join against every non-released lot,
# found by reading the whole lots table on each reservation (a third of the statement's
# server time on the benchmark's 4,233 lots, and growing with the lots table).
# The acting user must be active in one of the roles (the service's role check, written
# into the statement so that it costs no round trip of its own), and a user limited to
# some clinics (user_clinics) must hold the course's; anyone else gets nothing and the
# service's checked path refuses them properly (another clinic's course is not found).
_NEEDS_STOCK = ", ".join(f"'{status}'" for status in NEEDS_STOCK)
_RESERVE_AND_AUDIT = f"""
WITH RECURSIVE this_course AS (
    SELECT c.id, c.patient_ref, c.clinic_id, clinic.code AS clinic_code, p.kit_product_id
    FROM courses AS c JOIN plans AS p ON p.id = c.plan_id
         JOIN locations AS clinic ON clinic.id = c.clinic_id
    WHERE c.id = %(p_course)s AND c.status IN ({_NEEDS_STOCK})
      AND EXISTS (SELECT 1 FROM users AS acting WHERE acting.name = %(actor)s
                  AND acting.active AND acting.role IN (:roles)
                  AND (SELECT bool_or(scope.location_id = c.clinic_id) FROM user_clinics AS scope
                       WHERE scope.user_id = acting.id) IS NOT FALSE)
      AND p.administered = '{Administered.HOME.value}' AND p.kit_product_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM kits AS held WHERE held.course_id = c.id)
    FOR NO KEY UPDATE OF c
),
this_need AS (
    SELECT n.part, n.first_use,
           n.earliest_vial_last_use + margin.days AS first_until,
           n.last_use + margin.days AS last_until
    FROM course_kit_needs AS n,
         (SELECT COALESCE(max(CAST(value AS integer)), :default_margin) AS days FROM settings
          WHERE key = 'expiry_margin_days') AS margin
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
    SELECT kit.id, kit.expiry FROM kits AS kit
    WHERE kit.status = '{_AVAILABLE}' AND kit.product_id = (SELECT kit_product_id FROM this_course)
      AND NOT kit.recalled AND kit.location_id = ANY (ARRAY(SELECT id FROM places))
      AND kit.expiry >= (SELECT first_until FROM this_need)
      AND NOT EXISTS (
          SELECT 1 FROM kit_components AS part JOIN lots AS lot ON lot.id = part.lot_id
          WHERE part.kit_id = kit.id AND lot.status <> '{LotStatus.RELEASED.value}'
          OFFSET 0
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
    WHERE lot.id IN (SELECT lot_id FROM parts) AND lot.status = '{LotStatus.RELEASED.value}'
    ORDER BY lot.id
    FOR SHARE OF lot SKIP LOCKED
),
taken AS (
    UPDATE kits SET status = '{_RESERVED}', course_id = %(p_course)s,
                    course_part = (SELECT part FROM this_need)
    FROM pick
    WHERE kits.id = pick.id AND pick.expiry >= (SELECT last_until FROM this_need)
      AND kits.status = '{_AVAILABLE}' AND NOT kits.recalled
      AND (SELECT count(*) FROM usable) = (SELECT count(*) FROM parts)
    RETURNING kits.serial, kits.expiry, kits.course_part AS part
),
logged AS (
    INSERT INTO audit_log (at, actor, action, entity, entity_key, after)
    SELECT %(at)s, %(actor)s, :action, 'course', CAST(%(p_course)s AS text),
           json_build_object('kits', json_build_object(CAST(taken.part AS text), taken.serial))
    FROM taken
)
SELECT taken.serial, taken.expiry, taken.part, this_need.first_use, this_need.last_until,
       this_course.patient_ref, this_course.clinic_code
FROM taken, this_need, this_course
"""
_STORE_NEEDS = insert(CourseKitNeedRow.__table__)  # type: ignore[arg-type]


def reserve_alone(
    engine: Engine,
    run: Callable[[str, dict[str, Any]], tuple[Any, ...] | None],
    course_id: int,
    *,
    actor: str,
    roles: Sequence[str],
    action: str,
    default_margin: int,
    at: datetime,
) -> tuple[Any, ...] | None:
    """Reserve the kit of a one-kit course whose need dates are stored, and write its audit
    row (``action``, by ``actor``), in one statement ``run`` executes outside any
    transaction (``UnitOfWork.run_atomic``), where the database has such a statement
    (PostgreSQL). Answers the row (serial, expiry, part, first use, needed until, patient,
    clinic code), or ``None`` having done nothing: another database, a user not in
    ``roles``, a course the statement does not serve, or a kit it could not take."""
    if engine.dialect.name != "postgresql":
        return None
    return run(
        _reserve_and_audit(tuple(roles), action, default_margin),
        {"p_course": course_id, "at": at, "actor": actor},
    )


_WORD = re.compile(r"[a-z][a-z_.]*")


@lru_cache(maxsize=8)
def _reserve_and_audit(roles: tuple[str, ...], action: str, default_margin: int) -> str:
    """The statement with the service's constants (the roles that may fulfil, the audit
    action, the default margin) written into it: one stable text per process, which the
    driver prepares, and fewer parameters to send each time."""
    if not roles:
        raise ValueError("no role may fulfil")
    for word in (*roles, action):
        if not _WORD.fullmatch(word):
            raise ValueError(f"not a role or action name: {word!r}")
    return (
        _RESERVE_AND_AUDIT.replace(":roles", ", ".join(f"'{role}'" for role in roles))
        .replace(":action", f"'{action}'")
        .replace(":default_margin", str(int(default_margin)))
    )


def store_kit_needs(connection: Connection, course_id: int, needs: Sequence[KitNeed]) -> None:
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
                    "vial_last_uses": ",".join(day.isoformat() for day in need.vial_needed_until),
                }
                for need in needs
            ],
        )


def forget_kit_needs(connection: Connection, kit_product_id: int) -> None:
    """A kit recipe changed: the stored needs of courses using it may no longer hold (the
    fulfilment service computes and stores them again on the next fulfil)."""
    connection.execute(
        delete(CourseKitNeedRow).where(
            CourseKitNeedRow.course_id.in_(
                select(CourseRow.id)
                .join(PlanRow, PlanRow.id == CourseRow.plan_id)
                .where(PlanRow.kit_product_id == kit_product_id)
            )
        )
    )


class KitReservations:
    """Finding, locking and taking kits for courses, in the caller's transaction (the
    connection of its session)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def course_facts(self, course_id: int) -> Any:
        """Lock the course and read, in one row: status, patient, start, weekdays, clinic
        id, clinic code, clinic time zone, the plan's columns (as ``plan_of`` takes them,
        the kit product id after ``administered``), the first serum line's vials per kit
        and µl per vial, the expiry margin setting's text, whether the course holds a kit
        whether its need dates are stored, and its reschedules."""
        return self.connection.execute(_COURSE, {"course_id": course_id}).first()

    def store_needs(self, course_id: int, needs: Sequence[KitNeed]) -> None:
        store_kit_needs(self.connection, course_id, needs)

    def lock_lots_of_free(
        self, product_id: int, expiring_from: date, places: list[int] | None = None
    ) -> list[int]:
        """:func:`lock_kit_lots` for the free kits of ``product_id`` (at ``places``, or
        anywhere) whose earliest vial lasts to ``expiring_from``."""
        where = [KitRow.status == _AVAILABLE, KitRow.product_id == product_id]
        if places is not None:
            where.append(KitRow.location_id.in_(places))
        where += [~KitRow.recalled, KitRow.expiry >= expiring_from]
        return lock_kit_lots(self.connection, *where)

    def take_lasting(
        self, clinic_id: int, product_id: int, need: KitNeed, course_id: int, usable: list[int]
    ) -> tuple[str, date] | None:
        """The earliest kit at the clinic whose every vial lasts to the need's last day,
        unless a kit that might fit vial by vial expires sooner (see
        :func:`_reserve_statement`), taken for the course part: its serial and expiry."""
        taken = self.connection.execute(
            _RESERVE,
            {
                "p_clinic": clinic_id,
                "p_product": product_id,
                "first": need.vial_needed_until[0],
                "last": need.last_needed,
                "p_course": course_id,
                "p_part": need.part,
                "usable": usable,
            },
        ).first()
        return (taken[0], taken[1]) if taken is not None else None

    @staticmethod
    def _free(product_id: int, places: list[int], usable: list[int]) -> tuple[Any, ...]:
        return (
            KitRow.status == _AVAILABLE,
            KitRow.product_id == product_id,
            KitRow.location_id.in_(places),
            ~KitRow.recalled,
            parts_within(KitRow, usable),
        )

    def mixed_candidates(
        self, product_id: int, places: list[int], usable: list[int], need: KitNeed
    ) -> list[tuple[int, str]]:
        """(id, vial expiries) of the free kits whose earliest vial lasts to the need's
        first day but whose kit expiry falls before its last: they may still fit vial by
        vial. Earliest first."""
        rows = self.connection.execute(
            select(KitRow.id, KitRow.vial_expiries)
            .where(
                *self._free(product_id, places, usable),
                KitRow.expiry >= need.vial_needed_until[0],
                KitRow.expiry < need.last_needed,
            )
            .order_by(KitRow.expiry, KitRow.id)
        )
        return [(kit_id, vials) for kit_id, vials in rows]

    def take_kit(self, kit_id: int, course_id: int, part: int) -> tuple[str, date] | None:
        """Take this kit for a course part if it is still available."""
        return self._take(KitRow.id == kit_id, course_id, part)

    def take_earliest(
        self,
        product_id: int,
        places: list[int],
        usable: list[int],
        last: date,
        course_id: int,
        part: int,
        *,
        skip_locked: bool,
    ) -> tuple[str, date] | None:
        """Take the earliest free kit whose kit expiry lasts to ``last``, skipping rows
        another transaction holds or waiting for them."""
        pick = (
            select(KitRow.id)
            .where(*self._free(product_id, places, usable), KitRow.expiry >= last)
            .order_by(KitRow.expiry, KitRow.id)
            .limit(1)
            .with_for_update(skip_locked=skip_locked, key_share=True)
            .scalar_subquery()
        )
        return self._take(KitRow.id == pick, course_id, part)

    def any_lasting(
        self, product_id: int, places: list[int], usable: list[int], last: date
    ) -> bool:
        """Whether any free kit's kit expiry lasts to ``last``."""
        lasting = select(KitRow.id).where(
            *self._free(product_id, places, usable), KitRow.expiry >= last
        )
        lasting = lasting.order_by(KitRow.expiry, KitRow.id).limit(1)
        count = self.connection.scalar(select(func.count()).select_from(lasting.subquery()))
        return count != 0

    def _take(
        self, which: ColumnElement[bool], course_id: int, part: int
    ) -> tuple[str, date] | None:
        """Take one kit for a course part if it is still available (atomic on both
        databases: a concurrent taker makes the update match no row)."""
        row = self.connection.execute(
            update(KitRow)
            .where(which, KitRow.status == _AVAILABLE, ~KitRow.recalled)
            .values(status=_RESERVED, course_id=course_id, course_part=part)
            .returning(KitRow.serial, KitRow.expiry)
            .execution_options(synchronize_session=False)
        ).first()
        return (row[0], row[1]) if row is not None else None

    def free_kits(self, product_id: int) -> list[tuple[int, int, str]]:
        """(location id, product id, vial expiries) of the free kits of a product whose
        component lots are all released."""
        rows = self.connection.execute(
            select(KitRow.location_id, KitRow.product_id, KitRow.vial_expiries).where(
                KitRow.status == _AVAILABLE,
                KitRow.product_id == product_id,
                ~KitRow.recalled,
                parts_released(KitRow),
            )
        )
        return [(loc, pid, vials) for loc, pid, vials in rows]

    def reserve_many(self, served: dict[Hashable, int]) -> None:
        """Take each kit for its (course id, part) key, in one batch; the kit rows are
        locked by the caller (PostgreSQL) or the writer is alone (SQLite)."""
        table: Table = KitRow.__table__  # type: ignore[assignment]
        self.connection.execute(
            update(table)
            .where(table.c.id == bindparam("kit_id"), table.c.status == _AVAILABLE)
            .values(status=_RESERVED, course_id=bindparam("c_id"), course_part=bindparam("c_part")),
            [{"kit_id": kit_id, "c_id": key[0], "c_part": key[1]}  # type: ignore[index]
             for key, kit_id in served.items()],
        )  # fmt: skip
