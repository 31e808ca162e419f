"""What the stored words (statuses, filters, sort keys) are called for a person.

The database, ``--json``, CSV and the API keep the stored word (``handed_over``); pages and
screens show ``status_label(word)``: "handed over" in English, "übergeben" in German. A
word this table does not know is shown as stored, with underscores as spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kitops.i18n import N_, gettext, ngettext

__all__ = ["audit_details", "status_label", "stored_text"]

_WORDS = {
    # lots
    "quarantine": N_("quarantine"),
    "released": N_("released"),
    "recalled": N_("recalled"),
    "expired": N_("expired"),
    # kits
    "available": N_("available"),
    "reserved": N_("reserved"),
    "shipped": N_("shipped"),
    "handed_over": N_("handed over"),
    "disassembled": N_("disassembled"),
    "written_off": N_("written off"),
    # courses
    "scheduled": N_("scheduled"),
    "active": N_("active"),
    "paused": N_("paused"),
    "completed": N_("completed"),
    "ended_early": N_("ended early"),
    "cancelled": N_("cancelled"),
    # customer orders
    "open": N_("open"),
    "pending": N_("pending"),
    "failed": N_("failed"),
    "paid": N_("paid"),
    "partially_refunded": N_("partially refunded"),
    "refunded": N_("refunded"),
    # purchase orders
    "draft": N_("draft"),
    "approved": N_("approved"),
    "sent": N_("sent"),
    "partial": N_("partly received"),
    "received": N_("received"),
    # roles
    "stockroom": N_("stockroom"),
    "manager": N_("manager"),
    "admin": N_("admin"),
    "job": N_("job"),
    # a course's calendar
    "application": N_("application"),
    "checkin": N_("check-in"),
    "followup": N_("follow-up"),
    # reorder methods
    "min_max": N_("min/max"),
    "calendar": N_("calendar"),
    # stock filters and sort keys
    "all": N_("all"),
    "usable": N_("usable"),
    "unusable": N_("unusable"),
    "expiring": N_("expiring"),
    "expiry": N_("expiry"),
    "location": N_("location"),
    "sku": N_("SKU"),
    "lot": N_("lot"),
    "status": N_("status"),
    "quantity": N_("quantity"),
}


def status_label(word: object) -> str:
    """``handed_over`` → "handed over" (English) / "übergeben" (German)."""
    text = "" if word is None else str(word)
    known = _WORDS.get(text)
    return gettext(known) if known is not None else text.replace("_", " ")


# Reasons and notes kitops itself writes into the database (a course's pause, a lot's expiry
# sweep, a payment's notes, `kitops db check` lines), stored in English as written; shown
# with ``stored_text`` in the language in force. What a person typed is shown as typed.
_STORED_PHRASES = {
    text: text
    for text in (
        N_("paused on request"),
        N_("contains a recalled lot"),
        N_("returned"),
        N_("no money received yet"),
        N_("paid"),
        N_("payment failed"),
        N_("nothing refunded"),
        N_("refunded"),
        N_("nothing to do"),
        N_("kits reserved"),
        N_("Stripe does not report this payment as paid (yet)"),
        N_("Stripe does not report this payment as failed"),
    )
}

_DAY = r"(?P<day>\d{4}-\d{2}-\d{2})"
_STORED_PATTERNS = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (rf"expiry sweep {_DAY}", N_("expiry sweep {day}")),
        (r"order (?P<order>\d+) refunded", N_("order {order} refunded")),
        (r"kit (?P<part>\d+) returned opened", N_("kit {part} returned opened")),
        (r"kits released: (?P<kits>.+)", N_("kits released: {kits}")),
        (r"kits not reserved: (?P<why>.+)", N_("kits not reserved: {why}")),
        (r"refund (?P<refund>\S+) of (?P<amount>.+)", N_("refund {refund} of {amount}")),
        (
            r"order is (?P<status>\w+): refunds wait for the payment",
            N_("order is {status}: refunds wait for the payment"),
        ),
        (
            r"currency (?P<currency>\S*) is not the order's; ignored",
            N_("currency {currency} is not the order's; ignored"),
        ),
        (
            r"no balance row, moves sum to (?P<from_moves>-?\d+)",
            N_("no balance row, moves sum to {from_moves}"),
        ),
        (r"balance is negative \((?P<recorded>-?\d+)\)", N_("balance is negative ({recorded})")),
        (
            r"balance says (?P<recorded>-?\d+), moves sum to (?P<from_moves>-?\d+)",
            N_("balance says {recorded}, moves sum to {from_moves}"),
        ),
        (
            r"kit (?P<serial>\S+) holds (?P<units>-?\d+) units; a kit is one unit or none",
            N_("kit {serial} holds {units} units; a kit is one unit or none"),
        ),
        (
            r"kit (?P<serial>\S+) is (?P<status>\w+) at (?P<where>\S+) but the ledger has none "
            r"on hand",
            N_("kit {serial} is {status} at {where} but the ledger has none on hand"),
        ),
        (
            r"kit (?P<serial>\S+) is (?P<status>\w+) at (?P<where>\S+) but the ledger has its "
            r"unit at (?P<elsewhere>\S+)",
            N_("kit {serial} is {status} at {where} but the ledger has its unit at {elsewhere}"),
        ),
        (
            r"kit (?P<serial>\S+) is (?P<status>\w+) but the ledger still has its unit at "
            r"(?P<elsewhere>\S+)",
            N_("kit {serial} is {status} but the ledger still has its unit at {elsewhere}"),
        ),
        (
            r"kit (?P<serial>\S+) is (?P<status>\w+) at (?P<where>\S+) but its own lot "
            r"(?P<lot>\S+) is (?P<lot_status>\w+)",
            N_("kit {serial} is {status} at {where} but its own lot {lot} is {lot_status}"),
        ),
    )
)


_WEEKDAYS = "Mondays|Tuesdays|Wednesdays|Thursdays|Fridays|Saturdays|Sundays"
_BOOKING_REASONS = (
    re.compile(rf"(?P<clinic>\S+) is closed on (?P<weekdays>{_WEEKDAYS})"),
    re.compile(rf"(?P<clinic>\S+) is closed on {_DAY}: (?P<reason>.*)"),
    re.compile(
        r"(?P<clinic>\S+) is closed (?P<first>\d{4}-\d{2}-\d{2}) to "
        r"(?P<last>\d{4}-\d{2}-\d{2}): (?P<reason>.*)"
    ),
    re.compile(rf"(?P<kind>\w+) (?P<number>\d+) moved to {_DAY} and comes first"),
    re.compile(rf"(?P<clinic>\S+) is full on {_DAY} \((?P<n>\d+) sessions? a day\)"),
)


def _booking_reason(text: str) -> str | None:
    """Why a clinic visit was booked off its calendar day, as kitops stores it (English:
    ``kitops.services.clinic_calendar``), in the language in force; None: not one."""
    import datetime as dt

    from kitops.i18n.formats import date

    for number, pattern in enumerate(_BOOKING_REASONS):
        found = pattern.fullmatch(text)
        if found is None:
            continue

        def day(name: str, found: re.Match[str] = found) -> str:
            return date(dt.date.fromisoformat(found[name]))

        if number == 0:
            return gettext("{clinic} is closed on {weekdays}").format(
                clinic=found["clinic"], weekdays=gettext(found["weekdays"])
            )
        if number in (1, 2):
            days = (
                gettext("on {day}").format(day=day("day"))
                if number == 1
                else gettext("{first} to {last}").format(first=day("first"), last=day("last"))
            )
            return gettext("{clinic} is closed {days}: {reason}").format(
                clinic=found["clinic"], days=days, reason=found["reason"]
            )
        if number == 3:
            return gettext("{kind} {number} moved to {day} and comes first").format(
                kind=found["kind"], number=found["number"], day=day("day")
            )
        room = ngettext("{n} session a day", "{n} sessions a day", int(found["n"]))
        return gettext("{clinic} is full on {day} ({room})").format(
            clinic=found["clinic"], day=day("day"), room=room.format(n=found["n"])
        )
    return None


def _stored_part(text: str) -> str:
    known = _STORED_PHRASES.get(text)
    if known is not None:
        return gettext(known)
    reason = _booking_reason(text)
    if reason is not None:
        return reason
    for pattern, message in _STORED_PATTERNS:
        found = pattern.fullmatch(text)
        if found is None:
            continue
        fields = found.groupdict()
        for name in ("status", "lot_status"):
            if name in fields:
                fields[name] = status_label(fields[name])
        if "day" in fields:
            import datetime as dt

            from kitops.i18n.formats import date

            fields["day"] = date(dt.date.fromisoformat(fields["day"]))
        return gettext(message).format(**fields)
    return text


def stored_text(text: str | None) -> str:
    """A reason or note as stored → as shown: the phrases kitops writes ("paused on
    request", "expiry sweep 2026-12-04", a payment's notes joined with "; ") in the
    language in force, anything else (what a person typed) as it is. ``--json`` keeps the
    stored text."""
    if not text:
        return ""
    return "; ".join(_stored_part(part) for part in text.split("; "))


# The keys kitops writes in a course's audit rows (``kitops course show``'s history), as a
# person reads them; the audit row and ``--json`` keep the stored key and value.
_DETAIL_KEYS = {
    "plan": N_("plan"),
    "clinic": N_("clinic"),
    "start": N_("start"),
    "weekdays": N_("weekdays"),
    "overlap": N_("overlap"),
    "at": N_("at"),
    "status": N_("status"),
    "reason": N_("reason"),
    "paused_on": N_("paused on"),
    "kit": N_("kit"),
    "kits": N_("kits"),
    "kits_released": N_("kits released"),
    "kits_out_not_lasting": N_("kits out not lasting"),
    "application": N_("application"),
    "applications_left": N_("applications left"),
    "from": N_("from"),
    "session": N_("session"),
    "date": N_("date"),
    "lot": N_("lot"),
    "vials": N_("vials"),
    "vial_opened_at_session": N_("vial opened at session"),
    "supplies": N_("supplies"),
    "part": N_("part"),
    "returned_opened": N_("returned opened"),
}
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _detail_value(key: str, value: object) -> str:
    from kitops.i18n import formats

    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int):
        return formats.number(value)
    if isinstance(value, list | tuple):
        return " ".join(_detail_value(key, item) for item in value)
    if isinstance(value, dict):
        return " ".join(f"{status_label(k)}: {_detail_value(str(k), v)}"
                        for k, v in value.items())  # fmt: skip
    text = str(value)
    if _ISO_DAY.fullmatch(text):
        import datetime as dt

        return formats.date(dt.date.fromisoformat(text))
    if key == "status":
        return status_label(text)
    if key == "reason":
        return stored_text(text)
    return text


def audit_details(details: Iterable[tuple[str, object]]) -> str:
    """A course audit row's values as a person reads them, in the language in force:
    ``kits released K0000005, overlap no`` / ``Kits freigegeben K0000005, Überschneidung nein``.
    ``details`` is the row's (key, value) pairs; keys kitops does not know are shown with
    underscores as spaces."""
    parts = []
    for key, value in details:
        label = _DETAIL_KEYS.get(key)
        name = gettext(label) if label is not None else str(key).replace("_", " ")
        parts.append(f"{name} {_detail_value(key, value)}")
    return ", ".join(parts)
