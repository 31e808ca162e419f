"""Repositories: queries and writes over a session they are given, never one they open.

One module per aggregate; the unit of work (``kitops.services.unit_of_work``) wires one
of each onto its session, so a use case reads ``uow.courses.get(...)``,
``uow.locations.clinic(...)``, ``uow.kits.get(serial, lock=True)``. The kit reservation
statements (``reservations``: one statement per database where it has one) work on the use
case's connection.
"""

from kitops.data.repositories.audit import Audit
from kitops.data.repositories.catalog import Products
from kitops.data.repositories.clinic_calendar import ClinicCalendar
from kitops.data.repositories.courses import Courses
from kitops.data.repositories.kits import Kits
from kitops.data.repositories.locations import Locations
from kitops.data.repositories.lots import LotKey, Lots
from kitops.data.repositories.orders import Orders
from kitops.data.repositories.plans import Plans
from kitops.data.repositories.purchasing import PurchaseOrders, Suppliers
from kitops.data.repositories.settings import Settings
from kitops.data.repositories.stock import Ledger, PostedMove
from kitops.data.repositories.users import Users

__all__ = [
    "Audit",
    "ClinicCalendar",
    "Courses",
    "Kits",
    "Ledger",
    "Locations",
    "LotKey",
    "Lots",
    "Orders",
    "Plans",
    "PostedMove",
    "Products",
    "PurchaseOrders",
    "Settings",
    "Suppliers",
    "Users",
]
