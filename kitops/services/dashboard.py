"""What the stockroom screens ask for that the command line does not: the day's work per
clinic, pages of long lists filtered and sorted in the query, previews shown before a
change is confirmed (a scanned label, an assembly's shortfall, a course calendar), the
choices a form offers, and a handle on the open database.

Every function is one unit of work, like the other services; the read-only ones never
commit. Other services are composed inside the same transaction (a nested ``with uow``
joins the outer one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, case, func, or_, select

from kitops.data.schema import (
    AuditRow,
    CourseRow,
    KitRow,
    LocationRow,
    LotRow,
    PlanRow,
    ProductRow,
    StockBalanceRow,
)
from kitops.domain.catalog import ProductKind, parse_positive_int
from kitops.domain.courses import (
    Administered,
    CourseStatus,
    applications_per_vial,
    course_calendar,
    format_weekdays,
    parse_weekdays,
    weekdays_for,
)
from kitops.domain.ledger import LotStatus, parse_date
from kitops.domain.locations import PHYSICAL_KINDS, LocationKind
from kitops.domain.numbers import MAX_ID
from kitops.domain.stock_rules import WriteOffReason
from kitops.errors import InvalidInput
from kitops.services import dashboard_dto as view
from kitops.services import dto
from kitops.services.locations import clinic_of, subtree_ids
from kitops.services.stock import clinic_today, effective_status
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kitops.data.engine import Database
    from kitops.payments.gateway import Gateway
    from kitops.services.reports.model import Report

PAGE_SIZE = 200
EXPIRY_BUCKETS = (30, 60, 90)
ACTIVITY_LINES = 8


class Stockroom:
    """An open database and the person acting on it, for a long-running front end
    (the terminal UI): hands out one unit of work per use case."""

    def __init__(self, db: Database, actor: str) -> None:
        self._db = db
        self.actor = actor

    @classmethod
    def open(cls, url: str | None, actor: str) -> Stockroom:
        """Open the database the way the command line does (``--db``, then
        ``KITOPS_DATABASE_URL``, then the user data folder) and refuse a schema that is
        not at this code's head, or a login bound to a job user (the TUI is for people)."""
        from kitops.data.engine import open_database, resolve_url
        from kitops.data.migrate import ensure_current
        from kitops.services.identity import refuse_job_login

        db = open_database(resolve_url(url))
        try:
            ensure_current(db)
            refuse_job_login(db, "the TUI is for people")
        except BaseException:
            db.dispose()
            raise
        return cls(db, actor)

    @property
    def display_url(self) -> str:
        return self._db.display_url

    @property
    def label(self) -> str:
        """A short name for a status line: the backend and the database's name."""
        url = self._db.engine.url
        name = (url.database or "").replace("\\", "/").rsplit("/", 1)[-1]
        backend = "SQLite" if self._db.is_sqlite else "PostgreSQL"
        return f"{backend} {name}".strip()

    def reading(self) -> UnitOfWork:
        return UnitOfWork(self._db, self.actor, readonly=True)

    def writing(self) -> UnitOfWork:
        return UnitOfWork(self._db, self.actor)

    def close(self) -> None:
        self._db.dispose()


# --- choices -------------------------------------------------------------------------


def choices(uow: UnitOfWork) -> view.Choices:
    from kitops.domain.kits import KIT_STATUSES

    with uow:
        rows = uow.locations.all()
        by_id = {row.id: row for row in rows}
        places = []
        for row in sorted(rows, key=lambda r: r.code):
            if LocationKind(row.kind) in PHYSICAL_KINDS and row.active:
                clinic = clinic_of(row, by_id)
                places.append(
                    view.Place(row.code, row.name, row.kind, clinic.code if clinic else None)
                )
        clinics = tuple(
            view.Named(row.code, row.name)
            for row in sorted(rows, key=lambda r: r.code)
            if row.kind == LocationKind.CLINIC.value and row.active
        )
        kits = tuple(
            view.Named(row.sku, row.name)
            for row in uow.session.scalars(
                select(ProductRow)
                .where(ProductRow.kind == ProductKind.KIT.value, ProductRow.active)
                .order_by(ProductRow.sku)
            )
        )
        plans = tuple(
            view.Named(code, name)
            for code, name in uow.session.execute(
                select(PlanRow.code, PlanRow.name).where(PlanRow.active).order_by(PlanRow.code)
            )
        )
    return view.Choices(
        clinics=clinics,
        places=tuple(places),
        kit_recipes=kits,
        plans=plans,
        write_off_reasons=tuple(r.value for r in WriteOffReason),
        kit_statuses=KIT_STATUSES,
        course_statuses=tuple(s.value for s in CourseStatus),
    )


# --- dashboard -----------------------------------------------------------------------


def overview(
    uow: UnitOfWork,
    *,
    clinic: str | None = None,
    today: date | None = None,
    due_days: int = 14,
    pick_days: int = 7,
) -> view.Dashboard:
    """The day's work per clinic: kits on hand and what to assemble, kits to pick and
    ship, course kits due in ``due_days`` (with the kit the batch would give each, or why
    none fits), lots awaiting release, lots expiring in 30/60/90 days, and the latest
    entries of the audit log. Reads only."""
    from kitops.services.courses import get_clinic
    from kitops.services.fulfilment import pick_list

    with uow:
        locations = uow.locations.all()
        clinics = (
            [get_clinic(uow, clinic)]
            if clinic
            else [row for row in locations if row.kind == LocationKind.CLINIC.value and row.active]
        )
        clinics.sort(key=lambda row: row.code)
        days = {row.id: today or clinic_today(row.timezone) for row in clinics}
        due = _due_needs(uow, clinics, clinic, today, due_days)
        subtrees = {row.id: subtree_ids(row, locations) for row in clinics}
        clinic_of_place = {place: cid for cid, places in subtrees.items() for place in places}
        quarantine = _quarantine(uow, clinic_of_place)
        expiry = _expiry_buckets(uow, clinic_of_place, max(days.values(), default=date.today()))
        work = []
        for row in clinics:
            day = days[row.id]
            places = subtrees[row.id]
            work.append(
                view.ClinicWork(
                    clinic=row.code,
                    name=row.name,
                    today=day,
                    kits=_kit_stock(uow, row, places, locations, due.get(row.id, []), day),
                    to_pick=tuple(pick_list(uow, row.code, on=day, days=pick_days)),
                    due=tuple(due.get(row.id, [])),
                    quarantine=tuple(quarantine.get(row.id, [])),
                    expiry=expiry.get(row.id, ()),
                )
            )
        activity = tuple(
            view.Activity(r.at, r.actor, r.action, r.entity, r.entity_key)
            for r in uow.session.scalars(
                select(AuditRow).order_by(AuditRow.id.desc()).limit(ACTIVITY_LINES)
            )
        )
    return view.Dashboard(due_days, pick_days, tuple(work), activity)


def _due_needs(
    uow: UnitOfWork,
    clinics: list[LocationRow],
    clinic: str | None,
    today: date | None,
    within: int,
) -> dict[int, list[view.DueNeed]]:
    """The batch assignment's answer for kits due in the window, without reserving."""
    from kitops.services.fulfilment import preview_due

    report = preview_due(uow, within_days=within, clinic=clinic, today=today)
    by_code = {row.code: row.id for row in clinics}
    found: dict[int, list[view.DueNeed]] = {}
    for line in sorted(
        (*report.served, *report.unserved), key=lambda n: (n.first_use, n.course_id, n.part)
    ):
        if line.clinic in by_code:
            found.setdefault(by_code[line.clinic], []).append(
                view.DueNeed(
                    course_id=line.course_id,
                    patient_ref=line.patient_ref,
                    part=line.part,
                    first_use=line.first_use,
                    needed_until=line.needed_until,
                    kit=line.kit,
                    reason=line.reason,
                )
            )
    return found


def _kit_stock(
    uow: UnitOfWork,
    clinic: LocationRow,
    places: set[int],
    locations: Sequence[LocationRow],
    due: list[view.DueNeed],
    day: date,
) -> tuple[view.KitStock, ...]:
    counts: dict[tuple[str, str], int] = {
        (sku, status): int(n)
        for sku, status, n in uow.session.execute(
            select(ProductRow.sku, KitRow.status, func.count())
            .join(ProductRow, ProductRow.id == KitRow.product_id)
            .where(KitRow.location_id.in_(places), KitRow.status.in_(("available", "reserved")))
            .group_by(ProductRow.sku, KitRow.status)
        )
    }
    kit_of_course = dict(
        uow.session.execute(
            select(CourseRow.id, ProductRow.sku)
            .join(PlanRow, PlanRow.id == CourseRow.plan_id)
            .join(ProductRow, ProductRow.id == PlanRow.kit_product_id)
            .where(CourseRow.id.in_([n.course_id for n in due]))
        ).all()
    )
    unserved: dict[str, int] = {}
    for need in due:
        if need.kit is None:
            sku = kit_of_course[need.course_id]
            unserved[sku] = unserved.get(sku, 0) + 1
    # kits are assembled where the serum is kept: the clinic's first fridge
    fridges = sorted(
        (row for row in locations if row.id in places and row.kind == LocationKind.FRIDGE.value),
        key=lambda row: row.code,
    )
    at = fridges[0] if fridges else clinic
    skus = sorted({sku for sku, _ in counts} | set(unserved))
    result = []
    for sku in skus:
        could = _could_assemble(uow, sku, at, day)
        result.append(
            view.KitStock(
                sku=sku,
                available=counts.get((sku, "available"), 0),
                reserved=counts.get((sku, "reserved"), 0),
                unserved_needs=unserved.get(sku, 0),
                could_assemble=could,
                assemble_at=at.code,
            )
        )
    return tuple(result)


def _could_assemble(uow: UnitOfWork, sku: str, location: LocationRow, day: date) -> int:
    """Kits assembly at ``location`` would make from its clinic's usable stock."""
    from kitops.services.kits import capacity_at, default_min_shelf_life, kit_product

    kit = kit_product(uow, sku)
    return capacity_at(uow, kit, location, day, default_min_shelf_life(uow, kit)).kits


def _quarantine(
    uow: UnitOfWork, clinic_of_place: dict[int, int]
) -> dict[int, list[view.QuarantinedLot]]:
    """Lots on hand in quarantine, per clinic, found from the (few) quarantined lots."""
    quarantined = select(LotRow.id).where(LotRow.status == LotStatus.QUARANTINE.value)
    rows = uow.session.execute(
        select(
            StockBalanceRow.location_id,
            ProductRow.sku,
            LotRow.code,
            LotRow.expiry,
            StockBalanceRow.quantity,
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .join(ProductRow, ProductRow.id == StockBalanceRow.product_id)
        .where(StockBalanceRow.lot_id.in_(quarantined), StockBalanceRow.quantity > 0)
    ).all()
    units: dict[tuple[int, str, str, date | None], int] = {}
    for location_id, sku, code, expiry, quantity in rows:
        clinic = clinic_of_place.get(location_id)
        if clinic is not None:
            key = (clinic, sku, code, expiry)
            units[key] = units.get(key, 0) + quantity
    found: dict[int, list[view.QuarantinedLot]] = {}
    for (clinic, sku, code, expiry), quantity in sorted(
        units.items(), key=lambda item: (item[0][3] or date.max, item[0][2])
    ):
        found.setdefault(clinic, []).append(view.QuarantinedLot(sku, code, expiry, quantity))
    return found


def _expiry_buckets(
    uow: UnitOfWork, clinic_of_place: dict[int, int], day: date
) -> dict[int, tuple[view.ExpiryBucket, ...]]:
    """Per clinic, lots still on hand past expiry (bucket 0) and expiring within 30, 60
    and 90 days: one aggregate over the balances, so 100,000 lots cost one scan. The
    day is the latest clinic date (as the expiry sweep counts)."""
    edges = [(0, LotRow.expiry < day)]
    previous = day
    for within in EXPIRY_BUCKETS:
        upper = day + timedelta(days=within)
        edges.append((within, LotRow.expiry.between(previous, upper)))
        previous = upper + timedelta(days=1)
    bucket = case(*[(condition, within) for within, condition in edges], else_=-1)
    rows = uow.session.execute(
        select(
            StockBalanceRow.location_id, bucket, StockBalanceRow.lot_id, StockBalanceRow.quantity
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .where(
            StockBalanceRow.quantity > 0,
            LotRow.expiry < day + timedelta(days=EXPIRY_BUCKETS[-1] + 1),
            LotRow.status.in_(
                (LotStatus.RELEASED.value, LotStatus.QUARANTINE.value, LotStatus.EXPIRED.value)
            ),
        )
    ).all()
    lots: dict[tuple[int, int], set[int]] = {}
    units: dict[tuple[int, int], int] = {}
    for location_id, within, lot_id, quantity in rows:
        clinic = clinic_of_place.get(location_id)
        if clinic is None:
            continue
        key = (clinic, int(within))
        lots.setdefault(key, set()).add(lot_id)
        units[key] = units.get(key, 0) + quantity
    return {
        clinic: tuple(
            view.ExpiryBucket(w, len(lots.get((clinic, w), ())), units.get((clinic, w), 0))
            for w in (0, *EXPIRY_BUCKETS)
        )
        for clinic in set(clinic_of_place.values())
    }


# --- stock ---------------------------------------------------------------------------

STOCK_SORTS = ("expiry", "location", "sku", "lot", "status", "quantity")
STOCK_SHOWS = ("all", "usable", "quarantine", "expired", "recalled", "expiring")


def _like(text: str) -> str:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(text: str, *columns: Any, numbers: Sequence[Any] = ()) -> ColumnElement[bool] | None:
    """A list filter: the columns that contain the text, in any case; a number also
    matches the ``numbers`` columns exactly. None when there is nothing to filter by."""
    text = text.strip()
    if not text:
        return None
    pattern = _like(text)
    matches: list[ColumnElement[bool]] = [
        func.lower(column).like(pattern, escape="\\") for column in columns
    ]
    if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID:
        matches += [column == int(text) for column in numbers]
    return or_(*matches)


def _page(
    uow: UnitOfWork,
    counted: Any,
    columns: Sequence[Any],
    order: Sequence[Any],
    offset: int,
    limit: int,
) -> tuple[int, Sequence[Any]]:
    """(rows in all, this page's rows) of a ``select(func.count())`` with its joins and
    filters: the same statement counts, then reads the page's columns."""
    total = uow.session.scalar(counted) or 0
    rows = uow.session.execute(
        counted.with_only_columns(*columns)
        .order_by(*order)
        .offset(max(0, offset))
        .limit(max(1, min(limit, 1000)))
    ).all()
    return int(total), rows


def stock_page(
    uow: UnitOfWork,
    *,
    clinic: str | None = None,
    search: str = "",
    show: str = "all",
    sort: str = "expiry",
    descending: bool = False,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    today: date | None = None,
) -> view.StockPage:
    """One page of stock on hand per lot and location, filtered and sorted in the query.

    ``search`` matches SKU, product name, lot code, location code and lot status;
    ``show`` narrows to usable, quarantined, expired (including released lots past their
    day), recalled, or usable lots expiring within 90 days."""
    from kitops.services.courses import get_clinic

    if sort not in STOCK_SORTS:
        raise InvalidInput("sort", sort, f"must be one of {'|'.join(STOCK_SORTS)}")
    if show not in STOCK_SHOWS:
        raise InvalidInput("show", show, f"must be one of {'|'.join(STOCK_SHOWS)}")
    with uow:
        locations = uow.locations.all()
        by_id = {row.id: row for row in locations}
        clinics = {row.id: clinic_of(row, by_id) for row in locations}
        zones = {row_id: (c.timezone if c else None) for row_id, c in clinics.items()}
        days = {zone: today or clinic_today(zone) for zone in set(zones.values())}
        day = today or min(days.values(), default=date.today())
        conditions: list[ColumnElement[bool]] = [StockBalanceRow.quantity > 0]
        if clinic:
            root = get_clinic(uow, clinic)
            conditions.append(StockBalanceRow.location_id.in_(subtree_ids(root, locations)))
        wanted = _matching(
            search, ProductRow.sku, ProductRow.name, LotRow.code, LocationRow.code, LotRow.status
        )
        if wanted is not None:
            conditions.append(wanted)
        released = LotRow.status == LotStatus.RELEASED.value
        in_date = or_(LotRow.expiry.is_(None), LotRow.expiry >= day)
        if show == "usable":
            conditions += [released, in_date]
        elif show == "quarantine":
            conditions.append(LotRow.status == LotStatus.QUARANTINE.value)
        elif show == "expired":
            conditions.append(
                or_(LotRow.status == LotStatus.EXPIRED.value, (released & (LotRow.expiry < day)))
            )
        elif show == "recalled":
            conditions.append(LotRow.status == LotStatus.RECALLED.value)
        elif show == "expiring":
            conditions += [released, LotRow.expiry.between(day, day + timedelta(days=90))]

        def joined(stmt: Any) -> Any:  # a Select of any columns, with the joins and filters
            return (
                stmt.join(LotRow, LotRow.id == StockBalanceRow.lot_id)
                .join(ProductRow, ProductRow.id == StockBalanceRow.product_id)
                .join(LocationRow, LocationRow.id == StockBalanceRow.location_id)
                .where(*conditions)
            )

        total = uow.session.scalar(joined(select(func.count()).select_from(StockBalanceRow)))
        column = {
            "expiry": LotRow.expiry,
            "location": LocationRow.code,
            "sku": ProductRow.sku,
            "lot": LotRow.code,
            "status": LotRow.status,
            "quantity": StockBalanceRow.quantity,
        }[sort]
        primary = column.desc() if descending else column.asc()
        tiebreak = [LotRow.expiry.asc().nulls_last(), ProductRow.sku, LotRow.code, LocationRow.code]
        stmt = joined(
            select(
                StockBalanceRow.location_id,
                StockBalanceRow.quantity,
                LotRow.code,
                LotRow.expiry,
                LotRow.status,
                ProductRow.sku,
                ProductRow.name,
            ).select_from(StockBalanceRow)
        )
        rows = uow.session.execute(
            stmt.order_by(primary.nulls_last(), *tiebreak)
            .offset(max(0, offset))
            .limit(max(1, min(limit, 1000)))
        ).all()
        lines = []
        for location_id, quantity, code, expiry, status, sku, name in rows:
            place_clinic = clinics[location_id]
            local = today or days[zones[location_id]]
            lines.append(
                dto.StockLine(
                    clinic=place_clinic.code if place_clinic else None,
                    location=by_id[location_id].code,
                    sku=sku,
                    product=name,
                    lot=code,
                    expiry=expiry,
                    days_to_expiry=None if expiry is None else (expiry - local).days,
                    status=effective_status(status, expiry, local),
                    available=status == LotStatus.RELEASED.value
                    and (expiry is None or expiry >= local),
                    quantity=quantity,
                )
            )
    return view.StockPage(tuple(lines), int(total or 0), max(0, offset))


def set_lot_status(
    uow: UnitOfWork,
    code: str,
    status: str,
    *,
    sku: str | None = None,
    reason: str | None = None,
    today: date | None = None,
) -> dto.LotDetail:
    """Release, quarantine or recall a lot (``lot release|quarantine|recall``)."""
    from kitops.services.lots import change_status

    allowed = (LotStatus.RELEASED, LotStatus.QUARANTINE, LotStatus.RECALLED)
    try:
        target = LotStatus(status)
    except ValueError:
        target = None
    if target not in allowed:
        raise InvalidInput("status", status, "must be released, quarantine or recalled")
    assert target is not None
    return change_status(uow, code, target, reason=reason, sku=sku, today=today)


def count_lot(
    uow: UnitOfWork, location: str, sku: str, lot: str, counted: int | str
) -> dto.CountReport:
    """Count one lot at one place: the difference becomes a count adjustment."""
    from kitops.services.operations import CountedLine, count

    return count(uow, location, [CountedLine(1, sku, lot, counted)])


# --- receive -------------------------------------------------------------------------


def read_label(uow: UnitOfWork, scan: str) -> view.ScannedLabel:
    """What a scanned GS1 label says, matched to the catalogue: nothing is written."""
    from kitops.gs1 import parse_scan

    label = parse_scan(scan)
    with uow:
        product = uow.products.by_gtin(label.gtin)
        if product is None:
            raise InvalidInput("scan", label.gtin, "no product in the catalogue has this GTIN")
        if product.kind == ProductKind.KIT.value:
            raise InvalidInput("scan", product.sku, "kits are assembled, not received")
        known = uow.lots.find(product.id, label.lot) if label.lot else None
        return view.ScannedLabel(
            sku=product.sku,
            product=product.name,
            gtin=label.gtin,
            lot=label.lot,
            expiry=label.expiry,
            count=label.count,
            serial=label.serial,
            lot_tracked=product.lot_tracked,
            known_lot_status=known.status if known else None,
            known_lot_expiry=known.expiry if known else None,
        )


# --- kits ----------------------------------------------------------------------------


def assembly_preview(
    uow: UnitOfWork,
    recipe: str,
    quantity: int | str,
    location: str,
    *,
    today: date | None = None,
) -> view.AssemblyPreview:
    """What assembling ``quantity`` kits at ``location`` would take, component by
    component, and how many the usable stock allows: the shortfall before confirming."""
    from kitops.services.kits import (
        assembly_place,
        capacity_at,
        default_min_shelf_life,
        kit_product,
    )
    from kitops.services.operations import local_today

    count = parse_positive_int(quantity, "qty")
    with uow:
        kit = kit_product(uow, recipe)
        place = assembly_place(uow, location)
        day = today or local_today(uow, place)
        shelf = default_min_shelf_life(uow, kit)
        supply = capacity_at(uow, kit, place, day, shelf)
        fresh_until = supply.fresh_until
        components = tuple(
            view.ComponentShortfall(
                sku=line.sku,
                per_kit=line.per_kit,
                needed=line.per_kit * count,
                usable=line.usable,
            )
            for line in supply.components
        )
        return view.AssemblyPreview(
            sku=kit.sku,
            location=place.code,
            quantity=count,
            possible=min((c.usable // c.per_kit for c in components), default=0),
            min_shelf_life_days=shelf,
            fresh_until=fresh_until,
            components=components,
        )


def kits_page(
    uow: UnitOfWork,
    *,
    clinic: str | None = None,
    status: str | None = None,
    search: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> view.KitPage:
    """One page of kits, earliest expiry first (components left out: ``show_kit``)."""
    from kitops.domain.kits import KIT_STATUSES
    from kitops.services.courses import get_clinic

    if status and status not in KIT_STATUSES:
        raise InvalidInput("status", status, f"must be one of {'|'.join(KIT_STATUSES)}")
    with uow:
        locations = uow.locations.all()
        by_id = {row.id: row for row in locations}
        conditions: list[ColumnElement[bool]] = []
        if clinic:
            root = get_clinic(uow, clinic)
            conditions.append(KitRow.location_id.in_(subtree_ids(root, locations)))
        if status:
            conditions.append(KitRow.status == status)
        wanted = _matching(
            search, KitRow.serial, ProductRow.sku, CourseRow.patient_ref, LocationRow.code
        )
        if wanted is not None:
            conditions.append(wanted)
        counted = (
            select(func.count())
            .select_from(KitRow)
            .join(ProductRow, ProductRow.id == KitRow.product_id)
            .join(LocationRow, LocationRow.id == KitRow.location_id)
            .outerjoin(CourseRow, CourseRow.id == KitRow.course_id)
            .where(*conditions)
        )
        columns = (
            KitRow.serial,
            ProductRow.sku,
            KitRow.location_id,
            KitRow.expiry,
            KitRow.status,
            KitRow.recalled,
            KitRow.course_id,
            KitRow.course_part,
            CourseRow.patient_ref,
            KitRow.tracking,
        )
        order = (KitRow.expiry, KitRow.serial)
        total, rows = _page(uow, counted, columns, order, offset, limit)
        kits = []
        for (
            serial,
            sku,
            location_id,
            expiry,
            kit_status,
            recalled,
            course,
            part,
            ref,
            tracking,
        ) in rows:
            place = by_id[location_id]
            owner = clinic_of(place, by_id)
            kits.append(
                dto.Kit(
                    serial=serial,
                    sku=sku,
                    location=place.code,
                    clinic=owner.code if owner else None,
                    expiry=expiry,
                    status=kit_status,
                    recalled=recalled,
                    course_id=course,
                    course_part=part,
                    patient_ref=ref,
                    tracking=tracking,
                    components=(),
                )
            )
    return view.KitPage(tuple(kits), int(total), max(0, offset))


# --- courses -------------------------------------------------------------------------


def courses_page(
    uow: UnitOfWork,
    *,
    clinic: str | None = None,
    status: str | None = None,
    search: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> view.CoursePage:
    """One page of courses, soonest start first, with how many kits each holds."""
    from kitops.services.courses import get_clinic

    with uow:
        conditions: list[ColumnElement[bool]] = []
        if clinic:
            conditions.append(CourseRow.clinic_id == get_clinic(uow, clinic).id)
        if status:
            try:
                conditions.append(CourseRow.status == CourseStatus(status).value)
            except ValueError:
                choices_ = "|".join(s.value for s in CourseStatus)
                raise InvalidInput("status", status, f"must be one of {choices_}") from None
        wanted = _matching(search, CourseRow.patient_ref, PlanRow.code, numbers=[CourseRow.id])
        if wanted is not None:
            conditions.append(wanted)
        held = (
            select(func.count())
            .select_from(KitRow)
            .where(KitRow.course_id == CourseRow.id)
            .scalar_subquery()
        )
        counted = (
            select(func.count())
            .select_from(CourseRow)
            .join(PlanRow, PlanRow.id == CourseRow.plan_id)
            .join(LocationRow, LocationRow.id == CourseRow.clinic_id)
            .where(*conditions)
        )
        columns = (
            CourseRow.id,
            CourseRow.patient_ref,
            PlanRow.code,
            LocationRow.code,
            CourseRow.start_date,
            CourseRow.weekdays,
            CourseRow.status,
            PlanRow.kits_per_course,
            held,
        )
        order = (CourseRow.start_date, CourseRow.id)
        total, rows = _page(uow, counted, columns, order, offset, limit)
        courses = tuple(
            view.CourseSummary(cid, ref, plan, clinic_code, start, weekdays, st, needed, int(n))
            for cid, ref, plan, clinic_code, start, weekdays, st, needed, n in rows
        )
    return view.CoursePage(courses, int(total), max(0, offset))


def preview_course(
    uow: UnitOfWork,
    plan: str,
    start: str | date,
    clinic: str,
    *,
    weekdays: str | None = None,
) -> view.CoursePreview:
    """The calendar ``course create`` would make, without creating anything."""
    from kitops.services.courses import get_clinic, serum_per_kit
    from kitops.services.plans import get_plan, to_domain

    day = start if isinstance(start, date) else parse_date(start, "start")
    chosen = parse_weekdays(weekdays) if weekdays and weekdays.strip() else None
    with uow:
        plan_row = get_plan(uow, plan)
        clinic_row = get_clinic(uow, clinic)
        domain_plan = to_domain(plan_row)
        days = weekdays_for(domain_plan, day, chosen)
        zone = clinic_row.timezone or "UTC"
        clinic_code = clinic_row.code
        calendar = course_calendar(domain_plan, day, days, zone)
        per_kit = per_vial = 0
        if domain_plan.uses_kits and plan_row.kit_product is not None:
            per_kit = domain_plan.applications // domain_plan.kits_per_course
            per_vial = applications_per_vial(serum_per_kit(plan_row.kit_product)[0], domain_plan)
    events = []
    for number, moment in enumerate(calendar.applications, start=1):
        part = vial = None
        home = domain_plan.administered is Administered.HOME
        note = "at home" if home else "in clinic"
        if per_kit and per_vial:
            part = (number - 1) // per_kit + 1
            vial = ((number - 1) % per_kit) // per_vial + 1
            note = f"kit {part}, vial {vial}" + (", first in clinic" if number == 1 else "")
        events.append(dto.CalendarEvent("application", number, moment, part, vial, note))
    events += [
        dto.CalendarEvent(
            "checkin", i, moment, None, None, f"check-in, week {domain_plan.checkin_weeks[i - 1]}"
        )
        for i, moment in enumerate(calendar.checkins, start=1)
    ]
    events += [
        dto.CalendarEvent(
            "followup",
            i,
            moment,
            None,
            None,
            f"follow-up, {domain_plan.followup_months[i - 1]} months after",
        )
        for i, moment in enumerate(calendar.followups, start=1)
    ]
    events.sort(key=lambda e: (e.at, e.kind))
    return view.CoursePreview(
        plan=domain_plan.code,
        clinic=clinic_code,
        start=day,
        weekdays=format_weekdays(days),
        end=calendar.last_application,
        kits=domain_plan.kits_per_course if domain_plan.uses_kits else 0,
        events=tuple(events),
    )


# --- purchasing ----------------------------------------------------------------------


def purchasing_overview(
    uow: UnitOfWork, *, clinic: str | None = None, today: date | None = None
) -> view.Purchasing:
    """The dashboard's reorder tile: what a reorder run would order now (a dry run of the
    job: computed, nothing written), each line beside the draft that already carries it,
    and the purchase orders still open. Reads only."""
    from kitops.services import purchasing, reorder

    with uow:
        run = reorder.run(uow, as_of=today, dry_run=True)
        orders = purchasing.list_orders(uow, status="open", clinic=clinic)
    drafted = {
        (order.supplier, order.clinic, line.sku): (order.number, line.quantity)
        for order in orders
        if order.status == "draft"
        for line in order.lines
    }
    suggestions = []
    for line in run.suggestions:
        if clinic and line.clinic != clinic:
            continue
        draft, quantity = drafted.get((line.supplier, line.clinic, line.sku), (None, None))
        suggestions.append(
            view.ReorderSuggestion(
                clinic=line.clinic,
                sku=line.sku,
                supplier=line.supplier,
                quantity=line.quantity,
                need_by=line.need_by,
                draft=draft,
                drafted=quantity == line.quantity,
            )
        )
    return view.Purchasing(
        as_of=run.as_of,
        policies=run.policies,
        in_progress=run.in_progress,
        suggestions=tuple(suggestions),
        orders=tuple(
            view.OpenPurchaseOrder(
                number=order.number,
                clinic=order.clinic,
                supplier=order.supplier,
                status=order.status,
                lines=len(order.lines),
                total=order.total,
                expected_on=order.expected_on,
            )
            for order in orders
        ),
    )


PO_FILTERS = ("open", "all", "draft", "approved", "sent", "partial", "received", "cancelled")


def purchase_orders(
    uow: UnitOfWork,
    *,
    status: str = "open",
    clinic: str | None = None,
    search: str = "",
) -> view.PurchaseOrderPage:
    """Purchase orders, newest first, with their lines: ``status`` ``open`` (draft,
    approved, sent, partial), ``all`` or one status; ``search`` matches the number, the
    supplier (code or name) and the SKUs ordered. A stockroom has tens to hundreds of
    orders, so the list is not paged."""
    from kitops.services import purchasing

    if status not in PO_FILTERS:
        raise InvalidInput("status", status, f"must be one of {'|'.join(PO_FILTERS)}")
    found = purchasing.list_orders(uow, status=None if status == "all" else status, clinic=clinic)
    needle = search.strip().lower()
    if needle:
        found = [
            order
            for order in found
            if needle in order.number.lower()
            or needle in order.supplier.lower()
            or needle in order.supplier_name.lower()
            or any(needle in line.sku.lower() for line in order.lines)
        ]
    found.reverse()
    return view.PurchaseOrderPage(tuple(found), len(found))


# --- orders and payments -------------------------------------------------------------


def orders_page(
    uow: UnitOfWork,
    *,
    clinic: str | None = None,
    status: str | None = None,
    search: str = "",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> view.OrderPage:
    """One page of orders, newest first, in one query (``orders.show_order`` has the
    lines, payments and refunds of one). ``search`` matches the patient reference, the
    plan, and an order or course number."""
    from kitops.data.schema import OrderRow
    from kitops.domain.money import Money
    from kitops.domain.orders import OrderMoney, OrderStatus
    from kitops.services.courses import get_clinic

    if status:
        try:
            status = OrderStatus(status).value
        except ValueError:
            known = "|".join(s.value for s in OrderStatus)
            raise InvalidInput("status", status, f"must be one of {known}") from None
    with uow:
        conditions: list[ColumnElement[bool]] = []
        if clinic:
            conditions.append(OrderRow.clinic_id == get_clinic(uow, clinic).id)
        if status:
            conditions.append(OrderRow.status == status)
        wanted = _matching(
            search, OrderRow.patient_ref, PlanRow.code, numbers=[OrderRow.id, OrderRow.course_id]
        )
        if wanted is not None:
            conditions.append(wanted)
        counted = (
            select(func.count())
            .select_from(OrderRow)
            .join(CourseRow, CourseRow.id == OrderRow.course_id)
            .join(PlanRow, PlanRow.id == CourseRow.plan_id)
            .join(LocationRow, LocationRow.id == OrderRow.clinic_id)
            .where(*conditions)
        )
        columns = (
            OrderRow.id,
            OrderRow.course_id,
            OrderRow.patient_ref,
            PlanRow.code,
            LocationRow.code,
            OrderRow.status,
            OrderRow.currency,
            OrderRow.total_minor,
            OrderRow.paid_minor,
            OrderRow.refunded_minor,
            OrderRow.created_at,
        )
        total, rows = _page(uow, counted, columns, [OrderRow.id.desc()], offset, limit)
    found = []
    for oid, course, patient, plan, place, st, cur, total_, paid, refunded, at in rows:
        money = OrderMoney(OrderStatus(st), total_, paid, refunded)
        found.append(
            view.OrderSummary(
                id=oid,
                course_id=course,
                patient_ref=patient,
                plan=plan,
                clinic=place,
                status=st,
                total=str(Money(total_, cur)),
                paid=str(Money(paid, cur)),
                refunded=str(Money(refunded, cur)),
                outstanding=str(Money(money.outstanding, cur)),
                created_at=at,
            )
        )
    return view.OrderPage(tuple(found), int(total), max(0, offset))


def money(amount_minor: int, currency: str) -> str:
    """Minor units as the screens show money: ``31500, "GBP"`` → ``"315.00 GBP"``."""
    from kitops.domain.money import Money

    return str(Money(amount_minor, currency))


def course_detail(uow: UnitOfWork, course_id: int | str) -> view.CourseDetail:
    """A course (calendar, kits, sessions) with its orders, newest first."""
    from kitops.services import courses, orders

    with uow:
        course = courses.show_course(uow, course_id)
        found = orders.list_orders(uow, course=course.id)
    return view.CourseDetail(course, tuple(reversed(found)))


def payments_problem() -> str | None:
    """Why payments cannot be taken from this process (``KITOPS_STRIPE_API_KEY`` missing
    or malformed), or None when they can. Reads the environment only; loads no Stripe."""
    from kitops.payments.gateway import PaymentsNotConfigured, StripeConfig

    try:
        StripeConfig.from_env()
    except PaymentsNotConfigured as problem:
        return str(problem)
    return None


def payment_gateway() -> Gateway:
    """The Stripe gateway configured from the environment, as the command line builds it
    (raises ``PaymentsNotConfigured`` with the one-line reason when it cannot be)."""
    from kitops.payments.stripe_gateway import StripeGateway

    return StripeGateway.from_env()


# --- reports -------------------------------------------------------------------------


def export_report(report: Report, fmt: str, out: str) -> view.ReportExport:
    """Write a report to ``out`` in one of the reports' file formats (csv, json, html),
    rendered by ``kitops.services.reports.formats`` exactly as ``kitops report --out``
    writes it."""
    from pathlib import Path

    from kitops.services.reports.formats import parse_format, render

    chosen = parse_format(fmt)
    if chosen == "table":
        raise InvalidInput("format", fmt, "must be csv, json or html for a file")
    if not out.strip():
        raise InvalidInput("out", out, "give the file to write")
    path = Path(out.strip()).expanduser()
    content = render(report, chosen)
    try:
        path.write_text(content, encoding="utf-8")
    except OSError as error:
        raise InvalidInput("out", out, error.strerror or "cannot be written") from None
    return view.ReportExport(report.name, chosen, str(path), len(content.encode("utf-8")))
