"""The quiet-hours window of the email alerts: parsed, shown and asked, pure."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from kitops.domain.alerts import QuietHours, parse_quiet_hours, quiet_hours_text
from kitops.errors import InvalidInput


def test_a_window_over_midnight_holds_late_evening_and_early_morning():
    hours = parse_quiet_hours("22:00-07:00 Europe/London")
    assert hours == QuietHours(time(22), time(7), "Europe/London")
    assert hours.holds(datetime(2026, 11, 22, 22, 0, tzinfo=UTC))
    assert hours.holds(datetime(2026, 11, 23, 6, 59, tzinfo=UTC))
    assert not hours.holds(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert not hours.holds(datetime(2026, 11, 22, 21, 59, tzinfo=UTC))
    # in British summer time 22:00 London is 21:00 UTC
    assert hours.holds(datetime(2026, 7, 1, 21, 30, tzinfo=UTC))


def test_a_window_within_one_day():
    hours = parse_quiet_hours("12:00-13:30 UTC")
    assert hours is not None
    assert hours.holds(datetime(2026, 11, 22, 12, 45, tzinfo=UTC))
    assert not hours.holds(datetime(2026, 11, 22, 13, 30, tzinfo=UTC))


@pytest.mark.parametrize("text", ["off", "OFF", " "])
def test_off_means_no_window(text):
    assert parse_quiet_hours(text) is None
    assert quiet_hours_text(None) == "off"


def test_the_window_is_shown_as_typed_tidily():
    assert quiet_hours_text(parse_quiet_hours("7:05-9:00")) == "07:05-09:00"
    assert quiet_hours_text(parse_quiet_hours(" 22:00-07:00  Europe/Vienna")) == (
        "22:00-07:00 Europe/Vienna"
    )


@pytest.mark.parametrize("text", ["22-07", "25:00-07:00", "22:00-07:60", "22:00-07:00 Mars/Base"])
def test_a_malformed_window_names_the_setting(text):
    with pytest.raises(InvalidInput) as refused:
        parse_quiet_hours(text)
    assert refused.value.field == "alert_quiet_hours"
