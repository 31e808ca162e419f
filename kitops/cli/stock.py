"""``kitops stock``: what is on the shelves."""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import command
from kitops.cli.output import coloured, emit_columns, emit_json_records, say, status_label
from kitops.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from kitops.services.stock import StockRow


@command(
    help=N_(
        "Stock on hand by clinic, product, lot and location, earliest expiry first.\n\n"
        "Without --include-unavailable only released, in-date stock is listed."
    ),
)
@click.option(
    "--location", metavar="LOC", help=N_("A clinic or location; includes what is below it.")
)
@click.option("--sku", metavar="SKU", help=N_("Only this product."))
@click.option(
    "--include-unavailable",
    is_flag=True,
    help=N_("Also list quarantined, recalled and expired stock."),
)
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    help=N_("Judge expiry on this date (default: today in each clinic's time zone)."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of stock lines."))
@pass_context
def stock(
    ctx: Context,
    location: str | None,
    sku: str | None,
    include_unavailable: bool,
    as_of: str | None,
    as_json: bool,
) -> None:
    from kitops.domain.ledger import parse_date
    from kitops.services.stock import STOCK_FIELDS, stock_rows

    uow = ctx.uow(readonly=True)
    today = parse_date(as_of, "as_of") if as_of else None
    # plain tuples in StockLine's field order (a whole chain is 100,000 lines and more)
    lines = stock_rows(uow, location=location, sku=sku, include_unavailable=include_unavailable,
                       today=today)  # fmt: skip
    if as_json:  # the JSON of stock_on_hand's StockLines, written from the tuples
        emit_json_records(STOCK_FIELDS, lines)
        return
    if not lines:
        say(_("no stock matches"))
        return
    # the table column by column, each taken from the lines in one pass
    cells = [list(map(itemgetter(n), lines)) for n in (0, 1, 2, 4, 5, 6, 7, 9)]
    emit_columns(
        [
            N_("clinic"),
            N_("location"),
            N_("SKU"),
            N_("lot"),
            N_("expiry"),
            N_("days"),
            N_("status"),
            N_("qty"),
        ],
        cells,
        right=("days", "qty"),
        labels={"status": status_label},
        styles=_styles(lines) if coloured() else None,
    )
    total = sum(cells[-1])
    from kitops.i18n import formats

    lines_text = ngettext("{n} line", "{n} lines", len(lines)).format(n=len(lines))
    say(
        ngettext("{lines}, {units} unit", "{lines}, {units} units", total).format(
            lines=lines_text, units=formats.number(total)
        )
    )


def _styles(lines: list[StockRow]) -> list[str | None]:
    """Each line's colour on a terminal: red when recalled or expired, yellow when
    otherwise unavailable, magenta when it expires within 30 days."""
    styles: list[str | None] = []
    for *_fields, days_to_expiry, status, available, _quantity in lines:
        if not available:
            styles.append("red" if status in ("expired", "recalled") else "yellow")
        elif days_to_expiry is not None and days_to_expiry <= 30:
            styles.append("magenta")
        else:
            styles.append(None)
    return styles
