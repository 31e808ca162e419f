"""The app's idea of today: the clinic's own date, or a fixed day (tests, screenshots)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Clock:
    fixed: date | None = None

    @property
    def today(self) -> date | None:
        """``None`` lets each service use every clinic's own date in its time zone."""
        return self.fixed

    def day(self) -> date:
        return self.fixed or date.today()

    def when(self, moment: datetime) -> str:
        """An event time as the stockroom reads it: the time today, else the date."""
        local = moment.astimezone() if self.fixed is None else moment
        if local.date() == self.day():
            return local.strftime("%H:%M")
        return local.strftime("%d %b")
