"""The expiry sweep: lots past expiry are marked expired and their stock put aside.

The sweep always runs ``as_of`` a fixed day; the demo data is loaded as of that day,
so PTT6-A0412 (expired nine days before, still released) is the one lot to sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from ledger_support import AS_OF, writes
from sqlalchemy import select, update

from kitops.data.schema import AuditRow, KitRow, LocationRow
from kitops.domain.ledger import LotStatus
from kitops.services import admin, courses, expiry, kits, locations, lots, stock
from kitops.services.operations import ReceiptInput, receive, write_off


def _sweep_on(uow, day):
    """The sweep run on ``day`` as the clinics' today: the clock is moved there, since a
    sweep dated after today is refused (expiring is for good)."""
    import time_machine

    with time_machine.travel(datetime.combine(day, time(12), UTC), tick=False):
        return expiry.sweep(uow(), as_of=day)


def _where(uow, code, sku=None) -> dict[str, int]:
    return {o.location: o.quantity for o in lots.show(uow(readonly=True), code, sku=sku).on_hand}


def _receive(uow, place, sku, code, days, quantity=10):
    expiry_day = (AS_OF + timedelta(days=days)).isoformat()
    return receive(
        uow(),
        ReceiptInput(place, sku=sku, lot=code, expiry=expiry_day, quantity=quantity,
                     accept_short_dated=True),
        today=AS_OF,
    )  # fmt: skip


def _ledger_ok(uow) -> bool:
    return admin.check(uow(readonly=True)).ok


def test_sweep_marks_the_expired_demo_lot_and_moves_its_stock_to_quarantine(loaded, uow):
    (quantity,) = _where(uow, "PTT6-A0412").values()
    _receive(uow, "LON-SHELF", "STAMP-0.4", "DS04-TODAY", days=0)  # in date through AS_OF

    report = expiry.sweep(uow(), as_of=AS_OF)

    assert (report.as_of, report.lots_marked, report.units_moved) == (AS_OF, 1, quantity)
    assert [
        (line.lot, line.marked_expired, line.moved, line.from_location, line.to_location,
         line.note)
        for line in report.lines
    ] == [("PTT6-A0412", True, quantity, "LON-FRIDGE", "LON-QUAR", None)]  # fmt: skip
    detail = lots.show(uow(readonly=True), "PTT6-A0412")
    assert (detail.status, detail.status_reason) == ("expired", "expiry sweep 2026-11-22")
    assert _where(uow, "PTT6-A0412") == {"LON-QUAR": quantity}
    flows = [f for f in lots.trace(uow(readonly=True), "PTT6-A0412").flows if f.reason == "expiry"]
    assert [(f.from_location, f.to_location, f.quantity, f.references) for f in flows] == [
        ("LON-FRIDGE", "LON-QUAR", quantity, ("expiry-sweep:2026-11-22",))
    ]
    # lots in date on AS_OF, even on their last day, are untouched
    assert lots.show(uow(readonly=True), "PTT6-A0519").status == "released"
    assert lots.show(uow(readonly=True), "DS04-TODAY").status == "released"
    assert _where(uow, "DS04-TODAY") == {"LON-SHELF": 10}
    assert _ledger_ok(uow)


def test_sweep_with_nothing_to_do_writes_nothing(loaded, uow):
    before = writes(loaded)
    on_expiry_day = expiry.sweep(uow(), as_of=AS_OF - timedelta(days=9))  # A0412 still in date
    assert (on_expiry_day.lots_marked, on_expiry_day.units_moved) == (0, 0)
    assert writes(loaded) == before
    assert lots.show(uow(readonly=True), "PTT6-A0412").status == "released"

    expiry.sweep(uow(), as_of=AS_OF)
    before = writes(loaded)
    again = expiry.sweep(uow(), as_of=AS_OF)  # the second run finds nothing left to do

    assert (again.lots_marked, again.units_moved, again.lines) == (0, 0, ())
    assert writes(loaded) == before
    assert _ledger_ok(uow)


def test_quarantined_lot_past_expiry_is_marked_expired_and_moved_aside(loaded, uow):
    _receive(uow, "LON-FRIDGE", "SERUM-5ML", "Q-FRIDGE", days=5)
    assert lots.show(uow(readonly=True), "Q-FRIDGE").status == "quarantine"

    report = expiry.sweep(uow(), as_of=AS_OF + timedelta(days=6))

    assert lots.show(uow(readonly=True), "Q-FRIDGE").status == "expired"
    assert _where(uow, "Q-FRIDGE") == {"LON-QUAR": 10}
    assert report.lots_marked == 2  # with PTT6-A0412
    assert {line.lot for line in report.lines if line.marked_expired} == {"PTT6-A0412", "Q-FRIDGE"}
    assert _ledger_ok(uow)


def test_quarantined_lot_on_the_quarantine_shelf_is_marked_and_stays_there(loaded, uow):
    # C0115 waits for release in LON-QUAR; sweep the day after its expiry
    c0115 = lots.show(uow(readonly=True), "PTT6-C0115")
    assert c0115.expiry is not None

    report = _sweep_on(uow, c0115.expiry + timedelta(days=1))

    assert lots.show(uow(readonly=True), "PTT6-C0115").status == "expired"
    assert _where(uow, "PTT6-C0115") == {"LON-QUAR": 48}
    assert not [m for m in report.lines if m.lot == "PTT6-C0115" and m.moved]
    assert _ledger_ok(uow)


def test_sweep_report_does_not_call_quarantined_stock_missing(loaded, uow):
    c0115 = lots.show(uow(readonly=True), "PTT6-C0115")
    assert c0115.expiry is not None

    report = _sweep_on(uow, c0115.expiry + timedelta(days=1))

    (line,) = [line for line in report.lines if line.lot == "PTT6-C0115"]
    assert line.marked_expired
    assert line.note != "no stock on hand"  # 48 units sit in LON-QUAR


def test_recalled_lot_past_expiry_is_not_marked(loaded, uow):
    before_places = _where(uow, "PTT6-A0412")
    lots.change_status(uow(), "PTT6-A0412", LotStatus.RECALLED, reason="supplier recall",
                       today=AS_OF)  # fmt: skip
    before = writes(loaded)

    report = expiry.sweep(uow(), as_of=AS_OF)

    assert (report.lots_marked, report.units_moved, report.lines) == (0, 0, ())
    assert writes(loaded) == before
    detail = lots.show(uow(readonly=True), "PTT6-A0412")
    assert (detail.status, detail.status_reason) == ("recalled", "supplier recall")
    assert _where(uow, "PTT6-A0412") == before_places
    assert _ledger_ok(uow)


def test_clinic_without_quarantine_location_leaves_the_stock_in_place(loaded, uow):
    locations.add_location(uow(), "BRI", "Brighton", timezone="Europe/London", currency="GBP")
    locations.add_location(uow(), "BRI-SHELF", "Brighton shelf", parent="BRI", kind="shelf")
    _receive(uow, "BRI-SHELF", "STAMP-0.4", "DS04-OLD", days=-3, quantity=6)
    _receive(uow, "LON-SHELF", "STAMP-0.4", "DS04-OLD", days=-3, quantity=4)

    report = expiry.sweep(uow(), as_of=AS_OF)

    lines = {line.from_location: line for line in report.lines if line.lot == "DS04-OLD"}
    bri, lon = lines["BRI-SHELF"], lines["LON-SHELF"]
    assert (bri.marked_expired, bri.moved, bri.to_location) == (True, 0, None)
    assert bri.note == "no quarantine location in BRI; left in place"
    assert (lon.moved, lon.to_location, lon.note) == (4, "LON-QUAR", None)
    assert report.units_moved == 4 + next(iter(_where(uow, "PTT6-A0412").values()))
    assert _where(uow, "DS04-OLD") == {"BRI-SHELF": 6, "LON-QUAR": 4}
    assert lots.show(uow(readonly=True), "DS04-OLD").status == "expired"

    # the stock left in place is reported again but nothing is written
    before = writes(loaded)
    again = expiry.sweep(uow(), as_of=AS_OF)
    assert (again.lots_marked, again.units_moved) == (0, 0)
    assert [(line.from_location, line.moved, line.marked_expired) for line in again.lines] == [
        ("BRI-SHELF", 0, False)
    ]
    assert writes(loaded) == before
    assert _ledger_ok(uow)


def test_stock_of_an_expired_lot_in_several_clinics_goes_to_each_clinics_quarantine(loaded, uow):
    # B0902 is in LON-FRIDGE and ESX-FRIDGE; put some on the London shelf too
    lon, esx = _where(uow, "PTT6-B0902")["LON-FRIDGE"], _where(uow, "PTT6-B0902")["ESX-FRIDGE"]
    _receive(uow, "LON-SHELF", "SERUM-5ML", "PTT6-B0902", days=190, quantity=5)

    report = _sweep_on(uow, AS_OF + timedelta(days=191))

    moved = {(line.from_location, line.to_location, line.moved) for line in report.lines
             if line.lot == "PTT6-B0902"}  # fmt: skip
    assert moved == {
        ("LON-FRIDGE", "LON-QUAR", lon), ("LON-SHELF", "LON-QUAR", 5),
        ("ESX-FRIDGE", "ESX-QUAR", esx),
    }  # fmt: skip
    assert _where(uow, "PTT6-B0902") == {"LON-QUAR": lon + 5, "ESX-QUAR": esx}
    assert lots.show(uow(readonly=True), "PTT6-B1007").status == "released"  # expires +260
    assert _ledger_ok(uow)


def test_expired_lot_without_stock_is_marked_with_a_note(loaded, uow):
    _receive(uow, "LON-SHELF", "STAMP-0.4", "DS04-GONE", days=-2, quantity=3)
    write_off(uow(), "STAMP-0.4", 3, "LON-SHELF", "expired", lot="DS04-GONE")

    report = expiry.sweep(uow(), as_of=AS_OF)

    (line,) = [line for line in report.lines if line.lot == "DS04-GONE"]
    assert (line.marked_expired, line.moved, line.note) == (True, 0, "no stock on hand")
    assert lots.show(uow(readonly=True), "DS04-GONE").status == "expired"
    assert _ledger_ok(uow)


def test_swept_lot_is_no_longer_listed_as_available(loaded, uow):
    # Ten days before AS_OF the lot was in date: listed as available on that day...
    earlier = AS_OF - timedelta(days=10)
    listed = stock.stock_on_hand(uow(readonly=True), sku="SERUM-5ML", today=earlier)
    assert "PTT6-A0412" in {line.lot for line in listed}

    expiry.sweep(uow(), as_of=AS_OF)

    # ...but once marked expired it is unavailable whatever day the list is for.
    for day in (earlier, AS_OF):
        listed = stock.stock_on_hand(uow(readonly=True), sku="SERUM-5ML", today=day)
        assert "PTT6-A0412" not in {line.lot for line in listed}
    everything = stock.stock_on_hand(
        uow(readonly=True), sku="SERUM-5ML", include_unavailable=True, today=AS_OF
    )
    (line,) = [line for line in everything if line.lot == "PTT6-A0412"]
    assert (line.location, line.status, line.available) == ("LON-QUAR", "expired", False)
    assert _ledger_ok(uow)


# --- kits follow their stock -------------------------------------------------------------
#
# The demo kits K0000001-K0000006 (London and Essex) hold PTT6-B0902, which expires on
# AS_OF + 190 days: their own lots (the serials) expire with it. K0000001 (course 1) and
# K0000005 (course 5) are reserved. The Vienna kits K0000007-9 last longer.

LONDON_KITS = ("K0000001", "K0000002", "K0000003", "K0000004")
KITS_DAY = AS_OF + timedelta(days=191)  # the day after PTT6-B0902's expiry


def _kit(uow, serial):
    return kits.show_kit(uow(readonly=True), serial)


def _kit_state(uow, serial) -> tuple[str, str, int | None]:
    kit = _kit(uow, serial)
    return kit.status, kit.location, kit.course_id


def test_sweep_marks_expired_kits_expired_and_moves_their_records_with_their_stock(loaded, uow):
    report = _sweep_on(uow, KITS_DAY)

    for serial in ("K0000002", "K0000003", "K0000004"):
        assert _kit_state(uow, serial) == ("expired", "LON-QUAR", None)
        assert _where(uow, serial) == {"LON-QUAR": 1}
    assert _kit_state(uow, "K0000006") == ("expired", "ESX-QUAR", None)
    for serial in ("K0000007", "K0000008", "K0000009"):  # in date: untouched
        assert _kit_state(uow, serial) == ("available", "VIE-FRIDGE", None)
    lines = {line.serial: line for line in report.kits}
    assert set(lines) == {*LONDON_KITS, "K0000005", "K0000006"}
    assert [(k.sku, k.status_before, k.from_location, k.to_location)
            for k in (lines["K0000002"], lines["K0000006"])] == [
        ("KIT-HOME-6W", "available", "LON-FRIDGE", "LON-QUAR"),
        ("KIT-HOME-6W", "available", "ESX-FRIDGE", "ESX-QUAR"),
    ]  # fmt: skip
    assert report.kits_expired == 6
    assert _ledger_ok(uow)


def test_reserved_kit_that_expires_loses_its_course_and_the_sweep_report_says_so(loaded, uow):
    assert _kit_state(uow, "K0000001") == ("reserved", "LON-FRIDGE", 1)
    assert _kit(uow, "K0000001").course_part == 1

    report = _sweep_on(uow, KITS_DAY)

    assert _kit_state(uow, "K0000001") == ("expired", "LON-QUAR", None)
    assert _kit(uow, "K0000001").course_part is None
    assert _kit_state(uow, "K0000005") == ("expired", "ESX-QUAR", None)
    assert not courses.show_course(uow(readonly=True), 1).kits  # the course lost its kit
    released = {k.serial: (k.course_id, k.course_part, k.note) for k in report.kits
                if k.course_id is not None}  # fmt: skip
    assert released == {
        "K0000001": (1, 1, "course 1 part 1 lost its kit"),
        "K0000005": (5, 1, "course 5 part 1 lost its kit"),
    }
    assert report.reservations_released == 2
    with loaded.read_sessions() as session:
        audit = session.scalars(
            select(AuditRow).where(AuditRow.action == "expiry.sweep").order_by(AuditRow.id)
        ).all()[-1]
    assert audit.actor == "tester"
    assert audit.after is not None
    assert audit.after["kits_expired"] == [*LONDON_KITS, "K0000005", "K0000006"]
    assert audit.after["reservations_released"] == {"K0000001": [1, 1], "K0000005": [5, 1]}
    assert _ledger_ok(uow)


def test_an_expired_kit_can_be_written_off_as_expired(loaded, uow):
    _sweep_on(uow, KITS_DAY)

    done = write_off(uow(), "KIT-HOME-6W", 1, "LON-QUAR", "expired", lot="K0000002")

    assert (done.lot, done.reason, done.on_hand_after) == ("K0000002", "expired", 0)
    assert _kit_state(uow, "K0000002") == ("written_off", "LON-QUAR", None)
    assert _where(uow, "K0000002") == {}
    assert _ledger_ok(uow)


def test_an_expired_kit_taken_apart_leaves_its_components_in_quarantine(loaded, uow):
    _sweep_on(uow, KITS_DAY)
    serum_before = _where(uow, "PTT6-B0902")
    stamps_before = _where(uow, "DS05-2402")

    taken = kits.disassemble(uow(), "K0000003")

    assert (taken.status, taken.location) == ("disassembled", "LON-QUAR")
    # the expired serum lands in quarantine and stays expired; nothing reaches a usable shelf
    serum_after = {**serum_before, "LON-QUAR": serum_before["LON-QUAR"] + 6}
    assert _where(uow, "PTT6-B0902") == serum_after
    assert lots.show(uow(readonly=True), "PTT6-B0902").status == "expired"
    stamps_after = {**stamps_before, "LON-QUAR": stamps_before.get("LON-QUAR", 0) + 1}
    assert _where(uow, "DS05-2402") == stamps_after
    usable = stock.stock_on_hand(uow(readonly=True), sku="SERUM-5ML", today=KITS_DAY)
    assert "PTT6-B0902" not in {line.lot for line in usable}
    assert _ledger_ok(uow)


def test_a_dry_run_says_which_kits_would_expire_and_writes_nothing(loaded, uow):
    before = writes(loaded)

    report = expiry.sweep(uow(), as_of=KITS_DAY, dry_run=True)  # ahead of today: dry run only

    assert {k.serial for k in report.kits} == {*LONDON_KITS, "K0000005", "K0000006"}
    assert (report.kits_expired, report.reservations_released) == (6, 2)
    assert writes(loaded) == before
    assert _kit_state(uow, "K0000001") == ("reserved", "LON-FRIDGE", 1)
    assert _kit_state(uow, "K0000002") == ("available", "LON-FRIDGE", None)


def test_sweep_puts_right_a_kit_record_an_earlier_sweep_left_on_its_old_shelf(loaded, uow):
    """Sweeps before kits followed their stock moved the kit's unit to quarantine and left
    its record `available` on its shelf: db check finds it, and the next sweep mends it."""
    _sweep_on(uow, KITS_DAY)
    with loaded.write_sessions() as session:
        session.execute(
            update(KitRow).where(KitRow.serial == "K0000004")
            .values(status="available",
                    location_id=select(LocationRow.id).where(LocationRow.code == "LON-FRIDGE")
                    .scalar_subquery())
        )  # fmt: skip
        session.commit()
    problems = admin.check(uow(readonly=True)).problems
    assert [(p.lot, p.problem) for p in problems] == [
        ("K0000004", "kit K0000004 is available at LON-FRIDGE but the ledger has its unit "
                     "at LON-QUAR"),
    ]  # fmt: skip

    report = _sweep_on(uow, KITS_DAY)

    assert [(k.serial, k.from_location, k.to_location) for k in report.kits] == [
        ("K0000004", "LON-FRIDGE", "LON-QUAR")
    ]
    assert _kit_state(uow, "K0000004") == ("expired", "LON-QUAR", None)
    assert _ledger_ok(uow)
    before = writes(loaded)
    assert _sweep_on(uow, KITS_DAY).kits == ()
    assert writes(loaded) == before


def test_an_expired_kit_in_a_clinic_without_quarantine_stays_in_place_marked_expired(loaded, uow):
    locations.add_location(uow(), "BRI", "Brighton", timezone="Europe/London", currency="GBP")
    locations.add_location(uow(), "BRI-SHELF", "Brighton shelf", parent="BRI", kind="shelf")
    _receive(uow, "BRI-SHELF", "SERUM-5ML", "BRI-SERUM", days=30, quantity=6)
    lots.change_status(uow(), "BRI-SERUM", LotStatus.RELEASED, today=AS_OF)
    _receive(uow, "BRI-SHELF", "STAMP-0.5", "BRI-STAMP", days=400, quantity=1)
    (kit,) = kits.assemble(uow(), "KIT-HOME-6W", 1, "BRI-SHELF", min_shelf_life_days=0,
                           today=AS_OF).kits  # fmt: skip

    report = _sweep_on(uow, AS_OF + timedelta(days=31))

    (line,) = [k for k in report.kits if k.serial == kit.serial]
    assert (line.from_location, line.to_location, line.note) == (
        "BRI-SHELF", "BRI-SHELF", "no quarantine location in BRI; left in place",
    )  # fmt: skip
    assert _kit_state(uow, kit.serial) == ("expired", "BRI-SHELF", None)
    assert _ledger_ok(uow)
    write_off(uow(), "KIT-HOME-6W", 1, "BRI-SHELF", "expired", lot=kit.serial)
    assert _kit_state(uow, kit.serial) == ("written_off", "BRI-SHELF", None)
    assert _ledger_ok(uow)


def test_a_kit_back_sealed_in_quarantine_that_expires_there_is_marked_expired(loaded, uow):
    """A kit returned sealed waits in quarantine for a manager's release; if its serum
    expires first, the sweep marks it expired like a kit on a shelf, and the ledger agrees."""
    kits.dispatch(uow(), "K0000001", handover=True, today=AS_OF)
    assert kits.take_back(uow(), "K0000001", "sealed").status == "quarantine"
    where = _kit_state(uow, "K0000001")[1]

    report = _sweep_on(uow, KITS_DAY)

    line = next(k for k in report.kits if k.serial == "K0000001")
    assert (line.status_before, line.course_id) == ("quarantine", None)
    status, place, course = _kit_state(uow, "K0000001")
    assert (status, course) == ("expired", None)
    assert _where(uow, "K0000001") == {place: 1}
    assert place in (where, "LON-QUAR")
    assert _ledger_ok(uow)
