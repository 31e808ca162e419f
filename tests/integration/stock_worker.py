"""A worker process for the concurrency test: random receipts, moves and write-offs."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

AS_OF = date(2026, 11, 22)
LOTS = ["PTT6-B0902", "PTT6-A0603", "PTT6-A0519"]
PLACES = ["LON-FRIDGE", "LON-SHELF"]


def plan(seed: int, operations: int) -> list[tuple[str, str, str, str, int]]:
    """The worker's operations, (operation, lot, place, other place, quantity): drawn from
    ``seed`` alone, so the test knows what every worker asks for."""
    rng = random.Random(seed)
    steps = []
    for _ in range(operations):
        lot = rng.choice(LOTS)
        place, other = rng.sample(PLACES, 2)
        qty = rng.randint(1, 6)
        operation = rng.choice(["receive", "move", "move", "write_off", "write_off"])
        steps.append((operation, lot, place, other, qty))
    return steps


def work(url: str, actor: str, operations: int, seed: int, start: Any) -> dict[str, int]:
    """Run ``plan(seed, operations)`` as ``actor`` once every worker is ready (``start``, a
    barrier shared by all of them)."""
    from kitops.data.engine import open_database
    from kitops.errors import Refused
    from kitops.services.operations import ReceiptInput, move, receive, write_off
    from kitops.services.unit_of_work import UnitOfWork

    db = open_database(url)
    tally = {"ok": 0, "refused": 0}
    expiry = {"PTT6-B0902": "2027-05-31", "PTT6-A0603": "2027-01-13", "PTT6-A0519": "2026-12-16"}
    try:
        start.wait()
        for operation, lot, place, other, qty in plan(seed, operations):
            uow = UnitOfWork(db, actor)
            try:
                if operation == "receive":
                    receive(
                        uow,
                        ReceiptInput(location=place, sku="SERUM-5ML", lot=lot,
                                     expiry=expiry[lot], quantity=qty),
                        today=AS_OF,
                    )  # fmt: skip
                elif operation == "move":
                    move(uow, "SERUM-5ML", qty, place, other, lot=lot, today=AS_OF)
                else:
                    write_off(uow, "SERUM-5ML", qty, place, "damaged", lot=lot)
                tally["ok"] += 1
            except Refused:
                tally["refused"] += 1
    finally:
        db.dispose()
    return tally
