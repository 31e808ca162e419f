"""Clinic scoping, enforced in the services whoever calls them: a user limited to some
clinics (``user set-clinics``) sees their stock, kits, courses and orders only, and any
change at a place of another clinic is refused, audited, and writes nothing else."""

from __future__ import annotations

import pytest
from ledger_support import AS_OF, writes
from sqlalchemy import select

from kitops.data.schema import AuditRow
from kitops.errors import InvalidInput, NotAllowed
from kitops.services import operations, stock, users
from kitops.services.operations import ReceiptInput
from kitops.views import pages


@pytest.fixture
def scoped(loaded, uow):
    """sam (stockroom) limited to ESX, mia (manager) to LON and ESX, ada (admin) to ESX;
    max (manager) sees every clinic."""
    for name, role in (("sam", "stockroom"), ("mia", "manager"), ("ada", "admin"),
                       ("max", "manager")):  # fmt: skip
        users.add_user(uow(), name, role)
    users.set_clinics(uow(), "sam", ["ESX"])
    users.set_clinics(uow(), "mia", ["LON", "esx"])
    users.set_clinics(uow(), "ada", ["ESX"])
    return uow


def refusals(db) -> list[tuple[str, str, str]]:
    with db.read_sessions() as session:
        rows = session.execute(
            select(AuditRow.actor, AuditRow.entity_key, AuditRow.after)
            .where(AuditRow.action == "access.refused")
            .order_by(AuditRow.id)
        ).all()
    return [(actor, key, after["reason"]) for actor, key, after in rows]


# --- the limit itself --------------------------------------------------------------------


def test_a_users_clinics_are_shown_and_the_change_is_audited(db, scoped):
    assert users.get_user(scoped(), "mia").clinics == ("ESX", "LON")
    listed = {u.name: u.clinics for u in users.list_users(scoped())}
    assert listed["sam"] == ("ESX",)
    assert listed["max"] == ()
    assert listed["tester"] == ()
    with db.read_sessions() as session:
        row = session.execute(
            select(AuditRow.actor, AuditRow.before, AuditRow.after)
            .where(AuditRow.action == "user.set_clinics", AuditRow.entity_key == "mia")
        ).one()  # fmt: skip
    assert row == ("tester", {"clinics": "all"}, {"clinics": ["ESX", "LON"]})


def test_an_empty_list_lifts_the_limit(scoped):
    assert users.set_clinics(scoped(), "sam", []).clinics == ()
    assert users.get_user(scoped(), "sam").clinics == ()


def test_an_unknown_clinic_is_bad_input_and_changes_nothing(db, scoped):
    before = writes(db)
    with pytest.raises(InvalidInput, match=r"clinics.*NOPE"):
        users.set_clinics(scoped(), "sam", ["LON", "NOPE"])
    with pytest.raises(InvalidInput, match=r"clinics.*LON-FRIDGE.*not a clinic"):
        users.set_clinics(scoped(), "sam", ["LON-FRIDGE"])
    assert writes(db) == before
    assert users.get_user(scoped(), "sam").clinics == ("ESX",)


def test_only_admins_limit_users(db, scoped):
    with pytest.raises(NotAllowed, match="may not limit users to clinics"):
        users.set_clinics(scoped(actor="max"), "sam", ["LON"])
    assert refusals(db)[-1][:2] == ("max", "user.manage")


def test_an_admin_limited_to_clinics_cannot_reach_beyond_them(db, scoped):
    with pytest.raises(NotAllowed, match="ada may not give users access at clinic LON"):
        users.set_clinics(scoped(actor="ada"), "ada", ["LON", "ESX"])
    with pytest.raises(NotAllowed, match="ada may not give a user every clinic"):
        users.set_clinics(scoped(actor="ada"), "sam", [])
    assert users.get_user(scoped(), "ada").clinics == ("ESX",)
    assert users.get_user(scoped(), "sam").clinics == ("ESX",)
    assert [key for _, key, _ in refusals(db)] == ["clinic.scope", "clinic.scope"]
    # within their own clinics they still manage users
    assert users.set_clinics(scoped(actor="ada"), "max", ["ESX"]).clinics == ("ESX",)


# --- stock -------------------------------------------------------------------------------


def test_a_scoped_user_sees_the_stock_of_its_clinics_only(scoped):
    everywhere = stock.stock_on_hand(scoped(), today=AS_OF)
    assert {line.clinic for line in everywhere} == {"LON", "ESX", "VIE"}
    mine = stock.stock_on_hand(scoped(actor="sam"), today=AS_OF)
    assert mine
    assert {line.clinic for line in mine} == {"ESX"}
    assert mine == [line for line in everywhere if line.clinic == "ESX"]
    assert stock.stock_on_hand(scoped(actor="sam"), location="LON", today=AS_OF) == []
    page = pages.stock_page(scoped(actor="mia"), today=AS_OF)
    assert {line.clinic for line in page.lines} == {"LON", "ESX"}
    assert page.total == len([line for line in page.lines])


def test_a_stock_page_filtered_to_another_clinic_is_refused(db, scoped):
    with pytest.raises(
        NotAllowed, match="sam may not see stock at clinic LON: sam is limited to ESX"
    ):
        pages.stock_page(scoped(actor="sam"), clinic="LON", today=AS_OF)
    assert refusals(db)[-1][:2] == ("sam", "clinic.scope")


def test_receiving_at_another_clinic_is_refused_and_writes_only_the_refusal(db, scoped):
    before = writes(db)
    given = ReceiptInput(location="LON-SHELF", sku="CHX-0.5", quantity=5)
    with pytest.raises(NotAllowed, match="sam may not receive stock at clinic LON"):
        operations.receive(scoped(actor="sam"), given, today=AS_OF)
    assert writes(db) == (before[0], before[1] + 1)
    assert refusals(db)[-1][:2] == ("sam", "clinic.scope")
    done = operations.receive(
        scoped(actor="sam"), ReceiptInput(location="ESX-SHELF", sku="CHX-0.5",
                                          quantity=5), today=AS_OF)  # fmt: skip
    assert done.location == "ESX-SHELF"


def test_a_move_needs_both_ends_in_scope(db, scoped):
    before = writes(db)
    with pytest.raises(NotAllowed, match="sam may not move stock at clinic LON"):
        operations.move(scoped(actor="sam"), "CHX-0.5", 1, "ESX-SHELF", "LON-SHELF", today=AS_OF)
    with pytest.raises(NotAllowed, match="sam may not move stock at clinic LON"):
        operations.move(scoped(actor="sam"), "CHX-0.5", 1, "LON-SHELF", "ESX-SHELF", today=AS_OF)
    assert writes(db) == (before[0], before[1] + 2)
    moved = operations.move(scoped(actor="mia"), "CHX-0.5", 1, "LON-SHELF", "ESX-SHELF",
                            today=AS_OF)  # fmt: skip
    assert moved.quantity == 1
