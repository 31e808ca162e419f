"""Kit and purchase-order statuses have one owner, the domain: the same sets as the
database's CHECK constraints, and the changes a person asks refused in the stockroom's
words."""

import re

import pytest

from kitops.data.schema import KitRow, PurchaseOrderRow
from kitops.domain.kits import (
    GONE,
    KIT_STATUSES,
    ON_A_SHELF,
    TRANSITIONS,
    KitChange,
    KitStatus,
    check_change,
    may,
)
from kitops.domain.purchasing import OPEN_PO_STATUSES, PO_STATUSES, check_transition
from kitops.errors import Refused


def _checked_statuses(table) -> set[str]:
    [check] = [
        c for c in table.constraints
        if str(getattr(c, "sqltext", "")).startswith("status IN")
    ]  # fmt: skip
    return set(re.findall(r"'([a-z_]+)'", str(check.sqltext)))


def test_kit_statuses_are_the_ones_the_database_accepts():
    assert set(KIT_STATUSES) == _checked_statuses(KitRow.__table__)


def test_order_statuses_are_the_ones_the_database_accepts():
    assert set(PO_STATUSES) == _checked_statuses(PurchaseOrderRow.__table__)


def test_every_kit_is_on_a_shelf_or_gone_never_both():
    assert set(ON_A_SHELF) | set(GONE) == set(KIT_STATUSES)
    assert not set(ON_A_SHELF) & set(GONE)


@pytest.mark.parametrize("change", list(KitChange))
def test_a_kit_change_starts_only_where_a_transition_leads_on(change):
    for status in KitStatus:
        if may(change, status):
            assert TRANSITIONS[status], f"{change} from {status}, which leads nowhere"


def test_any_kit_on_a_shelf_can_be_written_off_and_one_taken_apart_stays_so():
    assert all(KitStatus.WRITTEN_OFF in TRANSITIONS[KitStatus(s)] for s in ON_A_SHELF)
    assert not TRANSITIONS[KitStatus.DISASSEMBLED]
    assert not TRANSITIONS[KitStatus.WRITTEN_OFF]


def test_only_an_available_or_expired_kit_is_taken_apart():
    check_change(KitChange.DISASSEMBLE, "K0000001", "expired")
    with pytest.raises(Refused, match=r"^kit K0000001 is reserved; only an available or "
                                      r"expired kit can be taken apart$"):  # fmt: skip
        check_change(KitChange.DISASSEMBLE, "K0000001", "reserved")


def test_only_a_kit_that_went_out_can_come_back():
    check_change(KitChange.TAKE_BACK, "K0000002", "handed_over")
    with pytest.raises(Refused, match="is available; only a kit that went out can return"):
        check_change(KitChange.TAKE_BACK, "K0000002", "available")


def test_an_order_is_approved_only_from_draft_and_cancelled_only_while_open():
    assert check_transition("PO-000001", "draft", "approve") == "approved"
    assert all(check_transition("PO-000001", s, "cancel") == "cancelled" for s in OPEN_PO_STATUSES)
    with pytest.raises(Refused, match=r"^PO-000001 is received; only a draft or approved or "
                                      r"sent or partial order can be cancelled$"):  # fmt: skip
        check_transition("PO-000001", "received", "cancel")
