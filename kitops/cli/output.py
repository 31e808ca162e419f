"""Printing: tables for people (rich), a stable JSON shape for scripts.

Everything printed goes through here, and every value shows its control characters
escaped (``kitops.domain.text.visible``): a name holding terminal escapes prints as
``\\x1b[1A``, never moves the cursor; table cells are plain text, never rich markup.

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
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    """A table with ``columns`` (English headings marked with ``N_``, shown translated;
    ``right`` names the right-aligned ones in English) and an already translated title."""
    aligned = set(right)
    table = Table(
        title=Text(visible(title)) if title is not None else None,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
    )
    for column in columns:
        table.add_column(Text(translated(column)), justify="right" if column in aligned else "left")
    # a right-aligned column holds amounts: its whole numbers are grouped as the locale
    # groups them (1.250 in German), except row numbers
    counted = [column in aligned and column not in ROW_NUMBERS for column in columns]
    for index, row in enumerate(rows):
        style = styles[index] if styles is not None else None
        cells = (
            Text(quantity_text(cell) if amount else cell_text(cell))
            for cell, amount in zip(row, counted, strict=False)
        )
        table.add_row(*cells, style=style)
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "100"))
    Console(width=width, highlight=False, soft_wrap=False).print(table)


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
    return labels.get(str(value), str(value))


def reason_label(value: str) -> str:
    """A stored reason (of a ledger move, or a write-off) as a person reads it, in the
    language in force; ``--json`` keeps the stored value."""
    from kitops.i18n import pgettext

    labels = {
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
    return labels.get(str(value), str(value))
