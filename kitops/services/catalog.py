"""Catalogue use cases: products and kit recipes."""

from __future__ import annotations

from dataclasses import asdict

from kitops.data.repositories.reservations import forget_kit_needs
from kitops.data.schema import LotRow, ProductRow
from kitops.domain.catalog import (
    DEFAULT_AT_HOME_MAX_NEEDLE_UM,
    ProductKind,
    ProductSpec,
    RecipeComponent,
    check_recipe,
    complete_product,
    ml_to_ul,
    mm_to_um,
    parse_component,
    parse_kind,
    parse_sku,
    ul_to_ml,
    um_to_mm,
)
from kitops.domain.ledger import UNTRACKED_LOT_CODE, LotStatus
from kitops.domain.text import no_control
from kitops.errors import Conflict, InvalidInput
from kitops.gs1 import parse_gtin
from kitops.i18n import _
from kitops.services.dto import catalog as catalog_dto
from kitops.services.unit_of_work import UnitOfWork


def at_home_max_needle_um(uow: UnitOfWork) -> int:
    default = str(DEFAULT_AT_HOME_MAX_NEEDLE_UM / 1000)
    return mm_to_um(uow.settings.get("at_home_max_needle_mm", default), "at_home_max_needle_mm")


def product_dto(row: ProductRow) -> catalog_dto.Product:
    return catalog_dto.Product(
        sku=row.sku,
        name=row.name,
        kind=row.kind,
        unit=row.unit,
        gtin=row.gtin,
        ml=ul_to_ml(row.volume_ul),
        needle_mm=um_to_mm(row.needle_um),
        at_home_allowed=row.at_home_allowed,
        lot_tracked=row.lot_tracked,
        requires_release=row.requires_release,
        shelf_life_days=row.shelf_life_days,
        expiry_alert_days=row.expiry_alert_days,
        min_shelf_life_on_receipt_days=row.min_shelf_life_on_receipt_days,
        recipe=tuple(
            catalog_dto.RecipeLine(line.component.sku, line.quantity) for line in row.recipe
        ),
        storage=row.storage,
        usage=row.usage,
    )


def parse_product(
    sku: str,
    name: str,
    kind: str,
    *,
    unit: str = "",
    gtin: str | None = None,
    ml: str | None = None,
    needle_mm: str | None = None,
    at_home: bool | None = None,
    lot_tracked: bool | None = None,
    requires_release: bool | None = None,
    shelf_life_days: int | None = None,
    expiry_alert_days: int = 90,
    min_shelf_life_on_receipt_days: int = 30,
) -> ProductSpec:
    """Turn what a person typed into a product spec, naming the first bad field."""
    return ProductSpec(
        sku=parse_sku(sku),
        name=name,
        kind=parse_kind(kind),
        unit=unit,
        gtin=parse_gtin(gtin) if gtin else None,
        volume_ul=ml_to_ul(ml) if ml not in (None, "") else None,
        needle_um=mm_to_um(needle_mm) if needle_mm not in (None, "") else None,
        at_home_allowed=at_home,
        lot_tracked=lot_tracked,
        requires_release=requires_release,
        shelf_life_days=shelf_life_days,
        expiry_alert_days=expiry_alert_days,
        min_shelf_life_on_receipt_days=min_shelf_life_on_receipt_days,
    )


def create_product(uow: UnitOfWork, spec: ProductSpec) -> str:
    """Add a product inside the caller's transaction (used by add, import and demo) and
    return its SKU."""
    full = complete_product(spec, at_home_max_needle_um(uow))
    if uow.products.by_sku(full.sku) is not None:
        raise Conflict(_("product {sku} already exists").format(sku=full.sku))
    if full.gtin and (other := uow.products.by_gtin(full.gtin)) is not None:
        raise Conflict(
            _("GTIN {gtin} already belongs to {sku}").format(gtin=full.gtin, sku=other.sku)
        )
    fields = asdict(full)
    fields["kind"] = full.kind.value
    row = uow.products.add(ProductRow(**fields))
    if not row.lot_tracked:
        # Untracked stock still needs a lot so every balance key is complete.
        uow.lots.add(
            LotRow(product_id=row.id, code=UNTRACKED_LOT_CODE, status=LotStatus.RELEASED.value)
        )
    uow.record("product.add", "product", row.sku, after=_audit_view(full))
    return row.sku


def _audit_view(spec: ProductSpec) -> dict[str, object]:
    return {k: (v.value if isinstance(v, ProductKind) else v) for k, v in asdict(spec).items()}


def add_product(uow: UnitOfWork, spec: ProductSpec) -> catalog_dto.Product:
    with uow:
        uow.require("catalog.edit")
        result = product_dto(uow.products.get(create_product(uow, spec)))
        uow.commit()
    return result


def list_products(uow: UnitOfWork) -> list[catalog_dto.Product]:
    with uow:
        return [product_dto(row) for row in uow.products.all()]


def set_recipe_in(
    uow: UnitOfWork, kit_sku: str, components: list[tuple[str, int]]
) -> catalog_dto.Product:
    kit = uow.products.get(parse_sku(kit_sku, "kit_sku"), "kit_sku")
    parts: list[tuple[ProductRow, int]] = []
    for sku, quantity in components:
        parts.append((uow.products.get(sku, "component"), quantity))
    check_recipe(
        kit.sku,
        ProductKind(kit.kind),
        kit.at_home_allowed,
        [
            RecipeComponent(
                sku=row.sku,
                kind=ProductKind(row.kind),
                needle_um=row.needle_um,
                at_home_allowed=row.at_home_allowed,
                quantity=quantity,
            )
            for row, quantity in parts
        ],
        at_home_max_needle_um(uow),
    )
    before = {line.component.sku: line.quantity for line in uow.products.recipe(kit)}
    uow.products.replace_recipe(kit, parts)
    forget_kit_needs(uow.session.connection(), kit.id)
    uow.session.refresh(kit)
    uow.record(
        "recipe.set", "product", kit.sku,
        before=before or None, after={row.sku: qty for row, qty in parts},
    )  # fmt: skip
    return product_dto(kit)


def set_recipe(uow: UnitOfWork, kit_sku: str, components: list[str]) -> catalog_dto.Product:
    """``set_recipe(uow, "KIT-HOME-6W", ["SERUM-5ML=6", "STAMP-0.5=1"])``."""
    parsed = [parse_component(text) for text in components]
    with uow:
        uow.require("catalog.edit")
        result = set_recipe_in(uow, kit_sku, parsed)
        uow.commit()
    return result


LABEL_TEXT_MAX = 120  # characters: a line or two in 6-pt type on a 62 mm label


def label_text(value: str | None, field: str) -> str | None:
    """One line of label text, stripped; blank clears (``None``)."""
    if value is None:
        return None
    no_control(value, field)
    text = " ".join(value.split())
    if len(text) > LABEL_TEXT_MAX:
        raise InvalidInput(
            field,
            text[:40] + "...",
            _("must be at most {limit} characters (a label line)").format(limit=LABEL_TEXT_MAX),
        )
    return text or None


def set_label_text_in(
    uow: UnitOfWork, sku: str, *, storage: str | None = None, usage: str | None = None
) -> catalog_dto.Product:
    """Set the storage and usage lines printed on the product's labels, inside the
    caller's transaction; an option not given stays, an empty text clears it."""
    given = {"storage": label_text(storage, "storage"), "usage": label_text(usage, "usage")}
    changed = {field: value for field, value in given.items()
               if (storage if field == "storage" else usage) is not None}  # fmt: skip
    if not changed:
        raise InvalidInput("storage", None, _("give --storage or --usage"))
    row = uow.products.get(parse_sku(sku))
    before = {field: getattr(row, field) for field in changed}
    for field, value in changed.items():
        setattr(row, field, value)
    uow.session.flush()
    uow.record("product.label_text", "product", row.sku, before=before, after=changed)
    return product_dto(row)


def set_label_text(
    uow: UnitOfWork, sku: str, *, storage: str | None = None, usage: str | None = None
) -> catalog_dto.Product:
    with uow:
        uow.require("catalog.edit")
        result = set_label_text_in(uow, sku, storage=storage, usage=usage)
        uow.commit()
    return result
