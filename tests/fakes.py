"""An in-memory unit of work for service tests (cosmicpython's ``FakeUnitOfWork``).

The rules in a use case (which lot FEFO takes, who may write off how much, what a refused
command leaves behind) are tested here without a database, where the database is not the
point. The fakes subclass the real repositories and replace only their storage: the
lookups' own rules (``Locations.physical``, ``Lots.named``, ``Products.kit``...) and the
unit of work's permission check (``UnitOfWork.require``) are the real ones.

A block that ends without ``commit`` leaves everything as it was at the last commit, as a
rolled-back transaction would; a refusal of the acting user's role is recorded in
``refusals``, as the real unit of work records it in the audit log.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from kitops.data.repositories import Kits, Ledger, Locations, Lots, PostedMove, Products, Settings
from kitops.data.schema import KitRow, LocationRow, LotRow, ProductRow
from kitops.domain.catalog import ProductKind
from kitops.domain.ledger import UNTRACKED_LOT_CODE, LotStatus, apply_changes, balance_changes
from kitops.domain.locations import PHYSICAL_KINDS, LocationKind
from kitops.domain.roles import Role
from kitops.errors import NotAllowed
from kitops.services.unit_of_work import ActingUser, UnitOfWork

_ids = itertools.count(1)


class FakeProducts(Products):
    def __init__(self) -> None:
        self.rows: dict[str, ProductRow] = {}

    def by_sku(self, sku: str) -> ProductRow | None:
        return self.rows.get(sku)

    def by_gtin(self, gtin: str) -> ProductRow | None:
        return next((row for row in self.rows.values() if row.gtin == gtin), None)

    def all(self) -> Sequence[ProductRow]:
        return list(self.rows.values())

    def add(self, row: ProductRow) -> ProductRow:
        row.id = next(_ids)
        self.rows[row.sku] = row
        return row


class FakeLocations(Locations):
    def __init__(self) -> None:
        self.rows: dict[str, LocationRow] = {}

    def by_code(self, code: str) -> LocationRow | None:
        return self.rows.get(code)

    def all(self) -> Sequence[LocationRow]:
        return sorted(self.rows.values(), key=lambda row: row.id)

    def physical_ids(self) -> set[int]:
        kinds = {kind.value for kind in PHYSICAL_KINDS}
        return {row.id for row in self.rows.values() if row.kind in kinds}

    def add(self, row: LocationRow) -> LocationRow:
        row.id = next(_ids)
        self.rows[row.code] = row
        return row


class FakeLots(Lots):
    def __init__(self) -> None:
        self.rows: dict[int, LotRow] = {}

    def find(self, product_id: int, code: str) -> LotRow | None:
        found = (r for r in self.rows.values() if r.product_id == product_id and r.code == code)
        return next(found, None)

    def add(self, row: LotRow) -> LotRow:
        row.id = next(_ids)
        self.rows[row.id] = row
        return row

    def lock(self, lot: LotRow, *, share: bool = False) -> LotRow:
        return self.rows[lot.id]

    def share_lock_all(self, lot_ids: Iterable[int]) -> list[LotRow]:
        return [self.rows[lot_id] for lot_id in sorted(set(lot_ids))]


class FakeLedger(Ledger):
    """Balances per (lot, physical location) and the moves posted, as the database's
    trigger keeps them; a move below zero is refused as ``Ledger.post`` refuses it."""

    def __init__(self, locations: FakeLocations, lots: FakeLots) -> None:
        self.locations = locations
        self.lots = lots
        self.balance: dict[tuple[int, int], int] = {}
        self.moves: list[tuple[PostedMove, str]] = []

    def post(self, moves: Sequence[PostedMove], *, reason: str, **_: Any) -> None:
        changes = balance_changes((m.move for m in moves), self.locations.physical_ids())
        self.balance.update(apply_changes(self.balance, changes))
        self.moves.extend((move, reason) for move in moves)

    def lock_location(self, location_id: int) -> None:
        return None

    def on_hand(
        self, *, location_id: int, product_id: int | None = None
    ) -> list[tuple[LotRow, int]]:
        return [
            (self.lots.rows[lot_id], qty)
            for (lot_id, place), qty in sorted(self.balance.items())
            if place == location_id
            and qty > 0
            and (product_id is None or self.lots.rows[lot_id].product_id == product_id)
        ]

    def quantity(self, lot_id: int, location_id: int) -> int:
        return self.balance.get((lot_id, location_id), 0)


class FakeSettings(Settings):
    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, key: str, default: str) -> str:
        return self.values.get(key, default)


class FakeKits(Kits):
    def __init__(self) -> None:
        self.rows: dict[int, KitRow] = {}

    def of_lot(self, lot_id: int, *, lock: bool = False) -> KitRow | None:
        return next((kit for kit in self.rows.values() if kit.lot_id == lot_id), None)


class FakeUnitOfWork(UnitOfWork):
    """A unit of work over the fakes above, acting as ``actor`` in ``role``."""

    def __init__(
        self,
        actor: str = "tester",
        role: Role = Role.MANAGER,
        *,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.actor = actor
        self.readonly = False
        self.identify = True
        self.bootstrap = False
        self.user = ActingUser(actor, role)
        self._granted = None
        self._depth = 0
        self.products = FakeProducts()
        self.locations = FakeLocations()
        self.lots = FakeLots()
        self.kits = FakeKits()
        self.settings = FakeSettings(settings)
        self.ledger = FakeLedger(self.locations, self.lots)
        self.audit_rows: list[dict[str, Any]] = []
        self.refusals: list[NotAllowed] = []
        self.commits = 0
        self._saved = self._state()

    def _state(self) -> dict[str, Any]:
        return copy.deepcopy(
            {"balance": self.ledger.balance, "moves": self.ledger.moves, "audit": self.audit_rows}
        )

    def __enter__(self) -> FakeUnitOfWork:
        self._depth += 1
        if self._depth == 1:
            self._granted = None
        return self

    def __exit__(self, *exc_info: Any) -> None:
        exc = exc_info[1]
        self._depth -= 1
        if self._depth > 0:
            return
        saved = copy.deepcopy(self._saved)  # what was not committed is rolled back
        self.ledger.balance, self.ledger.moves = saved["balance"], saved["moves"]
        self.audit_rows = saved["audit"]
        if isinstance(exc, NotAllowed) and not exc.recorded:
            self.record_refusal(exc)

    def commit(self) -> None:
        if self._depth > 1:
            return
        self.commits += 1
        self._saved = self._state()

    def record(self, action: str, entity: str, key: str, **change: Any) -> int:
        row = {"actor": self.actor, "action": action, "entity": entity, "key": key}
        self.audit_rows.append({"before": None, "after": None, **row, **change})
        return len(self.audit_rows)

    def record_refusal(self, error: NotAllowed, *, after: dict[str, Any] | None = None) -> None:
        error.recorded = True
        self.refusals.append(error)

    # --- setting the scene ----------------------------------------------------------------

    def place(
        self, code: str, kind: LocationKind, parent: str | None = None, zone: str | None = None
    ) -> LocationRow:
        parent_row = self.locations.rows[parent] if parent else None
        return self.locations.add(
            LocationRow(code=code, name=code, kind=kind.value, timezone=zone, active=True,
                        parent_id=parent_row.id if parent_row else None)
        )  # fmt: skip

    def product(self, sku: str, *, lot_tracked: bool = True) -> ProductRow:
        row = self.products.add(
            ProductRow(sku=sku, name=sku, kind=ProductKind.SERUM_VIAL.value, unit="vial",
                       gtin=None, lot_tracked=lot_tracked, requires_release=lot_tracked,
                       at_home_allowed=True, active=True)
        )  # fmt: skip
        if not lot_tracked:
            self.lot(row, UNTRACKED_LOT_CODE, None)
        return row

    def lot(
        self,
        product: ProductRow,
        code: str,
        expiry: date | None,
        status: LotStatus = LotStatus.RELEASED,
        *,
        on_hand: dict[LocationRow, int] | None = None,
    ) -> LotRow:
        row = self.lots.add(
            LotRow(product_id=product.id, code=code, expiry=expiry, status=status.value)
        )
        for place, qty in (on_hand or {}).items():
            self.ledger.balance[(row.id, place.id)] = qty
        self._saved = self._state()
        return row
