"""``kitops report``: the same numbers in every format, a page that fetches nothing,
one-line errors, and tables that fit 100 columns. On the demo data as of 2026-11-22."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
from e2e_support import assert_bad_input, json_of

from kitops.documents.report_files import read_csv_sections, text
from kitops.domain.money import Money
from kitops.services.dto.reports import NUMERIC, Column, Kind

AS_OF = "2026-11-22"
# the manager reports of this feature (the registry may hold others, such as payments)
NAMES = ("cover", "demand", "expiring", "kits", "movements", "stock", "valuation", "wastage")


@pytest.fixture
def demo_cli(cli):
    """``cli`` on the demo data as of ``AS_OF`` (cloned: ``DEMO_FIXTURES`` in
    tests/conftest.py)."""
    assert json_of(cli, "location", "list", "--json"), "the database should hold the demo"
    return cli


def _report(cli, name, *args):
    result = cli("report", name, "--as-of", AS_OF, *args)
    assert result.code == 0, (result.code, result.err)
    assert result.err == ""
    return result.out


def _columns(name: str, key: str, as_json: dict) -> tuple[Column, ...]:
    """The columns of a section, rebuilt from the JSON keys and the report's module."""
    import importlib

    module = importlib.import_module(f"kitops.reports.{_module_of(name)}")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, tuple) and value and all(isinstance(c, Column) for c in value)
    ]
    keys = list(as_json["sections"][key][0]) if as_json["sections"][key] else None
    for columns in found:
        if keys == [c.key for c in columns]:
            return columns
    raise AssertionError(f"no column set of {name}.{key} matches {keys}")


def _module_of(name: str) -> str:
    return {"cover": "demand"}.get(name, name)


def _table_cells(header: str, line: str, columns: list[Column]) -> list[str]:
    """Split one table row by the header's layout: a left-aligned column starts where its
    title starts, a right-aligned (numeric) one ends where its title ends; two spaces
    separate columns, and no cell holds two spaces in a row."""
    at, spans = 0, []
    for column in columns:
        start = header.index(column.title, at)
        at = start + len(column.title)
        spans.append((start, at))
    right = [c.kind in NUMERIC for c in columns]
    cells: list[str] = []
    i = 0
    while i < len(columns):
        if not right[i]:
            if i + 1 < len(columns) and right[i + 1]:
                segment = line[spans[i][0] : spans[i + 1][1]]
                if not segment[:1].strip():
                    cells += ["", segment.strip()]
                else:
                    parts = re.split(r" {2,}", segment.rstrip())
                    cells += [parts[0], parts[1].strip() if len(parts) > 1 else ""]
                i += 2
                continue
            end = spans[i + 1][0] - 2 if i + 1 < len(columns) else len(line)
            cells.append(line[spans[i][0] : end].strip())
        else:
            begin = spans[i - 1][1] + 2 if i else 0
            cells.append(line[begin : spans[i][1]].strip())
        i += 1
    return cells


def _table_sections(table: str) -> dict[str, tuple[str, list[str]]]:
    """Section title → (header line, row lines)."""
    lines = table.splitlines()
    found = {}
    for n, line in enumerate(lines):
        match = re.fullmatch(r"(.+) \((\d+)\)", line)
        if match and n + 2 < len(lines) and set(lines[n + 2]) == {"─"}:
            count = int(match.group(2))
            found[match.group(1)] = (lines[n + 1], lines[n + 3 : n + 3 + count])
    return found


def _shown(column: Column, value) -> str:
    if isinstance(value, dict):
        return text(Money(value["amount_minor"], value["currency"]))
    return "" if value is None else str(value)


@pytest.mark.parametrize("name", NAMES)
def test_table_csv_and_json_show_the_same_numbers(demo_cli, name):
    as_json = json.loads(_report(demo_cli, name, "--format", "json"))
    raw_csv = _report(demo_cli, name, "--format", "csv")
    as_csv = read_csv_sections(raw_csv)
    titles = dict(
        cells[0][2:].split(": ", 1)
        for cells in csv.reader(io.StringIO(raw_csv))
        if len(cells) == 1 and re.match(r"# \w+: ", cells[0])
    )
    table = _table_sections(_report(demo_cli, name))
    assert as_json["report"] == name
    assert as_json["as_of"] == AS_OF
    compared = 0
    for key, records in as_json["sections"].items():
        assert len(as_csv[key]) == len(records)
        if not records:
            continue
        columns = _columns(name, key, as_json)
        header, lines = table[titles[key]]
        assert len(lines) == len(records)
        shown = [c for c in columns if c.in_table]
        for record, csv_row, line in zip(records, as_csv[key], lines, strict=True):
            cells = _table_cells(header, line, shown)
            for column, cell in zip(shown, cells, strict=True):
                expected = _shown(column, record[column.key])
                if column.kind is Kind.TEXT and cell.endswith("…"):
                    assert expected.startswith(cell[:-1]), (name, key, column.key, cell)
                else:
                    assert cell == expected, (name, key, column.key, cell, expected)
                if column.kind in NUMERIC:
                    compared += 1
            for column in columns:
                value = record[column.key]
                if isinstance(value, dict):
                    amount, currency = _shown(column, value).split(" ")
                    assert (csv_row[column.key], csv_row[f"{column.key}_currency"]) == (
                        amount,
                        currency,
                    )
                else:
                    assert csv_row[column.key] == _shown(column, value)
    assert compared > 0


@pytest.mark.parametrize("name", NAMES)
def test_tables_fit_a_hundred_column_terminal(demo_cli, name):
    out = _report(demo_cli, name)
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize(("name", "charts"), [("expiring", 1), ("demand", 3), ("wastage", 2)])
def test_html_is_one_page_with_inline_charts_that_fetches_nothing(demo_cli, tmp_path, name, charts):
    target = tmp_path / f"{name}.html"
    result = demo_cli("report", name, "--as-of", AS_OF, "--out", str(target))
    assert result.code == 0, result.err
    assert result.out.strip() == f"report {name} (html) written to {target}"
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == charts
    assert "<script" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.IGNORECASE)
    assert "@import" not in page
    assert "url(http" not in page
    as_json = json_of(demo_cli, "report", name, "--as-of", AS_OF, "--format", "json")
    for records in as_json["sections"].values():
        for record in records[:3]:
            for value in record.values():
                if isinstance(value, int) and not isinstance(value, bool):
                    assert f">{value}<" in page


def test_csv_goes_to_a_file_named_by_its_extension(demo_cli, tmp_path):
    target = tmp_path / "valuation.csv"
    result = demo_cli(
        "report", "valuation", "--as-of", AS_OF, "--clinic", "VIE", "--out", str(target)
    )
    assert result.code == 0, result.err
    sections = read_csv_sections(target.read_text(encoding="utf-8"))
    assert {row["clinic"] for row in sections["totals"]} == {"VIE"}
    assert {row["currency"] for row in sections["totals"]} >= {"EUR", "GBP"}


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("stock", "--clinic", "LON-FRIDGE"), ("clinic 'LON-FRIDGE'", "not a clinic")),
        (("stock", "--clinic", "MARS"), ("clinic 'MARS'",)),
        (("stock", "--format", "xml"), ("format 'xml'",)),
        (("stock", "--as-of", "22/11/2026"), ("as_of '22/11/2026'",)),
        (("expiring", "--within", "soon"), ("within 'soon'",)),
        (("demand", "--weeks", "500"), ("weeks '500'",)),
        (("movements", "--from", "2026-12-01", "--to", "2026-11-01"), ("from '2026-12-01'",)),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_field_and_value(demo_cli, args, needles):
    assert_bad_input(demo_cli("report", *args), *needles)


def test_help_lists_every_report(cli):
    result = cli("report", "--help")
    assert result.code == 0
    for name in NAMES:
        assert re.search(rf"^\s+{name}\s", result.out, re.MULTILINE), name


def test_wastage_counts_an_opened_kit_as_six_vials_and_a_stamp(demo_cli):
    """Handed over, returned opened: 6 vials (30 ml) and 1 stamp wasted as `opened`, in
    rows of their own, never a kit added to vials as one more unit. The week runs on the
    demo's day (a kit past its vials' expiry never goes out)."""
    import time_machine

    day = datetime(2026, 11, 22, 12, tzinfo=UTC)
    with time_machine.travel(day, tick=False):
        assert demo_cli("kit", "handover", "K0000001").code == 0
        assert demo_cli("kit", "return", "K0000001", "--condition", "opened").code == 0
    today = day.date()

    out = json_of(demo_cli, "report", "wastage", "--as-of", today.isoformat(), "--months", "1",
                  "--format", "json")  # fmt: skip

    trend = {r["what"]: r for r in out["sections"]["trend"] if r["month"] == f"{today:%Y-%m}"}
    assert set(trend) == {"vials", "stamps"}
    assert (trend["vials"]["opened"], trend["vials"]["other"], trend["vials"]["ml"]) == (
        6, 0, "30",
    )  # fmt: skip
    assert (trend["stamps"]["opened"], trend["stamps"]["other"], trend["stamps"]["ml"]) == (
        1, 0, None,
    )  # fmt: skip
    table = demo_cli("report", "wastage", "--as-of", today.isoformat(), "--months", "1").out
    assert "6 vials (30 ml), 1 stamps" in table
