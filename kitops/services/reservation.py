"""Reserving one course's kit(s) on the common case: the path a busy clinic takes many
times a minute from several terminals.

The SQL lives in ``kitops.data.kit_reservation``; here are the decisions around it,
which ``fulfilment.fulfil_course`` takes in this order, one path on every database:

* :func:`reserve_alone`: the whole reservation of a one-kit course whose need dates are
  stored, where the database does it in one statement outside a transaction (the
  repository picks it: PostgreSQL). The role check is the service's: the statement is
  given the roles that may fulfil (``kitops.domain.roles``) and takes nothing for anyone
  else; its audit row is the one this module would record.
* :func:`reserve_course_kits`, in the caller's transaction: for a scheduled home course
  holding no kit yet, where no mixed-lot kit could be the better answer, the
  earliest-expiring kit at the course's clinic whose every vial lasts until its last day
  of use plus the expiry margin, all or nothing. One ``SELECT`` locks the course and reads
  what its needs depend on; the needs come from the course calendar (memoised, and stored
  for next time); the component lots of the kits that might serve are share-locked and
  re-checked before any kit is taken.

A kit one of whose component lots is quarantined, recalled or expired is never reserved,
even when that change is being made at the same moment.

Each answers ``None`` as soon as the common case does not apply, having reserved nothing:
the caller then goes on with the general path, which explains refusals, checks mixed-lot
kits vial by vial and waits for rows other terminals hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from kitops.data.kit_reservation import KitReservations
from kitops.data.kit_reservation import reserve_alone as reserve_in_one_statement
from kitops.data.schema import utcnow
from kitops.domain.catalog import parse_non_negative_int
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
from kitops.domain.roles import Role, allows
from kitops.services import dto
from kitops.services.plans import plan_of
from kitops.services.unit_of_work import UnitOfWork

FULFIL = "course.fulfil"
# the roles that may fulfil (kitops.domain.roles), for the one-statement reservation
_FULFILLERS = sorted(role.value for role in Role if allows(role, FULFIL))


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


def _facts(reservations: KitReservations, course_id: int) -> _Facts | None:
    """Lock the course and read its facts when it is a scheduled home course holding no
    kit yet; its need dates are stored on the way when they are not yet."""
    row = reservations.course_facts(course_id)
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
        reservations.store_needs(course_id, use)
    return _Facts(
        course_id, patient, clinic_id, clinic_code, kit_product_id, with_margin(use, margin)
    )


def reserve_alone(uow: UnitOfWork, course_id: int) -> dto.FulfilReport | None:
    """Outside any enclosing transaction: reserve the kit of a one-kit course whose need
    dates are stored in one statement where the database has one, or answer ``None``
    having done nothing."""
    if uow.in_use:
        return None
    row = reserve_in_one_statement(
        uow.db.engine, uow.run_atomic, course_id,
        actor=uow.actor, roles=_FULFILLERS, action=FULFIL,
        default_margin=DEFAULT_EXPIRY_MARGIN_DAYS, at=utcnow(),
    )  # fmt: skip
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
    reservations = KitReservations(uow.session.connection())
    facts = _facts(reservations, course_id)
    if facts is None:
        return None
    usable = reservations.lock_lots_of_free(
        facts.kit_product_id, min(need.vial_needed_until[0] for need in facts.needs)
    )
    served: list[dto.FulfilLine] = []
    for need in facts.needs:
        taken = reservations.take_lasting(
            facts.clinic_id, facts.kit_product_id, need, facts.course_id, usable
        )
        if taken is None:
            if served:  # the general path must not see half a course: undo ours
                reservations.give_back(course_id)
            return None
        served.append(facts.line(need, *taken))
    uow.record(FULFIL, "course", str(course_id),
               after={"kits": {line.part: line.kit for line in served}})  # fmt: skip
    return dto.FulfilReport(served=tuple(served), unserved=())
