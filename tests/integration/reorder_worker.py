"""A small stockroom whose reorder numbers can be worked out by hand, and a worker process
for the concurrent reorder test.

One clinic, LON (Europe/London), with LON-FRIDGE; SERUM-5ML (5 ml, released by hand);
plan ``weekly-5ml``: weekly clinic sessions of one vial; supplier CAL (10 days, GBP) sells
SERUM-5ML in packs of 6, minimum 12, at 35.00. Two courses start on Monday 23 and
Wednesday 25 November 2026: sessions on 23 and 30 Nov, 7, 14... Dec and 25 Nov, 2, 9...
Dec. Stock: lot SHORT (10 vials, expires 2026-12-01) and lot LONG (1 vial, 2027-06-30).

A calendar policy with a 7-day review on 2026-11-22 looks at 22 Nov - 8 Dec (10 + 7
days): five sessions (23, 25, 30 Nov, 2, 7 Dec), each vial to last its day + 7. SHORT
(1 Dec) can serve only the session of 23 Nov (needed until 30 Nov); LONG serves one more.
Usable 2, demand 5: net 3, so 12 (the minimum; two packs of 6).
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

AS_OF = date(2026, 11, 22)
BARRIER_TIMEOUT_S = 60.0

_barrier: Any = None


def build_world(uow_factory: Any, *, min_order: int = 12, pack: int = 6) -> None:
    from kitops.domain.ledger import LotStatus
    from kitops.services import courses, lots, plans, purchasing
    from kitops.services.catalog import add_product, parse_product
    from kitops.services.locations import add_location
    from kitops.services.operations import ReceiptInput, receive

    add_location(uow_factory(), "LON", "London", timezone="Europe/London", currency="GBP")
    add_location(uow_factory(), "LON-FRIDGE", "Fridge", parent="LON", kind="fridge")
    add_product(uow_factory(), parse_product("SERUM-5ML", "Serum 5 ml", "serum_vial", ml="5"))
    plans.add_plan(uow_factory(), "weekly-5ml", "Weekly clinic sessions", per_week=1, weeks=6,
                   ml="5", administered="clinic")  # fmt: skip
    purchasing.add_supplier(uow_factory(), "CAL", "Calecim", lead_time_days=10, currency="GBP",
                            contact="orders@calecim.example")  # fmt: skip
    purchasing.set_supplier_item(uow_factory(), "CAL", "SERUM-5ML", pack_size=pack,
                                 min_order=min_order, unit_cost="35.00",
                                 supplier_sku="CAL-PTT6-5")  # fmt: skip
    for code, expiry, qty in (("SHORT", "2026-12-01", 10), ("LONG", "2027-06-30", 1)):
        receive(uow_factory(), ReceiptInput(location="LON-FRIDGE", sku="SERUM-5ML", lot=code,
                                            expiry=expiry, quantity=qty,
                                            accept_short_dated=True), today=AS_OF)  # fmt: skip
        lots.change_status(uow_factory(), code, LotStatus.RELEASED, today=AS_OF)
    for patient, start in (("P-1", date(2026, 11, 23)), ("P-2", date(2026, 11, 25))):
        courses.create_course(uow_factory(), patient, "weekly-5ml", start, "LON", today=AS_OF)


def calendar_policy(uow_factory: Any, **options: Any) -> None:
    from kitops.services.purchasing import set_policy

    settings = {"supplier": "CAL", "method": "calendar", "review_period_days": 7} | options
    set_policy(uow_factory(), "SERUM-5ML", "LON", **settings)


def init(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def run_once(url: str, actor: str) -> dict[str, Any]:
    """Wait for the others, then one reorder run."""
    from kitops.data.engine import open_database
    from kitops.services.reorder import run
    from kitops.services.unit_of_work import UnitOfWork

    db = open_database(url)
    try:
        if _barrier is not None:
            _barrier.wait(BARRIER_TIMEOUT_S)
        started = time.perf_counter()
        result = run(UnitOfWork(db, actor), as_of=AS_OF)
        return {
            "in_progress": result.in_progress,
            "created": list(result.orders_created),
            "changed": list(result.orders_changed),
            "seconds": time.perf_counter() - started,
        }
    finally:
        db.dispose()
