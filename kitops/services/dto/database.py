"""Frozen values of the database as a whole: imports, the ledger check, the demo data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ImportReport:
    kind: str
    rows: int
    created: int
    dry_run: bool


@dataclass(frozen=True)
class BalanceProblem:
    sku: str
    lot: str
    location: str
    recorded: int | None
    from_moves: int
    problem: str


@dataclass(frozen=True)
class CheckReport:
    ok: bool
    balances_checked: int
    moves: int
    problems: tuple[BalanceProblem, ...]


@dataclass(frozen=True)
class DemoSummary:
    loaded: bool
    as_of: date | None
    clinics: int
    products: int
    lots: int
    moves: int
