"""Property-based tests: malformed input always ends in exit 2, one clear line on
stderr, and an unchanged ledger. SQLite only: the database is shared by the examples."""

from __future__ import annotations

import contextlib
import io
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from identity_support import bind_identity
from sqlalchemy import func, select

from kitops.cli import run
from kitops.data import migrate
from kitops.data.engine import open_database
from kitops.data.schema import AuditRow, LotRow, StockMoveRow
from kitops.domain.ledger import FIRST_DAY, LAST_DAY
from kitops.domain.locations import clinic_today
from kitops.errors import InvalidInput
from kitops.gs1 import parse_scan
from kitops.services import demo
from kitops.services.unit_of_work import UnitOfWork

SERUM_GTIN = "05060999900014"
GS = "\x1d"
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    path = tmp_path_factory.mktemp("props") / "kitops.db"
    url = f"sqlite:///{path}"
    db = open_database(url)
    migrate.upgrade(db)
    demo.load(UnitOfWork(db, "tester"), date(2026, 11, 22))
    bind_identity(db.engine, "tester")  # the CLI acts as the user bound to this login
    yield url, db
    db.dispose()


def _footprint(db):
    with db.read_sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table))
            for table in (StockMoveRow, AuditRow, LotRow)
        )


def _kitops(url, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["--db", url, "--user", "tester", *args])
    return code, out.getvalue(), err.getvalue()


def _assert_bad_input(shop, args, field_hint=None):
    url, db = shop
    before = _footprint(db)
    code, _, err = _kitops(url, *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (args, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("kitops: ")
    assert "Traceback" not in err
    if field_hint:
        assert field_hint in lines[0]
    assert _footprint(db) == before


def _valid_scan(text):
    try:
        scan = parse_scan(text)
    except InvalidInput:
        return False
    return scan.gtin == SERUM_GTIN


@PROFILE
@given(text=st.text(min_size=1, max_size=60).filter(lambda s: s.strip() and "\x00" not in s))
def test_arbitrary_scanner_input_is_bad_input_and_changes_nothing(shop, text):
    assume(not _valid_scan(text))
    _assert_bad_input(shop, ["receive", "--scan", text, "--qty", "1", "--location", "LON-FRIDGE"])


digits = st.text(alphabet="0123456789", min_size=1, max_size=16)


@st.composite
def broken_gs1(draw):
    """Element strings of the right shape with one thing wrong."""
    prefix = draw(st.sampled_from(["", "]d2", "]C1", "]Q3"]))
    flaw = draw(st.sampled_from(["check_digit", "month", "no_lot", "no_expiry", "gtin", "count"]))
    gtin = SERUM_GTIN
    expiry = "280331"
    lot = "10" + draw(st.text(alphabet="ABCDEFGH0123456789-", min_size=1, max_size=12))
    extra = ""
    if flaw == "check_digit":
        gtin = gtin[:-1] + str((int(gtin[-1]) + draw(st.integers(1, 9))) % 10)
    elif flaw == "month":
        expiry = "28" + str(draw(st.integers(13, 99))) + "01"
    elif flaw == "gtin":
        gtin = "0" + draw(st.text(alphabet="0123456789", min_size=13, max_size=13))
        assume(not gtin.startswith("0506099990"))  # no GTIN of the demo catalogue
    elif flaw == "count":
        extra = GS + "30" + "0" * draw(st.integers(1, 4))
    body = "01" + gtin
    if flaw != "no_expiry":
        body += "17" + expiry
    if flaw != "no_lot":
        body += lot
    return prefix + body + extra


@PROFILE
@given(scan=broken_gs1())
def test_gs1_labels_with_one_flaw_are_refused_as_bad_input(shop, scan):
    _assert_bad_input(shop, ["receive", "--scan", scan, "--qty", "2", "--location", "LON-FRIDGE"])


not_a_positive_int = st.one_of(
    st.integers(max_value=0).map(str),
    st.text(min_size=1, max_size=12).filter(
        lambda s: not (s.strip().isascii() and s.strip().lstrip("+").isdigit())
    ),
)


@PROFILE
@given(qty=not_a_positive_int)
def test_quantity_that_is_not_a_positive_whole_number_is_bad_input(shop, qty):
    assume(not qty.startswith("-") or qty.lstrip("-").isdigit())  # '-x' reads as an option
    _assert_bad_input(
        shop,
        ["move", "SERUM-5ML", "--qty", qty, "--from", "LON-FRIDGE", "--to", "LON-SHELF"],
        "qty",
    )


@PROFILE
@given(expiry=st.text(min_size=1, max_size=14).filter(lambda s: not s.startswith("-")))
def test_expiry_that_is_not_an_iso_date_is_bad_input(shop, expiry):
    try:
        date.fromisoformat(expiry.strip())
        assume(len(expiry.strip()) != 10)
    except ValueError:
        pass
    _assert_bad_input(
        shop,
        ["receive", "SERUM-5ML", "--lot", "PTT6-Z1", "--expiry", expiry, "--qty", "3",
         "--location", "LON-FRIDGE"],
        "expiry",
    )  # fmt: skip


@PROFILE
@given(
    location=st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=1,
                     max_size=12).filter(lambda s: not s.startswith("-"))
)  # fmt: skip
def test_unknown_location_is_bad_input(shop, location):
    assume(location.strip().upper() not in {
        "LON", "ESX", "VIE", "SUPPLIER", "PATIENT", "SCRAP", "ADJUSTMENT",
        *(f"{c}-{p}" for c in ("LON", "ESX", "VIE") for p in ("STORE", "FRIDGE", "SHELF", "QUAR")),
    })  # fmt: skip
    _assert_bad_input(
        shop,
        ["writeoff", "SERUM-5ML", "--lot", "PTT6-B0902", "--qty", "1", "--location", location,
         "--reason", "damaged"],
        "location",
    )  # fmt: skip


@PROFILE
@given(reason=st.text(min_size=1, max_size=10).filter(lambda s: not s.startswith("-")))
def test_write_off_reason_outside_the_list_is_bad_input(shop, reason):
    assume(reason not in {"damaged", "expired", "opened", "other"})
    _assert_bad_input(
        shop,
        ["writeoff", "SERUM-5ML", "--lot", "PTT6-B0902", "--qty", "1", "--location",
         "LON-FRIDGE", "--reason", reason],
        "reason",
    )  # fmt: skip


DATED_COMMANDS = [
    ("reorder", "run", "--dry-run", "--as-of"),
    ("stock", "--as-of"),
    ("expiry", "sweep", "--dry-run", "--as-of"),
    *[("report", name, "--as-of") for name in
      ("stock", "expiring", "kits", "demand", "cover", "wastage", "valuation", "movements",
       "payments")],
]  # fmt: skip
# every day Python can hold, weighted towards the edges of the supported range
any_day = st.one_of(
    st.dates(),
    st.dates(min_value=FIRST_DAY, max_value=LAST_DAY),
    st.sampled_from([FIRST_DAY, LAST_DAY, date.min, date.max]),
    st.integers(-3, 3).map(lambda n: FIRST_DAY.fromordinal(FIRST_DAY.toordinal() + n)),
    st.integers(-3, 3).map(lambda n: LAST_DAY.fromordinal(LAST_DAY.toordinal() + n)),
)


@PROFILE
@given(day=any_day, command=st.sampled_from(DATED_COMMANDS))
def test_any_date_is_served_or_refused_as_bad_input_naming_it(shop, day, command):
    url, db = shop
    if FIRST_DAY <= day <= LAST_DAY:
        before = _footprint(db)
        code, _, err = _kitops(url, *command, day.isoformat())
        assert code in (0, 1), (command, day, err)  # a sweep ahead of today is refused
        assert "Traceback" not in err, err
        assert "internal error" not in err, err
        assert _footprint(db) == before  # all of them read only (--dry-run)
    else:
        _assert_bad_input(shop, [*command, day.isoformat()], day.isoformat())


@PROFILE
@given(
    day=any_day,
    plan=st.sampled_from(["home-6w", "clinic-weekly-6", "ptt6-weekly-12"]),
)
def test_a_course_may_start_on_any_supported_day_and_no_other(shop, day, plan):
    url, _ = shop
    # --overlap: the examples are one patient's courses on the same few plans
    args = ["course", "create", "--patient", "P-PROP", "--plan", plan, "--clinic", "LON",
            "--start", day.isoformat(), "--overlap"]  # fmt: skip
    if max(FIRST_DAY, clinic_today("Europe/London")) <= day <= LAST_DAY:
        code, _, err = _kitops(url, *args)
        # a home course starts in the clinic: not on a day the demo's LON is closed
        # (Sundays, Christmas and Boxing Day 2026)
        closed = day.weekday() == 6 or day in (date(2026, 12, 25), date(2026, 12, 26))
        if closed and plan != "clinic-weekly-6":
            assert code == 2, (day, plan, err)
            assert f"start '{day.isoformat()}': LON is closed" in err, err
            return
        assert code == 0, (day, plan, err)
    else:
        _assert_bad_input(shop, args, "start")


huge_number = st.one_of(
    st.integers(min_value=2**31, max_value=10**40),
    st.integers(max_value=0),
).map(str)


@PROFILE
@given(number=huge_number, command=st.sampled_from([
    ("course", "show"), ("course", "cancel"), ("order", "show"), ("fulfil",)]))  # fmt: skip
def test_an_id_outside_the_integer_range_is_bad_input(shop, number, command):
    assume(not number.startswith("-"))  # '-5' reads as an option
    _assert_bad_input(shop, [*command, number], number[:20])


@PROFILE
@given(size=st.integers(128 * 1024 + 1, 600 * 1024), column=st.integers(0, 3),
       kind=st.sampled_from(["products", "locations", "stock"]))  # fmt: skip
def test_an_oversized_csv_cell_is_bad_input_naming_file_and_line(
    shop, tmp_path_factory, size, column, kind
):
    path = tmp_path_factory.mktemp("big") / "sheet.csv"
    cells = ["SERUM-5ML", "x", "3", "LON-FRIDGE"]
    cells[column] = "a" * size
    path.write_text("sku,name,quantity,location\nCHX-0.5,y,1,LON\n" + ",".join(cells) + "\n",
                    encoding="utf-8")  # fmt: skip
    _assert_bad_input(shop, ["import", kind, str(path)], "line 3")
