"""A worker process for the concurrency test: random receipts, moves and write-offs."""

from __future__ import annotations

import random
import time
from datetime import date

AS_OF = date(2026, 11, 22)
LOTS = ["PTT6-B0902", "PTT6-A0603", "PTT6-A0519"]
PLACES = ["LON-FRIDGE", "LON-SHELF"]


def work(url: str, actor: str, seconds: float, seed: int) -> dict[str, int]:
    from kitops.data.engine import open_database
    from kitops.errors import Refused
    from kitops.services.operations import ReceiptInput, move, receive, write_off
    from kitops.services.unit_of_work import UnitOfWork

    db = open_database(url)
    rng = random.Random(seed)
    tally = {"ok": 0, "refused": 0}
    deadline = time.monotonic() + seconds
    expiry = {"PTT6-B0902": "2027-05-31", "PTT6-A0603": "2027-01-13", "PTT6-A0519": "2026-12-16"}
    try:
        while time.monotonic() < deadline:
            lot = rng.choice(LOTS)
            place, other = rng.sample(PLACES, 2)
            qty = rng.randint(1, 6)
            operation = rng.choice(["receive", "move", "move", "write_off", "write_off"])
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
