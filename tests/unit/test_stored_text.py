"""Reasons and notes kitops stores in English, shown in the language in force; what a
person typed is shown as typed."""

from __future__ import annotations

import pytest

from kitops.i18n import use_locale
from kitops.i18n.labels import audit_details, stored_text


@pytest.mark.parametrize(
    ("stored", "german"),
    [
        ("paused on request", "auf Wunsch pausiert"),
        ("expiry sweep 2026-12-04", "Verfallsprüfung 4.12.2026"),
        ("order 12 refunded", "Auftrag 12 erstattet"),
        ("kit 2 returned opened", "Kit 2 geöffnet zurückgegeben"),
        ("paid; kits released: K-1, K-2", "bezahlt; Kits freigegeben: K-1, K-2"),
        (
            "kit K-7 is shipped at VIE but its own lot L-1 is recalled",
            "Kit K-7 ist versendet in VIE, aber seine eigene Charge L-1 ist zurückgerufen",
        ),
        ("holiday in Spain", "holiday in Spain"),
        ("paid; the patient rang", "bezahlt; the patient rang"),
    ],
)
def test_stored_words_in_german(stored, german):
    assert stored_text(stored) == stored  # the neutral locale shows them as stored
    with use_locale("de"):
        assert stored_text(stored) == german


def test_no_reason_reads_empty():
    assert stored_text(None) == ""
    assert stored_text("") == ""


@pytest.mark.parametrize(
    ("stored", "german"),
    [
        ("LON is closed on Sundays", "LON ist sonntags geschlossen"),
        (
            "VIE is closed on 2026-12-25: Christmas Day",
            "VIE ist geschlossen am 25.12.2026: Christmas Day",
        ),
        (
            "VIE is closed 2026-12-24 to 2026-12-26: Weihnachten",
            "VIE ist geschlossen von 24.12.2026 bis 26.12.2026: Weihnachten",
        ),
        (
            "application 2 moved to 2026-12-08 and comes first",
            "application 2 wurde auf 8.12.2026 verschoben und kommt zuerst",
        ),
        (
            "LON is full on 2026-12-08 (8 sessions a day)",
            "LON ist am 8.12.2026 ausgebucht (8 Sitzungen pro Tag)",
        ),
    ],
)
def test_a_visits_booking_reason_is_stored_in_english_and_shown_in_german(stored, german):
    assert stored_text(stored) == stored
    with use_locale("de"):
        assert stored_text(stored) == german


# a course's audit row as `kitops course show` lists it: the neutral locale reads what the
# audit row's English words (``HistoryEntry.what``) say; German reads every key and value
_PAUSE = (("status", "paused"), ("reason", "paused on request"), ("paused_on", "2026-12-04"),
          ("kit", "K0000005"))  # fmt: skip
_CANCEL = (("status", "cancelled"), ("kits_released", ["K0000005", "K0000006"]),
           ("overlap", False), ("application", 3), ("kits", {"1": "K0000007"}))  # fmt: skip


def test_a_course_history_row_reads_as_stored_in_the_neutral_locale():
    assert audit_details(_PAUSE) == (
        "status paused, reason paused on request, paused on 2026-12-04, kit K0000005"
    )
    assert audit_details(_CANCEL) == (
        "status cancelled, kits released K0000005 K0000006, overlap no, application 3, "
        "kits 1: K0000007"
    )


def test_a_course_history_row_reads_german():
    with use_locale("de"):
        assert audit_details(_PAUSE) == (
            "Status pausiert, Grund auf Wunsch pausiert, pausiert am 4.12.2026, Kit K0000005"
        )
        assert audit_details(_CANCEL) == (
            "Status storniert, Kits freigegeben K0000005 K0000006, Überschneidung nein, "
            "Anwendung 3, Kits 1: K0000007"
        )
        assert audit_details((("new_key", 1234),)) == "new key 1.234"
