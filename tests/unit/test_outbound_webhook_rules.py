"""The rules of outbound webhooks: the signature a receiver checks, the back-off, the
events and URLs a subscription may name, and payloads without patients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kitops.domain import outbound_webhooks as rules
from kitops.errors import InvalidInput


def test_a_signature_verifies_only_with_its_secret_body_and_a_recent_time():
    header = rules.sign(b"s3cret", 1_800_000_000, b'{"id":"evt_1"}')
    assert header.startswith("t=1800000000,v1=")
    assert rules.verify(b"s3cret", header, b'{"id":"evt_1"}', 1_800_000_100)
    assert not rules.verify(b"other", header, b'{"id":"evt_1"}', 1_800_000_100)
    assert not rules.verify(b"s3cret", header, b'{"id":"evt_2"}', 1_800_000_100)
    assert not rules.verify(b"s3cret", header, b'{"id":"evt_1"}', 1_800_000_301)  # replayed
    assert not rules.verify(b"s3cret", "v1=abc", b"{}", 1_800_000_000)


def test_the_back_off_doubles_up_to_an_hour_and_gives_up_after_a_day():
    assert [rules.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert rules.backoff(30) == timedelta(hours=1)
    start = datetime(2026, 12, 6, tzinfo=UTC)
    assert not rules.gives_up(start, start + timedelta(hours=23, minutes=59))
    assert rules.gives_up(start, start + timedelta(hours=24))


def test_events_and_urls_are_checked():
    assert rules.parse_events("lot.recalled, kit.shipped") == ("lot.recalled", "kit.shipped")
    assert rules.parse_events("all") == rules.EVENTS
    with pytest.raises(InvalidInput) as bad:
        rules.parse_events("lot.exploded")
    assert (bad.value.field, bad.value.value) == ("--events", "lot.exploded")
    assert rules.parse_url("https://erp.example/hooks") == "https://erp.example/hooks"
    assert rules.parse_url("http://127.0.0.1:9000/x") == "http://127.0.0.1:9000/x"
    for url in ("http://erp.example/hooks", "ftp://x/y", "not a url"):
        with pytest.raises(InvalidInput):
            rules.parse_url(url)


def test_a_payload_never_names_a_patient():
    body = rules.payload(
        "evt_7", "course.created", datetime(2026, 12, 6, tzinfo=UTC), entity="course",
        key="12", actor="maria", after={"patient_ref": "P-LON-0001", "plan": "home-6w"},
    )  # fmt: skip
    assert body["data"]["change"] == {"plan": "home-6w"}
    assert body["id"] == "evt_7"


def test_the_readme_receiver_check_accepts_what_kitops_signs():
    """The ten lines the README gives a receiver verify a real signature (and only it)."""
    import re
    import time
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Outbound webhooks", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    scope: dict[str, object] = {}
    exec(code.group(1), scope)
    check = scope["kitops_event_is_genuine"]
    body = b'{"id":"evt_1","type":"lot.recalled"}'
    header = rules.sign(b"s3cret", int(time.time()), body)
    assert check(b"s3cret", header, body)  # type: ignore[operator]
    assert not check(b"other", header, body)  # type: ignore[operator]
    assert not check(b"s3cret", rules.sign(b"s3cret", int(time.time()) - 600, body), body)  # type: ignore[operator]
