"""Manager reports against numbers worked out by hand on a small stockroom built through
the services (receive, release, assemble, fulfil, courses, write-offs, the sweep).

The stockroom, as of Sunday 2026-11-22 (``AS_OF``):

- LON (GBP): serum lots OLD (expired 11-17, 4 @ 35.00, never swept), A (12-12, 10 @
  35.00), B (2027-01-06, 20 @ 40.00), C (2027-06-10, 30 @ 36.00, 12 of them now in two
  kits), Q (2027-03-02, 6, no cost, awaiting release); stamps S1 (8 @ 4.50, 2 in kits).
  Kits K0000001 (reserved for course 1) and K0000002 (available): 6 x C + 1 x S1 each,
  so each is worth 6 x 36.00 + 4.50 = 220.50 GBP.
- ESX: serum lot E (2026-12-27, 12 @ 41.00 EUR): its clinic course starts on 12-22, so
  it expires before it would be used.
- Courses: 1 home-6w LON from 11-30 (kit reserved), 2 and 3 home-6w LON from 12-07 and
  12-14, 4 clinic-weekly-6 LON from Tuesday 11-24, 5 clinic-weekly-6 ESX from 12-22.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from ledger_support import AS_OF, writes

from kitops.documents.report_files import read_csv_sections, render
from kitops.domain.ledger import LotStatus
from kitops.domain.money import Money
from kitops.errors import InvalidInput
from kitops.reports.registry import run_report
from kitops.services import catalog, courses, expiry, fulfilment, kits, lots, plans
from kitops.services.dto.reports import ReportRequest
from kitops.services.locations import add_location
from kitops.services.operations import ReceiptInput, move, receive, write_off


def gbp(amount: str) -> Money:
    return Money.parse(amount, "GBP")


def eur(amount: str) -> Money:
    return Money.parse(amount, "EUR")


def _places(uow) -> None:
    for clinic, zone, currency in (
        ("LON", "Europe/London", "GBP"),
        ("ESX", "Europe/London", "GBP"),
    ):
        add_location(uow(), clinic, f"{clinic} clinic", timezone=zone, currency=currency)
        add_location(uow(), f"{clinic}-FRIDGE", "fridge", parent=clinic, kind="fridge")
        add_location(uow(), f"{clinic}-SHELF", "shelf", parent=clinic, kind="shelf")
        add_location(uow(), f"{clinic}-QUAR", "quarantine", parent=clinic, kind="quarantine")


def _catalogue(uow) -> None:
    catalog.add_product(
        uow(), catalog.parse_product("SERUM-5ML", "Serum 5 ml", "serum_vial", ml="5")
    )
    catalog.add_product(
        uow(),
        catalog.parse_product(
            "STAMP-0.5",
            "Stamp 0.5 mm",
            "derma_stamp",
            needle_mm="0.5",
            at_home=True,
            lot_tracked=True,
        ),
    )
    catalog.add_product(uow(), catalog.parse_product("KIT-6W", "Home kit", "kit", at_home=True))
    catalog.set_recipe(uow(), "KIT-6W", ["SERUM-5ML=6", "STAMP-0.5=1"])
    plans.add_plan(
        uow(),
        "home-6w",
        "Home 6 weeks",
        per_week=2,
        weeks=6,
        ml="2.5",
        administered="home",
        kit="KIT-6W",
        kits=1,
    )
    plans.add_plan(
        uow(),
        "clinic-weekly-6",
        "Clinic weekly",
        per_week=1,
        weeks=6,
        ml="5",
        administered="clinic",
    )


def _receive(
    uow,
    place,
    sku,
    lot,
    expiry_day,
    qty,
    cost=None,
    currency=None,
    today=AS_OF,
    foreign_currency=False,
):
    receive(
        uow(),
        ReceiptInput(
            place,
            sku=sku,
            lot=lot,
            expiry=expiry_day,
            quantity=qty,
            cost=cost,
            currency=currency,
            foreign_currency=foreign_currency,
            accept_short_dated=True,
        ),
        today=today,
    )


def _release(uow, code, today=AS_OF):
    lots.change_status(uow(), code, LotStatus.RELEASED, today=today)


def _build_stockroom(uow) -> None:
    _places(uow)
    _catalogue(uow)
    _receive(
        uow,
        "LON-FRIDGE",
        "SERUM-5ML",
        "OLD",
        "2026-11-17",
        4,
        "35.00",
        "GBP",
        today=date(2026, 10, 1),
    )
    _release(uow, "OLD", today=date(2026, 10, 1))
    for code, day, qty, cost in (
        ("A", "2026-12-12", 10, "35.00"),
        ("B", "2027-01-06", 20, "40.00"),
        ("C", "2027-06-10", 30, "36.00"),
    ):
        _receive(uow, "LON-FRIDGE", "SERUM-5ML", code, day, qty, cost, "GBP")
        _release(uow, code)
    _receive(uow, "LON-QUAR", "SERUM-5ML", "Q", "2027-03-02", 6)  # awaiting release
    _receive(uow, "LON-SHELF", "STAMP-0.5", "S1", "2029-01-01", 8, "4.50", "GBP")
    _receive(
        uow, "ESX-FRIDGE", "SERUM-5ML", "E", "2026-12-27", 12, "41.00", "EUR", foreign_currency=True
    )  # ESX is a GBP clinic: the supplier invoiced in euros
    _release(uow, "E")
    move(uow(), "STAMP-0.5", 2, "LON-SHELF", "LON-FRIDGE", lot="S1", today=AS_OF)
    made = kits.assemble(uow(), "KIT-6W", 2, "LON-FRIDGE", today=AS_OF)
    assert [k.serial for k in made.kits] == ["K0000001", "K0000002"]
    assert {c.lot for k in made.kits for c in k.components} == {"C", "S1"}
    first = courses.create_course(uow(), "P-1", "home-6w", date(2026, 11, 30), "LON", today=AS_OF)
    fulfilment.fulfil_course(uow(), first.id, today=AS_OF)
    courses.create_course(uow(), "P-2", "home-6w", date(2026, 12, 7), "LON", today=AS_OF)
    courses.create_course(uow(), "P-3", "home-6w", date(2026, 12, 14), "LON", today=AS_OF)
    courses.create_course(uow(), "P-4", "clinic-weekly-6", date(2026, 11, 24), "LON", today=AS_OF)
    courses.create_course(uow(), "P-5", "clinic-weekly-6", date(2026, 12, 22), "ESX", today=AS_OF)


@pytest.fixture
def stockroom(db):
    """The stockroom above: built once per run and backend, cloned per test
    (``TEMPLATE_FIXTURES``, tests/conftest.py)."""
    return db


def report(uow, name, *, clinic=None, as_of=AS_OF, **options):
    return run_report(uow(readonly=True), name, ReportRequest(clinic, as_of, options))


def rows(result, section, *keys):
    records = result.section(section).records()
    return [tuple(r[k] for k in keys) for r in records]


# --- stock ---------------------------------------------------------------------------


def test_stock_lists_every_lot_with_status_days_and_value_and_totals_per_clinic(stockroom, uow):
    before = writes(stockroom)
    result = report(uow, "stock")
    assert rows(
        result,
        "lines",
        "clinic",
        "location",
        "sku",
        "lot",
        "days_to_expiry",
        "status",
        "quantity",
        "value",
    ) == [
        ("ESX", "ESX-FRIDGE", "SERUM-5ML", "E", 35, "released", 12, eur("492.00")),
        ("LON", "LON-FRIDGE", "KIT-6W", "K0000001", 200, "released", 1, gbp("220.50")),
        ("LON", "LON-FRIDGE", "KIT-6W", "K0000002", 200, "released", 1, gbp("220.50")),
        ("LON", "LON-FRIDGE", "SERUM-5ML", "OLD", -5, "expired", 4, gbp("140.00")),
        ("LON", "LON-FRIDGE", "SERUM-5ML", "A", 20, "released", 10, gbp("350.00")),
        ("LON", "LON-FRIDGE", "SERUM-5ML", "B", 45, "released", 20, gbp("800.00")),
        ("LON", "LON-QUAR", "SERUM-5ML", "Q", 100, "quarantine", 6, None),
        ("LON", "LON-FRIDGE", "SERUM-5ML", "C", 200, "released", 18, gbp("648.00")),
        ("LON", "LON-SHELF", "STAMP-0.5", "S1", 771, "released", 6, gbp("27.00")),
    ]
    assert rows(result, "totals", "clinic", "currency", "lines", "units", "available", "value") == [
        ("ESX", "EUR", 1, 12, 12, eur("492.00")),
        ("LON", "GBP", 7, 60, 56, gbp("2406.00")),
        ("LON", "-", 1, 6, 0, None),
    ]
    assert writes(stockroom) == before  # reports are read-only


def test_stock_of_one_clinic_only(stockroom, uow):
    result = report(uow, "stock", clinic="esx")
    assert result.clinic == "ESX"
    assert rows(result, "lines", "lot") == [("E",)]


# --- expiring ------------------------------------------------------------------------


def test_expiring_buckets_by_thirty_days_with_value_and_the_expired_still_on_a_shelf(
    stockroom, uow
):
    result = report(uow, "expiring", within="90d")
    assert rows(
        result,
        "lines",
        "clinic",
        "lot",
        "days_to_expiry",
        "bucket",
        "quantity",
        "promised",
        "value",
    ) == [
        ("ESX", "E", 35, "31-60", 12, 0, eur("492.00")),
        ("LON", "OLD", -5, "expired", 4, 0, gbp("140.00")),
        ("LON", "A", 20, "0-30", 10, 0, gbp("350.00")),
        ("LON", "B", 45, "31-60", 20, 0, gbp("800.00")),
    ]
    assert rows(
        result, "buckets", "clinic", "bucket", "currency", "lots", "units", "promised", "value"
    ) == [
        ("ESX", "31-60", "EUR", 1, 12, 0, eur("492.00")),
        ("LON", "expired", "GBP", 1, 4, 0, gbp("140.00")),
        ("LON", "0-30", "GBP", 1, 10, 0, gbp("350.00")),
        ("LON", "31-60", "GBP", 1, 20, 0, gbp("800.00")),
    ]
    (chart,) = result.charts
    assert chart.x_labels == ("expired", "0-30", "31-60", "61-90")
    assert [(s.name, s.values) for s in chart.series] == [
        ("ESX", (0, 0, 12, 0)),
        ("LON", (4, 10, 20, 0)),
    ]


def test_expiring_counts_a_kit_reserved_for_a_course_as_promised(stockroom, uow):
    result = report(uow, "expiring", within="30w", clinic="LON")  # 210 days
    assert rows(result, "buckets", "bucket", "currency", "lots", "units", "promised", "value") == [
        ("expired", "GBP", 1, 4, 0, gbp("140.00")),
        ("0-30", "GBP", 1, 10, 0, gbp("350.00")),
        ("31-60", "GBP", 1, 20, 0, gbp("800.00")),
        ("91-120", "-", 1, 6, 0, None),
        ("181-210", "GBP", 3, 20, 1, gbp("1089.00")),
    ]
    kits_lines = [r for r in result.section("lines").records() if r["sku"] == "KIT-6W"]
    assert [(r["lot"], r["promised"], r["course_id"]) for r in kits_lines] == [
        ("K0000001", 1, 1),
        ("K0000002", 0, None),
    ]


# --- valuation -----------------------------------------------------------------------


def test_valuation_values_each_unit_at_its_own_lots_cost_and_kits_at_their_components(
    stockroom, uow
):
    result = report(uow, "valuation")
    assert rows(
        result, "totals", "clinic", "currency", "units", "value", "usable_units", "usable_value"
    ) == [
        ("ESX", "EUR", 12, eur("492.00"), 12, eur("492.00")),
        ("LON", "GBP", 60, gbp("2406.00"), 56, gbp("2266.00")),
        ("LON", "-", 6, None, 0, None),
    ]
    assert rows(result, "products", "clinic", "sku", "currency", "units", "value") == [
        ("ESX", "SERUM-5ML", "EUR", 12, eur("492.00")),
        ("LON", "KIT-6W", "GBP", 2, gbp("441.00")),
        ("LON", "SERUM-5ML", "GBP", 52, gbp("1938.00")),
        ("LON", "SERUM-5ML", "-", 6, None),
        ("LON", "STAMP-0.5", "GBP", 6, gbp("27.00")),
    ]
    unit_costs = {r["lot"]: r["unit_cost"] for r in result.section("lots").records()}
    assert unit_costs["B"] == gbp("40.00")
    assert unit_costs["K0000002"] == gbp("220.50")


def test_valuation_values_a_lot_received_twice_at_the_average_of_its_receipts(stockroom, uow):
    # a second delivery of lot B: 10 more at 44.00 (its first 20 were at 40.00)
    _receive(uow, "LON-FRIDGE", "SERUM-5ML", "B", "2027-01-06", 10, "44.00", "GBP")
    # and 3 more whose paperwork had no price: valued at the lot's average
    _receive(uow, "LON-FRIDGE", "SERUM-5ML", "B", "2027-01-06", 3)
    result = report(uow, "valuation")
    (b,) = [r for r in result.section("lots").records() if r["lot"] == "B"]
    # (20 x 40.00 + 10 x 44.00) / 30 = 41.333...: 33 units are worth 1364.00
    assert (b["quantity"], b["unit_cost"], b["value"]) == (33, gbp("41.33"), gbp("1364.00"))
    totals = rows(result, "totals", "clinic", "currency", "units", "value")
    assert ("LON", "GBP", 73, gbp("2970.00")) in totals  # 2406.00 - 800.00 + 1364.00


# --- kits ----------------------------------------------------------------------------


def test_kits_sets_available_kits_against_the_weeks_courses_need_them(stockroom, uow):
    result = report(uow, "kits", weeks="6")
    assert rows(
        result,
        "stock",
        "clinic",
        "kit",
        "expired",
        "days_0_30",
        "days_over_90",
        "available",
        "reserved",
        "can_assemble",
        "limited_by",
    ) == [
        ("ESX", "KIT-6W", 0, 0, 0, 0, 0, 0, "SERUM-5ML"),
        ("LON", "KIT-6W", 0, 0, 1, 1, 1, 3, "SERUM-5ML"),
    ]
    # weeks start on Monday 11-16; course 1 holds its kit; K0000002 fits course 2 or 3,
    # not both; loose stock would make 3 more kits (18 vials of lot C, the only one that
    # lasts 6 weeks + 7 days; 6 stamps)
    assert rows(result, "weeks", "clinic", "week", "reserved", "needed", "can_serve", "short") == [
        ("LON", date(2026, 11, 30), 1, 0, 0, 0),
        ("LON", date(2026, 12, 7), 0, 1, 0, 1),
        ("LON", date(2026, 12, 14), 0, 1, 1, 0),
    ]
    (chart,) = result.charts
    assert [s.values for s in chart.series] == [
        (0, 0, 0, 1, 1, 0),
        (0, 0, 0, 0, 1, 0),
        (0, 0, 0, 1, 0, 0),
    ]


# --- demand and cover ----------------------------------------------------------------


def test_demand_per_week_against_stock_in_date_on_the_day_of_use(stockroom, uow):
    result = report(uow, "demand", weeks="8")  # 2026-11-22 to 2027-01-10
    assert rows(
        result,
        "weeks",
        "clinic",
        "week",
        "sku",
        "item",
        "needed",
        "from_stock",
        "short",
        "reserved_kits",
    ) == [
        ("ESX", date(2026, 12, 21), "SERUM-5ML", "vial 5 ml", 1, 0, 1, 0),
        ("ESX", date(2026, 12, 28), "SERUM-5ML", "vial 5 ml", 1, 0, 1, 0),
        ("ESX", date(2027, 1, 4), "SERUM-5ML", "vial 5 ml", 1, 0, 1, 0),
        ("LON", date(2026, 11, 23), "SERUM-5ML", "vial 5 ml", 1, 1, 0, 0),
        ("LON", date(2026, 11, 30), "KIT-6W", "kit", 0, 0, 0, 1),
        ("LON", date(2026, 11, 30), "SERUM-5ML", "vial 5 ml", 1, 1, 0, 0),
        ("LON", date(2026, 12, 7), "KIT-6W", "kit", 1, 1, 0, 0),
        ("LON", date(2026, 12, 7), "SERUM-5ML", "vial 5 ml", 7, 7, 0, 0),
        ("LON", date(2026, 12, 7), "STAMP-0.5", "stamp 0.5 mm", 1, 1, 0, 0),
        ("LON", date(2026, 12, 14), "KIT-6W", "kit", 1, 0, 1, 0),
        ("LON", date(2026, 12, 14), "SERUM-5ML", "vial 5 ml", 1, 1, 0, 0),
        ("LON", date(2026, 12, 21), "SERUM-5ML", "vial 5 ml", 1, 1, 0, 0),
        ("LON", date(2026, 12, 28), "SERUM-5ML", "vial 5 ml", 1, 1, 0, 0),
    ]
    totals = {(r["clinic"], r["sku"]): r for r in result.section("totals").records()}
    esx = totals[("ESX", "SERUM-5ML")]
    # 12 vials on hand at ESX, all expiring on 12-27: none serves a session from 12-22 on
    assert (
        esx["needed"],
        esx["from_stock"],
        esx["short"],
        esx["usable"],
        esx["expiring_unused"],
        esx["first_short_day"],
    ) == (3, 0, 3, 12, 12, date(2026, 12, 22))
    lon = totals[("LON", "SERUM-5ML")]
    # A serves 2 sessions before 12-12, B 7 needs until 01-05, C the last 3; 8 of A and
    # 13 of B expire unused, 15 of C are spare
    assert (
        lon["needed"],
        lon["from_stock"],
        lon["short"],
        lon["usable"],
        lon["expiring_unused"],
    ) == (12, 12, 0, 48, 21)
    assert [c.key for c in result.charts] == ["weeks_serum_vial", "weeks_derma_stamp", "weeks_kit"]


def test_cover_counts_days_to_the_first_need_stock_cannot_serve(stockroom, uow):
    result = report(uow, "cover", days="60")
    records = result.section("cover").records()
    assert [
        (r["clinic"], r["sku"], r["days_of_cover"], r["first_short_day"]) for r in records[:2]
    ] == [
        ("LON", "KIT-6W", 22, date(2026, 12, 14)),
        ("ESX", "SERUM-5ML", 30, date(2026, 12, 22)),
    ]
    esx = records[1]
    assert (esx["usable"], esx["demand"], esx["short"], esx["expiring_unused"]) == (12, 5, 5, 12)
    lon = next(r for r in records if (r["clinic"], r["sku"]) == ("LON", "SERUM-5ML"))
    assert (lon["days_of_cover"], lon["awaiting_release"]) == (None, 6)


# --- wastage and movements (on a ledger written at known times) ------------------------


def _build_wasted(uow) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _write_offs_at_known_times(uow, monkeypatch)


def _write_offs_at_known_times(uow, monkeypatch) -> None:
    _places(uow)
    _catalogue(uow)

    def at(*moment: int) -> None:
        when = datetime(*moment, tzinfo=UTC)
        monkeypatch.setattr("kitops.data.repositories.stock.utcnow", lambda: when)
        monkeypatch.setattr("kitops.data.repositories.audit.utcnow", lambda: when)

    at(2026, 8, 1, 9)
    _receive(
        uow,
        "LON-FRIDGE",
        "SERUM-5ML",
        "W2",
        "2027-06-30",
        10,
        "40.00",
        "GBP",
        today=date(2026, 8, 1),
    )
    _release(uow, "W2", today=date(2026, 8, 1))
    at(2026, 8, 15, 9)
    write_off(uow(), "SERUM-5ML", 1, "LON-FRIDGE", "damaged", lot="W2")  # before the window
    at(2026, 9, 10, 10)
    _receive(
        uow,
        "LON-FRIDGE",
        "SERUM-5ML",
        "W1",
        "2026-10-15",
        10,
        "35.00",
        "GBP",
        today=date(2026, 9, 10),
    )
    _release(uow, "W1", today=date(2026, 9, 10))
    at(2026, 9, 20, 10)
    write_off(uow(), "SERUM-5ML", 2, "LON-FRIDGE", "damaged", lot="W2")
    at(2026, 10, 5, 10)
    write_off(uow(), "SERUM-5ML", 1, "LON-FRIDGE", "opened", lot="W1")
    # W1 expires on 10-15 with 9 on hand: wasted in October, counted once although the
    # sweep moves it and a write-off disposes of it in November
    at(2026, 11, 2, 1)
    expiry.sweep(uow(), as_of=date(2026, 11, 2))
    at(2026, 11, 3, 10)
    write_off(uow(), "SERUM-5ML", 9, "LON-QUAR", "expired", lot="W1")
    at(2026, 11, 10, 10)
    write_off(uow(), "SERUM-5ML", 1, "LON-FRIDGE", "other", lot="W2")
    at(2026, 11, 1, 8)
    _receive(
        uow,
        "ESX-FRIDGE",
        "SERUM-5ML",
        "W3",
        "2027-01-31",
        5,
        "30.00",
        "EUR",
        today=date(2026, 11, 1),
        foreign_currency=True,
    )
    _release(uow, "W3", today=date(2026, 11, 1))
    at(2026, 11, 12, 16)
    write_off(uow(), "SERUM-5ML", 1, "ESX-FRIDGE", "damaged", lot="W3")


@pytest.fixture
def wasted(db):
    """Write-offs and an expiry at known ledger times, over August to November 2026: built
    once per run and backend, cloned per test (``TEMPLATE_FIXTURES``, tests/conftest.py)."""
    return db


# the fixtures whose data is built once per run and backend, then cloned per test
TEMPLATE_FIXTURES = {"stockroom": _build_stockroom, "wasted": _build_wasted}


def test_wastage_per_month_and_reason_counts_each_unit_once(wasted, uow):
    result = report(uow, "wastage", months="3")
    assert rows(
        result,
        "trend",
        "month",
        "what",
        "damaged",
        "opened",
        "expired",
        "other",
        "expired_on_shelf",
        "units",
        "ml",
    ) == [
        ("2026-09", "vials", 2, 0, 0, 0, 0, 2, "10"),
        ("2026-09", "stamps", 0, 0, 0, 0, 0, 0, None),
        ("2026-10", "vials", 0, 1, 0, 0, 9, 10, "50"),
        ("2026-10", "stamps", 0, 0, 0, 0, 0, 0, None),
        ("2026-11", "vials", 1, 0, 0, 1, 0, 2, "10"),
        ("2026-11", "stamps", 0, 0, 0, 0, 0, 0, None),
    ]
    assert rows(result, "months", "month", "reason", "what", "currency", "units", "ml",
                "value") == [
        ("2026-09", "damaged", "vials", "GBP", 2, "10", gbp("80.00")),
        ("2026-10", "opened", "vials", "GBP", 1, "5", gbp("35.00")),
        ("2026-10", "expired_on_shelf", "vials", "GBP", 9, "45", gbp("315.00")),
        ("2026-11", "damaged", "vials", "EUR", 1, "5", eur("30.00")),
        ("2026-11", "other", "vials", "GBP", 1, "5", gbp("40.00")),
    ]  # fmt: skip
    assert rows(result, "clinics", "clinic", "reason", "what", "units") == [
        ("ESX", "damaged", "vials", 1),
        ("LON", "damaged", "vials", 2),
        ("LON", "opened", "vials", 1),
        ("LON", "other", "vials", 1),
        ("LON", "expired_on_shelf", "vials", 9),
    ]
    only_lon = report(uow, "wastage", months="6", clinic="LON")
    vials = [r["units"] for r in only_lon.section("trend").records() if r["what"] == "vials"]
    assert vials == [0, 0, 1, 2, 10, 1]
    assert "Trend: 13 vials in the last 3 months against 1 in the 3 before" in " ".join(
        only_lon.notes
    )


def _trend(result, month):
    return {
        r["what"]: (r["damaged"], r["opened"], r["other"], r["units"], r["ml"])
        for r in result.section("trend").records()
        if r["month"] == month
    }


def test_wastage_counts_an_opened_kit_as_its_vials_and_stamp_apart(loaded, uow, monkeypatch):
    """A kit handed over and returned opened is 6 vials (30 ml) and 1 stamp wasted as
    `opened` at its clinic, never one 'unit' added to vials; a kit written off from a
    shelf counts as its components too."""
    month = AS_OF.strftime("%Y-%m")
    before = report(uow, "wastage", months="1")
    when = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC)
    monkeypatch.setattr("kitops.data.repositories.stock.utcnow", lambda: when)
    monkeypatch.setattr("kitops.data.repositories.audit.utcnow", lambda: when)
    kits.dispatch(uow(), "K0000001", handover=True, today=AS_OF)
    kits.take_back(uow(), "K0000001", "opened")
    write_off(uow(), "SERUM-5ML", 2, "LON-FRIDGE", "damaged", lot="PTT6-B0902")
    write_off(uow(), "STAMP-0.5", 3, "LON-SHELF", "damaged", lot="DS05-2402")
    monkeypatch.undo()

    after = report(uow, "wastage", months="1")

    was, now = _trend(before, month), _trend(after, month)
    assert set(now) == {"vials", "stamps"}  # no 'kits' row: a kit is its components
    grew = {
        what: tuple(
            (int(a) - int(b)) if isinstance(a, int) else (float(a or 0) - float(b or 0))
            for a, b in zip(now[what], was[what], strict=True)
        )
        for what in now
    }
    assert grew == {"vials": (2, 6, 0, 8, 40.0), "stamps": (3, 1, 0, 4, 0.0)}
    opened = [r for r in after.section("months").records()
              if (r["month"], r["reason"]) == (month, "opened")]  # fmt: skip
    assert {(r["what"], r["currency"], r["units"], r["ml"], r["value"]) for r in opened} == {
        ("vials", "GBP", 6, "30", gbp("210.00")),  # 6 × 35.00
        ("stamps", "GBP", 1, None, gbp("4.50")),
    }
    lon = {(r["reason"], r["what"]): r["units"] for r in after.section("clinics").records()
           if r["clinic"] == "LON"}  # fmt: skip
    assert (lon[("opened", "vials")], lon[("opened", "stamps")]) == (6, 1)


def test_movements_extract_between_two_days_and_for_one_clinic(wasted, uow):
    september = report(uow, "movements", **{"from": "2026-09-01", "to": "2026-09-30"})
    assert rows(
        september,
        "moves",
        "at",
        "lot",
        "from_location",
        "to_location",
        "quantity",
        "reason",
        "detail",
    ) == [
        ("2026-09-10 10:00", "W1", "SUPPLIER", "LON-FRIDGE", 10, "receipt", None),
        ("2026-09-20 10:00", "W2", "LON-FRIDGE", "SCRAP", 2, "write_off", "damaged"),
    ]
    assert rows(september, "summary", "reason", "detail", "moves", "units") == [
        ("receipt", "", 1, 10),
        ("write_off", "damaged", 1, 2),
    ]
    essex = report(uow, "movements", clinic="ESX", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert rows(essex, "moves", "lot", "quantity", "reason") == [
        ("W3", 5, "receipt"),
        ("W3", 1, "write_off"),
    ]


# --- bad input, formats --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "clinic", "options", "field"),
    [
        ("stock", "LON-FRIDGE", {}, "clinic"),
        ("stock", "NOWHERE", {}, "clinic"),
        ("expiring", None, {"within": "soon"}, "within"),
        ("kits", None, {"weeks": "0"}, "weeks"),
        ("wastage", None, {"months": "many"}, "months"),
        ("movements", None, {"from": "2026-12-01", "to": "2026-11-01"}, "from"),
        ("movements", None, {"to": "yesterday"}, "to"),
        ("stock", None, {"within": "90"}, "within"),
    ],
)
def test_bad_input_names_the_field_and_the_value(stockroom, uow, name, clinic, options, field):
    with pytest.raises(InvalidInput) as raised:
        report(uow, name, clinic=clinic, **options)
    assert raised.value.field == field


def test_an_unknown_report_or_format_is_bad_input(stockroom, uow):
    with pytest.raises(InvalidInput, match="report 'sales'"):
        run_report(uow(readonly=True), "sales", ReportRequest())
    with pytest.raises(InvalidInput, match="format 'xml'"):
        render(report(uow, "stock"), "xml")


@pytest.mark.parametrize(
    "name", ["cover", "demand", "expiring", "kits", "movements", "stock", "valuation", "wastage"]
)
def test_csv_and_json_carry_the_same_cells(stockroom, uow, name):
    result = report(uow, name)
    as_json = json.loads(render(result, "json"))
    as_csv = read_csv_sections(render(result, "csv"))
    assert set(as_csv) == set(as_json["sections"]) == {s.key for s in result.sections}
    for section in result.sections:
        for csv_row, json_row in zip(
            as_csv[section.key], as_json["sections"][section.key], strict=True
        ):
            for column in section.columns:
                value = json_row[column.key]
                if isinstance(value, dict):  # money
                    shown = str(Money(value["amount_minor"], value["currency"])).split(" ")
                    assert [csv_row[column.key], csv_row[f"{column.key}_currency"]] == shown
                else:
                    assert csv_row[column.key] == ("" if value is None else str(value))
