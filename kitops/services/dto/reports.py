r"""The frozen values a report is made of (the report DTOs), and the request that asks for one.

A ``Report`` holds ``Section``\ s: a title, typed ``Column``\ s and rows of plain cells
(text, whole numbers, dates, ``Money``). Every output format is drawn from these cells
and nothing else, which is what keeps the numbers of the table, the CSV, the JSON and the
HTML page identical. ``Chart``\ s are computed from the same rows for the HTML page (and
for any other front end that draws). Pure Python: no database, no rendering library.

The report builders (``kitops.reports``), the report files (``kitops.documents``), the
command line and the TUI all share these values, so they live here in the services layer,
below all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kitops.domain.money import Money

Cell = str | int | date | Money | None


@dataclass(frozen=True)
class Window:
    """One page of a report's line section: ``limit`` lines from line ``offset`` (0 is
    the first). The other sections, the totals and the notes still cover every line."""

    offset: int
    limit: int


@dataclass(frozen=True)
class ReportRequest:
    """What the caller asked for; the builder checks and parses every value. ``window``:
    only that page of the report's line section (the web's pages and API); None (the
    command line, the downloads): every line."""

    clinic: str | None = None
    as_of: str | date | None = None
    options: Mapping[str, str | None] = field(default_factory=dict)
    window: Window | None = None

    def option(self, name: str) -> str | None:
        return self.options.get(name)


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"  # a count of units, lines, days...: right-aligned
    DECIMAL = "decimal"  # a decimal number written as a string ("37.5" ml): right-aligned
    DATE = "date"
    MONEY = "money"  # a Money: amount_minor + currency


NUMERIC = (Kind.INT, Kind.DECIMAL, Kind.MONEY)  # the kinds aligned to the right


@dataclass(frozen=True)
class Column:
    key: str  # the JSON field and CSV header
    title: str  # the table and HTML header
    kind: Kind = Kind.TEXT
    in_table: bool = True  # False: CSV, JSON and HTML only (keeps the table in 100 columns)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    # a windowed section (``ReportRequest.window``): its rows are lines ``offset`` to
    # ``offset + len(rows)`` of ``total``; None: the rows are every line
    total: int | None = None
    offset: int = 0

    @property
    def lines_in_all(self) -> int:
        return len(self.rows) if self.total is None else self.total

    def records(self) -> list[dict[str, Cell]]:
        return [dict(zip((c.key for c in self.columns), row, strict=True)) for row in self.rows]

    def column(self, key: str) -> list[Cell]:
        index = next(i for i, c in enumerate(self.columns) if c.key == key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int, ...]


class ChartKind(StrEnum):
    BAR = "bar"
    STACKED_BAR = "stacked_bar"
    LINE = "line"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: ChartKind
    x_labels: tuple[str, ...]
    series: tuple[Series, ...]
    y_title: str = "units"


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    as_of: date
    clinic: str | None  # None: every clinic
    parameters: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


@dataclass(frozen=True)
class ReportExport:
    """A report written to a file (``kitops.documents.report_files.export_report``)."""

    report: str
    format: str
    path: str
    bytes: int
