"""The CSV files people bring (spreadsheet exports) and the ones kitops writes: one place
for the rules of each.

Writing follows OWASP's rule against CSV (formula) injection: a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a single quote in
front (``'=1+2``), so a spreadsheet shows it as text and never runs it as a formula.
Numbers (``int``, ``Decimal``) are written as they are: ``-3`` in a quantity column is a
number, not a formula; so is a lone ``-`` (kitops' "none"). Every CSV kitops writes goes
through ``write_csv``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from kitops.errors import InvalidInput
from kitops.i18n import _

Row = tuple[int, dict[str, str]]  # (line number, lower-case column → stripped cell)


def read_csv(path: str) -> tuple[list[str], list[Row]]:
    """The header (lower-case) and the non-blank rows with their line numbers.

    Accepts a UTF-8 byte-order mark (Excel writes one); refuses a missing or unreadable
    file and a row with more cells than the header has columns.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput("file", path, _("does not exist")) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(
            "file", path, _("cannot be read as UTF-8 text ({error})").format(error=error)
        ) from None
    try:
        return _parse(path, text)
    except csv.Error as error:
        raise InvalidInput("file", path, _csv_problem(text, error)) from None


def _parse(path: str, text: str) -> tuple[list[str], list[Row]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    rows: list[Row] = []
    for record in reader:
        if None in record:
            raise InvalidInput(
                "file",
                path,
                _("line {line_num} has more cells than columns").format(line_num=reader.line_num),
            )
        # a short row (fewer cells than columns) has its missing cells empty, so the
        # row's own checks name what is missing
        values = {
            (key or "").strip().lower(): value.strip() if isinstance(value, str) else ""
            for key, value in record.items()
        }
        if any(values.values()):
            rows.append((reader.line_num, values))
    return header, rows


def _csv_problem(text: str, error: csv.Error) -> str:
    """Where a file the csv module refused went wrong: the line, and for a cell over the
    field size limit (128 KiB) its column."""
    limit = csv.field_size_limit()
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    try:
        for cells in reader:
            header = header or [c.strip().lower() for c in cells]
    except csv.Error:
        pass
    line = reader.line_num
    if "field larger than field limit" not in str(error):
        return _("line {line} is not valid CSV ({error})").format(line=line, error=error)
    # which column: the file read again with the limit lifted for this one pass (only on
    # this error path; the limit is the csv module's, process-wide, and is put back)
    column = "?"
    csv.field_size_limit(len(text) + 1)
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""))):
            big = [i for i, cell in enumerate(cells) if len(cell) > limit]
            if big:
                index = big[0]
                names = header if number else []
                column = names[index] if index < len(names) else _("column {n}").format(n=index + 1)
                break
    except csv.Error:
        pass
    finally:
        csv.field_size_limit(limit)
    return _("line {line}, field {column!r}: a cell is larger than {kib} KiB").format(
        line=line, column=column, kib=limit // 1024
    )


# a cell a spreadsheet would read as a formula starts with one of these (OWASP)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CsvCell = str | int | Decimal | None
# the dash kitops writes for "none" (the lot of an untracked product, an unknown
# currency): a lone "-" is no formula, so it is written as it is
NOTHING = "-"


def csv_cell(value: CsvCell) -> str | int | Decimal:
    """A cell as written: text that a spreadsheet would run as a formula gets a leading
    single quote; numbers stay numbers; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError("write a flag as text (yes/no), not a bool")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and value != NOTHING:
        return "'" + value
    return value


def write_csv(rows: Iterable[Sequence[CsvCell]], *, lineterminator: str = "\n") -> str:
    """The rows as CSV text, every cell through ``csv_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return buffer.getvalue()
