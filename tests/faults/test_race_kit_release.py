"""A kit back sealed from a patient goes back to stock only through a manager's release,
which reads its component lots again under a share lock a recall must wait for
(PostgreSQL; SQLite's writer lock serialises the two commands). Whatever the order of a
release and a recall of one of its lots, the kit never ends available unflagged."""

from __future__ import annotations

import pytest
from fault_support import db_check_passes, ok
from test_races import _race, _sql

pytestmark = pytest.mark.demo_data

KIT = "K0000005"  # reserved for course 5 at ESX; holds serum lot PTT6-B0902
RECALL = ("lot", "recall", "PTT6-B0902", "--reason", "supplier notice 2026-121")
RELEASE = ("kit", "release", KIT)


@pytest.fixture
def returned(db_url, backend):
    if backend != "postgresql":
        pytest.skip("SQLite's writer lock serialises a release and a recall")
    ok(db_url, "kit", "handover", KIT)
    ok(db_url, "kit", "return", KIT, "--condition", "sealed")
    return db_url


def _kit(url: str) -> tuple[object, ...]:
    [row] = _sql(url, "SELECT status, recalled FROM kits WHERE serial = :serial", serial=KIT)
    return row


def test_a_release_during_a_recall_waits_for_it_and_keeps_the_kit_out(returned):
    # the recall has flagged the kit but not committed: the release waits on the lot's
    # lock, then sees the recall and refuses
    recall, release = _race(returned, RECALL, "lot.status:after_change", RELEASE)

    assert recall[0] == 0, recall[2]
    assert release[0] == 1, release
    assert KIT in release[2]
    assert _kit(returned) == ("recalled", True)
    db_check_passes(returned)


def test_a_recall_during_a_release_waits_for_it_and_flags_the_kit(returned):
    # the release has made the kit available but not committed: the recall waits on the
    # lot's lock (the release holds it shared), then finds the kit and takes it out
    release, recall = _race(returned, RELEASE, "kit.release:after_change", RECALL)

    assert release[0] == 0, release[2]
    assert recall[0] == 0, recall[2]
    assert _kit(returned) == ("recalled", True)
    db_check_passes(returned)
