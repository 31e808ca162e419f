"""Products, kit recipes and the rules that keep them safe.

Lengths and volumes are held as whole micrometres and microlitres so that no float
ever stands for a quantity; the boundary converts from the millimetres and
millilitres people type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from kitops.domain.numbers import parse_decimal, parse_int, scale
from kitops.domain.text import no_control
from kitops.errors import InvalidInput
from kitops.i18n import _


class ProductKind(StrEnum):
    SERUM_VIAL = "serum_vial"
    DERMA_STAMP = "derma_stamp"
    CONSUMABLE = "consumable"
    KIT = "kit"


DEFAULT_UNITS: Mapping[ProductKind, str] = {
    ProductKind.SERUM_VIAL: "vial",
    ProductKind.DERMA_STAMP: "each",
    ProductKind.CONSUMABLE: "each",
    ProductKind.KIT: "kit",
}

# The at-home maximum needle length (seed 000: 0.4 to 0.6 mm at home). It is the
# default of the ``at_home_max_needle_mm`` setting, not a constant of the rules.
DEFAULT_AT_HOME_MAX_NEEDLE_UM = 600
MAX_NEEDLE_UM = 5_000

_SKU = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
_GTIN_LENGTHS = (8, 12, 13, 14)


def parse_sku(value: str, field: str = "sku") -> str:
    sku = value.strip().upper()
    if not _SKU.match(sku):
        raise InvalidInput(
            field, value, _("must be 1-64 letters, digits, '.', '_' or '-', starting alphanumeric")
        )
    return sku


def parse_kind(value: str, field: str = "kind") -> ProductKind:
    try:
        return ProductKind(value.strip().lower())
    except ValueError:
        choices = "|".join(k.value for k in ProductKind)
        raise InvalidInput(
            field, value, _("must be one of {choices}").format(choices=choices)
        ) from None


def mm_to_um(value: str | Decimal, field: str = "needle_mm") -> int:
    """``"0.5"`` → 500. Refuses lengths outside (0, 5] mm and finer than a micrometre."""
    um = scale(parse_decimal(value, field), 3)
    if um != um.to_integral_value():
        raise InvalidInput(field, value, _("is finer than a micrometre"))
    if not 0 < um <= MAX_NEEDLE_UM:
        raise InvalidInput(field, value, _("must be more than 0 and at most 5 mm"))
    return int(um)


def ml_to_ul(value: str | Decimal, field: str = "ml") -> int:
    """``"5"`` → 5000 microlitres. Refuses zero, negatives and sub-microlitre values."""
    ul = scale(parse_decimal(value, field), 3)
    if ul != ul.to_integral_value():
        raise InvalidInput(field, value, _("is finer than a microlitre"))
    if not 0 < ul <= 1_000_000:
        raise InvalidInput(field, value, _("must be more than 0 and at most 1000 ml"))
    return int(ul)


def um_to_mm(um: int | None) -> Decimal | None:
    return None if um is None else (Decimal(um) / 1000).normalize()


def ul_to_ml(ul: int | None) -> Decimal | None:
    return None if ul is None else (Decimal(ul) / 1000).normalize()


def format_mm(um: int | None) -> str:
    mm = um_to_mm(um)
    return "" if mm is None else f"{mm:f}"


def gtin_shape(value: str, field: str = "gtin") -> str:
    """Checks the shape of a GTIN; the check digit is verified by the GS1 adapter."""
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) not in _GTIN_LENGTHS:
        raise InvalidInput(field, value, _("must be 8, 12, 13 or 14 digits"))
    return digits.zfill(14)


@dataclass(frozen=True)
class ProductSpec:
    """What a person gives to define a product, already parsed into exact units."""

    sku: str
    name: str
    kind: ProductKind
    unit: str
    gtin: str | None = None
    volume_ul: int | None = None
    needle_um: int | None = None
    at_home_allowed: bool | None = None
    lot_tracked: bool | None = None
    requires_release: bool | None = None
    shelf_life_days: int | None = None
    expiry_alert_days: int = 90
    min_shelf_life_on_receipt_days: int = 30


def complete_product(spec: ProductSpec, at_home_max_needle_um: int) -> ProductSpec:
    """Fill the defaults a stockroom expects and refuse combinations that make no sense.

    - a derma stamp needs a needle length; nothing else has one;
    - serum vials need a volume, are lot-tracked and wait for release by default;
    - a stamp longer than the at-home maximum can never be marked for home use.
    """
    if not spec.name.strip():
        raise InvalidInput("name", spec.name, _("must not be empty"))
    no_control(spec.name, "name")
    no_control(spec.unit, "unit")
    if len(spec.name.strip()) > 200:
        raise InvalidInput("name", spec.name[:40] + "...", _("must be at most 200 characters"))
    if len(spec.unit.strip()) > 20:
        raise InvalidInput("unit", spec.unit, _("must be at most 20 characters"))
    if spec.kind is ProductKind.DERMA_STAMP and spec.needle_um is None:
        raise InvalidInput("needle_mm", None, _("a derma stamp needs its needle length"))
    if spec.kind is not ProductKind.DERMA_STAMP and spec.needle_um is not None:
        raise InvalidInput("needle_mm", format_mm(spec.needle_um), _("only derma stamps have one"))
    if spec.kind is ProductKind.SERUM_VIAL and spec.volume_ul is None:
        raise InvalidInput("ml", None, _("a serum vial needs its volume"))
    for field, days in (
        ("shelf_life_days", spec.shelf_life_days),
        ("expiry_alert_days", spec.expiry_alert_days),
        ("min_shelf_life_on_receipt_days", spec.min_shelf_life_on_receipt_days),
    ):
        if days is not None and not 0 <= days <= 36_500:
            raise InvalidInput(field, days, _("must be between 0 and 36500 days"))

    needle_ok_at_home = spec.needle_um is None or spec.needle_um <= at_home_max_needle_um
    at_home = spec.at_home_allowed
    if at_home is None:
        at_home = needle_ok_at_home
    elif at_home and not needle_ok_at_home:
        raise InvalidInput(
            "needle_mm",
            format_mm(spec.needle_um),
            _(
                "is longer than the at-home maximum of {maximum} mm; mark the stamp --clinic-only"
            ).format(maximum=format_mm(at_home_max_needle_um)),
        )
    lot_tracked = spec.lot_tracked
    if lot_tracked is None:
        lot_tracked = spec.kind in (ProductKind.SERUM_VIAL, ProductKind.KIT)
    requires_release = spec.requires_release
    if requires_release is None:
        requires_release = spec.kind is ProductKind.SERUM_VIAL
    if requires_release and not lot_tracked:
        raise InvalidInput(
            "requires_release", True, _("only lot-tracked products can wait for release")
        )
    return ProductSpec(
        sku=spec.sku,
        name=spec.name.strip(),
        kind=spec.kind,
        unit=spec.unit.strip() or DEFAULT_UNITS[spec.kind],
        gtin=spec.gtin,
        volume_ul=spec.volume_ul,
        needle_um=spec.needle_um,
        at_home_allowed=at_home,
        lot_tracked=lot_tracked,
        requires_release=requires_release,
        shelf_life_days=spec.shelf_life_days,
        expiry_alert_days=spec.expiry_alert_days,
        min_shelf_life_on_receipt_days=spec.min_shelf_life_on_receipt_days,
    )


@dataclass(frozen=True)
class RecipeComponent:
    """A component as the recipe rules need to see it."""

    sku: str
    kind: ProductKind
    needle_um: int | None
    at_home_allowed: bool
    quantity: int


def parse_component(text: str) -> tuple[str, int]:
    """``"SERUM-5ML=6"`` → ``("SERUM-5ML", 6)``."""
    sku, sep, qty = text.partition("=")
    if not sep:
        raise InvalidInput("component", text, _("must be written SKU=QTY, e.g. SERUM-5ML=6"))
    return parse_sku(sku, "component"), parse_positive_int(qty, f"quantity of {sku.strip()}")


def check_recipe(
    kit_sku: str,
    kit_kind: ProductKind,
    kit_at_home: bool,
    components: list[RecipeComponent],
    at_home_max_needle_um: int,
) -> None:
    """A recipe builds a kit product from non-kit parts; a kit that goes home holds
    no stamp longer than the at-home maximum and nothing marked clinic-only."""
    if kit_kind is not ProductKind.KIT:
        raise InvalidInput(
            "kit_sku", kit_sku, _("is a {kind}, not a kit").format(kind=kit_kind.value)
        )
    if not components:
        raise InvalidInput("components", "", _("a recipe needs at least one component"))
    seen: set[str] = set()
    for part in components:
        if part.sku in seen:
            raise InvalidInput("component", part.sku, _("is listed twice"))
        seen.add(part.sku)
        if part.kind is ProductKind.KIT:
            raise InvalidInput("component", part.sku, _("a kit cannot contain another kit"))
        if part.quantity <= 0:
            raise InvalidInput(f"quantity of {part.sku}", part.quantity, _("must be at least 1"))
        too_long = part.needle_um is None or part.needle_um > at_home_max_needle_um
        if kit_at_home and part.kind is ProductKind.DERMA_STAMP and too_long:
            raise InvalidInput(
                "component",
                part.sku,
                _("has a {needle} mm needle; an at-home kit allows at most {maximum} mm").format(
                    needle=format_mm(part.needle_um),
                    maximum=format_mm(at_home_max_needle_um),
                ),
            )
        if kit_at_home and not part.at_home_allowed:
            raise InvalidInput(
                "component", part.sku, _("is clinic-only; it cannot go home in a kit")
            )


# The most units one line, move or count may carry: far beyond any clinic stockroom,
# well inside the database's 32-bit quantity columns.
MAX_QUANTITY = 1_000_000


def parse_positive_int(value: str | int, field: str) -> int:
    number = parse_int(value, field)
    if number > MAX_QUANTITY:
        raise InvalidInput(
            field, value, _("must be at most {max_quantity}").format(max_quantity=MAX_QUANTITY)
        )
    if number <= 0:
        raise InvalidInput(field, value, _("must be at least 1"))
    return number


def parse_non_negative_int(value: str | int, field: str) -> int:
    number = parse_int(value, field)
    if number > MAX_QUANTITY:
        raise InvalidInput(
            field, value, _("must be at most {max_quantity}").format(max_quantity=MAX_QUANTITY)
        )
    if number < 0:
        raise InvalidInput(field, value, _("must not be negative"))
    return number
