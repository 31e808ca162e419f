"""The expiry sweep: lots past expiry are marked expired and their stock put aside.

The sweep always runs ``as_of`` a fixed day; the demo data is loaded as of that day,
so PTT6-A0412 (expired nine days before, still released) is the one lot to sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from ledger_support import AS_OF, writes

from kitops.domain.ledger import LotStatus
from kitops.services import admin, expiry, locations, lots, stock
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
