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
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
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


def emit_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    title: str | None = None,
    right: Iterable[str] = (),
    styles: Sequence[str | None] | None = None,
) -> None:
    """A table with ``columns`` (English headings marked with ``N_``, shown translated;
    ``right`` names the right-aligned ones in English) and an already translated title.

    Laid out by ``kitops.domain.text_table`` (as the reports are) and written in one go:
    10,000 lines take milliseconds. ``styles`` colours whole rows (``red``, ``yellow``,
    ``magenta``) on a terminal only; a pipe or a file gets the plain text. The table fits
    the terminal's width (``$COLUMNS`` or 100 when not a terminal): text columns give way,
    cut cells end in ``…``; amounts, numbers and dates keep their full width."""
    from kitops.domain import text_table

    aligned = set(right)
    headings = [visible(translated(column)) for column in columns]
    # a right-aligned column holds amounts: its whole numbers are grouped as the locale
    # groups them (1.250 in German), except row numbers
    counted = [column in aligned and column not in ROW_NUMBERS for column in columns]
    # text columns give way when the table is too wide; amounts and days keep their width
    fixed = [column in aligned for column in columns]
    shown: dict[tuple[type, object, bool], str] = {}  # columns repeat their values
    cells: list[list[str]] = []
    for row in rows:
        line = []
        for cell, amount in zip(row, counted, strict=False):
            if cell.__class__ in _REPEATED:
                key = (cell.__class__, cell, amount)
                text = shown.get(key)
                if text is None:
                    text = shown[key] = _cell(cell, amount)
                line.append(text)
            else:
                line.append(_cell(cell, amount))
        if len(line) < len(headings):  # a short row: its last cells empty
            line += [""] * (len(headings) - len(line))
        if len(cells) < 10:  # a column of days shows them in its first rows
            for n, cell in zip(range(len(fixed)), row, strict=False):
                fixed[n] = fixed[n] or isinstance(cell, dt.date)
        cells.append(line)
    lines = text_table.render(
        headings,
        cells,
        right=[column in aligned for column in columns],
        shrinkable=[not f for f in fixed],
        width=_width(),
    )
    if styles is not None and sys.stdout.isatty() and "NO_COLOR" not in os.environ:
        lines[2:] = [
            click.style(line, fg=style) if style else line
            for line, style in zip(lines[2:], styles, strict=False)
        ]
    if title is not None:
        lines.insert(0, visible(title))
    click.echo("\n".join(lines))


# the kinds of cell written once per table, whatever the number of lines holding them: a
# code, a name, a status, a day, a quantity (not a Decimal: 1.0 and 1.00 are equal, and
# print differently)
_REPEATED = frozenset((str, int, dt.date))


def _cell(cell: object, amount: bool) -> str:
    """A cell as printed: ``quantity_text`` in an amount column, else ``cell_text``."""
    return quantity_text(cell) if amount else cell_text(cell)


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
