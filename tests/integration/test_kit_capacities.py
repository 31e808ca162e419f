"""What could be assembled, asked for many kits and places at once (the dashboard's
question): ``kits.capacities_at`` reads the balances once and gives, for every kit
product, place, day and minimum shelf life, the same count as ``kits.capacity_at`` asked
one at a time. Checked on the demo data, every kit product with a recipe at every place
assembly may happen, across days and shelf lives that cut off some lots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_support import AS_OF
from sqlalchemy import select

from kitops.data.schema import ProductRow
from kitops.domain.catalog import ProductKind
from kitops.domain.locations import PHYSICAL_KINDS, LocationKind
from kitops.services import kits
from kitops.views import dashboard

pytestmark = pytest.mark.demo_data(AS_OF)


def test_capacities_at_once_equal_capacity_at_asked_one_by_one(uow) -> None:
    work = uow(readonly=True)
    with work:
        products = work.session.scalars(
            select(ProductRow).where(ProductRow.kind == ProductKind.KIT.value)
        ).all()
        recipes = kits.kits_by_sku(work, [p.sku for p in products])
        shelf = kits.default_min_shelf_lives(work, list(recipes.values()))
        places = [
            row
            for row in work.locations.all()
            if LocationKind(row.kind) in PHYSICAL_KINDS
            and row.kind != LocationKind.QUARANTINE.value
        ]
        wanted = [
            (kit, place, AS_OF + timedelta(days=later), days)
            for kit in recipes.values()
            if kit.recipe
            for place in places
            for later in (0, 30)
            for days in (0, shelf[kit.id], 120, 400)
        ]
        at_once = kits.capacities_at(work, wanted)
        one_by_one = [
            kits.capacity_at(work, kit, place, day, days).kits for kit, place, day, days in wanted
        ]
    assert len(wanted) > 20
    assert at_once == one_by_one
    # the comparison means something: some places could make kits, and a longer shelf life
    # leaves out lots that a short one counts
    assert max(at_once) > 0
    assert len(set(at_once)) > 2


def test_default_min_shelf_lives_at_once_equal_one_by_one(uow) -> None:
    work = uow(readonly=True)
    with work:
        recipes = kits.kits_by_sku(work, ["KIT-HOME-6W", "KIT-HOME-PTT6", "SERUM-5ML"])
        together = kits.default_min_shelf_lives(work, list(recipes.values()))
        alone = {kit.id: kits.default_min_shelf_life(work, kit) for kit in recipes.values()}
    assert "SERUM-5ML" not in recipes  # not a kit
    assert together == alone
    assert all(days > 0 for days in together.values())


def test_the_dashboard_counts_what_capacity_at_counts_for_every_tile(uow) -> None:
    board = dashboard.overview(uow(readonly=True), today=AS_OF)
    tiles = [(work.today, stock) for work in board.clinics for stock in work.kits]
    assert tiles
    assert any(stock.could_assemble > 0 for _, stock in tiles)
    work = uow(readonly=True)
    with work:
        for day, stock in tiles:
            kit = work.products.kit(stock.sku)
            place = work.locations.get(stock.assemble_at)
            expected = kits.capacity_at(
                work, kit, place, day, kits.default_min_shelf_life(work, kit)
            )
            assert stock.could_assemble == expected.kits, stock
