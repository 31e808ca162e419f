"""Repositories: queries and writes over a session they are given, never one they open.

One module per aggregate; the unit of work (``kitops.services.unit_of_work``) makes each
on its session when a use case first reads it (``uow.courses.get(...)``,
``uow.locations.clinic(...)``, ``uow.kits.get(serial, lock=True)``). The kit reservation
statements (``reservations``: one statement per database where it has one) work on the use
case's connection.

The names below are imported from their modules when first asked for, so that a command
loads the repositories it uses and no others.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kitops.data.repositories.audit import Audit as Audit
    from kitops.data.repositories.catalog import Products as Products
    from kitops.data.repositories.clinic_calendar import ClinicCalendar as ClinicCalendar
    from kitops.data.repositories.courses import Courses as Courses
    from kitops.data.repositories.kits import Kits as Kits
    from kitops.data.repositories.locations import Locations as Locations
    from kitops.data.repositories.lots import LotKey as LotKey
    from kitops.data.repositories.lots import Lots as Lots
    from kitops.data.repositories.orders import Orders as Orders
    from kitops.data.repositories.plans import Plans as Plans
    from kitops.data.repositories.purchasing import PurchaseOrders as PurchaseOrders
    from kitops.data.repositories.purchasing import Suppliers as Suppliers
    from kitops.data.repositories.settings import Settings as Settings
    from kitops.data.repositories.stock import Ledger as Ledger
    from kitops.data.repositories.stock import PostedMove as PostedMove
    from kitops.data.repositories.users import Users as Users

# each name's module
_MODULES = {
    "Audit": "audit",
    "ClinicCalendar": "clinic_calendar",
    "Courses": "courses",
    "Kits": "kits",
    "Ledger": "stock",
    "Locations": "locations",
    "LotKey": "lots",
    "Lots": "lots",
    "Orders": "orders",
    "Plans": "plans",
    "PostedMove": "stock",
    "Products": "catalog",
    "PurchaseOrders": "purchasing",
    "Settings": "settings",
    "Suppliers": "purchasing",
    "Users": "users",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
