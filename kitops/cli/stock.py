"""``kitops stock``: what is on the shelves."""

from __future__ import annotations

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import command
from kitops.cli.output import emit_json, emit_table, say, status_label
from kitops.i18n import N_, _, ngettext


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
    from kitops.services.stock import stock_on_hand

    lines = stock_on_hand(
        ctx.uow(readonly=True),
        location=location,
        sku=sku,
        include_unavailable=include_unavailable,
        today=parse_date(as_of, "as_of") if as_of else None,
    )
    if as_json:
        emit_json(lines)
        return
    if not lines:
        say(_("no stock matches"))
        return
    labels = {status: status_label(status) for status in {line.status for line in lines}}
    styles: list[str | None] = []
    for line in lines:
        if not line.available:
            styles.append("red" if line.status in ("expired", "recalled") else "yellow")
        elif line.days_to_expiry is not None and line.days_to_expiry <= 30:
            styles.append("magenta")
        else:
            styles.append(None)
    emit_table(
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
        [
            (
                line.clinic,
                line.location,
                line.sku,
                line.lot,
                line.expiry,
                line.days_to_expiry,
                labels[line.status],
                line.quantity,
            )
            for line in lines
        ],
        right=("days", "qty"),
        styles=styles,
    )
    total = sum(line.quantity for line in lines)
    from kitops.i18n import formats

    lines_text = ngettext("{n} line", "{n} lines", len(lines)).format(n=len(lines))
    say(
        ngettext("{lines}, {units} unit", "{lines}, {units} units", total).format(
            lines=lines_text, units=formats.number(total)
        )
    )
