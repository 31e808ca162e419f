"""Pages of the long lists (stock, kits, courses, orders), filtered and sorted in the
query, and the purchase orders with their lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from kitops.data.queries.courses import course_list
from kitops.data.queries.kits import kit_list
from kitops.data.queries.orders import order_list
from kitops.data.queries.stock import stock_on_hand, stock_units
from kitops.data.repositories.locations import clinic_of, subtree_ids
from kitops.data.schema import LocationRow
from kitops.domain.catalog import parse_sku
from kitops.domain.courses import CourseStatus
from kitops.domain.kits import KIT_STATUSES
from kitops.domain.ledger import LotStatus
from kitops.domain.locations import clinic_today, parse_location_code
from kitops.domain.money import Money
from kitops.domain.orders import OrderMoney, OrderStatus
from kitops.errors import InvalidInput
from kitops.i18n import _
from kitops.services import purchasing
from kitops.services.dto import kits as kits_dto
from kitops.services.dto import stock as stock_dto
from kitops.services.stock import effective_status
from kitops.services.unit_of_work import UnitOfWork
from kitops.views import dto as view

PAGE_SIZE = 200


def _clinic_id(uow: UnitOfWork, clinic: str | None, doing: str) -> int | None:
    """The clinic a list is filtered to; one outside the acting user's clinics is
    refused."""
    if not clinic:
        return None
    row = uow.locations.clinic(clinic)
    uow.check_clinic(row, doing=doing)
    return row.id


def _clinic_places(
    uow: UnitOfWork, clinic: str | None, locations: Sequence[LocationRow], doing: str
) -> set[int] | None:
    """The places of the clinic a list is filtered to (None: everywhere), within the
    acting user's clinics."""
    if not clinic:
        return uow.narrow_places(None)
    row = uow.locations.clinic(clinic)
    uow.check_clinic(row, doing=doing)
    return subtree_ids(row, locations)


# --- stock ---------------------------------------------------------------------------

STOCK_SORTS = ("expiry", "location", "sku", "lot", "status", "quantity")
STOCK_SHOWS = ("all", "usable", "quarantine", "expired", "recalled", "expiring")
# what ``show`` also takes: every line that may not be used today (the API's filter)
STOCK_FILTERS = (*STOCK_SHOWS, "unusable")


def stock_page(
    uow: UnitOfWork,
    *,
    clinic: str | None = None,
    location: str | None = None,
    sku: str | None = None,
    lot: str | None = None,
    search: str = "",
    show: str = "all",
    sort: str = "expiry",
    descending: bool = False,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    today: date | None = None,
    within_days: int = 90,
    count_units: bool = False,
) -> view.StockPage:
    """One page of stock on hand per lot and location, filtered and sorted in the query.

    ``location`` narrows to one location and every place below it (a clinic: all of it;
    one of another clinic is refused to a user limited to clinics), ``sku`` to one
    product, ``lot`` to the lines of one lot code (exactly, by its index: what a scanned
    label names); ``search`` matches SKU, product name, lot code, location code and lot
    status; ``show`` narrows to usable, quarantined, expired (including released lots past
    their day), recalled, usable lots expiring within ``within_days`` days (90 unless asked),
    or every line not usable. ``count_units``: the page also says the units on every line
    kept (summed in the query)."""
    if sort not in STOCK_SORTS:
        raise InvalidInput(
            "sort", sort, _("must be one of {choices}").format(choices="|".join(STOCK_SORTS))
        )
    if show not in STOCK_FILTERS:
        raise InvalidInput(
            "show", show, _("must be one of {choices}").format(choices="|".join(STOCK_FILTERS))
        )
    with uow:
        locations = uow.locations.all()
        by_id = {row.id: row for row in locations}
        clinics = {row.id: clinic_of(row, by_id) for row in locations}
        zones = {row_id: (c.timezone if c else None) for row_id, c in clinics.items()}
        days = {zone: today or clinic_today(zone) for zone in set(zones.values())}
        day = today or min(days.values(), default=date.today())
        places = _clinic_places(uow, clinic, locations, "see stock")
        if location:
            root = uow.locations.get(parse_location_code(location))
            uow.check_place(root, doing="see stock")
            below = subtree_ids(root, locations)
            places = below if places is None else places & below
        product = uow.products.get(parse_sku(sku)) if sku else None
        total, rows = stock_on_hand(
            uow.session,
            places=places,
            product_id=None if product is None else product.id,
            search=search,
            show=show,
            sort=sort,
            descending=descending,
            day=day,
            offset=offset,
            limit=limit,
            within_days=within_days,
            lot=lot or None,
        )
        units = None
        if count_units:
            units = stock_units(
                uow.session, places=places, product_id=None if product is None else product.id,
                search=search, show=show, day=day, within_days=within_days, lot=lot or None,
            )  # fmt: skip
        lines = []
        for location_id, quantity, code, expiry, status, sku, name in rows:
            place_clinic = clinics[location_id]
            local = today or days[zones[location_id]]
            lines.append(
                stock_dto.StockLine(
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
    return view.StockPage(tuple(lines), int(total or 0), max(0, offset), units)


def _one_of(status: str | None, known: Sequence[str]) -> None:
    """A list's status filter names one of the statuses it can show."""
    if status and status not in known:
        raise InvalidInput(
            "status", status, _("must be one of {choices}").format(choices="|".join(known))
        )


# --- kits ----------------------------------------------------------------------------


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
    _one_of(status, KIT_STATUSES)
    with uow:
        locations = uow.locations.all()
        by_id = {row.id: row for row in locations}
        places = _clinic_places(uow, clinic, locations, "see kits")
        scope = uow.scope_clinics()
        within = None
        if scope is not None:  # a limited user: kits at its places or for its courses
            owners = {uow.locations.clinic(clinic).id} if clinic else scope
            within, places = (places or set(), owners), None
        total, rows = kit_list(
            uow.session, places=places, status=status, search=search, offset=offset,
            limit=limit, within=within,
        )  # fmt: skip
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
                kits_dto.Kit(
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
    course: int | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> view.CoursePage:
    """One page of courses, soonest start first, with how many kits each holds;
    ``course``: that course only, by its number (what a scanned course card names), not
    every course ``search`` would match."""
    with uow:
        clinic_id = _clinic_id(uow, clinic, "see courses")
        _one_of(status, [s.value for s in CourseStatus])
        total, rows = course_list(
            uow.session,
            within=uow.scope_clinics(),
            clinic_id=clinic_id,
            status=status,
            search=search,
            offset=offset,
            limit=limit,
            course_id=course,
        )
        courses = tuple(
            view.CourseSummary(cid, ref, plan, clinic_code, start, weekdays, st, needed, int(n))
            for cid, ref, plan, clinic_code, start, weekdays, st, needed, n in rows
        )
    return view.CoursePage(courses, int(total), max(0, offset))


# --- purchasing ----------------------------------------------------------------------

PO_FILTERS = ("open", "all", "draft", "approved", "sent", "partial", "received", "cancelled")


def purchase_orders(
    uow: UnitOfWork,
    *,
    status: str = "open",
    clinic: str | None = None,
    search: str = "",
    offset: int = 0,
    limit: int | None = None,
) -> view.PurchaseOrderPage:
    """Purchase orders, newest first, with their lines: ``status`` ``open`` (draft,
    approved, sent, partial), ``all`` or one status; ``search`` matches the number, the
    supplier (code or name) and the SKUs ordered. Filtered, counted and cut in the query:
    ``limit`` orders from ``offset`` (None: every order)."""
    if status not in PO_FILTERS:
        raise InvalidInput(
            "status", status, _("must be one of {choices}").format(choices="|".join(PO_FILTERS))
        )
    total, found = purchasing.page_orders(
        uow, status=None if status == "all" else status, clinic=clinic, search=search,
        offset=offset, limit=limit,
    )  # fmt: skip
    return view.PurchaseOrderPage(tuple(found), total)


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
    _one_of(status, [s.value for s in OrderStatus])
    with uow:
        clinic_id = _clinic_id(uow, clinic, "see orders")
        total, rows = order_list(
            uow.session,
            within=uow.scope_clinics(),
            clinic_id=clinic_id,
            status=status,
            search=search,
            offset=offset,
            limit=limit,
        )
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
                total=Money(total_, cur),
                paid=Money(paid, cur),
                refunded=Money(refunded, cur),
                outstanding=Money(money.outstanding, cur),
                created_at=at,
            )
        )
    return view.OrderPage(tuple(found), int(total), max(0, offset))
