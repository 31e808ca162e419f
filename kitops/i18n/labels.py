"""What the stored words (statuses, filters, sort keys) are called for a person.

The database, ``--json``, CSV and the API keep the stored word (``handed_over``); pages and
screens show ``status_label(word)``: "handed over" in English, "übergeben" in German. A
word this table does not know is shown as stored, with underscores as spaces.
"""

from __future__ import annotations

from kitops.i18n import N_, gettext

__all__ = ["status_label"]

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
