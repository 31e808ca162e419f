"""Settings: the key/value table of the stockroom's adjustable rules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kitops.data.schema import SettingRow
from kitops.domain.catalog import parse_non_negative_int
from kitops.domain.courses import DEFAULT_EXPIRY_MARGIN_DAYS


class Settings:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str, default: str) -> str:
        value = self.session.scalar(select(SettingRow.value).where(SettingRow.key == key))
        return default if value is None else value

    def expiry_margin_days(self) -> int:
        return parse_non_negative_int(
            self.get("expiry_margin_days", str(DEFAULT_EXPIRY_MARGIN_DAYS)),
            "expiry_margin_days",
        )
