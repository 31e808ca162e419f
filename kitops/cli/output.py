"""Printing: tables for people (fixed-width text), a stable JSON shape for scripts.

Everything printed goes through here, and every value shows its control characters
escaped (``kitops.domain.text.visible``): a name holding terminal escapes prints as
``\\x1b[1A``, never moves the cursor; table cells are plain text, never markup.

Tables for people speak the language in force: their headings are marked with ``N_`` where
they are written and translated here, and dates, amounts and decimals in their cells are
written as the locale writes them (``kitops.i18n.formats``). JSON is never translated.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache, partial
from operator import itemgetter
from typing import Any

import click

from kitops.domain.text import json_text, visible
from kitops.i18n import N_
from kitops.i18n import gettext as translated

YES = N_("yes")
NO = N_("no")


def yes_no(value: bool) -> str:
    """``yes`` or ``no`` in the language in force (a table's flag column)."""
    return translated(YES if value else NO)


def emit_json(value: Any) -> None:
    from kitops.services.dto import as_json

    click.echo(json_text(as_json(value), indent=2))


def emit_json_records(fields: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """``emit_json`` of a list of flat records, each given as its values in the order of
    ``fields`` (strings, whole numbers, flags, days, None): the same text, byte for byte,
    made column by column (each distinct value encoded once by the C encoder, each record
    one ``%`` format) rather than by the pure-Python encoder ``indent`` needs, a value at a
    time (a chain's 112,520 stock lines: the command's CPU from 3.1 s to 1.3 s)."""
    if not rows:
        click.echo(json_text([], indent=2))
        return
    # a name's own % doubled: the format fills only each value's %s
    record = ",\n".join(f"    {json_text(name).replace('%', '%%')}: %s" for name in fields)
    layout = "  {\n" + record + "\n  }"
    columns = []
    for n in range(len(fields)):
        values = list(map(itemgetter(n), rows))
        kinds = set(map(type, values))
        if kinds <= _JSON_REPEATED and not {bool, int} <= kinds:  # True == 1: keep apart
            encoded = {value: _json_value(value) for value in set(values)}
            columns.append(list(map(encoded.__getitem__, values)))
        else:
            columns.append(list(map(_json_value, values)))
    records = map(layout.__mod__, zip(*columns, strict=True))
    click.echo("[\n" + ",\n".join(records) + "\n]")


def _json_value(value: object) -> str:
    """One value of a record as ``emit_json`` writes it."""
    from kitops.services.dto import as_json

    return json_text(as_json(value))


# the values a column of records encodes once each, however many records hold them
_JSON_REPEATED = frozenset((str, int, bool, dt.date, type(None)))


def emit_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    title: str | None = None,
    right: Iterable[str] = (),
    styles: Sequence[str | None] | None = None,
    labels: Mapping[str, Callable[[Any], str]] | None = None,
) -> None:
    """A table with ``columns`` (English headings marked with ``N_``, shown translated;
    ``right`` names the right-aligned ones in English) and an already translated title.

    Laid out by ``kitops.domain.text_table`` (as the reports are) and written in one go:
    100,000 lines take a tenth of a second. ``labels`` writes the cells of the columns it
    names (in English) with its function (a status's label) instead of as the locale writes
    them. ``styles`` colours whole rows (``red``, ``yellow``, ``magenta``) on a terminal
    only (``coloured()``); a pipe or a file gets the plain text. The table fits the
    terminal's width (``$COLUMNS`` or 100 when not a terminal): text columns give way, cut
    cells end in ``…``; amounts, numbers and dates keep their full width."""
    _emit(table_lines(columns, rows, right=right, labels=labels), title=title, styles=styles)


def emit_columns(
    columns: Sequence[str],
    cells: Sequence[Sequence[object]],
    *,
    title: str | None = None,
    right: Iterable[str] = (),
    styles: Sequence[str | None] | None = None,
    labels: Mapping[str, Callable[[Any], str]] | None = None,
) -> None:
    """``emit_table`` of a table given column by column (``cells[n]``: the values of column
    ``n``): a long listing's columns are taken from its lines without making a row of
    each."""
    _emit(column_lines(columns, cells, right=right, labels=labels), title=title, styles=styles)


def _emit(lines: list[str], *, title: str | None, styles: Sequence[str | None] | None) -> None:
    if styles is not None and coloured():
        lines[2:] = [
            click.style(line, fg=style) if style else line
            for line, style in zip(lines[2:], styles, strict=False)
        ]
    head = lines[:2] if title is None else [visible(title), *lines[:2]]
    # written in two: the rule's "─" would make one text of the whole table wide, which
    # costs more to join and encode than the plain ASCII of most tables' rows
    click.echo("\n".join(head))
    if len(lines) > 2:
        click.echo("\n".join(lines[2:]))


def coloured() -> bool:
    """Whether tables are coloured: on a terminal, unless ``$NO_COLOR`` is set (a caller
    works out its rows' ``styles`` only then)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def table_lines(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    right: Iterable[str] = (),
    labels: Mapping[str, Callable[[Any], str]] | None = None,
) -> list[str]:
    """``emit_table``'s lines: the headings, the rule, a line per row (``column_lines`` of
    the rows' columns; a short row's last cells are empty)."""
    width = len(columns)
    rows = rows if isinstance(rows, list) else list(rows)
    if set(map(len, rows)) - {width}:
        rows = [(*row[:width], *[None] * (width - len(row))) for row in rows]
    # column by column: cheaper than zip(*rows), which keeps an iterator per row
    cells = [list(map(itemgetter(n), rows)) for n in range(width)]
    return column_lines(columns, cells, right=right, labels=labels)


def column_lines(
    columns: Sequence[str],
    cells: Sequence[Sequence[object]],
    *,
    right: Iterable[str] = (),
    labels: Mapping[str, Callable[[Any], str]] | None = None,
) -> list[str]:
    """A table's lines from its columns' cells (``cells[n]``: the values of column ``n``,
    all of one length): the headings, the rule, a line per row, as ``text_table.render``
    lays them out.

    Worked column by column: a column repeats its values (a clinic, a SKU, a day, a
    status), so each distinct value is written (``cell_text``, ``quantity_text``, a label)
    and measured once, not once per row, and a column written as ``str`` writes it is
    printed as it is; when every cell is ASCII and no column has to give way, each line is
    one ``%`` format of its cells, called from C. Otherwise the cells go to
    ``text_table.render``, which cuts cells and pads wide characters."""
    from kitops.domain import text_table

    aligned = set(right)
    labels = labels or {}
    headings = [visible(translated(column)) for column in columns]
    texts: list[Sequence[object]] = []  # each column's cells, as printed by str()
    seen: list[Collection[str]] = []  # each column's distinct cells as printed
    # text columns give way when the table is too wide; amounts and days keep their width,
    # and so does a column of days (seen in its first rows)
    fixed = [
        column in aligned or any(isinstance(cell, dt.date) for cell in values[:10])
        for column, values in zip(columns, cells, strict=True)
    ]
    for column, values in zip(columns, cells, strict=True):
        # a right-aligned column holds amounts: its whole numbers are grouped as the
        # locale groups them (1.250 in German), except row numbers
        amount = column in aligned and column not in ROW_NUMBERS
        label = labels.get(column)
        written: Callable[[object], str] = quantity_text if amount else cell_text
        if label is not None:
            written = partial(_labelled, label)
        printed, distinct = _column_texts(values, written)
        texts.append(printed)
        seen.append(distinct)
    shrinkable = [not f for f in fixed]
    to_right = [column in aligned for column in columns]
    plain = all(all(map(str.isascii, column)) for column in seen)
    measure = len if plain else text_table.cell_width
    widest = [(max(column, key=measure, default=""),) for column in seen]
    widths = text_table.column_widths(headings, list(zip(*widest, strict=True)),
                                      shrinkable=shrinkable)  # fmt: skip
    fitted = text_table.column_widths(headings, list(zip(*widest, strict=True)),
                                      shrinkable=shrinkable, width=_width())  # fmt: skip
    if not plain or widths != fitted:
        rows = zip(*[list(map(str, column)) for column in texts], strict=True)
        return text_table.render(
            headings, list(rows), right=to_right, shrinkable=shrinkable, width=_width()
        )
    lines = [
        text_table.GAP.join(
            text_table.fit(heading, size, right=flush)
            for heading, size, flush in zip(headings, widths, to_right, strict=True)
        ).rstrip(),
        text_table.RULE * (sum(widths) + len(text_table.GAP) * (len(widths) - 1)),
    ]
    # each cell by %s (as str() writes it), padded on the left in a right-aligned column
    layout = text_table.GAP.join(
        f"%{'' if flush else '-'}{size}s" for size, flush in zip(widths, to_right, strict=True)
    )
    lines += map(str.rstrip, map(layout.__mod__, zip(*texts, strict=True)))
    return lines


def _column_texts(
    values: Sequence[object], written: Callable[[object], str]
) -> tuple[Sequence[object], Collection[str]]:
    """A column's cells as ``str()`` prints them (the values themselves when ``str`` writes
    each as ``written`` does, else their texts), and its distinct texts."""
    try:
        distinct = set(values)
    except TypeError:  # an unhashable cell
        texts = list(map(written, values))
        return texts, set(texts)
    kinds = set(map(type, distinct))
    if int in kinds:  # 1, 1.0 and True are equal: the set kept one of them
        kinds = set(map(type, values))
    if not kinds <= _REPEATED:
        texts = list(map(written, values))
        return texts, set(texts)
    if kinds == {str} and written is cell_text:
        joined = " ".join(distinct)  # type: ignore[arg-type]  # one look for control characters in them all
        if visible(joined) == joined:
            return values, distinct  # type: ignore[return-value]
    shown = {value: written(value) for value in distinct}
    if None not in shown and all(text == str(value) for value, text in shown.items()):
        return values, shown.values()
    return list(map(shown.__getitem__, values)), shown.values()


def _labelled(label: Callable[[Any], str], cell: object) -> str:
    """A cell of a column written by its ``label`` (a status's)."""
    return "" if cell is None else visible(label(cell))


# the kinds of cell written once per table, whatever the number of lines holding them: a
# code, a name, a status, a day, a quantity, nothing (not a Decimal: 1.0 and 1.00 are
# equal, and print differently; not a bool: True and 1 are equal)
_REPEATED = frozenset((str, int, dt.date, type(None)))


def _width() -> int:
    """The width a table fits: the terminal's, or ``$COLUMNS`` (default 100) for a pipe."""
    import shutil

    if sys.stdout.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    try:
        return max(20, int(os.environ.get("COLUMNS", "100")))
    except ValueError:
        return 100


def cell_text(cell: object) -> str:
    """A table cell as printed: empty for None, control characters escaped; a day, an
    amount of money or a decimal as the locale in force writes it."""
    if cell is None:
        return ""
    return visible(human(cell))


ROW_NUMBERS = ("id", "#")


def quantity_text(cell: object) -> str:
    """A cell of an amount column: a whole number grouped as the locale groups it."""
    if isinstance(cell, int) and not isinstance(cell, bool):
        from kitops.i18n import formats

        return formats.number(cell)
    return cell_text(cell)


def human(value: object) -> str:
    """A value as a person reads it in the locale in force: a day (``4.12.2026`` in de),
    an amount (``€ 315,00``), a decimal with its places kept (``0,50``); anything else as
    ``str``. The neutral locale ``en`` writes each exactly as ``str`` does."""
    from kitops.domain.money import Money
    from kitops.i18n import formats

    if isinstance(value, Money):
        return formats.money(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return formats.date(value)
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return formats.number(value, decimals=places)
    return str(value)


def say(message: str, *, err: bool = False) -> None:
    """One message for people; the line breaks kitops put in it stay, any other control
    character in it (from a name or a code) shows escaped."""
    click.echo(visible(message, keep_newlines=True), err=err)


def status_label(value: str) -> str:
    """A stored status (of a lot, kit or course) as a person reads it, in the language in
    force; the stored value itself stays what ``--json`` prints."""
    from kitops.i18n import current_locale, translations

    labels = _status_labels(translations(current_locale()))
    text = str(value)
    return labels.get(text, text.replace("_", " "))


@lru_cache(maxsize=16)
def _status_labels(catalog: object) -> dict[str, str]:
    """Every status's label in ``catalog``, the catalog in force (a long table labels
    each of its lines)."""
    from kitops.i18n import pgettext

    labels = {
        "available": pgettext("status", "available"),
        "reserved": pgettext("status", "reserved"),
        "shipped": pgettext("status", "shipped"),
        "handed_over": pgettext("status", "handed_over"),
        "disassembled": pgettext("status", "disassembled"),
        "written_off": pgettext("status", "written_off"),
        "recalled": pgettext("status", "recalled"),
        "expired": pgettext("status", "expired"),
        "quarantine": pgettext("status", "quarantine"),
        "released": pgettext("status", "released"),
        "scheduled": pgettext("status", "scheduled"),
        "active": pgettext("status", "active"),
        "paused": pgettext("status", "paused"),
        "completed": pgettext("status", "completed"),
        "ended_early": pgettext("status", "ended_early"),
        "cancelled": pgettext("status", "cancelled"),
    }
    # A catalog without the word (English) shows it as words: "handed over", not the
    # stored "handed_over".
    return {
        word: word.replace("_", " ") if label == word else label for word, label in labels.items()
    }


def reason_label(value: str) -> str:
    """A stored reason (of a ledger move, or a write-off) as a person reads it, in the
    language in force; ``--json`` keeps the stored value."""
    from kitops.i18n import current_locale, translations

    labels = _reason_labels(translations(current_locale()))
    return labels.get(str(value), str(value))


@lru_cache(maxsize=16)
def _reason_labels(catalog: object) -> dict[str, str]:
    """Every reason's label in ``catalog``, the catalog in force."""
    from kitops.i18n import pgettext

    return {
        "receipt": pgettext("reason", "receipt"),
        "opening": pgettext("reason", "opening"),
        "transfer": pgettext("reason", "transfer"),
        "count": pgettext("reason", "count"),
        "write_off": pgettext("reason", "write_off"),
        "expiry": pgettext("reason", "expiry"),
        "kit_assembly": pgettext("reason", "kit_assembly"),
        "kit_disassembly": pgettext("reason", "kit_disassembly"),
        "dispatch": pgettext("reason", "dispatch"),
        "return": pgettext("reason", "return"),
        "session": pgettext("reason", "session"),
        "damaged": pgettext("reason", "damaged"),
        "expired": pgettext("reason", "expired"),
        "opened": pgettext("reason", "opened"),
        "other": pgettext("reason", "other"),
    }
