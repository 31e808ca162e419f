"""The common case of reserving one course's kit(s): the path a busy clinic takes many
times a minute from several terminals, a scheduled home course holding no kit yet.
``fulfilment.fulfil_course`` is the one reservation path; it asks this module two
things (the SQL lives in ``kitops.data.repositories.reservations``):

* :func:`reserve_alone`: the whole reservation of a one-kit course whose need dates are
  stored, where the database does it in one statement outside a transaction (the
  repository picks it: PostgreSQL; elsewhere it answers ``None``). The role check is the
  service's: the statement is given the roles that may fulfil (``kitops.domain.roles``)
  and takes nothing for anyone else; its audit row is the one ``fulfil_course`` records.
* :func:`common_case`, in the caller's transaction: one ``SELECT`` locks the course and
  reads what its needs depend on (plan, clinic time zone, the kit recipe's vials, the
  margin); the needs come from the course calendar (memoised, and stored for next time).
  ``None`` when the course is not the common case: the general checks then explain why.

Each answers ``None`` having reserved nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from kitops.data.repositories.reservations import KitReservations
from kitops.data.repositories.reservations import reserve_alone as reserve_in_one_statement
from kitops.data.schema import utcnow
from kitops.domain.catalog import parse_non_negative_int
from kitops.domain.course_lifecycle import NEEDS_STOCK, Moves, moves_of
from kitops.domain.courses import (
    DEFAULT_EXPIRY_MARGIN_DAYS,
    Administered,
    KitNeed,
    Plan,
    course_calendar,
    kit_needs,
    parse_weekdays,
)
from kitops.domain.roles import Role, allows
from kitops.services.dto import courses as courses_dto
from kitops.services.plans import plan_of
from kitops.services.unit_of_work import UnitOfWork

FULFIL = "course.fulfil"
# the roles that may fulfil (kitops.domain.roles), for the one-statement reservation
_FULFILLERS = sorted(role.value for role in Role if allows(role, FULFIL))


@lru_cache(maxsize=8192)
def course_kit_needs(
    plan: Plan,
    start: date,
    weekdays: str,
    zone: str,
    vial_ul: int,
    vials: int,
    margin: int,
    moves: Moves = (),
) -> tuple[KitNeed, ...]:
    """The kit needs of a course, memoised: many courses share plan, start day and clinic
    (``moves``: the course's reschedules)."""
    calendar = course_calendar(plan, start, parse_weekdays(weekdays), zone, moves=moves)
    return tuple(kit_needs(plan, calendar, vial_ul, vials, margin))


@dataclass(frozen=True)
class CommonCase:
    """What a course's reservation depends on, read in one statement."""

    course_id: int
    patient: str
    clinic_id: int
    clinic_code: str
    kit_product_id: int
    needs: tuple[KitNeed, ...]  # margin included


def with_margin(needs: tuple[KitNeed, ...], margin: int) -> tuple[KitNeed, ...]:
    days = timedelta(days=margin)
    return tuple(
        KitNeed(need.part, need.first_use, tuple(day + days for day in need.vial_needed_until))
        for need in needs
    )


def common_case(reservations: KitReservations, course_id: int) -> CommonCase | None:
    """Lock the course and read its facts when it is a scheduled home course holding no
    kit yet; its need dates are stored on the way when they are not yet."""
    row = reservations.course_facts(course_id)
    if row is None:
        return None
    (status, patient, start, weekdays, clinic_id, clinic_code, zone, *plan_columns,
     vials, vial_ul, margin_text, held, stored, reschedules) = row  # fmt: skip
    plan = plan_of(*plan_columns[:6], *plan_columns[7:])
    kit_product_id = plan_columns[6]
    if (
        status not in NEEDS_STOCK
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
    use = course_kit_needs(plan, start, weekdays, zone, vial_ul, vials, 0, moves_of(reschedules))
    if not use:
        return None
    if not stored:
        reservations.store_needs(course_id, use)
    return CommonCase(
        course_id, patient, clinic_id, clinic_code, kit_product_id, with_margin(use, margin)
    )


def reserve_alone(uow: UnitOfWork, course_id: int) -> courses_dto.FulfilReport | None:
    """Outside any enclosing transaction: reserve the kit of a one-kit course whose need
    dates are stored in one statement where the database has one, or answer ``None``
    having done nothing."""
    if uow.in_use or uow.via is not None:
        return None  # (through a token: the audited path below names it)
    row = reserve_in_one_statement(
        uow.db.engine, uow.run_atomic, course_id,
        actor=uow.actor, roles=_FULFILLERS, action=FULFIL,
        default_margin=DEFAULT_EXPIRY_MARGIN_DAYS, at=utcnow(),
    )  # fmt: skip
    if row is None:
        return None
    serial, expiry, part, first_use, until, patient, clinic = row
    line = courses_dto.FulfilLine(
        course_id=course_id, patient_ref=patient, clinic=clinic, part=part,
        first_use=first_use, needed_until=until, kit=serial, kit_expiry=expiry, reason=None,
    )  # fmt: skip
    return courses_dto.FulfilReport(served=(line,), unserved=())
