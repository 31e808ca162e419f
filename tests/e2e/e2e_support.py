"""Plain helpers shared by the end-to-end CLI tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import time_machine


@dataclass(frozen=True)
class State:
    """Everything a refused command must leave alone."""

    catalog: Any
    locations: Any
    stock: Any
    audit_rows: int


def json_of(cli, *args, db: str | None = None) -> Any:
    """Run a command that must succeed and return its parsed ``--json`` output."""
    result = cli(*args, db=db)
    assert result.code == 0, (result.code, result.err)
    return json.loads(result.out)


def assert_bad_input(result, *needles: str) -> None:
    """Exit 2 with exactly one line on stderr naming the field and the value."""
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def assert_refused(result, *needles: str) -> None:
    """Exit 1 with a one-line reason on stderr."""
    assert result.code == 1, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def write_csv(directory: Path, name: str, *lines: str) -> str:
    """Write ``lines`` as a CSV file and return its path."""
    path = directory / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def keys_and_types(record: dict[str, Any], expected: dict[str, type | tuple[type, ...]]) -> None:
    """``record`` has exactly the expected keys, each value of the expected type(s)."""
    assert set(record) == set(expected), sorted(set(record) ^ set(expected))
    for key, kind in expected.items():
        assert isinstance(record[key], kind), (key, record[key], kind)
        if kind is int or kind == (int, type(None)):
            assert not isinstance(record[key], bool), (key, record[key])


def open_day(day: date) -> date:
    """``day``, or the next day every demo clinic is open (the demo's clinics close on
    Sundays, VIE on Saturdays too, and all of them for Christmas and Boxing Day): the
    start of a home course, whose first application is made in the clinic."""
    while day.weekday() >= 5 or (day.month, day.day) in ((12, 25), (12, 26)):
        day += timedelta(days=1)
    return day


def on_day(day: str) -> Any:
    """The clock at noon UTC on ``day`` (YYYY-MM-DD): the same date at every demo clinic,
    for a command that must run on that day (a session is recorded when it happens)."""
    return time_machine.travel(datetime.combine(date.fromisoformat(day), time(12), UTC), tick=False)
