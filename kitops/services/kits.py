"""Kits: assemble, count what could be assembled, disassemble, look up, ship, hand over,
take back and release after a sealed return. A kit is a lot of the kit product (its serial
is the lot code) on the ledger; its components leave their place for ASSEMBLY and the kit
comes out of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

import kitops.i18n as i18n
from kitops import faults
from kitops.data.queries.kit_rows import (
    active_plans,
    kit_conditions,
    listed_components,
    listed_kits,
    serum_lines,
)
from kitops.data.queries.stock import driver_rows, product_names, stored_date
from kitops.data.repositories import PostedMove
from kitops.data.repositories.locations import clinic_of, subtree_ids
from kitops.data.schema import (
    CourseRow,
    KitComponentRow,
    KitRow,
    LocationRow,
    LotRow,
    OrderRow,
    PlanRow,
    ProductRow,
    RecipeLineRow,
    StockBalanceRow,
)
from kitops.domain.catalog import ProductKind, parse_non_negative_int, parse_positive_int, parse_sku
from kitops.domain.course_lifecycle import pause_for_opened_return, status_after_handover
from kitops.domain.courses import Plan, can_serve, kit_share_days
from kitops.domain.kits import (
    KIT_STATUSES,
    RETURNED,
    SERVING,
    SHELVED_USABLE,
    ComponentNeed,
    KitChange,
    KitStatus,
    LotStock,
    NotEnoughComponents,
    assemblable,
    check_change,
    draws_for,
    kit_vial_expiries,
    may,
    plan_assembly,
    refusal,
)
from kitops.domain.ledger import LotStatus, Move, MoveReason, Shortage
from kitops.domain.locations import PHYSICAL_KINDS, LocationKind, clinic_today
from kitops.errors import InvalidInput, Refused, TransientDatabaseError
from kitops.i18n import _
from kitops.i18n.labels import status_label
from kitops.services.dto import kits as kits_dto
from kitops.services.plans import plan_of, to_domain
from kitops.services.unit_of_work import UnitOfWork, retrying


def default_min_shelf_life(uow: UnitOfWork, kit: ProductRow) -> int:
    """Long enough for one kit of the shortest active plan using this kit (its weeks
    shared out among its kits: ``kit_share_days``), plus the expiry margin. A kit that
    lasts less could serve no course; one that lasts this long serves at least that plan,
    and fulfilment judges each course's own fit when it reserves a kit."""
    rows = uow.plans.active_for_kit(kit.id)
    shares = [days for days in (kit_share_days(to_domain(row)) for row in rows) if days > 0]
    return min(shares, default=0) + uow.settings.expiry_margin_days()


def _check_home_safety(uow: UnitOfWork, kit: ProductRow) -> None:
    """An at-home kit never holds a stamp over the at-home maximum (checked again at
    assembly: the setting or the catalogue may have changed since the recipe)."""
    if not kit.at_home_allowed:
        return
    # imported here: the catalogue service (and the reservation statements it names) is
    # more than listing or showing kits needs to load
    from kitops.services.catalog import at_home_max_needle_um

    maximum = at_home_max_needle_um(uow)
    for line in kit.recipe:
        part = line.component
        if part.kind == ProductKind.DERMA_STAMP.value and (
            part.needle_um is None or part.needle_um > maximum or not part.at_home_allowed
        ):
            raise InvalidInput(
                "recipe", kit.sku,
                _(
                    "contains {sku}, longer than the at-home maximum of "
                    "{maximum} mm"
                ).format(sku=part.sku, maximum=maximum / 1000),
            )  # fmt: skip


def _drawing_places(
    uow: UnitOfWork, place: LocationRow
) -> tuple[LocationRow | None, list[LocationRow]]:
    """The clinic of ``place`` and the places assembly there may draw components from:
    every physical place of that clinic except quarantine ones, ``place`` first, then by
    code (the order draws are taken in when a lot lies in several places)."""
    return _drawing_places_among(place, uow.locations.all())


def _drawing_places_among(
    place: LocationRow, rows: Sequence[LocationRow]
) -> tuple[LocationRow | None, list[LocationRow]]:
    """``_drawing_places`` over locations already read."""
    clinic = clinic_of(place, {row.id: row for row in rows})
    if clinic is None:
        return None, [place]
    inside = subtree_ids(clinic, rows)
    places = [
        row for row in rows
        if row.id in inside and LocationKind(row.kind) in PHYSICAL_KINDS
        and row.kind != LocationKind.QUARANTINE.value
    ]  # fmt: skip
    places.sort(key=lambda row: (row.id != place.id, row.code))
    return clinic, places


@dataclass
class _Supply:
    """Usable component stock of a clinic: per product the lots (quantities summed over
    the places, for first-expiry-first-out across the clinic), and per lot where its
    units lie, in the order of the places."""

    stock: dict[int, list[LotStock]] = field(default_factory=dict)
    held: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


def _usable_stock(
    uow: UnitOfWork, places: list[LocationRow], kit: ProductRow, fresh_until: date, today: date
) -> _Supply:
    """Released lots of the recipe's components at ``places``, in date today and until
    ``fresh_until`` (filtered and read in one query)."""
    lasting = max(today, fresh_until)  # in date today and fresh enough for the kit
    order = {row.id: index for index, row in enumerate(places)}
    components = [line.component.id for line in kit.recipe]
    rows = uow.session.execute(
        select(
            StockBalanceRow.product_id, LotRow.id, LotRow.expiry,
            StockBalanceRow.location_id, StockBalanceRow.quantity,
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .where(
            StockBalanceRow.location_id.in_(list(order)),
            StockBalanceRow.product_id.in_(components),
            StockBalanceRow.quantity > 0,
            LotRow.status == LotStatus.RELEASED.value,
            or_(LotRow.expiry.is_(None), LotRow.expiry >= lasting),
        )
    ).all()  # fmt: skip
    supply = _Supply()
    lots: dict[int, LotStock] = {}
    for product_id, lot_id, expiry, location_id, qty in sorted(
        rows, key=lambda r: (r[1], order[r[3]])
    ):
        found = lots.get(lot_id)
        if found is None:
            found = lots[lot_id] = LotStock(lot_id, expiry, 0)
            supply.stock.setdefault(product_id, []).append(found)
        found.quantity += qty
        supply.held.setdefault(lot_id, []).append((location_id, qty))
    return supply


def _lock_component_lots(uow: UnitOfWork, lot_ids: set[int], lasting: date) -> dict[int, LotRow]:
    """The lots an assembly draws on, under a share lock (PostgreSQL ``FOR SHARE``, taken
    in id order) that a release, quarantine or recall (``FOR NO KEY UPDATE``) must wait
    for, and re-checked inside it: a lot whose status changed, or that no longer lasts,
    since the plan was made sends the whole assembly round again (``retrying``), which
    then plans without it. So a recall either waits for the assembly and flags the kits
    it made, or the assembly sees the recall."""
    rows = uow.lots.share_lock_all(lot_ids)
    changed = [
        row.code
        for row in rows
        if row.status != LotStatus.RELEASED.value
        or (row.expiry is not None and row.expiry < lasting)
    ]
    if changed or len(rows) != len(lot_ids):
        raise TransientDatabaseError(
            _("lot {lot} changed while the kits were planned; nothing was assembled").format(
                lot=", ".join(changed) or "?"
            )
        )
    return {row.id: row for row in rows}


def _needs(kit: ProductRow) -> list[ComponentNeed]:
    return [
        ComponentNeed(line.component.id, line.component.sku, line.quantity) for line in kit.recipe
    ]


class PlanFit:
    """Which plans a kit could still serve: the active plans using each kit product and
    each clinic's today, loaded once for a list of kits."""

    SERVING = SERVING  # a kit that left stock serves no plan any more

    def __init__(
        self, uow: UnitOfWork, places: dict[int, LocationRow], today: date | None = None
    ) -> None:
        self.uow = uow
        self.places = places
        self.today = today
        self.margin = uow.settings.expiry_margin_days()
        self._plans: dict[int, list[tuple[Plan, int, int]]] = {}
        self._days: dict[int | None, date] = {}
        self._fits: dict[tuple[int, str, date], tuple[str, ...]] = {}

    def plans_of(self, kit: ProductRow) -> list[tuple[Plan, int, int]]:
        """(plan, vial µl, vials per kit) of the active plans using ``kit``, by code."""
        found = self._plans.get(kit.id)
        if found is None:
            serum = next(
                (line for line in kit.recipe
                 if line.component.kind == ProductKind.SERUM_VIAL.value
                 and line.component.volume_ul),
                None,
            )  # fmt: skip
            rows = self.uow.plans.active_for_kit(kit.id)
            found = (
                [(to_domain(row), serum.component.volume_ul or 0, serum.quantity) for row in rows]
                if serum is not None
                else []
            )
            self._plans[kit.id] = found
        return found

    def day(self, clinic: LocationRow | None) -> date:
        if self.today is not None:
            return self.today
        key = clinic.id if clinic else None
        if key not in self._days:
            self._days[key] = clinic_today(clinic.timezone if clinic else None)
        return self._days[key]

    def servable(self, kit: KitRow, clinic: LocationRow | None) -> tuple[str, ...]:
        if kit.status not in self.SERVING or kit.recalled or not kit.vial_expiries:
            return ()
        return self._fitting(self.plans_of(kit.product), kit.vial_expiries, self.day(clinic))

    def servable_row(
        self, product_id: int, vial_expiries: str, status: str, recalled: bool, today: date
    ) -> tuple[str, ...]:
        """``servable`` of a kit read as a row (its kit product's id, not the product) on
        its clinic's ``today`` (``day``). Kits of one product with the same vials on the
        same day fit the same plans: each such set is judged once."""
        if status not in self.SERVING or recalled or not vial_expiries:
            return ()
        key = (product_id, vial_expiries, today)
        found = self._fits.get(key)
        if found is None:
            if product_id not in self._plans:
                self.load({product_id})
            found = self._fits[key] = self._fitting(self._plans[product_id], vial_expiries, today)
        return found

    def load(self, kit_product_ids: set[int]) -> None:
        """``plans_of`` these kit products, read for all of them in two statements (their
        serum lines, then their active plans) as column rows."""
        wanted = kit_product_ids - self._plans.keys()
        if not wanted:
            return
        session = self.uow.session
        serum: dict[int, tuple[int, int]] = {}
        for product_id, volume_ul, per_kit in driver_rows(session, serum_lines(wanted)):
            serum.setdefault(product_id, (volume_ul, per_kit))
        found: dict[int, list[tuple[Plan, int, int]]] = {product_id: [] for product_id in wanted}
        if serum:
            for product_id, *columns in driver_rows(session, active_plans(serum)):
                found[product_id].append((plan_of(*columns), *serum[product_id]))
        self._plans.update(found)

    def _fitting(
        self, plans: list[tuple[Plan, int, int]], vial_expiries: str, today: date
    ) -> tuple[str, ...]:
        vials = tuple(sorted(date.fromisoformat(part) for part in vial_expiries.split(",")))
        return tuple(
            plan.code
            for plan, vial_ul, per_kit in plans
            if can_serve(vials, plan, vial_ul, per_kit, self.margin, today)
        )


def kit_dto(
    uow: UnitOfWork,
    kit: KitRow,
    locations: dict[int, LocationRow] | None = None,
    *,
    fit: PlanFit | None = None,
) -> kits_dto.Kit:
    places = locations or {row.id: row for row in uow.locations.all()}
    place = places[kit.location_id]
    clinic = clinic_of(place, places)
    course = uow.session.get(CourseRow, kit.course_id) if kit.course_id else None
    return kits_dto.Kit(
        serial=kit.serial,
        sku=kit.product.sku,
        location=place.code,
        clinic=clinic.code if clinic else None,
        expiry=kit.expiry,
        status=kit.status,
        recalled=kit.recalled,
        course_id=kit.course_id,
        course_part=kit.course_part,
        patient_ref=course.patient_ref if course else None,
        tracking=kit.tracking,
        components=tuple(
            kits_dto.KitComponent(c.lot.product.sku, c.lot.code, c.lot.expiry, c.quantity)
            for c in kit.components
        ),
        servable_plans=(fit or PlanFit(uow, places)).servable(kit, clinic),
    )


def _shelf_life(uow: UnitOfWork, kit: ProductRow, min_shelf_life_days: int | str | None) -> int:
    if min_shelf_life_days in (None, ""):
        return default_min_shelf_life(uow, kit)
    return parse_non_negative_int(min_shelf_life_days, "min_shelf_life")


def _usable_where(clinic: LocationRow | None, place: LocationRow, fresh_until: date) -> str:
    if clinic:
        return _(
            "usable: released, in date until {fresh_until}, anywhere in {clinic} but quarantine"
        ).format(fresh_until=i18n.format_date(fresh_until), clinic=clinic.code)
    return _("usable: released, in date until {fresh_until}, at {place}").format(
        fresh_until=i18n.format_date(fresh_until), place=place.code
    )


@retrying
def assemble(
    uow: UnitOfWork,
    recipe: str,
    quantity: int | str,
    location: str,
    *,
    min_shelf_life_days: int | str | None = None,
    today: date | None = None,
) -> kits_dto.Assembly:
    """Assemble ``quantity`` serialised kits at ``location``, all or nothing, from the
    usable components anywhere in its clinic (never from a quarantine place), first
    expiry first out across the clinic; what lies elsewhere is moved to ``location`` on
    the ledger first (reason ``transfer``, reference ``assembly:<audit id>``)."""
    count = parse_positive_int(quantity, "qty")
    with uow:
        uow.require("kit.assemble")
        kit = uow.products.kit(recipe)
        _check_home_safety(uow, kit)
        place = uow.locations.assembly_place(location)
        uow.check_place(place, doing=_("assemble kits"))
        day = today or uow.locations.local_today(place)
        shelf = _shelf_life(uow, kit, min_shelf_life_days)
        fresh_until = day + timedelta(days=shelf)
        clinic, sources = _drawing_places(uow, place)
        supply = _usable_stock(uow, sources, kit, fresh_until, day)
        try:
            plans = plan_assembly(count, _needs(kit), supply.stock)
        except NotEnoughComponents as short:
            raise NotEnoughComponents(
                short.kits, short.shortfalls, _usable_where(clinic, place, fresh_until)
            ) from None
        faults.point("kit.assemble:after_plan")
        lots = _lock_component_lots(
            uow, {lot for p in plans for _, lot, _ in p.parts}, max(day, fresh_until)
        )
        taken: dict[int, int] = {}
        for plan in plans:
            for _product_id, lot_id, qty in plan.parts:
                taken[lot_id] = taken.get(lot_id, 0) + qty
        draws = draws_for(taken, supply.held, place.id)
        names = {row.id: row.code for row in sources}
        drawn = tuple(
            kits_dto.AssemblyDraw(lots[d.lot_id].product.sku, lots[d.lot_id].code,
                                  names[d.from_location_id], d.quantity)
            for d in draws
        )  # fmt: skip
        serum = {line.component.id for line in kit.recipe
                 if line.component.kind == ProductKind.SERUM_VIAL.value}  # fmt: skip
        audit_id = uow.record(
            "kit.assemble", "product", kit.sku,
            after={"quantity": count, "location": place.code, "min_shelf_life_days": shelf,
                   "drawn": [{"sku": d.sku, "lot": d.lot, "from": d.from_location,
                              "quantity": d.quantity} for d in drawn]},
        )  # fmt: skip
        try:
            uow.ledger.post(
                [PostedMove(Move(d.lot_id, d.from_location_id, place.id, d.quantity),
                            lots[d.lot_id].product_id) for d in draws],
                reason=MoveReason.TRANSFER.value, actor=uow.actor,
                reference=f"assembly:{audit_id}", audit_id=audit_id,
            )  # fmt: skip
        except Shortage as moved:
            # stock moved within the clinic since it was read: plan again on what is there
            raise TransientDatabaseError(
                _("{moved}; stock moved while the kits were planned, nothing was assembled").format(
                    moved=moved
                )
            ) from None
        assembly = uow.locations.get("ASSEMBLY")
        moves: list[PostedMove] = []
        made: list[KitRow] = []
        for plan in plans:
            vials = [lots[lot].expiry for pid, lot, qty in plan.parts if pid in serum
                     for _ in range(qty)]  # fmt: skip
            others = [lots[lot].expiry for pid, lot, _ in plan.parts if pid not in serum]
            expiries = kit_vial_expiries(
                [e for e in vials if e is not None], [e for e in others if e is not None]
            )
            expiry = min([e for e in vials + others if e is not None], default=date.max)
            row = KitRow(
                serial=f"TMP-{len(made)}-{audit_id}", product_id=kit.id, location_id=place.id,
                expiry=expiry, vial_expiries=",".join(e.isoformat() for e in expiries),
                status=KitStatus.AVAILABLE.value, recalled=False,
            )  # fmt: skip
            uow.session.add(row)
            uow.session.flush()
            row.serial = f"K{row.id:07d}"
            kit_lot = uow.lots.add(
                LotRow(product_id=kit.id, code=row.serial, expiry=expiry,
                       status=LotStatus.RELEASED.value, receipt_ref=f"assembly:{audit_id}")
            )  # fmt: skip
            row.lot_id = kit_lot.id
            for position, (product_id, lot_id, qty) in enumerate(plan.parts):
                uow.session.add(KitComponentRow(kit_id=row.id, lot_id=lot_id,
                                                product_id=product_id, quantity=qty,
                                                position=position))  # fmt: skip
                moves.append(PostedMove(Move(lot_id, place.id, assembly.id, qty), product_id))
            moves.append(PostedMove(Move(kit_lot.id, assembly.id, place.id, 1), kit.id))
            made.append(row)
        uow.session.flush()
        try:
            uow.ledger.post(moves, reason=MoveReason.KIT_ASSEMBLY.value, actor=uow.actor,
                            reference=f"assembly:{audit_id}", audit_id=audit_id)  # fmt: skip
        except Shortage as moved:
            raise TransientDatabaseError(
                _("{moved}; stock moved while the kits were planned, nothing was assembled").format(
                    moved=moved
                )
            ) from None
        places = {row.id: row for row in uow.locations.all()}
        for row in made:
            uow.session.refresh(row)
        fit = PlanFit(uow, places, day)
        result = kits_dto.Assembly(
            sku=kit.sku,
            location=place.code,
            kits=tuple(kit_dto(uow, row, places, fit=fit) for row in made),
            min_expiry=fresh_until,
            drawn=drawn,
        )
        faults.point("kit.assemble:after_moves")
        uow.commit()
    return result


def capacity_at(
    uow: UnitOfWork, kit: ProductRow, place: LocationRow, day: date, shelf: int
) -> kits_dto.AssemblyCapacity:
    """How many kits the usable stock of ``place``'s clinic would make there (inside a
    unit of work; the TUI's preview and dashboard ask the same question)."""
    fresh_until = day + timedelta(days=shelf)
    clinic, sources = _drawing_places(uow, place)
    supply = _usable_stock(uow, sources, kit, fresh_until, day)
    needs = _needs(kit)
    components = []
    for need in needs:
        usable = sum(lot.quantity for lot in supply.stock.get(need.product_id, []))
        components.append(kits_dto.ComponentSupply(need.sku, need.per_kit, usable,
                                                   usable // need.per_kit))  # fmt: skip
    kits = assemblable(needs, supply.stock)
    return kits_dto.AssemblyCapacity(
        sku=kit.sku,
        location=place.code,
        kits=kits,
        clinic=clinic.code if clinic else None,
        min_shelf_life_days=shelf,
        fresh_until=fresh_until,
        components=tuple(components),
        limited_by=tuple(c.sku for c in components if c.kits == kits),
    )


def default_min_shelf_lives(uow: UnitOfWork, kits: Sequence[ProductRow]) -> dict[int, int]:
    """``default_min_shelf_life`` of each kit product (by id), from one read of the active
    plans and of the expiry margin."""
    ids = [kit.id for kit in kits]
    shares: dict[int, list[int]] = {kit_id: [] for kit_id in ids}
    if ids:
        plans = uow.session.scalars(
            select(PlanRow).where(PlanRow.kit_product_id.in_(ids), PlanRow.active)
        ).all()
        for row in plans:
            days = kit_share_days(to_domain(row))
            if days > 0 and row.kit_product_id is not None:
                shares[row.kit_product_id].append(days)
    margin = uow.settings.expiry_margin_days()
    return {kit_id: min(days, default=0) + margin for kit_id, days in shares.items()}


def kits_by_sku(uow: UnitOfWork, skus: Sequence[str]) -> dict[str, ProductRow]:
    """Kit products with their recipes and components, read at once (a SKU that names no
    kit is left out)."""
    if not skus:
        return {}
    rows = uow.session.scalars(
        select(ProductRow)
        .where(ProductRow.sku.in_(list(skus)), ProductRow.kind == ProductKind.KIT.value)
        .options(selectinload(ProductRow.recipe).joinedload(RecipeLineRow.component))
    ).all()
    return {row.sku: row for row in rows}


def capacities_at(
    uow: UnitOfWork, wanted: Sequence[tuple[ProductRow, LocationRow, date, int]]
) -> list[int]:
    """``capacity_at``'s count of kits for each (kit, place, day, minimum shelf life) of
    ``wanted``, in order, by the same rules (released lots of the recipe's components on
    hand in the place's clinic outside quarantine, in date on the day and until the kit's
    shelf life ends), from one read of the locations and one of the balances: the
    dashboard asks it for every kit of every clinic at once."""
    if not wanted:
        return []
    rows = uow.locations.all()
    sources: list[set[int]] = []
    lasting: list[date] = []
    for _kit, place, day, shelf in wanted:
        _, drawing = _drawing_places_among(place, rows)
        sources.append({row.id for row in drawing})
        lasting.append(max(day, day + timedelta(days=shelf)))
    every_place = set().union(*sources)
    components = {line.component.id for kit, _, _, _ in wanted for line in kit.recipe}
    units = func.sum(StockBalanceRow.quantity)
    balances = uow.session.execute(
        select(StockBalanceRow.product_id, LotRow.expiry, StockBalanceRow.location_id, units)
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .where(
            StockBalanceRow.location_id.in_(sorted(every_place)),
            StockBalanceRow.product_id.in_(sorted(components)),
            StockBalanceRow.quantity > 0,
            LotRow.status == LotStatus.RELEASED.value,
            or_(LotRow.expiry.is_(None), LotRow.expiry >= min(lasting)),
        )
        .group_by(StockBalanceRow.product_id, LotRow.expiry, StockBalanceRow.location_id)
    ).all()  # fmt: skip
    result = []
    for (kit, _, _, _), inside, until in zip(wanted, sources, lasting, strict=True):
        usable: dict[int, int] = {}
        for product_id, expiry, location_id, quantity in balances:
            if location_id in inside and (expiry is None or expiry >= until):
                usable[product_id] = usable.get(product_id, 0) + int(quantity)
        counts = [usable.get(line.component.id, 0) // line.quantity for line in kit.recipe]
        result.append(min(counts, default=0))
    return result


def capacity(
    uow: UnitOfWork,
    recipe: str,
    location: str,
    *,
    min_shelf_life_days: int | str | None = None,
    today: date | None = None,
) -> kits_dto.AssemblyCapacity:
    """How many more kits could be assembled at ``location`` from the usable stock of
    its whole clinic, component by component: what holds it back."""
    with uow:
        kit = uow.products.kit(recipe)
        _check_home_safety(uow, kit)  # none can be assembled from an unsafe recipe
        place = uow.locations.assembly_place(location)
        uow.check_place(place, doing=_("assemble kits"))
        day = today or uow.locations.local_today(place)
        return capacity_at(uow, kit, place, day, _shelf_life(uow, kit, min_shelf_life_days))


def available(
    uow: UnitOfWork,
    recipe: str,
    location: str,
    *,
    min_shelf_life_days: int | str | None = None,
    today: date | None = None,
) -> int:
    """How many more kits could be assembled at ``location`` (``capacity``'s count)."""
    return capacity(
        uow, recipe, location, min_shelf_life_days=min_shelf_life_days, today=today
    ).kits


@retrying
def disassemble(uow: UnitOfWork, serial: str) -> kits_dto.Kit:
    """Return an unreserved kit's components to their lots at the kit's place. An expired
    kit sits in quarantine (the expiry sweep put it there), so its components land there:
    its expired lots stay expired, and in-date parts wait for a person to move them."""
    with uow:
        uow.require("kit.disassemble")
        kit = uow.kits.get(serial, lock=True)
        check_change(KitChange.DISASSEMBLE, kit.serial, kit.status)
        assembly = uow.locations.get("ASSEMBLY")
        audit_id = uow.record("kit.disassemble", "kit", kit.serial, before={"status": kit.status})
        kit_lot = uow.lots.of_kit(kit)
        moves = [PostedMove(Move(kit_lot.id, kit.location_id, assembly.id, 1), kit.product_id)]
        moves += [
            PostedMove(Move(c.lot_id, assembly.id, kit.location_id, c.quantity), c.product_id)
            for c in kit.components
        ]
        uow.ledger.post(moves, reason=MoveReason.KIT_DISASSEMBLY.value, actor=uow.actor,
                        reference=kit.serial, audit_id=audit_id)  # fmt: skip
        kit.status = KitStatus.DISASSEMBLED.value
        uow.session.flush()
        result = kit_dto(uow, kit)
        uow.commit()
    return result


def list_kits(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    location: str | None = None,
    sku: str | None = None,
    today: date | None = None,
    limit: int | None = None,
) -> list[kits_dto.Kit]:
    """Kits, earliest expiry first (then by serial), each with the plans it could still
    serve on ``today`` (by default each clinic's today); with ``limit`` the first that
    many. A user limited to clinics sees the kits held there and those made for a
    course of theirs.

    Read as column rows in a few statements whatever the number of kits: the kits (with
    their courses' patient references), their components, the SKUs, and the active plans
    of each kit product."""
    if status and status not in KIT_STATUSES:
        raise InvalidInput(
            "status",
            status,
            _("must be one of {choices}").format(choices="|".join(KIT_STATUSES)),
        )
    if limit is not None:
        limit = parse_positive_int(limit, "limit")
    with uow:
        locations = uow.locations.all()
        by_id = {row.id: row for row in locations}
        product_id = uow.products.get(parse_sku(sku)).id if sku else None
        places = None
        if location:
            root = uow.locations.get(location.strip().upper())
            places = subtree_ids(root, locations)
        scope = uow.scope_clinics()
        within = None if scope is None else (uow.scope_places() or set(), scope)
        conditions = kit_conditions(
            status=status, product_id=product_id, places=places, within=within
        )
        rows = driver_rows(uow.session, listed_kits(conditions, limit))
        component_rows = (
            driver_rows(
                uow.session,
                listed_components(conditions, scoped=within is not None, limit=limit),
            )
            if rows
            else []
        )
        skus = {
            id_: code
            for id_, (code, _name) in product_names(
                uow.session, {row[2] for row in rows} | {row[1] for row in component_rows}
            ).items()
        }
        # each kit's components, kit by kit; a lot's part (the same SKU, lot, expiry and
        # quantity in many kits) made once and shared: the values are frozen
        parts: dict[int, list[kits_dto.KitComponent]] = {}
        made: dict[tuple[Any, ...], kits_dto.KitComponent] = {}
        for kit_id, *part in component_rows:
            key = tuple(part)
            component = made.get(key)
            if component is None:
                part_product, code, part_expiry, quantity = part
                component = made[key] = kits_dto.KitComponent(
                    skus[part_product], code, _day(part_expiry), quantity
                )
            parts.setdefault(kit_id, []).append(component)
        fit = PlanFit(uow, by_id, today)
        # the plans of the kit products whose kits could serve one, read once for all
        serving = PlanFit.SERVING
        fit.load({row[2] for row in rows if row[6] in serving and not row[7] and row[5]})
        # per place: its code, its clinic's code and the clinic's day
        place_facts = {}
        for location_id in {row[3] for row in rows}:
            clinic = clinic_of(by_id[location_id], by_id)
            place_facts[location_id] = (
                by_id[location_id].code, clinic.code if clinic else None, fit.day(clinic)
            )  # fmt: skip
        # frozen Kits given their fields in one go (the generated __init__ sets them one
        # by one through object.__setattr__, which cost more than reading the rows)
        new, kit_class, none = object.__new__, kits_dto.Kit, ()
        kits = []
        for (kit_id, serial, kit_product, location_id, expiry, vials, kit_status, recalled,
             course_id, course_part, patient_ref, tracking) in rows:  # fmt: skip
            place_code, clinic_code, day = place_facts[location_id]
            recalled = bool(recalled)  # SQLite's 0 or 1
            kit = new(kit_class)
            kit.__dict__.update(
                serial=serial,
                sku=skus[kit_product],
                location=place_code,
                clinic=clinic_code,
                expiry=_day(expiry),
                status=kit_status,
                recalled=recalled,
                course_id=course_id,
                course_part=course_part,
                patient_ref=patient_ref,
                tracking=tracking,
                components=tuple(parts.get(kit_id, none)),
                servable_plans=fit.servable_row(kit_product, vials, kit_status, recalled, day),
            )
            kits.append(kit)
        return kits


def _day(stored: Any) -> Any:
    """A date column's value as the driver gives it (ISO text from SQLite) as a date."""
    return stored_date(stored) if stored.__class__ is str else stored


def show_kit(uow: UnitOfWork, serial: str, *, today: date | None = None) -> kits_dto.Kit:
    with uow:
        places = {row.id: row for row in uow.locations.all()}
        return kit_dto(uow, uow.kits.get(serial), places, fit=PlanFit(uow, places, today))


@retrying
def dispatch(
    uow: UnitOfWork,
    serial: str,
    *,
    tracking: str | None = None,
    handover: bool = False,
    today: date | None = None,
) -> kits_dto.Kit:
    """Ship a reserved kit to its patient, or hand it over in clinic: the kit leaves for
    PATIENT on the ledger with the course as reference. ``today`` (by default the
    clinic's) is the day every lot in the kit must still be in date on."""
    with uow:
        uow.require("kit.dispatch")
        # the kit's lots are share-locked before the kit row (as a recall takes a lot, then
        # its kits): the two then never wait on each other crosswise
        kit = uow.kits.get(serial)
        # the course first, as fulfilment and cancelling lock it before its kits
        course = uow.courses.get(kit.course_id, lock=True) if kit.course_id else None
        uow.lots.share_lock_all(component.lot_id for component in kit.components)
        uow.session.expire(kit)
        kit = uow.kits.get(serial, lock=True)
        if not may(KitChange.DISPATCH, kit.status) or kit.course_id is None:
            raise refusal(KitChange.DISPATCH, kit.serial, kit.status)
        if course is None or course.id != kit.course_id:
            raise TransientDatabaseError(
                _("kit {kit} changed course while it went out").format(kit=kit.serial)
            )
        course_status = status_after_handover(course.id, course.status)
        if kit.recalled:
            raise Refused(
                _("kit {kit} contains a recalled lot; it must not go out").format(kit=kit.serial)
            )
        if not handover and not (tracking or "").strip():
            raise InvalidInput("tracking", tracking, _("give the carrier's tracking reference"))
        faults.point("kit.dispatch:after_kit_lock")
        _refuse_unusable_components(uow, kit, today)
        _refuse_unpaid(uow, kit.course_id)
        kit_lot = uow.lots.of_kit(kit)
        status = KitStatus.HANDED_OVER.value if handover else KitStatus.SHIPPED.value
        audit_id = uow.record(f"kit.{'handover' if handover else 'ship'}", "kit", kit.serial,
                              before={"status": kit.status},
                              after={"status": status, "course": kit.course_id,
                                     "tracking": tracking})  # fmt: skip
        patient = uow.locations.get("PATIENT")
        out = PostedMove(Move(kit_lot.id, kit.location_id, patient.id, 1), kit.product_id)
        uow.ledger.post([out], reason=MoveReason.DISPATCH.value, actor=uow.actor,
                        reference=f"course:{kit.course_id}", audit_id=audit_id)  # fmt: skip
        kit.status = status
        kit.tracking = (tracking or "").strip()[:64] or None
        if course_status != course.status:
            uow.record("course.start", "course", str(course.id), before={"status": course.status},
                       after={"status": course_status, "kit": kit.serial})  # fmt: skip
            course.status = course_status
        uow.session.flush()
        result = kit_dto(uow, kit)
        uow.commit()
    return result


def _refuse_unusable_components(
    uow: UnitOfWork, kit: KitRow, today: date | None, *, outcome: str | None = None
) -> None:
    """At the moment a kit goes out (or back to stock), every lot in it is read again
    under a share lock (a recall or quarantine of one of them waits for this transaction,
    or has committed and is seen): a component lot that is not released, or is out of date
    on the clinic's today, keeps the kit in, naming the lot."""
    outcome = outcome or _("it must not go out")
    lots = uow.lots.share_lock_all(component.lot_id for component in kit.components)
    place = uow.session.get(LocationRow, kit.location_id)
    assert place is not None
    day = today or uow.locations.local_today(place)
    for lot in lots:
        if lot.status != LotStatus.RELEASED.value:
            raise Refused(
                _("kit {kit} holds lot {lot} ({sku}), which is {status}; {outcome}").format(
                    kit=kit.serial,
                    lot=lot.code,
                    sku=lot.product.sku,
                    status=status_label(lot.status),
                    outcome=outcome,
                )
            )
        if lot.expiry is not None and lot.expiry < day:
            raise Refused(
                _("kit {kit} holds lot {lot} ({sku}), which expired on {expiry}; {outcome}").format(
                    kit=kit.serial,
                    lot=lot.code,
                    sku=lot.product.sku,
                    expiry=i18n.format_date(lot.expiry),
                    outcome=outcome,
                )
            )


def _refuse_unpaid(uow: UnitOfWork, course_id: int) -> None:
    """Stock goes to a patient only once money is confirmed: a course with an order goes
    out when one of its orders is paid (a course without any order is billed outside
    kitops and goes out as before)."""
    orders = uow.session.execute(
        select(OrderRow.id, OrderRow.status).where(
            OrderRow.course_id == course_id, OrderRow.status != "cancelled"
        )
    ).all()
    if orders and not any(status in ("paid", "partially_refunded") for _, status in orders):
        listed = ", ".join(
            _("order {order} is {status}").format(order=order_id, status=status_label(status))
            for order_id, status in orders
        )
        raise Refused(
            _(
                "course {course_id} is not paid ({listed}); its kit goes out "
                "once the payment is confirmed"
            ).format(course_id=course_id, listed=listed)
        )


@retrying
def take_back(uow: UnitOfWork, serial: str, condition: str) -> kits_dto.Kit:
    """A kit comes back from its patient.

    Sealed, it has still been outside the clinic's control: it comes back to its place in
    ``quarantine`` (its lot too, reason ``returned``) and only a manager's release after
    inspection (:func:`release`) makes it available again. Opened, it is wastage (written
    off, reason ``opened``) and ends its course part: the kit keeps its course and part,
    so the course shows that part returned opened and fulfilment leaves it alone; a
    replacement is reserved only when a user asks (``fulfilment.replace_kit``). A sealed kit
    holding a recalled lot is destroyed and lets go of its course part."""
    if condition not in ("sealed", "opened"):
        raise InvalidInput("condition", condition, _("must be sealed or opened"))
    with uow:
        uow.require("kit.return")
        kit = uow.kits.get(serial)
        # the course first, as fulfilment and cancelling lock it before its kits
        course = uow.courses.get(kit.course_id, lock=True) if kit.course_id else None
        uow.session.expire(kit)
        kit = uow.kits.get(serial, lock=True)
        check_change(KitChange.TAKE_BACK, kit.serial, kit.status)
        kit_lot = uow.lots.of_kit(kit)
        patient = uow.locations.get("PATIENT")
        if condition == "sealed" and not kit.recalled:
            target, reason, detail = kit.location_id, MoveReason.RETURN, None
            status = KitStatus.QUARANTINE.value
            # the kit's own lot under the lock a status change takes (a recall, which
            # locks the component lots, then the kits, then this lot, comes in the same order)
            kit_lot = uow.lots.lock(kit_lot)
            kit_lot.status = LotStatus.QUARANTINE.value
            kit_lot.status_reason = RETURNED
        else:
            scrap = uow.locations.get("SCRAP")
            target, reason, detail = scrap.id, MoveReason.WRITE_OFF, "opened"
            status = KitStatus.WRITTEN_OFF.value
            if condition == "sealed":
                detail = "other"  # a sealed kit with a recalled lot is destroyed all the same
        after = {"condition": condition, "status": status}
        if status == KitStatus.QUARANTINE:
            after["reason"] = RETURNED
        audit_id = uow.record("kit.return", "kit", kit.serial,
                              before={"status": kit.status, "course": kit.course_id,
                                      "part": kit.course_part}, after=after)  # fmt: skip
        uow.ledger.post([PostedMove(Move(kit_lot.id, patient.id, target, 1), kit.product_id)],
                        reason=reason.value, detail=detail, actor=uow.actor,
                        reference=f"course:{kit.course_id}", audit_id=audit_id)  # fmt: skip
        kit.status = status
        kit.tracking = None
        if detail != "opened":  # an opened return keeps its course part (see above)
            kit.course_id = None
            kit.course_part = None
        elif course is not None and course.id == kit.course_id:
            pause = pause_for_opened_return(course.status, kit.course_part or 0)
            if pause is not None:
                day = uow.locations.local_today(course.clinic)
                uow.record("course.pause", "course", str(course.id),
                           before={"status": course.status},
                           after={"status": pause[0], "reason": pause[1],
                                  "paused_on": day.isoformat(), "kit": kit.serial})  # fmt: skip
                course.status, course.status_reason, course.paused_on = (*pause, day)
        uow.session.flush()
        result = kit_dto(uow, kit)
        uow.commit()
    return result


@retrying
def release(uow: UnitOfWork, serial: str, *, today: date | None = None) -> kits_dto.Kit:
    """A manager's release, after inspection, of a kit that came back sealed: it becomes
    available at its place again. Every component lot is read again under a share lock
    that a recall or quarantine must wait for (taken before the kit's row, the order a
    recall takes them in): a kit holding a lot that is not released, or is out of date on
    the clinic's ``today``, stays in quarantine (refused, naming the lot; write it off or
    wait for the lot's release)."""
    with uow:
        uow.require("kit.release")
        found = uow.kits.get(serial)
        uow.lots.share_lock_all(component.lot_id for component in found.components)
        kit = uow.kits.get(serial, lock=True)
        check_change(KitChange.RELEASE, kit.serial, kit.status)
        if kit.recalled:
            raise Refused(
                _("kit {kit} contains a recalled lot; it must not go back").format(kit=kit.serial)
            )
        _refuse_unusable_components(uow, kit, today, outcome=_("it stays in quarantine"))
        kit_lot = uow.lots.lock(uow.lots.of_kit(kit))
        if kit_lot.status != LotStatus.QUARANTINE.value:
            raise Refused(
                _("kit {kit}'s own lot is {status}; it stays out of stock").format(
                    kit=kit.serial, status=status_label(kit_lot.status)
                )
            )
        before = {"status": kit.status, "reason": kit_lot.status_reason}
        kit.status = KitStatus.AVAILABLE.value
        kit_lot.status = LotStatus.RELEASED.value
        kit_lot.status_reason = None
        uow.session.flush()
        result = kit_dto(uow, kit)
        uow.record("kit.release", "kit", kit.serial, before=before,
                   after={"status": kit.status, "location": result.location,
                          "lots_checked": [c.lot for c in result.components]})  # fmt: skip
        faults.point("kit.release:after_change")
        uow.commit()
    return result


@dataclass(frozen=True)
class FlaggedKit:
    """A kit a recall marked, as it was just before: a kit that was reserved names the
    course part that lost it."""

    serial: str
    status: str
    course_id: int | None
    course_part: int | None


def flag_recalled_kits(uow: UnitOfWork, lot_id: int) -> list[FlaggedKit]:
    """Inside a recall: every kit holding the lot (or the kit whose own lot it is) is
    marked; kits still in the stockroom are blocked and lose their course. Returns each
    kit as it was before."""
    holding = select(KitComponentRow.kit_id).where(KitComponentRow.lot_id == lot_id)
    kits = uow.session.scalars(
        select(KitRow)
        .where(KitRow.id.in_(holding) | (KitRow.lot_id == lot_id))
        .order_by(KitRow.id)
        .with_for_update(key_share=True)
    ).all()
    flagged = []
    for kit in kits:
        flagged.append(FlaggedKit(kit.serial, kit.status, kit.course_id, kit.course_part))
        kit.recalled = True
        if kit.status in SHELVED_USABLE:
            kit.status = KitStatus.RECALLED.value
            kit.course_id = None
            kit.course_part = None
        if kit.lot_id is not None:
            kit_lot = uow.session.get(LotRow, kit.lot_id)
            if kit_lot is not None:
                kit_lot.status = LotStatus.RECALLED.value
                kit_lot.status_reason = "contains a recalled lot"
    uow.session.flush()
    return flagged


def mark_recalled(uow: UnitOfWork, lot_id: int) -> list[str]:
    """``flag_recalled_kits``, returning the serials it flagged."""
    return [kit.serial for kit in flag_recalled_kits(uow, lot_id)]
