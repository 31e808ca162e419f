"""Printing: tables for people (rich), a stable JSON shape for scripts."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click


def emit_json(value: Any) -> None:
    from kitops.services.dto import as_json

    click.echo(json.dumps(as_json(value), indent=2, ensure_ascii=False))


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

    aligned = set(right)
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column in aligned else "left")
    for index, row in enumerate(rows):
        style = styles[index] if styles is not None else None
        table.add_row(*("" if cell is None else str(cell) for cell in row), style=style)
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "100"))
    Console(width=width, highlight=False, soft_wrap=False).print(table)


def say(message: str) -> None:
    click.echo(message)
