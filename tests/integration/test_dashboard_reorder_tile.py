"""The dashboard's reorder tile on the demo data with more policies and stock, on SQLite
and PostgreSQL: the reorder run reads stock summed per clinic, product and expiry by the
database, and that is the same stock, lot by lot, that scheduled demand lists; the tile
shows exactly what the dry run would order, and a real run then orders just that."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from ledger_support import AS_OF as DEMO_DAY
from sqlalchemy import select

from kitops.data.schema import LocationRow, ProductRow
from kitops.domain.ledger import LotStatus
from kitops.services import demand, lots, purchasing, reorder, stock
from kitops.services.operations import ReceiptInput, receive
from kitops.views import dashboard

# five of the demo's policies made hungrier and three more (calendar, min/max; 3 clinics)
POLICIES = [
    ("SERUM-5ML", "LON", "CALECIM-UK", "calendar", None, None, 60, 14),
    ("SERUM-5ML", "ESX", "CALECIM-UK", "calendar", None, None, 90, 30),
    ("SERUM-5ML", "VIE", "CALECIM-EU", "calendar", None, None, 30, 7),
    ("STAMP-0.5", "LON", "DERMASUPPLY", "min_max", 40, 60, 7, 0),
    ("STAMP-0.5", "VIE", "DERMASUPPLY", "min_max", 5, 20, 7, 0),  # enough: nothing
    ("STAMP-0.6", "VIE", "DERMASUPPLY", "min_max", 30, 50, 7, 0),
    ("CHX-0.5", "ESX", "DERMASUPPLY", "min_max", 40, 80, 7, 0),  # never expires
    ("CHX-0.5", "VIE", "DERMASUPPLY", "min_max", 40, 80, 7, 0),
]  # with the demo's other three: 11 policies
DAYS = [DEMO_DAY, DEMO_DAY + timedelta(days=20), DEMO_DAY + timedelta(days=60)]


def _build_stockroom(uow) -> None:
    for sku, clinic, supplier, method, low, high, review, safety in POLICIES:
        purchasing.set_policy(uow(), sku, clinic, supplier=supplier, method=method,
                              min_qty=low, max_qty=high, review_period_days=review,
                              safety_days=safety)  # fmt: skip
    same_day = (DEMO_DAY + timedelta(days=45)).isoformat()
    for place, lot, quantity in (("LON-FRIDGE", "TWIN-1", 7), ("LON-STORE", "TWIN-1", 5),
                                 ("LON-FRIDGE", "TWIN-2", 4), ("ESX-FRIDGE", "TWIN-3", 9),
                                 ("ESX-STORE", "TWIN-4", 3)):  # fmt: skip
        receive(uow(), ReceiptInput(location=place, sku="SERUM-5ML", lot=lot, expiry=same_day,
                                    quantity=quantity), today=DEMO_DAY)  # fmt: skip
    for lot in ("TWIN-1", "TWIN-3"):  # TWIN-2 and TWIN-4 still await release
        lots.change_status(uow(), lot, LotStatus.RELEASED, today=DEMO_DAY)
    lots.change_status(uow(), "PTT6-B0902", LotStatus.QUARANTINE,
                       reason="temperature excursion", today=DEMO_DAY)  # fmt: skip


@pytest.fixture
def stockroom(loaded, uow):
    """The demo data, the policies above, and lots of one expiry at several places of one
    clinic and at another clinic (one released, one still awaiting release), beside a
    released lot held back in quarantine for a reason (not usable): built once per run and
    backend, the test's database a clone (``TEMPLATE_FIXTURES``, tests/conftest.py)."""
    return loaded


TEMPLATE_FIXTURES = {"stockroom": _build_stockroom}


@pytest.mark.parametrize("day", DAYS)
def test_the_reorder_run_reads_the_stock_lot_by_lot_listing_summed_per_expiry(stockroom, uow, day):
    end = day + timedelta(days=120)
    listed = demand.scheduled_demand(uow(readonly=True), start=day, end=end)
    expected: Counter[tuple[str, str, date | None]] = Counter()
    for key, supplies in demand.supplies(listed, awaiting_release=True).items():
        for supply in supplies:
            expected[(*key, supply.expiry)] += supply.quantity
    reader = uow(readonly=True)
    with reader:
        clinics = dict(reader.session.execute(select(LocationRow.id, LocationRow.code)).all())
        skus = dict(reader.session.execute(select(ProductRow.id, ProductRow.sku)).all())
        _, stock, _ = demand.demand_by_id(reader, start=day, end=end, awaiting_release=True)
    found: Counter[tuple[str, str, date | None]] = Counter()
    for (clinic_id, product_id), supplies in stock.items():
        expiries = [s.expiry for s in supplies]
        assert len(expiries) == len(set(expiries))  # one supply per expiry date
        for supply in supplies:
            found[(clinics[clinic_id], skus[product_id], supply.expiry)] += supply.quantity
    assert found == expected
    # the case the sums are for: two lots of one expiry at three places of LON
    twins = (DEMO_DAY + timedelta(days=45)) if day <= DEMO_DAY + timedelta(days=45) else None
    if twins is not None:
        assert found[("LON", "SERUM-5ML", twins)] == 7 + 5 + 4
        assert found[("ESX", "SERUM-5ML", twins)] == 9 + 3
    assert {sku for _, sku, _ in found} >= {"SERUM-5ML", "STAMP-0.5", "CHX-0.5"}
    assert ("ESX", "CHX-0.5", None) in found  # stock that never expires


@pytest.mark.parametrize("day", DAYS)
def test_the_tile_shows_what_the_dry_run_orders_and_a_run_then_orders_that(stockroom, uow, day):
    dry = reorder.run(uow(readonly=True), as_of=day, dry_run=True)
    tile = dashboard.purchasing_overview(uow(readonly=True), today=day)
    lines = [(s.clinic, s.sku, s.supplier, s.quantity, s.need_by) for s in dry.suggestions]
    assert [(s.clinic, s.sku, s.supplier, s.quantity, s.need_by) for s in tile.suggestions] == (
        lines
    )
    assert (tile.as_of, tile.policies, tile.in_progress) == (day, len(POLICIES) + 3, False)
    assert {s.clinic for s in dry.suggestions} == {"LON", "ESX", "VIE"}
    assert {s.method for s in dry.suggestions} == {"calendar", "min_max"}
    assert not any(s.draft for s in tile.suggestions)  # nothing drafted yet

    done = reorder.run(uow(), as_of=day)
    assert [(s.clinic, s.sku, s.supplier, s.quantity, s.need_by) for s in done.suggestions] == (
        lines
    )
    after = dashboard.purchasing_overview(uow(readonly=True), today=day)
    assert [(s.clinic, s.sku, s.quantity) for s in after.suggestions] == [
        (c, sku, q) for c, sku, _, q, _ in lines
    ]
    assert all(s.draft and s.drafted for s in after.suggestions)  # each on its draft
    drafted = sorted(
        (order.clinic, line.sku, line.quantity)
        for order in after.orders
        if order.status == "draft"
        for line in purchasing.show_order(uow(readonly=True), order.number).lines
    )
    assert drafted == sorted((c, sku, q) for c, sku, _, q, _ in lines)


def test_a_user_limited_to_a_clinic_sees_its_lines_of_the_same_dry_run(stockroom, uow, db):
    from kitops.services import users

    users.add_user(uow(), "esx-manager", "manager", None)
    users.set_clinics(uow(), "esx-manager", ["ESX"])
    everyone = dashboard.purchasing_overview(uow(readonly=True), today=DEMO_DAY)
    limited = dashboard.purchasing_overview(
        uow(readonly=True, actor="esx-manager"), clinic="ESX", today=DEMO_DAY
    )
    assert limited.suggestions
    assert limited.suggestions == tuple(s for s in everyone.suggestions if s.clinic == "ESX")


@pytest.mark.parametrize("day", DAYS)
def test_the_expiry_tile_counts_each_lot_once_per_clinic_as_the_stock_list_shows_it(
    stockroom, uow, day
):
    # a recalled lot is not in the tile
    lots.change_status(uow(), "PTT6-A0519", LotStatus.RECALLED, reason="cloudy vials",
                       today=DEMO_DAY)  # fmt: skip
    board = dashboard.overview(uow(readonly=True), today=day)
    shown = {
        (work.clinic, bucket.within_days): (bucket.lots, bucket.units)
        for work in board.clinics
        for bucket in work.expiry
    }
    edges = ((0, None), (30, 0), (60, 31), (90, 61))  # (bucket, first day after `day`)
    found: dict[tuple[str, int], tuple[set[tuple[str, str]], int]] = {}
    for line in stock.stock_on_hand(uow(readonly=True), include_unavailable=True, today=day):
        if line.expiry is None or line.status == "recalled" or line.clinic is None:
            continue
        ahead = (line.expiry - day).days
        for within, first in edges:
            if ahead < 0 if first is None else first <= ahead <= within:
                held, units = found.setdefault((line.clinic, within), (set(), 0))
                held.add((line.sku, line.lot))
                found[(line.clinic, within)] = (held, units + line.quantity)
    expected = {
        (clinic, within): (len(found.get((clinic, within), ((), 0))[0]),
                           found.get((clinic, within), ((), 0))[1])
        for clinic in ("ESX", "LON", "VIE")
        for within, _ in edges
    }  # fmt: skip
    assert shown == expected
    assert any(n for n, _ in shown.values())  # something expires in the window
    # (TWIN-1, at two places of LON, is one lot there: counting places would differ)
