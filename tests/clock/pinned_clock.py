"""The suite's pinned clock (``pytest --today ...``), shared by the test process and the
child processes the tests start.

A pin is ``YYYY-MM-DD`` (noon UTC that day), or an ISO 8601 date and time with an offset
(``2026-12-31T23:59Z``) or with a time zone in brackets (``2027-03-28T23:30[Europe/London]``,
which also sets the process's local zone, so ``date.today()`` is London's day). The pytest
plugin in ``tests/conftest.py`` travels there when the session starts and again at the
start of every test (so each test starts on the pinned day, not minutes later); it puts
this folder on ``PYTHONPATH`` with the pin in ``ENV``, and ``sitecustomize.py`` here
travels every child Python process to the same instant.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

ENV = "TESTS_PINNED_CLOCK"  # not KITOPS_*: the fault tests strip those from children
_SPEC = re.compile(r"^(?P<when>[^\[\]\s]+)(?:\[(?P<zone>[A-Za-z0-9_+\-/]+)\])?$")


def parse(spec: str) -> datetime:
    """The instant a pin names, timezone-aware; ValueError for anything else."""
    try:
        return _parse(spec)
    except (ValueError, KeyError) as error:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(
            f"--today {spec!r}: expected YYYY-MM-DD or an ISO date and time with an offset "
            f"or a [Zone/Name] ({error})"
        ) from None


def _parse(spec: str) -> datetime:
    found = _SPEC.match(spec.strip())
    if not found:
        raise ValueError("not a date")
    when, zone = found["when"], found["zone"]
    if len(when) == 10:
        day = date.fromisoformat(when)
        instant = datetime.combine(day, time(12), ZoneInfo(zone) if zone else UTC)
    else:
        instant = datetime.fromisoformat(when.replace("Z", "+00:00"))
        if zone:
            if instant.tzinfo is not None:
                raise ValueError("give an offset or a zone, not both")
            instant = instant.replace(tzinfo=ZoneInfo(zone))
        elif instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
    return instant


def travel(spec: str):  # type: ignore[no-untyped-def]
    """A started ``time_machine`` traveller at the pin; the clock runs on from there."""
    import time_machine

    traveller = time_machine.travel(parse(spec), tick=True)
    traveller.start()
    return traveller


def export(spec: str) -> None:
    """Make child Python processes start at the pin too."""
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ[ENV] = spec
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if here not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([here, *paths])
