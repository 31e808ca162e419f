"""The choices a form offers: clinics, physical places, kit recipes, plans, and the
values of the write-off reasons and kit and course statuses."""

from __future__ import annotations

from kitops.data.queries.choices import active_kit_recipes, active_plans
from kitops.data.repositories.locations import clinic_of
from kitops.domain.courses import CourseStatus
from kitops.domain.kits import KIT_STATUSES
from kitops.domain.locations import PHYSICAL_KINDS, LocationKind
from kitops.domain.stock_rules import WriteOffReason
from kitops.services.unit_of_work import UnitOfWork
from kitops.views import dto as view


def choices(uow: UnitOfWork) -> view.Choices:
    """What the forms offer; a user limited to clinics is offered those clinics and
    their places only."""
    with uow:
        scope = uow.scope_places()
        rows = [row for row in uow.locations.all() if scope is None or row.id in scope]
        by_id = {row.id: row for row in uow.locations.all()}
        places = []
        for row in sorted(rows, key=lambda r: r.code):
            if LocationKind(row.kind) in PHYSICAL_KINDS and row.active:
                clinic = clinic_of(row, by_id)
                places.append(
                    view.Place(row.code, row.name, row.kind, clinic.code if clinic else None)
                )
        clinics = tuple(
            view.Named(row.code, row.name)
            for row in sorted(rows, key=lambda r: r.code)
            if row.kind == LocationKind.CLINIC.value and row.active
        )
        kits = tuple(view.Named(row.sku, row.name) for row in active_kit_recipes(uow.session))
        plans = tuple(view.Named(code, name) for code, name in active_plans(uow.session))
    return view.Choices(
        clinics=clinics,
        places=tuple(places),
        kit_recipes=kits,
        plans=plans,
        write_off_reasons=tuple(r.value for r in WriteOffReason),
        kit_statuses=KIT_STATUSES,
        course_statuses=tuple(s.value for s in CourseStatus),
    )
