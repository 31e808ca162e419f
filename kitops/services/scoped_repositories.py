"""The repositories a user limited to clinics reads through (``kitops user set-clinics``):
another clinic's course, order or kit is not found, and its purchase orders are refused.
The unit of work hands these out in place of the plain ones when its user is limited
(``kitops.services.unit_of_work``)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from kitops.data.repositories.courses import Courses
from kitops.data.repositories.kits import Kits
from kitops.data.repositories.orders import Orders
from kitops.data.repositories.purchasing import PurchaseOrders
from kitops.data.schema import CourseRow, KitRow, LocationRow, OrderRow, PurchaseOrderRow
from kitops.errors import InvalidInput
from kitops.i18n import _


class Scope(Protocol):
    """What a scoped repository asks of its unit of work: the session, and whether the
    acting user sees a clinic or a kit (``kitops.services.unit_of_work.UnitOfWork``)."""

    session: Session

    def visible_clinic(self, clinic_id: int | None) -> bool: ...

    def visible_kit(self, kit: KitRow) -> bool: ...

    def check_clinic(self, clinic: LocationRow, *, doing: str | None = None) -> None: ...


class ScopedCourses(Courses):
    """Courses as a user limited to clinics sees them: another clinic's course is not
    found (its existence is not told)."""

    uow: Scope

    def get(self, course_id: int | str, *, lock: bool = False) -> CourseRow:
        row = super().get(course_id, lock=lock)
        if not self.uow.visible_clinic(row.clinic_id):
            raise InvalidInput("course", course_id, _("no course has this number"))
        return row


class ScopedOrders(Orders):
    """Orders as a user limited to clinics sees them: another clinic's is not found."""

    uow: Scope

    def get(self, order_id: int | str, *, lock: bool = False) -> OrderRow:
        row = super().get(order_id, lock=lock)
        if not self.uow.visible_clinic(row.clinic_id):
            raise InvalidInput(
                "order", order_id, _("no order has this number (see `kitops order list`)")
            )
        return row


class ScopedKits(Kits):
    """Kits as a user limited to clinics sees them: those held in its clinics or made
    for a course of its clinics; another clinic's kit is not found."""

    uow: Scope

    def get(self, serial: str, *, lock: bool = False) -> KitRow:
        row = super().get(serial, lock=lock)
        if not self.uow.visible_kit(row):
            raise InvalidInput(
                "serial", serial, _("no kit has this serial (see `kitops kit list`)")
            )
        return row


class ScopedPurchaseOrders(PurchaseOrders):
    """Purchase orders of a user limited to clinics: one delivered to another clinic is
    refused, naming the clinic."""

    uow: Scope

    def get(self, number: str | int, *, lock: bool = False) -> PurchaseOrderRow:
        row = super().get(number, lock=lock)
        if not self.uow.visible_clinic(row.clinic_id):
            clinic = self.uow.session.get(LocationRow, row.clinic_id)
            assert clinic is not None
            self.uow.check_clinic(clinic, doing=_("use a purchase order"))
        return row


SCOPED = {kind.__name__: kind for kind in (ScopedCourses, ScopedOrders, ScopedKits,
                                           ScopedPurchaseOrders)}  # fmt: skip


def scoped(name: str, uow: Scope) -> Courses | Orders | Kits | PurchaseOrders:
    """The scoped repository ``name`` on ``uow``'s session, asking ``uow`` what its user
    sees."""
    made = SCOPED[name](uow.session)
    made.uow = uow
    return made
