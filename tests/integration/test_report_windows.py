"""A report asked for one window of its line section (what the web's pages and API ask)
holds exactly those lines of the whole report (what ``kitops report`` prints), in the
same order, and the same totals and notes, over every line: the stock report reads its
window in the query, the other long reports are cut from the whole."""

from __future__ import annotations

import pytest
from ledger_support import AS_OF

from kitops.errors import InvalidInput
from kitops.reports.registry import REPORTS, run_report
from kitops.services.dto.reports import ReportRequest, Window

LONG = [(name, spec.lines) for name, spec in REPORTS.items() if spec.lines]
OPTIONS = {"movements": {"from": "2026-01-01"}}


@pytest.mark.parametrize(("name", "section"), LONG)
@pytest.mark.parametrize("clinic", [None, "LON", "ESX"])
def test_the_windows_of_a_report_are_the_whole_reports_lines_cut(
    loaded, uow, name, section, clinic
):
    options = OPTIONS.get(name, {})
    whole = run_report(uow(readonly=True), name, ReportRequest(clinic, AS_OF, options))
    every = whole.section(section).rows
    assert whole.section(section).total is None
    for size in (1, 4, 1000):
        walked = []
        for offset in range(0, len(every) + size, size):
            asked = ReportRequest(clinic, AS_OF, options, Window(offset, size))
            part = run_report(uow(readonly=True), name, asked)
            lines = part.section(section)
            assert (lines.total, lines.offset) == (len(every), offset)
            assert len(lines.rows) == max(0, min(size, len(every) - offset))
            walked += lines.rows
            others = [s for s in part.sections if s.key != section]
            assert others == [s for s in whole.sections if s.key != section]
            assert part.notes == whole.notes
        assert tuple(walked) == every


def test_the_stock_reports_window_values_kits_at_their_components(loaded, uow):
    """Kit lots carry no cost of their own: a window values them as the whole report."""
    whole = run_report(uow(readonly=True), "stock", ReportRequest(None, AS_OF))
    rows = whole.section("lines").rows
    kits = [index for index, row in enumerate(rows) if str(row[2]).startswith("KIT")]
    values = []
    for index in kits:
        part = run_report(uow(readonly=True), "stock",
                          ReportRequest(None, AS_OF, {}, Window(index, 1)))  # fmt: skip
        assert part.section("lines").rows == (rows[index],)
        values.append(part.section("lines").rows[0][9])
    assert any(value is not None for value in values)  # the components' cost


def test_a_window_before_the_first_line_or_of_no_lines_is_bad_input(loaded, uow):
    for window in (Window(-1, 10), Window(0, 0)):
        with pytest.raises(InvalidInput) as refused:
            run_report(uow(readonly=True), "stock", ReportRequest(None, AS_OF, {}, window))
        assert refused.value.field == "window"
