"""Roles enforced in the service layer, whoever calls it (CLI, TUI, jobs): a refused use
case writes nothing but its one ``access.refused`` row; a use case inside another is not
checked twice; the acting user is looked up once per transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_support import AS_OF
from sqlalchemy import event, func, select

from kitops.data.schema import AuditRow, JobLockRow, KitRow, LotRow, StockMoveRow
from kitops.domain.ledger import LotStatus
from kitops.errors import NotAllowed
from kitops.reports.registry import run_report
from kitops.services import (
    courses,
    expiry,
    fulfilment,
    lots,
    operations,
    orders,
    reorder,
    users,
)
from kitops.services.dto.reports import ReportRequest


class NoGateway:
    """A payment gateway that must never be reached."""

    def __getattr__(self, name):
        raise AssertionError(f"the gateway was called ({name}) before the role check")


def _add_staff(uow) -> None:
    for name, role in (("sam", "stockroom"), ("mia", "manager"), ("nightly", "job")):
        users.add_user(uow(), name, role)


@pytest.fixture
def staff(loaded, uow):
    """The demo data and three users: built once per run and backend, the test's database
    a clone (``TEMPLATE_FIXTURES``, tests/conftest.py)."""
    return uow


TEMPLATE_FIXTURES = {"staff": _add_staff}


def counts(db) -> tuple[int, int]:
    with db.engine.connect() as conn:
        moves = conn.execute(select(func.count()).select_from(StockMoveRow)).scalar_one()
        audits = conn.execute(select(func.count()).select_from(AuditRow)).scalar_one()
    return moves, audits


def refusals(db) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                select(AuditRow.actor, AuditRow.entity_key)
                .where(AuditRow.action == "access.refused")
                .order_by(AuditRow.id)
            )
        ]


def lot_status(db, code: str) -> str:
    with db.engine.connect() as conn:
        return conn.execute(select(LotRow.status).where(LotRow.code == code)).scalar_one()


def test_stockroom_staff_may_not_recall_and_the_refusal_writes_only_itself(db, staff):
    moves, audits = counts(db)
    with pytest.raises(NotAllowed, match=r"sam \(stockroom\) may not recall a lot: a manager may"):
        lots.change_status(staff(actor="sam"), "PTT6-A0519", LotStatus.RECALLED, reason="test")
    assert lot_status(db, "PTT6-A0519") == "released"
    assert counts(db) == (moves, audits + 1)
    assert refusals(db) == [("sam", "lot.recall")]
    recalled = lots.change_status(staff(actor="mia"), "PTT6-A0519", LotStatus.RECALLED,
                                  reason="test")  # fmt: skip
    assert recalled.status == "recalled"


def test_write_offs_above_the_threshold_need_a_manager(db, staff):
    operations.write_off(staff(actor="sam"), "CHX-0.5", 10, "LON-SHELF", "damaged")
    with pytest.raises(NotAllowed, match=r"more than 10 units at once \(11\): a manager may"):
        operations.write_off(staff(actor="sam"), "CHX-0.5", 11, "LON-SHELF", "damaged")
    assert refusals(db) == [("sam", "stock.writeoff_large")]
    operations.write_off(staff(actor="mia"), "CHX-0.5", 11, "LON-SHELF", "damaged")


def test_the_job_user_runs_the_jobs_and_may_not_touch_stock(db, staff):
    assert not reorder.run(staff(actor="nightly"), as_of=AS_OF).in_progress
    expiry.sweep(staff(actor="nightly"))  # as of today
    with pytest.raises(NotAllowed, match=r"nightly \(job\) may not receive stock"):
        operations.receive(staff(actor="nightly"), operations.ReceiptInput(
            location="LON-FRIDGE", sku="SERUM-5ML", lot="JOB-1",
            expiry=(AS_OF + timedelta(days=300)).isoformat(), quantity=1), today=AS_OF)  # fmt: skip
    with pytest.raises(NotAllowed, match=r"nightly \(job\) may not reserve kits"):
        fulfilment.fulfil_course(staff(actor="nightly"), 3, today=AS_OF)
    with db.engine.connect() as conn:
        reserved = conn.execute(select(KitRow.serial).where(KitRow.course_id == 3)).all()
    assert reserved == []
    assert refusals(db) == [("nightly", "stock.receive"), ("nightly", "course.fulfil")]


def test_the_job_user_sweeps_only_as_of_today_another_day_needs_a_manager(db, staff):
    from kitops import jobs

    work = staff(readonly=True)
    with work:
        today = work.locations.latest_clinic_today()
    moves, audits = counts(db)
    for day in (today - timedelta(days=1), AS_OF):
        with pytest.raises(NotAllowed, match=r"nightly \(job\) may not sweep as of another"):
            expiry.sweep(staff(actor="nightly"), as_of=day)
    record, _, error = jobs.run_job(staff(actor="nightly"), "expiry-sweep", as_of=AS_OF)
    assert isinstance(error, NotAllowed)
    assert (record.status, record.exit_code) == ("refused", 1)
    assert counts(db) == (moves, audits + 3)  # the three refusals, nothing else
    assert lot_status(db, "PTT6-A0412") == "released"
    assert refusals(db) == [("nightly", "expiry.sweep_as_of")] * 3
    # a dry run writes nothing, so the job user may look at any day
    expiry.sweep(staff(actor="nightly"), as_of=AS_OF, dry_run=True)
    assert counts(db) == (moves, audits + 3)
    # today, named or not, is the job's own day
    expiry.sweep(staff(actor="nightly"), as_of=today)
    assert lot_status(db, "PTT6-A0412") == "expired"
    expiry.sweep(staff(actor="mia"), as_of=AS_OF)  # a manager may sweep as of another day


def test_a_refused_reorder_run_takes_no_lease_and_drafts_nothing(db, staff):
    with pytest.raises(NotAllowed, match="may not run the reorder job: a manager or a job user"):
        reorder.run(staff(actor="sam"), as_of=AS_OF)
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(JobLockRow)).scalar_one() == 0
    assert reorder.run(staff(actor="sam"), as_of=AS_OF, dry_run=True).dry_run  # reading is open


def test_payments_are_refused_before_the_gateway_is_asked(staff):
    order = orders.create_order(staff(actor="sam"), 3)
    with pytest.raises(NotAllowed, match=r"nightly \(job\) may not take a payment"):
        orders.pay_order(staff(actor="nightly"), NoGateway(), order.id, payment_method="pm_x")
    with pytest.raises(NotAllowed, match=r"sam \(stockroom\) may not refund an order"):
        orders.refund_order(staff(actor="sam"), NoGateway(), order.id)


def test_reports_are_for_managers(db, staff):
    with pytest.raises(NotAllowed, match=r"sam \(stockroom\) may not run reports"):
        run_report(staff(actor="sam", readonly=True), "stock", ReportRequest(as_of=AS_OF))
    assert refusals(db) == [("sam", "report.run")]
    assert run_report(staff(actor="mia", readonly=True), "stock", ReportRequest(as_of=AS_OF))


def test_a_use_case_inside_another_is_not_checked_again(db, staff):
    """The job user may not move stock, but a job's own transaction may compose use cases
    (as a payment event reserves kits through fulfilment): only the outer one is checked."""
    work = staff(actor="nightly")
    with work:
        work.require("payment.sync")
        operations.move(work, "CHX-0.5", 1, "LON-SHELF", "LON-STORE", today=AS_OF)
        work.commit()
    assert refusals(db) == []
    # a refusal inside an unchecked transaction is recorded once, and rolls it all back
    moves, audits = counts(db)
    work = staff(actor="sam")
    with pytest.raises(NotAllowed), work:
        operations.move(work, "CHX-0.5", 1, "LON-SHELF", "LON-STORE", today=AS_OF)
        lots.change_status(work, "PTT6-A0519", LotStatus.QUARANTINE, reason="nested")
    assert counts(db) == (moves, audits + 1)
    assert refusals(db) == [("sam", "lot.quarantine")]


def test_the_acting_user_is_looked_up_once_per_transaction(db, staff):
    seen: list[str] = []

    def watch(conn, cursor, statement, *args):
        if "FROM users" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        courses.create_course(staff(actor="sam"), "P-ONCE-1", "home-6w",
                              AS_OF + timedelta(days=5), "LON", today=AS_OF)  # fmt: skip
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert len(seen) == 1, seen


def test_a_disabled_user_is_refused_in_every_use_case(db, staff):
    users.set_active(staff(), "sam", False)
    with pytest.raises(NotAllowed, match="user sam is disabled"):
        operations.move(staff(actor="sam"), "CHX-0.5", 1, "LON-SHELF", "LON-STORE")
    with pytest.raises(NotAllowed, match="user sam is disabled"):
        lots.show(staff(actor="sam", readonly=True), "PTT6-A0519")
    assert refusals(db) == [("sam", "user.active"), ("sam", "user.active")]


def test_a_count_that_shrinks_a_product_beyond_the_threshold_needs_a_manager(db, staff):
    """Stock counted away is gone as surely as stock written off: the same threshold."""
    from kitops.services.operations import CountedLine

    def on_hand() -> int:
        detail = lots.show(staff(), "PTT6-B0902")
        return next(p.quantity for p in detail.on_hand if p.location == "LON-FRIDGE")

    def count_to(actor: str, quantity: int) -> None:
        operations.count(staff(actor=actor), "LON-FRIDGE",
                         [CountedLine(2, "SERUM-5ML", "PTT6-B0902", quantity)])  # fmt: skip

    start = on_hand()
    count_to("sam", start - 10)  # ten gone: within the stockroom's reach
    moves, audits = counts(db)
    with pytest.raises(NotAllowed, match=r"count away more than 10 units of SERUM-5ML at once "
                                         r"\(11\): a manager may"):  # fmt: skip
        count_to("sam", start - 21)
    assert on_hand() == start - 10
    assert counts(db) == (moves, audits + 1)
    assert refusals(db) == [("sam", "stock.writeoff_large")]
    count_to("sam", start + 5)  # found more: no limit
    count_to("mia", start - 30)
    assert on_hand() == start - 30
