"""Email alerts: the kinds a user may subscribe to, addresses, and the keys that keep one
alert from being sent twice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import kitops.i18n as i18n
from kitops.errors import InvalidInput

DIGEST = "digest"  # the daily digest, per subscriber and clinic
RECALL = "recall"  # a lot recalled: the kits and courses it touches
PAYMENT = "payment"  # a payment that failed
JOB = "job"  # a cron job that failed twice in a row
KINDS = (DIGEST, RECALL, PAYMENT, JOB)
IMMEDIATE = (RECALL, PAYMENT, JOB)  # held back in the quiet hours; the digest is not

# one address, no display name: what a person types, not RFC 5322's every form
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def parse_kind(text: str, field: str = "KIND") -> str:
    kind = text.strip().lower()
    if kind not in KINDS:
        raise InvalidInput(
            field, text, i18n.gettext("must be one of {choices}").format(choices="|".join(KINDS))
        )
    return kind


def parse_email(text: str, field: str = "EMAIL") -> str:
    address = text.strip()
    if len(address) > 254 or not _EMAIL.match(address):
        raise InvalidInput(
            field,
            text,
            i18n.gettext("must be an email address such as {example}").format(
                example="maria@clinic.example"
            ),
        )
    return address


def digest_key(day: date, user: str, clinic: str) -> str:
    return f"digest:{day.isoformat()}:{user}:{clinic}"


def event_key(kind: str, audit_id: int, user: str) -> str:
    return f"{kind}:{audit_id}:{user}"


def job_key(job: str, first_failed_run: int, user: str) -> str:
    """One alert per streak of failures: the streak is named by its first failed run."""
    return f"job:{job}:{first_failed_run}:{user}"


OFF = "off"


@dataclass(frozen=True)
class QuietHours:
    """A daily window (``22:00-07:00`` runs over midnight) in a time zone (None: the
    server's own) in which immediate alerts wait for the first run after it."""

    start: time
    end: time
    zone: str | None

    def holds(self, moment: datetime) -> bool:
        """Whether ``moment`` (timezone-aware) falls inside the window."""
        local = moment.astimezone(ZoneInfo(self.zone) if self.zone else None).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})(?:\s+(\S+))?$")


def parse_quiet_hours(text: str, field: str = "alert_quiet_hours") -> QuietHours | None:
    """``off``, or ``HH:MM-HH:MM`` with an optional IANA time zone after a space
    (``22:00-07:00 Europe/London``); without one, the server's time zone."""
    value = " ".join(text.split())
    if value.lower() in (OFF, ""):
        return None
    found = _WINDOW.match(value)
    problem = i18n.gettext(
        "must be off or HH:MM-HH:MM with an optional time zone, such as {example}"
    ).format(example="22:00-07:00 Europe/London")
    if found is None:
        raise InvalidInput(field, text, problem)
    h1, m1, h2, m2, zone = found.groups()
    try:
        start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
    except ValueError:
        raise InvalidInput(field, text, problem) from None
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(
                field, text, i18n.gettext("{zone} is not a time zone").format(zone=zone)
            ) from None
    return QuietHours(start, end, zone)


def quiet_hours_text(hours: QuietHours | None) -> str:
    if hours is None:
        return OFF
    window = f"{hours.start:%H:%M}-{hours.end:%H:%M}"
    return f"{window} {hours.zone}" if hours.zone else window
