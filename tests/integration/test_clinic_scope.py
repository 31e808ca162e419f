"""Clinic scoping, enforced in the services whoever calls them: a user limited to some
clinics (``user set-clinics``) sees their stock, kits, courses and orders only, and any
change at a place of another clinic is refused, audited, and writes nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_support import AS_OF, writes
from sqlalchemy import select

from kitops.data.schema import AuditRow
from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput, NotAllowed
from kitops.reports.registry import run_report
from kitops.services import (
    calendars,
    courses,
    fulfilment,
    kits,
    labels,
    locations,
    lots,
    operations,
    orders,
    purchasing,
    reorder,
    sessions,
    stock,
    users,
)
from kitops.services.dto.reports import ReportRequest
from kitops.services.operations import ReceiptInput
from kitops.views import dashboard, pages


def _build_scoped(uow) -> None:
    for name, role in (("sam", "stockroom"), ("mia", "manager"), ("ada", "admin"),
                       ("max", "manager")):  # fmt: skip
        users.add_user(uow(), name, role)
    users.set_clinics(uow(), "sam", ["ESX"])
    users.set_clinics(uow(), "mia", ["LON", "esx"])
    users.set_clinics(uow(), "ada", ["ESX"])


@pytest.fixture
def scoped(loaded, uow):
    """sam (stockroom) limited to ESX, mia (manager) to LON and ESX, ada (admin) to ESX;
    max (manager) sees every clinic: added to the demo data once per run and backend, the
    test's database a clone (``TEMPLATE_FIXTURES``, tests/conftest.py)."""
    return uow


TEMPLATE_FIXTURES = {"scoped": _build_scoped}


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


# --- the unit of work's repositories -----------------------------------------------------


def test_each_transaction_gets_its_own_repositories_and_a_scoped_user_the_scoped_ones(scoped):
    from kitops.data.repositories.courses import Courses
    from kitops.services.scoped_repositories import ScopedCourses, ScopedKits

    unlimited = scoped(actor="max", readonly=True)
    with unlimited:
        first = unlimited.courses
        assert unlimited.courses is first  # one per transaction
        assert type(first) is Courses
        assert first.session is unlimited.session
    with unlimited:
        assert unlimited.courses is not first  # made again on the next transaction's session
        assert unlimited.courses.session is unlimited.session
    limited = scoped(actor="sam", readonly=True)
    with limited:
        assert type(limited.courses) is ScopedCourses
        assert type(limited.kits) is ScopedKits
        assert limited.courses.session is limited.session


# --- stock -------------------------------------------------------------------------------


def test_a_scoped_user_sees_the_stock_of_its_clinics_only(scoped):
    everywhere = stock.stock_on_hand(scoped(), today=AS_OF)
    assert {line.clinic for line in everywhere} == {"LON", "ESX", "VIE"}
    mine = stock.stock_on_hand(scoped(actor="sam"), today=AS_OF)
    assert mine
    assert {line.clinic for line in mine} == {"ESX"}
    assert mine == [line for line in everywhere if line.clinic == "ESX"]
    assert stock.stock_on_hand(scoped(actor="sam"), location="esx-shelf", today=AS_OF) == [
        line for line in mine if line.location == "ESX-SHELF"
    ]
    with pytest.raises(NotAllowed, match="sam may not see stock at clinic LON"):
        stock.stock_on_hand(scoped(actor="sam"), location="LON-FRIDGE", today=AS_OF)
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


# --- courses, kits, orders ---------------------------------------------------------------


def _course_of(uow, clinic: str) -> int:
    return next(c.id for c in courses.list_courses(uow()) if c.clinic == clinic)


def test_another_clinics_course_is_not_found_and_lists_omit_it(scoped):
    lon = _course_of(scoped, "LON")
    esx = _course_of(scoped, "ESX")
    listed = courses.list_courses(scoped(actor="sam"))
    assert listed
    assert {c.clinic for c in listed} == {"ESX"}
    assert courses.show_course(scoped(actor="sam"), esx).clinic == "ESX"
    for use in (courses.show_course, courses.cancel_course):
        with pytest.raises(InvalidInput, match=r"course.*no course has this number"):
            use(scoped(actor="sam"), lon)
    assert courses.show_course(scoped(), lon).status != "cancelled"
    page = pages.courses_page(scoped(actor="sam"))
    assert page.total == len(listed)
    assert {c.clinic for c in page.courses} == {"ESX"}


def test_creating_a_course_at_another_clinic_is_refused(db, scoped):
    before = writes(db)
    with pytest.raises(NotAllowed, match="sam may not create a course at clinic LON"):
        courses.create_course(scoped(actor="sam"), "P-SCOPE-1", "home-6w",
                              AS_OF + timedelta(days=5), "LON", today=AS_OF)  # fmt: skip
    assert writes(db) == (before[0], before[1] + 1)
    made = courses.create_course(scoped(actor="sam"), "P-SCOPE-1", "home-6w",
                                 AS_OF + timedelta(days=5), "ESX", today=AS_OF)  # fmt: skip
    assert made.clinic == "ESX"


def test_kits_and_orders_of_other_clinics_are_left_out(scoped):
    every = kits.list_kits(scoped(), today=AS_OF)
    mine = kits.list_kits(scoped(actor="sam"), today=AS_OF)
    assert mine
    assert {k.clinic for k in mine} == {"ESX"}
    assert len(mine) < len(every)
    other = next(k for k in every if k.clinic == "VIE")
    with pytest.raises(InvalidInput, match="no kit has this serial"):
        kits.show_kit(scoped(actor="sam"), other.serial, today=AS_OF)
    kit_page = pages.kits_page(scoped(actor="sam"))
    assert {k.clinic for k in kit_page.kits} == {"ESX"}
    assert {o.clinic for o in orders.list_orders(scoped(actor="mia"))} <= {"LON", "ESX"}
    assert {o.clinic for o in pages.orders_page(scoped(actor="sam")).orders} <= {"ESX"}


def test_a_scoped_dashboard_shows_its_clinics_only(scoped):
    board = dashboard.overview(scoped(actor="mia"), today=AS_OF)
    assert [w.clinic for w in board.clinics] == ["ESX", "LON"]
    assert {a.actor for a in board.activity} <= {"mia"}
    with pytest.raises(NotAllowed, match="may not see the dashboard at clinic VIE"):
        dashboard.overview(scoped(actor="mia"), clinic="VIE", today=AS_OF)


# --- lots --------------------------------------------------------------------------------


def test_a_scoped_manager_makes_a_lot_safer_anywhere_but_releases_only_within_scope(db, scoped):
    # PTT6-A0519 is held in LON and ESX: sam's clinic is ESX only
    done = lots.change_status(scoped(actor="mia"), "PTT6-A0519", LotStatus.QUARANTINE,
                              reason="check")  # fmt: skip
    assert done.status == "quarantine"
    users.set_clinics(scoped(), "mia", ["ESX"])
    before = writes(db)
    with pytest.raises(NotAllowed, match=r"mia may not release lot PTT6-A0519, held at clinic LON"):
        lots.change_status(scoped(actor="mia"), "PTT6-A0519", LotStatus.RELEASED, today=AS_OF)
    assert writes(db) == (before[0], before[1] + 1)
    assert lots.show(scoped(), "PTT6-A0519").status == "quarantine"
    # seen from ESX, the lot is on hand in ESX only
    assert {h.clinic for h in lots.show(scoped(actor="mia"), "PTT6-A0519").on_hand} == {"ESX"}
    released = lots.change_status(scoped(actor="max"), "PTT6-A0519", LotStatus.RELEASED,
                                  today=AS_OF)  # fmt: skip
    assert released.status == "released"


def test_a_trace_shows_only_flows_within_scope(scoped):
    every = lots.trace(scoped(), "DS04-2401")
    mine = lots.trace(scoped(actor="sam"), "DS04-2401")
    places = {f.to_location for f in every.flows} | {f.from_location for f in every.flows}
    assert any(p.startswith("VIE") for p in places)
    assert mine.flows
    for flow in mine.flows:
        assert flow.from_location.startswith("ESX") or flow.to_location.startswith("ESX")
    assert mine.received < every.received


# --- reports, reorder ----------------------------------------------------------------------


def test_reports_keep_to_the_users_clinics(db, scoped):
    report = run_report(scoped(actor="mia", readonly=True), "stock", ReportRequest(as_of=AS_OF))
    clinics = {row["clinic"] for row in report.sections[0].records()}
    assert clinics
    assert clinics <= {"LON", "ESX"}
    with pytest.raises(NotAllowed, match="mia may not run reports at clinic VIE"):
        run_report(scoped(actor="mia", readonly=True), "stock",
                   ReportRequest(clinic="VIE", as_of=AS_OF))  # fmt: skip
    users.set_clinics(scoped(), "mia", ["ESX"])
    one = run_report(scoped(actor="mia", readonly=True), "stock", ReportRequest(as_of=AS_OF))
    assert one.clinic == "ESX"


def test_the_reorder_job_is_refused_to_a_scoped_manager_whose_preview_is_theirs(db, scoped):
    before = writes(db)
    with pytest.raises(NotAllowed, match="mia may not run the reorder job"):
        reorder.run(scoped(actor="mia"), as_of=AS_OF)
    assert writes(db) == (before[0], before[1] + 1)
    preview = reorder.run(scoped(actor="mia"), as_of=AS_OF, dry_run=True)
    assert {s.clinic for s in preview.suggestions} <= {"LON", "ESX"}


def test_fulfilling_another_clinics_course_is_not_found_on_every_path(db, scoped):
    # on PostgreSQL a one-kit course is reserved in one statement: not for a scoped user
    lon = courses.create_course(scoped(), "P-SCOPE-2", "home-6w", AS_OF + timedelta(days=3),
                                "LON", today=AS_OF)  # fmt: skip
    before = writes(db)
    with pytest.raises(InvalidInput, match="no course has this number"):
        fulfilment.fulfil_course(scoped(actor="sam"), lon.id, today=AS_OF)
    assert writes(db) == before
    assert not courses.show_course(scoped(), lon.id).kits
    esx = courses.create_course(scoped(), "P-SCOPE-3", "home-6w", AS_OF + timedelta(days=3),
                                "ESX", today=AS_OF)  # fmt: skip
    served = fulfilment.fulfil_course(scoped(actor="sam"), esx.id, today=AS_OF)
    assert [line.clinic for line in served.served] == ["ESX"]


def test_purchase_orders_keep_to_their_delivery_clinic(db, scoped):
    reorder.run(scoped(), as_of=AS_OF)  # drafts, for ESX on the demo data
    every = purchasing.list_orders(scoped(), status=None)
    assert every
    users.set_clinics(scoped(), "sam", ["LON"])
    assert [o.number for o in purchasing.list_orders(scoped(actor="sam"), status=None)] == [
        o.number for o in every if o.clinic == "LON"
    ]
    other = next(o for o in every if o.clinic != "LON")
    refused = f"sam may not use a purchase order at clinic {other.clinic}"
    with pytest.raises(NotAllowed, match=refused):
        purchasing.show_order(scoped(actor="sam"), other.number)
    assert refusals(db)[-1][:2] == ("sam", "clinic.scope")
    assert purchasing.show_order(scoped(actor="mia"), other.number).clinic == other.clinic


def test_a_report_that_cannot_be_narrowed_to_several_clinics_asks_for_one(scoped):
    with pytest.raises(NotAllowed, match="mia may not see the demand of every clinic"):
        run_report(scoped(actor="mia", readonly=True), "demand", ReportRequest(as_of=AS_OF))
    report = run_report(scoped(actor="mia", readonly=True), "demand",
                        ReportRequest(clinic="LON", as_of=AS_OF))  # fmt: skip
    assert report.clinic == "LON"


def test_a_scoped_recall_reaches_every_clinic_but_reports_the_users_own(db, scoped):
    users.set_clinics(scoped(), "mia", ["ESX"])
    kit_clinic = {k.serial: k.clinic for k in kits.list_kits(scoped(), today=AS_OF)}
    recalled = lots.change_status(scoped(actor="mia"), "DS05-2402", LotStatus.RECALLED,
                                  reason="supplier notice")  # fmt: skip
    assert lots.show(scoped(), "DS05-2402").status == "recalled"  # everywhere: one lot
    assert recalled.kits_flagged
    assert {kit_clinic[serial] for serial in recalled.kits_flagged} == {"ESX"}
    flagged = {k.serial for k in kits.list_kits(scoped(), today=AS_OF) if k.recalled}
    assert {kit_clinic[serial] for serial in flagged} > {"ESX"}


@pytest.mark.parametrize(
    "use",
    [
        lambda uow, cid: courses.pause_course(uow, cid, reason="away", today=AS_OF),
        lambda uow, cid: courses.reschedule_course(
            uow, cid, AS_OF + timedelta(days=9), today=AS_OF
        ),
        lambda uow, cid: courses.complete_course(uow, cid, early=True, reason="x", today=AS_OF),
        lambda uow, cid: calendars.read_calendar(uow, cid),
        lambda uow, cid: orders.create_order(uow, cid),
        lambda uow, cid: sessions.record_session(uow, cid, today=AS_OF),
    ],
    ids=["pause", "reschedule", "complete", "calendar", "order", "session"],
)
def test_every_course_use_case_finds_no_course_of_another_clinic(db, scoped, use):
    lon = _course_of(scoped, "LON")
    before = writes(db)
    with pytest.raises(InvalidInput, match="no course has this number"):
        use(scoped(actor="sam"), lon)
    assert writes(db) == before


def test_kit_use_cases_find_no_kit_of_another_clinic_and_write_nothing(db, scoped):
    lon = next(k for k in kits.list_kits(scoped(), today=AS_OF) if k.clinic == "LON")
    before = writes(db)
    for use in (
        lambda uow: kits.dispatch(uow, lon.serial, handover=True, today=AS_OF),
        lambda uow: kits.take_back(uow, lon.serial, "sealed"),
        lambda uow: kits.disassemble(uow, lon.serial),
        lambda uow: labels.read_labels(uow, [lon.serial]),
    ):
        with pytest.raises(InvalidInput, match="no kit has this serial"):
            use(scoped(actor="sam"))
    assert writes(db) == before


def test_counts_and_write_offs_at_another_clinic_are_refused(db, scoped):
    before = writes(db)
    sheet = [operations.CountedLine(line=1, sku="CHX-0.5", lot="-", counted=0)]
    with pytest.raises(NotAllowed, match="sam may not count stock at clinic LON"):
        operations.count(scoped(actor="sam"), "LON-SHELF", sheet)
    with pytest.raises(NotAllowed, match="sam may not write off stock at clinic VIE"):
        operations.write_off(scoped(actor="sam"), "CHX-0.5", 1, "VIE-SHELF", "damaged")
    with pytest.raises(NotAllowed, match="sam may not assemble kits at clinic LON"):
        kits.assemble(scoped(actor="sam"), "KIT-HOME-6W", 1, "LON-FRIDGE", today=AS_OF)
    assert writes(db) == (before[0], before[1] + 3)
    assert [key for _, key, _ in refusals(db)[-3:]] == ["clinic.scope"] * 3


def test_a_scoped_user_lists_its_clinics_places_and_the_virtual_ones(scoped):
    listed = locations.list_locations(scoped(actor="sam"))
    assert {row.clinic for row in listed} == {"ESX", None}
    assert {"ESX", "ESX-FRIDGE", "SUPPLIER", "PATIENT"} <= {row.code for row in listed}
    assert "LON-FRIDGE" in {row.code for row in locations.list_locations(scoped())}
