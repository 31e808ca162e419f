"""Email alerts: the kinds a user may subscribe to, addresses, and the keys that keep one
alert from being sent twice."""

from __future__ import annotations

import re
from datetime import date

import kitops.i18n as i18n
from kitops.errors import InvalidInput

DIGEST = "digest"  # the daily digest, per subscriber and clinic
RECALL = "recall"  # a lot recalled: the kits and courses it touches
PAYMENT = "payment"  # a payment that failed
KINDS = (DIGEST, RECALL, PAYMENT)

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
