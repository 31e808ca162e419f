"""``kitops catalog`` and ``kitops location``."""

from __future__ import annotations

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import group
from kitops.cli.output import emit_json, emit_table, say, yes_no
from kitops.i18n import N_, _

KINDS = ["serum_vial", "derma_stamp", "consumable", "kit"]


@group(help=N_("Products and kit recipes."))
def catalog() -> None: ...


@catalog.command("list", help=N_("List every product with its kind, needle length and recipe."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of products."))
@pass_context
def list_products(ctx: Context, as_json: bool) -> None:
    from kitops.services.catalog import list_products as service

    products = service(ctx.uow(readonly=True))
    if as_json:
        emit_json(products)
        return
    emit_table(
        [
            N_("SKU"),
            N_("name"),
            N_("kind"),
            N_("unit"),
            N_("needle mm"),
            N_("home"),
            N_("lots"),
            N_("release"),
            N_("recipe"),
        ],
        [
            (
                p.sku,
                p.name,
                p.kind,
                p.unit,
                p.needle_mm,
                yes_no(p.at_home_allowed),
                yes_no(p.lot_tracked),
                yes_no(p.requires_release),
                " + ".join(f"{line.quantity}×{line.component_sku}" for line in p.recipe),
            )
            for p in products
        ],
    )


@catalog.command("add-product", help=N_("Add a product to the catalogue."))
@click.argument("sku")
@click.option("--name", required=True, help=N_("What the stockroom calls it."))
@click.option("--kind", required=True, type=click.Choice(KINDS), help=N_("What sort of item."))
@click.option("--unit", default="", help=N_("Unit of stock (default by kind: vial, each, kit)."))
@click.option("--gtin", help=N_("GTIN-8/12/13/14 printed on the barcode."))
@click.option("--ml", metavar="N", help=N_("Volume in millilitres (serum vials)."))
@click.option("--needle-mm", metavar="N", help=N_("Needle length in mm (derma stamps)."))
@click.option(
    "--at-home/--clinic-only",
    default=None,
    help=N_(
        "May go home with a patient. Default: yes unless the needle is over the at-home maximum."
    ),
)
@click.option(
    "--lot-tracked/--not-lot-tracked",
    default=None,
    help=N_("Track lots and expiry. Default: yes for serum vials and kits."),
)
@click.option(
    "--requires-release/--auto-release",
    default=None,
    help=N_("New lots wait in quarantine until released. Default: yes for serum vials."),
)
@click.option("--shelf-life-days", type=click.IntRange(0, 36500), help=N_("Typical shelf life."))
@click.option(
    "--expiry-alert-days", type=click.IntRange(0, 36500), default=90, show_default=True,
    help=N_("Warn this many days before a lot expires."),
)  # fmt: skip
@click.option(
    "--min-shelf-life-days", type=click.IntRange(0, 36500), default=30, show_default=True,
    help=N_("Refuse receipts expiring sooner than this."),
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help=N_("Print the new product as JSON."))
@pass_context
def add_product(
    ctx: Context,
    sku: str,
    name: str,
    kind: str,
    unit: str,
    gtin: str | None,
    ml: str | None,
    needle_mm: str | None,
    at_home: bool | None,
    lot_tracked: bool | None,
    requires_release: bool | None,
    shelf_life_days: int | None,
    expiry_alert_days: int,
    min_shelf_life_days: int,
    as_json: bool,
) -> None:
    from kitops.cli.numbers import decimal_text
    from kitops.services import catalog as service

    spec = service.parse_product(
        sku, name, kind, unit=unit, gtin=gtin,
        ml=decimal_text(ml, "ml"), needle_mm=decimal_text(needle_mm, "needle_mm"),
        at_home=at_home,
        lot_tracked=lot_tracked, requires_release=requires_release,
        shelf_life_days=shelf_life_days, expiry_alert_days=expiry_alert_days,
        min_shelf_life_on_receipt_days=min_shelf_life_days,
    )  # fmt: skip
    product = service.add_product(ctx.uow(), spec)
    if as_json:
        emit_json(product)
    else:
        say(
            _("added {sku}: {name} ({kind})").format(
                sku=product.sku, name=product.name, kind=product.kind
            )
        )


@catalog.command(
    "add-recipe",
    help=N_(
        "Set the bill of materials of a kit, e.g. KIT-HOME-6W SERUM-5ML=6 "
        "STAMP-0.5=1.\n\n"
        "An at-home kit refuses stamps longer than the at-home maximum needle length."
    ),
)
@click.argument("kit_sku")
@click.argument("components", nargs=-1, required=True, metavar="COMPONENT_SKU=QTY...")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the kit product as JSON."))
@pass_context
def add_recipe(ctx: Context, kit_sku: str, components: tuple[str, ...], as_json: bool) -> None:
    from kitops.services import catalog as service

    product = service.set_recipe(ctx.uow(), kit_sku, list(components))
    if as_json:
        emit_json(product)
    else:
        parts = " + ".join(f"{line.quantity}×{line.component_sku}" for line in product.recipe)
        say(_("recipe of {sku}: {parts}").format(sku=product.sku, parts=parts))


@group(help=N_("Clinics, stockrooms, fridges and shelves."))
def location() -> None: ...


@location.command(
    "list",
    help=N_("List the location tree, clinics first, then the virtual ends of moves."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of locations."))
@pass_context
def list_locations(ctx: Context, as_json: bool) -> None:
    from kitops.services.locations import list_locations as service

    locations = service(ctx.uow(readonly=True))
    if as_json:
        emit_json(locations)
        return
    emit_table(
        [
            N_("code"),
            N_("name"),
            N_("kind"),
            N_("parent"),
            N_("clinic"),
            N_("time zone"),
            N_("currency"),
            N_("locale"),
        ],
        [
            (
                loc.code,
                loc.name,
                loc.kind,
                loc.parent,
                loc.clinic,
                loc.timezone,
                loc.currency,
                loc.locale,
            )
            for loc in sorted(locations, key=lambda loc: (loc.virtual, loc.clinic or "", loc.code))
        ],
    )


@location.command("add", help=N_("Add a clinic, or a stockroom, fridge or shelf inside one."))
@click.argument("code")
@click.option("--name", required=True, help=N_("What people call it."))
@click.option("--parent", metavar="CODE", help=N_("The location it sits in (none for a clinic)."))
@click.option(
    "--kind",
    type=click.Choice(["clinic", "stockroom", "fridge", "shelf", "quarantine"]),
    help=N_("Default: clinic without --parent, shelf with one."),
)
@click.option(
    "--timezone", metavar="ZONE", help=N_("IANA time zone of a clinic, e.g. Europe/London.")
)
@click.option("--currency", metavar="CUR", help=N_("ISO 4217 currency of a clinic, e.g. GBP."))
@click.option(
    "--address", metavar="TEXT", help=N_("A clinic's delivery address (commas between lines).")
)
@click.option(
    "--contact", metavar="TEXT", help=N_("Who a supplier or patient calls (phone, e-mail).")
)
@click.option(
    "--country", metavar="CC", help=N_("ISO 3166 country of a clinic (VAT rates), e.g. GB.")
)
@click.option(
    "--locale",
    metavar="LOCALE",
    help=N_(
        "A clinic's locale, e.g. de_AT: its documents' language and formats, and its "
        "staff's screens when they set no language (README: Languages)."
    ),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the new location as JSON."))
@pass_context
def add_location(
    ctx: Context,
    code: str,
    name: str,
    parent: str | None,
    kind: str | None,
    timezone: str | None,
    currency: str | None,
    address: str | None,
    contact: str | None,
    country: str | None,
    locale: str | None,
    as_json: bool,
) -> None:
    from kitops.services.locations import add_location as service

    added = service(
        ctx.uow(), code, name, parent=parent, kind=kind, timezone=timezone, currency=currency,
        address=address, contact=contact, country=country, locale=locale,
    )  # fmt: skip
    if as_json:
        emit_json(added)
    else:
        say(
            _("added {kind} {code}: {name}").format(
                kind=added.kind, code=added.code, name=added.name
            )
        )
        if locale is not None:
            _say_locale(added.code, added.locale)


def _say_locale(code: str, locale: str | None) -> None:
    """What a clinic's locale now is, and whether kitops speaks its language."""
    from kitops.i18n import has_catalog

    if locale is None:
        say(_("{clinic}: no locale; its documents follow the language in force").format(
            clinic=code))  # fmt: skip
        return
    say(_("{clinic}: locale {locale}").format(clinic=code, locale=locale))
    if not has_catalog(locale):
        say(_("kitops has no translation for {locale} yet: its texts stay in English, its "
              "numbers, dates and money follow {locale}").format(locale=locale))  # fmt: skip


@location.command(
    "set-locale",
    help=N_(
        "Set a clinic's locale (e.g. de_AT, de, en_GB): the language and formats of its "
        "labels, purchase orders, patients' calendars, course cards and reports, and of its "
        "staff's screens when they set no language of their own. `--clear` removes it."
    ),
)
@click.argument("clinic")
@click.argument("locale", required=False)
@click.option("--clear", is_flag=True, help=N_("Clear the clinic's locale."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the clinic as JSON."))
@pass_context
def set_locale(ctx: Context, clinic: str, locale: str | None, clear: bool, as_json: bool) -> None:
    from kitops.errors import InvalidInput
    from kitops.services.locales import set_clinic_locale

    if clear == (locale is not None):
        raise InvalidInput("locale", locale, _("give a locale or --clear, not both or neither"))
    done = set_clinic_locale(ctx.uow(), clinic, None if clear else locale)
    if as_json:
        emit_json(done)
        return
    _say_locale(done.code, done.locale)


@location.command(
    "set-address",
    help=N_(
        "Set the address, contact and country a clinic's papers print (purchase "
        "orders, patient calendars). An option not given stays; an empty text clears "
        "it."
    ),
)
@click.argument("clinic")
@click.option("--address", metavar="TEXT", help=N_("Delivery address (commas between lines)."))
@click.option("--contact", metavar="TEXT", help=N_("Who to call: phone, e-mail."))
@click.option("--country", metavar="CC", help=N_("ISO 3166 country code (its VAT rates apply)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the clinic as JSON."))
@pass_context
def set_address(
    ctx: Context,
    clinic: str,
    address: str | None,
    contact: str | None,
    country: str | None,
    as_json: bool,
) -> None:
    from kitops.services.locations import set_address as service

    done = service(ctx.uow(), clinic, address=address, contact=contact, country=country)
    if as_json:
        emit_json(done)
        return
    say(_("{code}: {address}; contact {contact}; country {country}").format(
        code=done.code, address=done.address or _("(no address)"), contact=done.contact or "-",
        country=done.country or "-"))  # fmt: skip


@catalog.command(
    "set-label-text",
    help=N_("Set the storage and usage lines printed on SKU's labels (an empty text clears)."),
)
@click.argument("sku")
@click.option("--storage", metavar="TEXT", help=N_('How to store it, e.g. "Store at 2-8 °C".'))
@click.option("--usage", metavar="TEXT", help=N_("A short usage line for the label."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the product as JSON."))
@pass_context
def set_label_text(
    ctx: Context, sku: str, storage: str | None, usage: str | None, as_json: bool
) -> None:
    from kitops.services.catalog import set_label_text as service

    product = service(ctx.uow(), sku, storage=storage, usage=usage)
    if as_json:
        emit_json(product)
        return
    say(_("{sku} labels: storage {storage}; usage {usage}").format(
        sku=product.sku, storage=product.storage or _("(none)"),
        usage=product.usage or _("(none)")))  # fmt: skip
