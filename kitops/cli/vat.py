"""``kitops vat``: VAT rates per country and kind of product."""

from __future__ import annotations

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import group
from kitops.cli.output import emit_json, emit_table, say
from kitops.i18n import N_, _

KINDS = ["serum_vial", "derma_stamp", "consumable", "kit"]


@group(help=N_("VAT rates per country and kind of product (what purchase orders charge)."))
def vat() -> None: ...


@vat.command(
    "set",
    help=N_("Set the VAT rate of KIND in COUNTRY (ISO 3166, e.g. GB) to PERCENT (20, 5.5, 0)."),
)
@click.argument("country")
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@click.argument("percent")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the rate as JSON."))
@pass_context
def set_rate(ctx: Context, country: str, kind: str, percent: str, as_json: bool) -> None:
    from kitops.cli.numbers import percent_text
    from kitops.services.vat import set_rate as service

    rate = service(ctx.uow(), country, kind, percent_text(percent, "rate"))
    if as_json:
        emit_json(rate)
    else:
        say(
            _("VAT on {kind} in {country}: {rate}").format(
                kind=rate.kind, country=rate.country, rate=rate.text
            )
        )


@vat.command(
    "list",
    help=N_('The VAT rates set; a kind not listed for a country prints "VAT not set".'),
)
@click.option("--country", metavar="CC", help=N_("One country only."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of rates."))
@pass_context
def list_rates(ctx: Context, country: str | None, as_json: bool) -> None:
    from kitops.services.vat import list_rates as service

    rates = service(ctx.uow(readonly=True), country)
    if as_json:
        emit_json(rates)
    elif rates:
        emit_table([N_("country"), N_("kind"), N_("VAT")],
                   [(r.country, r.kind, r.text) for r in rates], right=("VAT",))  # fmt: skip
    else:
        say(_("no VAT rates yet: `kitops vat set GB serum_vial 20`"))
