"""Bad input everywhere: random arguments to every command, random CSV files to `import`
and `count`. The only outcomes allowed are exit 0, 1 or 2, a refusal in one line (the
import and count refusals list each bad row under their first line), never a traceback or
an "internal error" (70); a command that fails writes nothing, and `kitops db check`
passes after every command that succeeded.

The commands and their options are read from the click tree, so a new command is fuzzed
without touching this file. Left out: `tui` and `stripe listen` (they do not return),
`db restore` and `demo --reset` (they replace the database under the test; restore has
its own tests in test_backup_restore.py).
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import click
import pytest
from fault_support import kitops_in_process
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from kitops.cli.app import cli
from kitops.data.engine import resolve_url
from kitops.data.schema import AuditRow, KitRow, LotRow, StockBalanceRow, StockMoveRow
from kitops.domain.ledger import FIRST_DAY, LAST_DAY
from kitops.services import admin
from kitops.services.unit_of_work import UnitOfWork

AS_OF = "2026-11-22"
LEFT_OUT = {("tui",), ("stripe", "listen"), ("db", "restore")}
REFUSES_WITH_A_LIST = {("import",), ("count",)}  # first line, then one line per bad row

# the demo data as of AS_OF, as `kitops demo --as-of` loads it (a clone of the run's
# template: DEMO_FIXTURES in tests/conftest.py)
pytestmark = pytest.mark.demo_data(date.fromisoformat(AS_OF))


def _leaves(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        here = (*path, name)
        if here in LEFT_OUT:
            continue
        if isinstance(command, click.Group):
            yield from _leaves(command, here)
        else:
            yield here, command


COMMANDS = list(_leaves(cli))

WORDS = [
    "SERUM-5ML", "STAMP-0.5", "STAMP-2.0", "KIT-HOME-6W", "CHX-0.5", "serum-5ml", "NOPE-1",
    "LON", "ESX", "VIE", "LON-FRIDGE", "LON-SHELF", "ESX-STORE", "VIE-QUAR", "SUPPLIER",
    "SCRAP", "PATIENT", "ADJUSTMENT", "PTT6-B0902", "PTT6-A0412", "PTT6-C0115", "K0000001",
    "K0000002", "K0000009", "home-6w", "clinic-weekly-6", "PO-000001", "1", "2", "9", "0",
    "-1", "3", "10", "1000000000000000000000", "1.5", "1e3", "2026-11-22", "2027-02-30",
    "2026-13-01", "yesterday", "14d", "2w", "GBP", "EUR", "XXX", "pm_card_visa", "",
    " ", "'", '"', "%", "\\", "a,b", "ÿ", "LON\x1bESX", "x" * 300, "DERMASUPPLY",
    "SKU=2", "SERUM-5ML=6", "mon,thu", "Europe/London", "Mars/Base", "damaged",
]  # fmt: skip
noise = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=20,
)
# days across the whole of Python's calendar, the supported range's edges included
# (kitops.domain.ledger: FIRST_DAY..LAST_DAY), and numbers and texts far too large
day = st.one_of(
    st.dates(),
    st.sampled_from([FIRST_DAY, LAST_DAY, FIRST_DAY - timedelta(days=1),
                     LAST_DAY + timedelta(days=1), date.min, date.max]),
).map(date.isoformat)  # fmt: skip
oversized = st.one_of(
    st.integers(2**31 - 1, 10**40).map(str),
    st.sampled_from(["Europe/" + "A" * 5000, "x" * 70_000, "9" * 400]),
)
value = st.one_of(st.sampled_from(WORDS), noise, st.integers(-10, 10**6).map(str), day, oversized)


@st.composite
def argv_for(draw, command_path, command):
    args = list(command_path)
    for param in command.params:
        if isinstance(param, click.Argument):
            count = 1 if param.nargs == 1 else draw(st.integers(0, 3))
            if not param.required and draw(st.booleans()):
                continue
            for _ in range(count):
                args.append(draw(_value_of(param)))
        elif isinstance(param, click.Option):
            if param.name in ("help", "version", "reset"):
                continue
            keep = draw(st.integers(0, 9)) > 0 if param.required else draw(st.booleans())
            if not keep:
                continue
            flag = param.opts[0]
            if param.is_flag:
                args.append(flag if not param.secondary_opts or draw(st.booleans())
                            else param.secondary_opts[0])  # fmt: skip
                continue
            args.append(flag)
            for _ in range(param.nargs if param.nargs > 0 else 1):
                args.append(draw(_value_of(param)))
    if draw(st.integers(0, 9)) == 0:
        args.insert(draw(st.integers(0, len(args))), draw(st.sampled_from(["--bogus", "-x"])))
    return args


def _value_of(param: click.Parameter):
    if isinstance(param.type, click.Choice):
        return st.one_of(st.sampled_from(list(param.type.choices)), value)
    return value


any_command = st.sampled_from(COMMANDS).flatmap(lambda pair: argv_for(*pair))


_FOOTPRINT = select(
    *(
        select(func.count()).select_from(table).scalar_subquery()
        for table in (StockMoveRow, AuditRow, LotRow, KitRow, StockBalanceRow)
    )
)  # the five counts in one statement


class _Footprints:
    """The five counts, on an engine kept for the whole test (a fresh connection each
    time): its statement is compiled once, not once per example."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(resolve_url(url), poolclass=NullPool)

    def __call__(self) -> tuple[int, ...]:
        with self.engine.connect() as conn:
            return tuple(conn.execute(_FOOTPRINT).one())

    def close(self) -> None:
        self.engine.dispose()


def _check(url):
    from kitops.data.engine import open_database

    db = open_database(url)
    try:
        return admin.check(UnitOfWork(db, "tester", readonly=True))
    finally:
        db.dispose()


def _assert_clean(url, args, code, out, err):
    assert "Traceback" not in err, (args, err)
    assert "Traceback" not in out, (args, out)
    assert code in (0, 1, 2), (args, code, err)
    if code:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines, (args, code, out)
        assert lines[0].startswith("kitops: "), (args, err)
        if tuple(args[:1]) not in REFUSES_WITH_A_LIST:
            assert len(lines) == 1, (args, err)


@pytest.fixture
def footprint(db_url):
    counts = _Footprints(db_url)
    yield counts
    counts.close()


@pytest.fixture
def shop(db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files a command writes (labels, exports) land here
    for name in list(os.environ):
        if name.startswith("KITOPS_STRIPE_"):
            monkeypatch.delenv(name)
    return db_url


FUZZ = settings(
    max_examples=int(os.environ.get("KITOPS_FUZZ_EXAMPLES", "100")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(args=any_command)
def test_random_arguments_to_every_command_end_cleanly(shop, footprint, backend, args):
    before = footprint()
    code, out, err = kitops_in_process(shop, *args)
    _assert_clean(shop, args, code, out, err)
    event(f"exit {code}")
    if code:
        assert footprint() == before, (args, err)  # a failed command wrote nothing
    elif footprint() != before:
        assert _check(shop).ok, args


COLUMNS = {
    "products": ["sku", "name", "kind", "unit", "gtin", "ml", "needle_mm", "at_home",
                 "lot_tracked", "requires_release", "shelf_life_days", "expiry_alert_days",
                 "min_shelf_life_on_receipt_days"],
    "locations": ["code", "name", "parent", "kind", "timezone", "currency"],
    "stock": ["sku", "quantity", "location", "lot", "expiry", "status", "unit_cost",
              "currency"],
    "count": ["sku", "lot", "counted"],
}  # fmt: skip
CELLS = [*WORDS, "serum_vial", "derma_stamp", "consumable", "kit", "yes", "no", "released",
         "quarantine", "recalled", "5", "0.4", "0.6", "05060999900014", "12.50", "1e400",
         "NaN", "=1+1", "clinic", "fridge", "PTT6-B0902", "PTT6-A0603"]  # fmt: skip
cell = st.one_of(
    st.sampled_from(CELLS),
    noise.filter(lambda s: "\n" not in s and "\r" not in s),
    day,
    st.integers(128 * 1024 - 2, 128 * 1024 + 64).map(lambda n: "z" * n),  # the csv limit
)


@st.composite
def csv_file(draw):
    kind = draw(st.sampled_from(list(COLUMNS)))
    known = COLUMNS[kind]
    header = draw(st.lists(st.sampled_from([*known, "junk", "SKU", ""]), max_size=9))
    if draw(st.booleans()):
        header = known[:3] + header
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 2), max_size=6))

    def quote(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"') else text

    lines = [",".join(quote(c) for c in header), *(",".join(quote(c) for c in r) for r in rows)]
    body = "\n".join(lines).encode("utf-8")
    mangle = draw(st.sampled_from(["", "", "bom", "latin1", "binary", "empty", "crlf"]))
    if mangle == "bom":
        body = b"\xef\xbb\xbf" + body
    elif mangle == "latin1":
        body += b"\nSERUM-5ML,\xe9t\xe9,3"
    elif mangle == "binary":
        body = draw(st.binary(max_size=200))
    elif mangle == "empty":
        body = b""
    elif mangle == "crlf":
        body = body.replace(b"\n", b"\r\n")
    extra = draw(st.lists(st.sampled_from(["--dry-run", "--json", "--full"]), unique=True))
    return kind, body, extra


@FUZZ
@given(case=csv_file())
def test_random_csv_files_for_import_and_count_end_cleanly(shop, footprint, backend, case):
    kind, body, extra = case
    path = Path("sheet.csv")
    path.write_bytes(body)
    if kind == "count":
        args = ["count", "--location", "LON-FRIDGE", str(path), *extra]
    else:
        args = ["import", kind, str(path), *[e for e in extra if e != "--full"]]
    before = footprint()
    code, out, err = kitops_in_process(shop, *args)
    _assert_clean(shop, args, code, out, err)
    if code or "--dry-run" in args:
        assert footprint() == before, (args, err)
    elif footprint() != before:
        assert _check(shop).ok, args
