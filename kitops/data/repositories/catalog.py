"""The catalogue: products and kit recipes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kitops.data.schema import ProductRow, RecipeLineRow
from kitops.domain.catalog import ProductKind, parse_sku
from kitops.errors import InvalidInput
from kitops.i18n import _


class Products:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_sku(self, sku: str) -> ProductRow | None:
        return self.session.scalar(select(ProductRow).where(ProductRow.sku == sku))

    def get(self, sku: str, field: str = "sku") -> ProductRow:
        row = self.by_sku(sku)
        if row is None:
            raise InvalidInput(field, sku, _("no product has this SKU (see `kitops catalog list`)"))
        return row

    def by_gtin(self, gtin: str) -> ProductRow | None:
        return self.session.scalar(select(ProductRow).where(ProductRow.gtin == gtin))

    def all(self) -> Sequence[ProductRow]:
        return self.session.scalars(select(ProductRow).order_by(ProductRow.sku)).all()

    def add(self, row: ProductRow) -> ProductRow:
        self.session.add(row)
        self.session.flush()
        return row

    def recipe(self, kit: ProductRow) -> Sequence[RecipeLineRow]:
        return self.session.scalars(
            select(RecipeLineRow)
            .where(RecipeLineRow.kit_product_id == kit.id)
            .order_by(RecipeLineRow.position)
        ).all()

    def replace_recipe(self, kit: ProductRow, lines: Iterable[tuple[ProductRow, int]]) -> None:
        for old in self.recipe(kit):
            self.session.delete(old)
        self.session.flush()
        for position, (component, quantity) in enumerate(lines):
            self.session.add(
                RecipeLineRow(
                    kit_product_id=kit.id,
                    component_product_id=component.id,
                    quantity=quantity,
                    position=position,
                )
            )
        self.session.flush()

    def kit(self, sku: str, field: str = "recipe") -> ProductRow:
        """A kit product with its recipe."""
        product = self.get(parse_sku(sku, field), field)
        if product.kind != ProductKind.KIT.value:
            raise InvalidInput(
                field, product.sku, _("is a {kind}, not a kit").format(kind=product.kind)
            )
        if not product.recipe:
            raise InvalidInput(field, product.sku, _("has no recipe (`kitops catalog add-recipe`)"))
        return product
