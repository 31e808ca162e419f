"""Files the screens write: a report exported to csv, json or html."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kitops.errors import InvalidInput
from kitops.services.reports.formats import parse_format, render
from kitops.views import dto as view

if TYPE_CHECKING:
    from kitops.services.reports.model import Report


def export_report(report: Report, fmt: str, out: str) -> view.ReportExport:
    """Write a report to ``out`` in one of the reports' file formats (csv, json, html),
    rendered by ``kitops.services.reports.formats`` exactly as ``kitops report --out``
    writes it."""
    chosen = parse_format(fmt)
    if chosen == "table":
        raise InvalidInput("format", fmt, "must be csv, json or html for a file")
    if not out.strip():
        raise InvalidInput("out", out, "give the file to write")
    path = Path(out.strip()).expanduser()
    content = render(report, chosen)
    try:
        path.write_text(content, encoding="utf-8")
    except OSError as error:
        raise InvalidInput("out", out, error.strerror or "cannot be written") from None
    return view.ReportExport(report.name, chosen, str(path), len(content.encode("utf-8")))
