"""The app's idea of today: the clinic's own date, or a fixed day (tests, screenshots)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from kitops.i18n import DEFAULT_LOCALE, current_locale


def short_day(day: date) -> str:
    """A day and month, as a tile or a table reads them: ``22 Nov`` (neutral), ``22. Nov.``
    (de)."""
    locale = current_locale()
    if locale == DEFAULT_LOCALE:
        return day.strftime("%d %b")
    from babel import UnknownLocaleError
    from babel.dates import format_skeleton

    try:
        return format_skeleton("dMMM", day, locale=locale)
    except (UnknownLocaleError, ValueError):  # a language CLDR does not know
        return day.strftime("%d %b")


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
        return short_day(local.date())
