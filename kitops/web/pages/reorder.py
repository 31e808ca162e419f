"""Reorder preview: what the reorder job would order now (a dry run: computed, nothing
written), per clinic and supplier, each line with its arithmetic, what it would cost at
the supplier's price, and the draft purchase order that already carries it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kitops.domain.money import Money
from kitops.services import purchasing, reorder
from kitops.services.dto.reorder import Suggestion
from kitops.views import choices as choice_lists
from kitops.web.pages.common import CurrentCaller, PageRoute, door, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True)
class PreviewLine:
    suggestion: Suggestion
    cost: Money | None  # quantity × the supplier's unit cost (None: no price on file)
    draft: str | None  # the draft order holding this product for this clinic and supplier


@dataclass(frozen=True)
class PreviewGroup:
    """What one purchase order to one supplier for one clinic would hold."""

    clinic: str
    supplier: str
    supplier_name: str
    lines: tuple[PreviewLine, ...]
    total: Money | None


@router.get("/reorder")
def reorder_preview(
    request: Request,
    caller: CurrentCaller,
    clinic: str | None = None,
    supplier: str | None = None,
) -> Response:
    the_door = door(request)
    clinic = clinic.strip().upper() or None if clinic else None
    supplier = supplier.strip().upper() or None if supplier else None
    offered = choice_lists.choices(the_door.reading(caller)).clinics
    suppliers = purchasing.list_suppliers(the_door.reading(caller))
    # first: an unknown clinic or supplier is one line naming it (422)
    drafts = purchasing.list_orders(the_door.reading(caller), status="draft", clinic=clinic,
                                    supplier=supplier)  # fmt: skip
    run = reorder.run(the_door.reading(caller), dry_run=True)
    drafted = {(o.supplier, o.clinic, ln.sku): o.number for o in drafts for ln in o.lines}
    prices = {(s.code, i.sku): i.unit_cost for s in suppliers for i in s.items}
    names = {s.code: s.name for s in suppliers}
    grouped: dict[tuple[str, str], list[PreviewLine]] = {}
    for line in run.suggestions:
        if (clinic and line.clinic != clinic) or (supplier and line.supplier != supplier):
            continue
        price = prices.get((line.supplier, line.sku))
        cost = Money(price.amount_minor * line.quantity, price.currency) if price else None
        grouped.setdefault((line.clinic, line.supplier), []).append(
            PreviewLine(line, cost, drafted.get((line.supplier, line.clinic, line.sku)))
        )
    groups = []
    for (at, sup), lines in sorted(grouped.items()):
        costs = [ln.cost for ln in lines if ln.cost is not None]
        total = None
        if len(costs) == len(lines) and len({c.currency for c in costs}) == 1:
            total = Money(sum(c.amount_minor for c in costs), costs[0].currency)
        groups.append(PreviewGroup(at, sup, names.get(sup, sup), tuple(lines), total))
    return render(request, "reorder.html", caller, run=run, groups=groups, clinic=clinic,
                  supplier=supplier, clinics=offered, suppliers=suppliers)  # fmt: skip
