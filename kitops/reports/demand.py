"""``report demand`` and ``report cover``: scheduled demand against usable stock.

Both read ``kitops.services.demand`` (the one place that turns courses and clinic
sessions into needs per clinic, product and day, shared with the reorder job) and its
domain arithmetic (``kitops.domain.reorder.cover``): a unit of stock serves a need only
if it is still in date on the need's last day of use plus the expiry margin, so a lot
that expires before it would be used does not count.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING

from kitops.domain.reorder import Requirement, cover
from kitops.i18n import N_
from kitops.reports.common import DayLabel, Phrase, parse_count, resolve_scope
from kitops.reports.kits import monday
from kitops.services.demand import (
    AWAITING_RELEASE,
    DemandProduct,
    product_cover,
    requirements,
    scheduled_demand,
    supplies,
)
from kitops.services.dto.reports import Chart, ChartKind, Column, Kind, Report, Section, Series
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kitops.services.dto.reports import Cell, ReportRequest

WEEK_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("week", N_("week of"), Kind.DATE),
    Column("sku", N_("SKU")),
    Column("item", N_("item")),
    Column("needed", N_("needed"), Kind.INT),
    Column("from_stock", N_("from stock"), Kind.INT),
    Column("short", N_("short"), Kind.INT),
    Column("reserved_kits", N_("reserved"), Kind.INT),
)
TOTAL_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("sku", N_("SKU")),
    Column("item", N_("item")),
    Column("needed", N_("needed"), Kind.INT),
    Column("from_stock", N_("from stock"), Kind.INT),
    Column("short", N_("short"), Kind.INT),
    Column("usable", N_("usable"), Kind.INT),
    Column("expiring_unused", N_("exp. unused"), Kind.INT),
    Column("first_short_day", N_("first short"), Kind.DATE),
)
COVER_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("sku", N_("SKU")),
    Column("item", N_("item")),
    Column("usable", N_("usable"), Kind.INT),
    Column("awaiting_release", N_("awaiting"), Kind.INT),
    Column("demand", N_("demand"), Kind.INT),
    Column("short", N_("short"), Kind.INT),
    Column("expiring_unused", N_("exp. unused"), Kind.INT),
    Column("first_short_day", N_("first short"), Kind.DATE),
    Column("days_of_cover", N_("days"), Kind.INT),
)
CHART_KINDS = (
    ("serum_vial", N_("Serum vials: needed per week against usable stock")),
    ("derma_stamp", N_("Derma stamps: needed per week against usable stock")),
    ("kit", N_("Kits: needed per week against usable stock")),
)


def item(product: DemandProduct | None) -> str:
    """``vial 5 ml``, ``stamp 0.5 mm``, ``kit``: what a line counts, in a few characters."""
    if product is None:
        return ""
    if product.kind == "derma_stamp" and product.needle_mm is not None:
        return f"stamp {product.needle_mm} mm"
    if product.kind == "serum_vial" and product.ml is not None:
        return f"vial {product.ml} ml"
    return product.kind.replace("_", " ")


def demand_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    weeks = parse_count(request.option("weeks"), "weeks", low=1, high=104)
    with uow:
        scope = resolve_scope(uow, request)
        day = scope.as_of
        first = monday(day)
        end = first + timedelta(days=7 * weeks - 1)
        demand = scheduled_demand(uow, start=day, end=end, clinic=scope.clinic_code)
    products = {p.sku: p for p in demand.products}
    needs = requirements(demand)
    stock = supplies(demand)
    reserved: dict[tuple[str, str, int], int] = defaultdict(int)
    for need in demand.needs:
        if need.covered_by == "reserved":
            reserved[(need.clinic, need.sku, (need.day - first).days // 7)] += need.quantity
    keys = sorted(set(needs) | {(c, s) for c, s, _ in reserved})
    week_rows: list[tuple[Cell, ...]] = []
    total_rows: list[tuple[Cell, ...]] = []
    by_kind: dict[str, list[list[int]]] = {}
    after = end + timedelta(days=1 + demand.margin_days)
    for clinic, sku in keys:
        wanted = needs.get((clinic, sku), [])
        have = stock.get((clinic, sku), [])
        per_week: list[list[Requirement]] = [[] for _ in range(weeks)]
        for requirement in wanted:
            per_week[(requirement.day - first).days // 7].append(requirement)
        so_far: list[Requirement] = []
        covered_before = 0
        kind = products[sku].kind if sku in products else ""
        sums = by_kind.setdefault(kind, [[0] * weeks for _ in range(3)])
        for week in range(weeks):
            covered = covered_before
            if per_week[week]:  # coverage only grows in a week that adds needs
                so_far += per_week[week]
                covered = cover(so_far, have, spare_until=after).covered if have else 0
            needed = sum(r.quantity for r in per_week[week])
            served = covered - covered_before
            covered_before = covered
            held = reserved.get((clinic, sku, week), 0)
            if needed or held:
                week_rows.append(
                    (
                        clinic,
                        first + timedelta(days=7 * week),
                        sku,
                        item(products.get(sku)),
                        needed,
                        served,
                        needed - served,
                        held,
                    )
                )
            sums[0][week] += needed
            sums[1][week] += served
            sums[2][week] += needed - served
    week_rows.sort(key=lambda r: (str(r[0]), str(r[1]), str(r[2])))
    for line in product_cover(demand):
        if not line.demand:
            continue
        total_rows.append(
            (
                line.clinic,
                line.sku,
                item(products.get(line.sku)),
                line.demand,
                line.covered,
                line.short,
                line.on_hand,
                line.expiring_unused,
                line.first_short_day,
            )
        )
    labels = tuple(DayLabel(first + timedelta(days=7 * w)) for w in range(weeks))
    charts = tuple(
        Chart(
            f"weeks_{kind}",
            title,
            ChartKind.BAR,
            labels,
            (
                Series(N_("needed"), tuple(by_kind[kind][0])),
                Series(N_("from stock"), tuple(by_kind[kind][1])),
                Series(N_("short"), tuple(by_kind[kind][2])),
            ),
        )
        for kind, title in CHART_KINDS
        if kind in by_kind and any(by_kind[kind][0])
    )
    return Report(
        name="demand",
        title=Phrase(N_("Scheduled demand, {weeks} weeks"), weeks=weeks),
        as_of=day,
        clinic=scope.clinic_code,
        parameters=(("weeks", str(weeks)),),
        sections=(
            Section(
                "weeks", N_("Needed per clinic, week and product"), WEEK_COLUMNS, tuple(week_rows)
            ),
            Section(
                "totals",
                Phrase(N_("Over the window, {first} to {last}"), first=day, last=end),
                TOTAL_COLUMNS,
                tuple(total_rows),
            ),
        ),
        charts=charts,
        notes=(
            Phrase(
                N_(
                    "Demand from {first} to {last} (weeks start on Monday). 'needed': kits of "
                    "home courses with no kit reserved yet, the components of those no "
                    "assembled kit fits, and clinic sessions' vials and supplies; 'reserved': "
                    "kits already held for courses that week (not counted as needed). 'from "
                    "stock': what released stock still in date on the day of use (plus the "
                    "expiry margin of {margin} days) serves, earliest need first; 'exp. "
                    "unused': usable units that expire before any need they could serve."
                ),
                first=day,
                last=end,
                margin=demand.margin_days,
            ),
        ),
    )


def cover_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    days = parse_count(request.option("days"), "days", low=1, high=3 * 366)
    with uow:
        scope = resolve_scope(uow, request)
        day = scope.as_of
        end = day + timedelta(days=days - 1)
        demand = scheduled_demand(uow, start=day, end=end, clinic=scope.clinic_code)
    products = {p.sku: p for p in demand.products}
    waiting: dict[tuple[str, str], int] = defaultdict(int)
    for lot in demand.stock:
        if lot.status == AWAITING_RELEASE:
            waiting[(lot.clinic, lot.sku)] += lot.quantity
    rows: list[tuple[Cell, ...]] = []
    for line in product_cover(demand):
        rows.append(
            (
                line.clinic,
                line.sku,
                item(products.get(line.sku)),
                line.on_hand,
                waiting.get((line.clinic, line.sku), 0),
                line.demand,
                line.short,
                line.expiring_unused,
                line.first_short_day,
                line.days_of_cover,
            )
        )
    rows.sort(
        key=lambda r: (
            r[9] is None,
            int(str(r[9])) if r[9] is not None else 0,
            str(r[0]),
            str(r[1]),
        )
    )
    short = [r for r in rows if r[9] is not None]
    return Report(
        name="cover",
        title=Phrase(N_("Days of cover, next {days} days"), days=days),
        as_of=day,
        clinic=scope.clinic_code,
        parameters=(("days", str(days)),),
        sections=(
            Section(
                "cover",
                N_("Per product and clinic, shortest cover first"),
                COVER_COLUMNS,
                tuple(rows),
            ),
        ),
        notes=(
            Phrase(
                N_(
                    "'days': days from {first} until the first scheduled need that usable "
                    "stock (released, in date on the day of use plus the expiry margin) cannot "
                    "serve, used day by day; empty when it lasts to {last}. {short} of {lines} "
                    "lines run short. 'awaiting': in quarantine since receipt, not yet released "
                    "(not counted). 'exp. unused': units that expire before any need they could "
                    "serve."
                ),
                first=day,
                last=end,
                short=len(short),
                lines=len(rows),
            ),
        ),
    )
