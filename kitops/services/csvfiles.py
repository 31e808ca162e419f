"""Reading the CSV files people bring (spreadsheet exports): one place for the rules."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kitops.errors import InvalidInput

Row = tuple[int, dict[str, str]]  # (line number, lower-case column → stripped cell)


def read_csv(path: str) -> tuple[list[str], list[Row]]:
    """The header (lower-case) and the non-blank rows with their line numbers.

    Accepts a UTF-8 byte-order mark (Excel writes one); refuses a missing or unreadable
    file and a row with more cells than the header has columns.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput("file", path, "does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput("file", path, f"cannot be read as UTF-8 text ({error})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    rows: list[Row] = []
    for record in reader:
        if None in record:
            raise InvalidInput("file", path, f"line {reader.line_num} has more cells than columns")
        # a short row (fewer cells than columns) has its missing cells empty, so the
        # row's own checks name what is missing
        values = {
            (key or "").strip().lower(): value.strip() if isinstance(value, str) else ""
            for key, value in record.items()
        }
        if any(values.values()):
            rows.append((reader.line_num, values))
    return header, rows
