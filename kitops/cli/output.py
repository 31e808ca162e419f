"""Printing: tables for people (rich), a stable JSON shape for scripts.

Everything printed goes through here, and every value shows its control characters
escaped (``kitops.domain.text.visible``): a name holding terminal escapes prints as
``\\x1b[1A``, never moves the cursor; table cells are plain text, never rich markup.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click

from kitops.domain.text import json_text, visible


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

    aligned = set(right)
    table = Table(
        title=Text(visible(title)) if title is not None else None,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
    )
    for column in columns:
        table.add_column(Text(column), justify="right" if column in aligned else "left")
    for index, row in enumerate(rows):
        style = styles[index] if styles is not None else None
        table.add_row(*(Text(cell_text(cell)) for cell in row), style=style)
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "100"))
    Console(width=width, highlight=False, soft_wrap=False).print(table)


def cell_text(cell: object) -> str:
    """A table cell as printed: empty for None, control characters escaped."""
    return "" if cell is None else visible(str(cell))


def say(message: str, *, err: bool = False) -> None:
    """One message for people; the line breaks kitops put in it stay, any other control
    character in it (from a name or a code) shows escaped."""
    click.echo(visible(message, keep_newlines=True), err=err)
