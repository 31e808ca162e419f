"""Frozen values of VAT rates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kitops.domain.vat import rate_text


@dataclass(frozen=True)
class VatRate:
    country: str
    kind: str
    percent: Decimal  # 20, 5.5, 0
    rate_bp: int  # basis points: 2000, 550, 0

    @property
    def text(self) -> str:
        return rate_text(self.rate_bp)
