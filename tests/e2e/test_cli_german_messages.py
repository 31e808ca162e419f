"""Dates and money inside refusals as a German reader writes them (``4.12.2026``,
``3,50 £``), while the neutral ``en`` keeps ISO dates and ``3.50 GBP``; the value a person
typed is echoed as typed."""

from __future__ import annotations

import re

import pytest
from e2e_support import assert_bad_input, on_day

from kitops.i18n import use_locale

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
GERMAN_DAY = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")


def german(cli, *args: str):
    with use_locale("de"):
        return cli(*args)


def _reason(result) -> str:
    return result.err.strip().split("': ", 1)[1]


def test_a_day_in_the_past_is_refused_with_a_german_today(demo):
    args = ("clinic", "closure", "VIE", "--from", "2020-01-01", "--to", "2020-01-02",
            "--reason", "Umbau")  # fmt: skip
    shown = german(demo, *args)
    assert_bad_input(shown, "to '2020-01-02'")
    assert GERMAN_DAY.search(_reason(shown)), shown.err
    assert not ISO.search(_reason(shown)), shown.err
    english = demo(*args)
    assert_bad_input(english, "to '2020-01-02'", "is in the past")
    assert ISO.search(_reason(english)), english.err


def test_a_window_the_wrong_way_round_names_the_other_day_in_german(demo):
    args = ("report", "payments", "--from", "2026-12-05", "--to", "2026-12-01")
    shown = german(demo, *args)
    assert_bad_input(shown, "since '2026-12-05'", "(1.12.2026)")
    assert_bad_input(demo(*args), "since '2026-12-05'", "(2026-12-01)")


def test_a_cost_in_a_foreign_currency_is_refused_with_german_money(demo):
    args = ("receive", "CHX-0.5", "--qty", "1", "--location", "VIE-SHELF", "--cost", "3.50", "GBP")
    shown = german(demo, *args)
    assert shown.code in (1, 2), shown.err
    assert "3,50" in shown.err, shown.err
    assert "3.50 GBP" not in shown.err, shown.err
    english = demo(*args)
    assert "cost 3.50 GBP: GBP is not VIE's currency" in english.err, english.err


def test_a_reason_kitops_wrote_is_shown_in_german_and_a_typed_one_as_typed(demo):
    from e2e_support import json_of

    courses = json_of(demo, "course", "list", "--json")
    first, second = [c["id"] for c in courses if c["status"] in ("scheduled", "active")][:2]
    paused = german(demo, "course", "pause", str(first))
    assert paused.code == 0, paused.err
    assert "(auf Wunsch pausiert)" in paused.out, paused.out
    shown = german(demo, "course", "show", str(first))
    status_line = shown.out.splitlines()[0]
    assert "auf Wunsch pausiert" in status_line, shown.out
    assert "paused on request" not in status_line
    # what a person typed stays as typed; --json keeps the stored words
    typed = german(demo, "course", "pause", str(second), "--reason", "holiday in Spain")
    assert "(holiday in Spain)" in typed.out, typed.out
    stored = json_of(demo, "course", "show", str(first), "--json")
    assert stored["status_reason"] == "paused on request"
    assert "(paused on request)" in demo("course", "show", str(first)).out


@pytest.mark.demo_data
def test_the_next_day_a_home_course_can_start_in_german(cli):
    with on_day("2026-11-23"):
        args = ("course", "create", "--patient", "P-CAL-4", "--plan", "home-6w",
                "--start", "2026-12-05", "--clinic", "VIE")  # fmt: skip
        refused = german(cli, *args)
        english = cli(*args)
    assert_bad_input(refused, "start '2026-12-05'", "der nächste mögliche Tag ist 7.12.2026 (Mo.)")
    assert_bad_input(english, "the next day it can is 2026-12-07 (Mon)")
