"""The demo data set: three clinics, staggered serum lots, stamps, the home kit recipe.

Built from DOMAIN.md; deterministic for a given ``as_of`` date (quantities come from a
seeded generator and expiries are days from ``as_of``), so tests and screenshots are
stable while "expiring soon" and "already expired" stay true on any day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from kitops import i18n
from kitops.data import migrate
from kitops.data.engine import Database
from kitops.data.repositories import PostedMove
from kitops.data.schema import (
    LocationRow,
    LotRow,
    ProductRow,
    StockMoveRow,
    SupplierItemRow,
    SupplierRow,
    UserRow,
    VatRateRow,
    stamped_as_of,
)
from kitops.domain.ledger import LotStatus, Move, MoveReason
from kitops.domain.money import Money
from kitops.errors import Refused
from kitops.i18n import N_, _
from kitops.services.catalog import create_product, parse_product, set_recipe_in
from kitops.services.dto import database as database_dto
from kitops.services.locations import create_location
from kitops.services.receipts import keep_receipt
from kitops.services.unit_of_work import UnitOfWork

SEED = 20261122

CLINICS = [
    # code, name, timezone, currency
    ("LON", "London, Harley Street", "Europe/London", "GBP"),
    ("ESX", "Essex", "Europe/London", "GBP"),
    ("VIE", "Vienna", "Europe/Vienna", "EUR"),
]
# the clinics' locales: Vienna's labels, purchase orders and calendars are in Austrian
# German (the others have none: their documents follow the language in force)
CLINIC_LOCALES = {"VIE": "de_AT"}

PRODUCTS: list[dict[str, Any]] = [
    {"sku": "SERUM-5ML", "name": "PTT-6 hair serum, 5 ml vial", "kind": "serum_vial",
     "gtin": "5060999900014", "ml": "5", "shelf_life_days": 540, "expiry_alert_days": 90},
    {"sku": "STAMP-0.4", "name": "Derma stamp 0.4 mm", "kind": "derma_stamp",
     "gtin": "5060999900021", "needle_mm": "0.4", "lot_tracked": True},
    {"sku": "STAMP-0.5", "name": "Derma stamp 0.5 mm", "kind": "derma_stamp",
     "gtin": "5060999900038", "needle_mm": "0.5", "lot_tracked": True},
    {"sku": "STAMP-0.6", "name": "Derma stamp 0.6 mm", "kind": "derma_stamp",
     "gtin": "5060999900045", "needle_mm": "0.6", "lot_tracked": True},
    {"sku": "STAMP-1.2", "name": "Derma stamp 1.2 mm (clinic only)", "kind": "derma_stamp",
     "gtin": "5060999900052", "needle_mm": "1.2", "lot_tracked": True},
    {"sku": "STAMP-2.0", "name": "Derma stamp 2.0 mm (clinic only)", "kind": "derma_stamp",
     "gtin": "5060999900069", "needle_mm": "2.0", "lot_tracked": True},
    {"sku": "CHX-0.5", "name": "Chlorhexidine 0.5% solution", "kind": "consumable",
     "gtin": "5060999900076", "unit": "bottle"},
    {"sku": "KIT-HOME-6W", "name": "At-home kit, 6 weeks (6 vials + 1 stamp)", "kind": "kit",
     "gtin": "5060999900083", "at_home": True},
    {"sku": "KIT-HOME-PTT6", "name": "PTT-6 home kit, 12 weeks (12 vials + 1 stamp)",
     "kind": "kit", "gtin": "5060999900090", "at_home": True},
]  # fmt: skip

HOME_KIT_RECIPE = [("SERUM-5ML", 6), ("STAMP-0.5", 1)]
# The seeds do not say how the PTT-6 home course was packed: a default, editable recipe.
PTT6_KIT_RECIPE = [("SERUM-5ML", 12), ("STAMP-0.5", 1)]

# Kits assembled in each clinic's fridge (stamps are brought over from the shelf first),
# packed to last the demo's longest plan (home-12w, 12 weeks + the 7-day margin) rather
# than assembly's default (the shortest plan's kit): the demo's kits and their story stay
# as they were before assembly learned to kit short-dated lots.
KITS = [("LON", "KIT-HOME-6W", 4), ("ESX", "KIT-HOME-6W", 2), ("VIE", "KIT-HOME-6W", 3)]
KIT_SHELF_LIFE_DAYS = 12 * 7 + 7

# Courses: (patient reference, plan, clinic, days from as_of to the start, fulfil now)
COURSES = [
    ("P-LON-0001", "home-6w", "LON", 3, True),
    ("P-LON-0002", "home-12w", "LON", 10, False),
    ("P-LON-0003", "home-6w", "LON", 12, False),
    ("P-LON-0004", "clinic-weekly-6", "LON", 1, False),
    ("P-ESX-0001", "home-6w", "ESX", 5, True),
    ("P-ESX-0002", "home-6w", "ESX", 20, False),
    ("P-VIE-0001", "home-6w", "VIE", 2, False),
    ("P-VIE-0002", "ptt6-weekly-12", "VIE", 8, False),
    ("P-VIE-0003", "clinic-weekly-6", "VIE", 4, False),
    ("P-LON-0005", "clinic-2w-6", "LON", 8, False),
    ("P-ESX-0003", "clinic-maint-4w", "ESX", 9, False),
]

# What each clinic session of a plan uses besides its serum (`policy session-supplies`):
# a stamp within the plan's needle range and chlorhexidine. clinic-weekly-6 is left for
# the user to set, as the README's walk-through does.
SESSION_SUPPLIES = [
    ("clinic-2w-6", [("STAMP-1.2", 1), ("CHX-0.5", 1)]),
    ("clinic-maint-4w", [("STAMP-1.2", 1), ("CHX-0.5", 1)]),
]

SUPPLIERS = [
    # code, name, lead time (days), currency, contact, [(sku, pack size, min order, unit cost)]
    ("CALECIM-UK", "Calecim Professional UK", 10, "GBP", "orders-uk@calecim.example",
     [("SERUM-5ML", 6, 12, 3500)]),
    ("CALECIM-EU", "Calecim Professional EU", 14, "EUR", "orders-eu@calecim.example",
     [("SERUM-5ML", 6, 12, 4100)]),
    ("DERMASUPPLY", "Derma Supply Ltd", 5, "GBP", "sales@dermasupply.example",
     [("STAMP-0.4", 10, 10, 450), ("STAMP-0.5", 10, 10, 450), ("STAMP-0.6", 10, 10, 450),
      ("STAMP-1.2", 5, 5, 900), ("STAMP-2.0", 5, 5, 900), ("CHX-0.5", 12, 12, 320)]),
]  # fmt: skip


@dataclass(frozen=True)
class DemoLot:
    sku: str
    code: str
    expiry_in_days: int | None
    status: LotStatus
    supplier: str
    unit_cost_minor: int
    currency: str
    # clinic → quantity range (low, high) drawn from the seeded generator
    stock: dict[str, tuple[int, int]]


LOTS = [
    DemoLot("SERUM-5ML", "PTT6-A0412", -9, LotStatus.RELEASED, "CALECIM-UK", 3500, "GBP",
            {"LON": (4, 8)}),  # already past its expiry: the sweep has work to do
    DemoLot("SERUM-5ML", "PTT6-A0519", 24, LotStatus.RELEASED, "CALECIM-UK", 3500, "GBP",
            {"LON": (10, 18), "ESX": (6, 12)}),
    DemoLot("SERUM-5ML", "PTT6-A0603", 52, LotStatus.RELEASED, "CALECIM-UK", 3500, "GBP",
            {"LON": (20, 30), "ESX": (12, 20)}),
    DemoLot("SERUM-5ML", "PTT6-A0711", 88, LotStatus.RELEASED, "CALECIM-EU", 4100, "EUR",
            {"VIE": (18, 30)}),
    DemoLot("SERUM-5ML", "PTT6-B0902", 190, LotStatus.RELEASED, "CALECIM-UK", 3500, "GBP",
            {"LON": (36, 60), "ESX": (24, 36)}),
    DemoLot("SERUM-5ML", "PTT6-B1007", 260, LotStatus.RELEASED, "CALECIM-EU", 4100, "EUR",
            {"VIE": (30, 48)}),
    DemoLot("SERUM-5ML", "PTT6-C0115", 410, LotStatus.QUARANTINE, "CALECIM-UK", 3500, "GBP",
            {"LON": (48, 48)}),  # just received, waiting for release
    DemoLot("STAMP-0.4", "DS04-2401", 900, LotStatus.RELEASED, "DERMASUPPLY", 450, "GBP",
            {"LON": (10, 20), "ESX": (10, 20), "VIE": (10, 20)}),
    DemoLot("STAMP-0.5", "DS05-2402", 950, LotStatus.RELEASED, "DERMASUPPLY", 450, "GBP",
            {"LON": (15, 25), "ESX": (10, 20), "VIE": (10, 20)}),
    DemoLot("STAMP-0.6", "DS06-2402", 950, LotStatus.RELEASED, "DERMASUPPLY", 450, "GBP",
            {"LON": (5, 10), "VIE": (5, 10)}),
    DemoLot("STAMP-1.2", "DS12-2311", 700, LotStatus.RELEASED, "DERMASUPPLY", 900, "GBP",
            {"LON": (4, 8), "ESX": (2, 4)}),
    DemoLot("STAMP-2.0", "DS20-2311", 700, LotStatus.RELEASED, "DERMASUPPLY", 900, "GBP",
            {"LON": (2, 4), "VIE": (2, 4)}),
    DemoLot("CHX-0.5", "-", None, LotStatus.RELEASED, "DERMASUPPLY", 320, "GBP",
            {"LON": (12, 24), "ESX": (6, 12), "VIE": (6, 12)}),
]  # fmt: skip


def _is_empty(uow: UnitOfWork) -> bool:
    products = uow.session.scalar(select(func.count()).select_from(ProductRow)) or 0
    moves = uow.session.scalar(select(func.count()).select_from(StockMoveRow)) or 0
    return products == 0 and moves == 0


def is_empty(uow: UnitOfWork) -> bool:
    with uow:
        return _is_empty(uow)


def reset(db: Database, actor: str | None = None) -> None:
    """Erase everything kitops keeps in the database, then create the schema afresh.

    The ledger is append-only, so this does not migrate down: it drops every table (on
    PostgreSQL, the current schema with everything in it) and migrates up from nothing.
    With ``actor``, only an admin may (anyone while the database has no users).
    """
    if actor is not None and inspect(db.engine).has_table("users"):
        UnitOfWork(db, actor).require("db.reset")
    if db.is_sqlite:
        raw = db.engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            connection.execute("PRAGMA foreign_keys = OFF")
            tables = [row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )]  # fmt: skip
            for table in tables:
                connection.execute(f'DROP TABLE "{table}"')
            connection.commit()
            connection.execute("PRAGMA foreign_keys = ON")
        finally:
            raw.close()
    else:
        try:
            with db.engine.begin() as connection:
                schema = connection.execute(text("SELECT current_schema()")).scalar_one()
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != "42501":  # insufficient_privilege
                raise
            role = db.engine.url.username or _("this role")
            raise Refused(
                _(
                    "{role} may not drop the database's schema (it is not its "
                    "owner); run `kitops demo --reset` as the owner, as `db "
                    "upgrade`; nothing was changed"
                ).format(role=role)
            ) from None
    db.engine.dispose()
    migrate.upgrade(db, "head")


def load(
    uow: UnitOfWork, as_of: date | None = None, *, bind_login: str | None = None
) -> database_dto.DemoSummary:
    """Load the demo data into an empty database, in one transaction. With ``bind_login``
    (the identity loading it) the loader's new admin (on a database that had no users),
    else the demo's ``admin``, is bound to that login unless a user already is, so
    commands run right after work."""
    as_of = as_of or date.today()
    rng = random.Random(SEED)
    with stamped_as_of(as_of), uow:
        uow.require("demo.load")
        if not _is_empty(uow):
            raise Refused(
                _("the database already holds data; use `kitops demo --reset` to replace it")
            )
        _users(uow, bind_login)
        audit_id = uow.record("demo.load", "database", "demo", after={"as_of": as_of.isoformat()})
        for code, name, zone, currency in CLINICS:
            create_location(uow, code, name, timezone=zone, currency=currency,
                            locale=CLINIC_LOCALES.get(code))  # fmt: skip
            create_location(
                uow, f"{code}-STORE", f"{name} stockroom", parent=code, kind="stockroom"
            )
            create_location(uow, f"{code}-FRIDGE", f"{name} serum fridge",
                            parent=f"{code}-STORE", kind="fridge")  # fmt: skip
            create_location(uow, f"{code}-SHELF", f"{name} shelf",
                            parent=f"{code}-STORE", kind="shelf")  # fmt: skip
            create_location(uow, f"{code}-QUAR", f"{name} quarantine",
                            parent=f"{code}-STORE", kind="quarantine")  # fmt: skip
        for item in PRODUCTS:
            create_product(uow, parse_product(**item))
        set_recipe_in(uow, "KIT-HOME-6W", HOME_KIT_RECIPE)
        set_recipe_in(uow, "KIT-HOME-PTT6", PTT6_KIT_RECIPE)
        suppliers: dict[str, SupplierRow] = {}
        for code, name, lead, currency, contact, items in SUPPLIERS:
            suppliers[code] = uow.suppliers.add(
                SupplierRow(code=code, name=name, lead_time_days=lead, currency=currency,
                            contact=contact),
                [
                    SupplierItemRow(product_id=uow.products.get(sku).id, pack_size=pack,
                                    min_order_qty=minimum, unit_cost_minor=cost,
                                    currency=currency)
                    for sku, pack, minimum, cost in items
                ],
            )  # fmt: skip
        supplier_location = uow.locations.get("SUPPLIER")
        physical = uow.locations.physical_ids()
        moves = 0
        for demo_lot in LOTS:
            product = uow.products.get(demo_lot.sku)
            if product.lot_tracked:
                expiry = (
                    as_of + timedelta(days=demo_lot.expiry_in_days)
                    if demo_lot.expiry_in_days is not None
                    else None
                )
                lot = uow.lots.add(
                    LotRow(product_id=product.id, code=demo_lot.code, expiry=expiry,
                           status=demo_lot.status.value,
                           supplier_id=suppliers[demo_lot.supplier].id,
                           receipt_ref=f"PO-DEMO-{demo_lot.code}",
                           unit_cost_minor=demo_lot.unit_cost_minor, currency=demo_lot.currency)
                )  # fmt: skip
            else:
                found = uow.lots.find(product.id, demo_lot.code)
                assert found is not None
                lot = found
            posted = []
            for clinic, (low, high) in demo_lot.stock.items():
                home = "FRIDGE" if product.kind == "serum_vial" else "SHELF"
                if demo_lot.status is LotStatus.QUARANTINE:
                    home = "QUAR"
                place = uow.locations.get(f"{clinic}-{home}")
                move = Move(lot.id, supplier_location.id, place.id, rng.randint(low, high))
                posted.append(PostedMove(move, product.id))
            uow.ledger.post(
                posted, reason=MoveReason.RECEIPT.value, actor=uow.actor,
                reference=f"PO-DEMO-{demo_lot.code}", audit_id=audit_id, physical=physical,
            )  # fmt: skip
            moves += len(posted)
            # each receipt with its cost, as `kitops receive` keeps it (untracked: no cost)
            cost = Money(demo_lot.unit_cost_minor, demo_lot.currency)
            for done in posted:
                keep_receipt(uow, lot, uow.session.get_one(LocationRow, done.move.to_location_id),
                             done.move.quantity, cost if product.lot_tracked else None,
                             reference=f"PO-DEMO-{demo_lot.code}", audit_id=audit_id)  # fmt: skip
        _kits_and_courses(uow, as_of)
        _clinic_weeks(uow, as_of)
        _prices(uow)
        _reorder_policies(uow)
        _papers(uow)
        summary = database_dto.DemoSummary(
            loaded=True,
            as_of=as_of,
            clinics=len(CLINICS),
            products=len(PRODUCTS),
            lots=len(LOTS),
            moves=moves,
        )
        uow.commit()
    return summary


# The demo's users (README: Users, roles and audit), one per role; their PINs are public,
# so their argon2id hashes are written here once rather than computed on every load.
DEMO_USERS = [
    ("admin", "admin", "1111", "$argon2id$v=19$m=65536,t=3,p=4$0lk2Zz+7vXE2cF/RqEx/NA$"
     "/WckgHcr6yOcBvi/KFw3vgt3fdobjqpSX56xmtNREOs"),
    ("manager", "manager", "2222", "$argon2id$v=19$m=65536,t=3,p=4$zYeLP8OVSfJ4XbGLUPoisg$"
     "J2VZKwzK+w9RVp91GSjjMPAf8L1lz6MaOINJWRDdZC4"),
    ("stock", "stockroom", "3333", "$argon2id$v=19$m=65536,t=3,p=4$Y6wocQf8J79X22OzaYgCnw$"
     "Tabk3duDp58eNY0WiYbqisp1ppZkxpwQxwjUBxGTvVg"),
    ("cron", "job", None, None),
]  # fmt: skip


def _users(uow: UnitOfWork, bind_login: str | None = None) -> None:
    """The demo users that do not exist yet (inside ``load``). On a database that had no
    users, whoever loads the demo becomes an admin too (without a PIN), as anyone could
    have created the first admin, bound to ``bind_login`` (else the demo's ``admin`` is):
    so `make run` goes on working as the login, and `demo --reset` as whoever reset it."""
    from kitops.domain.users import NAME_PATTERN
    from kitops.services.identity import bind_if_free

    existing = set(uow.session.scalars(select(UserRow.name)))
    wanted = [(name, role, secret) for name, role, _, secret in DEMO_USERS]
    # the user bound to the loading login: the loader's own (new) admin, else "admin"
    bound_name = "admin"
    if uow.user is None and NAME_PATTERN.fullmatch(uow.actor):
        wanted.append((uow.actor, "admin", None))
        bound_name = uow.actor
    for name, role, secret in wanted:
        if name not in existing:
            existing.add(name)
            row = UserRow(name=name, role=role, active=True, secret_hash=secret,
                          failed_logins=0, created_by=uow.actor[:64])  # fmt: skip
            uow.session.add(row)
            if name == bound_name and bind_login is not None:
                uow.session.flush()
                bind_if_free(uow, row, bind_login)
    uow.session.flush()


def _kits_and_courses(uow: UnitOfWork, as_of: date) -> None:
    """Plans, a few kits in each clinic and courses starting soon (inside ``load``)."""
    from kitops.services import courses, fulfilment, kits, operations, plans
    from kitops.services.purchasing import set_session_supplies_in

    for plan in plans.DEFAULT_PLANS:
        fields = dict(plan)
        code, name = str(fields.pop("code")), str(fields.pop("name"))
        plans.create_plan(uow, code, name, **fields)  # type: ignore[arg-type]
    for plan_code, items in SESSION_SUPPLIES:
        set_session_supplies_in(uow, plan_code, items)
    for clinic, recipe, count in KITS:
        operations.move(uow, "STAMP-0.5", count, f"{clinic}-SHELF", f"{clinic}-FRIDGE",
                        lot="DS05-2402", today=as_of)  # fmt: skip
        kits.assemble(uow, recipe, count, f"{clinic}-FRIDGE", today=as_of,
                      min_shelf_life_days=KIT_SHELF_LIFE_DAYS)  # fmt: skip
    for patient, plan_code, clinic, days, fulfil_now in COURSES:
        start = as_of + timedelta(days=days)
        course = courses.create_course(uow, patient, plan_code, start, clinic, allow_past=True)
        if fulfil_now:
            fulfilment.fulfil_course(uow, course.id, today=as_of)


# Each clinic's week: (code, open days, opening time); every clinic closes for Christmas.
CLINIC_HOURS = [("LON", "mon-sat", "09:00"), ("ESX", "mon-sat", "09:00"),
                ("VIE", "mon-fri", "09:00")]  # fmt: skip


def _clinic_weeks(uow: UnitOfWork, as_of: date) -> None:
    """Opening days and times, and the Christmas closure to come (inside ``load``), set
    after the courses were booked: the visits on closed days move, as they would in a
    clinic that set its hours later."""
    from kitops.services import clinic_calendar

    year = as_of.year if as_of <= date(as_of.year, 12, 26) else as_of.year + 1
    for code, days, opens in CLINIC_HOURS:
        clinic_calendar.set_hours(uow, code, days=days, opens=opens, today=as_of)
        clinic_calendar.add_closure(uow, code, date(year, 12, 25), date(year, 12, 26),
                                    _("Christmas and Boxing Day"), today=as_of)  # fmt: skip


# Reorder policies: (SKU, clinic, supplier, method, min, max, review days, safety days)
POLICIES = [
    ("SERUM-5ML", "LON", "CALECIM-UK", "calendar", None, None, 7, 7),
    ("SERUM-5ML", "ESX", "CALECIM-UK", "calendar", None, None, 7, 7),
    ("SERUM-5ML", "VIE", "CALECIM-EU", "calendar", None, None, 7, 7),
    ("STAMP-0.5", "LON", "DERMASUPPLY", "min_max", 10, 30, 7, 0),
    ("STAMP-0.5", "ESX", "DERMASUPPLY", "min_max", 10, 30, 7, 0),
    ("STAMP-0.5", "VIE", "DERMASUPPLY", "min_max", 10, 30, 7, 0),
    ("STAMP-0.6", "ESX", "DERMASUPPLY", "min_max", 5, 20, 7, 0),
    ("CHX-0.5", "LON", "DERMASUPPLY", "min_max", 12, 36, 7, 0),
]


def _reorder_policies(uow: UnitOfWork) -> None:
    """Policies for the reorder job (inside ``load``): the demo has something to order."""
    from kitops.services.purchasing import set_policy

    for sku, clinic, supplier, method, low, high, review, safety in POLICIES:
        set_policy(uow, sku, clinic, supplier=supplier, method=method, min_qty=low,
                   max_qty=high, review_period_days=review, safety_days=safety)  # fmt: skip


# Prices from the source documents (DOMAIN.md, "Money"): an at-home kit is USD 360 or
# GBP 315; scalp analysis with a treatment course in the clinic is GBP 1,800. The seeds
# give no EUR price, so Vienna's courses cannot be ordered until one is set.
PRICES = [
    ("KIT-HOME-6W", "315.00", "GBP"),
    ("KIT-HOME-6W", "360.00", "USD"),
    ("plan:clinic-weekly-6", "1800.00", "GBP"),
]


def _prices(uow: UnitOfWork) -> None:
    """Prices for orders (inside ``load``)."""
    from kitops.services.orders import set_price

    for item, amount, currency in PRICES:
        set_price(uow, item, amount, currency)


# What the papers print (purchase orders, labels), as demo data: addresses use the UK's and
# Austria's formats with made-up premises, phone numbers from ranges kept for drama and
# examples. The VAT rates are each country's standard rate (GB 20 %, AT 20 %) on every kind
# of product, to keep the demo simple: check the real rate of medical consumables with an
# accountant before sending a real order.
DEMO_CLINIC_PAPERS = {
    # clinic: (delivery address, contact, country)
    "LON": (
        "10 Harley Street, London W1G 9PF, United Kingdom",
        "Stockroom +44 20 7946 0101, stock.lon@clinic.example",
        "GB",
    ),
    "ESX": (
        "4 Duke Street, Chelmsford CM1 1HL, United Kingdom",
        "Stockroom +44 1632 960 402, stock.esx@clinic.example",
        "GB",
    ),
    "VIE": (
        "Kärntner Ring 5, 1010 Wien, Austria",
        "Lager +43 1 5555 0103, lager.vie@clinic.example",
        "AT",
    ),
}
DEMO_SUPPLIER_PAPERS = {
    # supplier: (address, payment terms, {SKU: the supplier's own SKU})
    "CALECIM-UK": (
        "Unit 7, Science Park, Cambridge CB4 0WG, United Kingdom",
        "30 days net",
        {"SERUM-5ML": "CAL-PTT6-5ML"},
    ),
    "CALECIM-EU": (
        "Lindengasse 12, 1070 Wien, Austria",
        "30 Tage netto (30 days net)",
        {"SERUM-5ML": "CAL-PTT6-5ML-EU"},
    ),
    "DERMASUPPLY": (
        "3 Riverside Park, Leeds LS11 5DG, United Kingdom",
        "14 days net",
        {
            "STAMP-0.4": "DS-ST040",
            "STAMP-0.5": "DS-ST050",
            "STAMP-0.6": "DS-ST060",
            "STAMP-1.2": "DS-ST120",
            "STAMP-2.0": "DS-ST200",
            "CHX-0.5": "DS-CHX05",
        },
    ),
}
DEMO_VAT_PERCENT = {"GB": 20, "AT": 20}
DEMO_LABEL_TEXT = {
    # SKU: (storage, usage)
    # marked for the catalog: the demo is loaded in the language in force
    "SERUM-5ML": (N_("Store at 2-8 °C. Do not freeze."), None),
    "KIT-HOME-6W": (N_("Keep in the fridge at 2-8 °C."),
                    N_("Half a vial per application, 3-4 days apart; no hair wash for 24-48 hours "
                       "after.")),
    "KIT-HOME-PTT6": (N_("Keep in the fridge at 2-8 °C."),
                      N_("One vial per application; no hair wash for 24-48 hours after.")),
}  # fmt: skip


def _papers(uow: UnitOfWork) -> None:
    """Clinic addresses and countries, supplier addresses, terms and SKUs, VAT rates and
    label lines (inside ``load``; the demo's one audit row covers them)."""
    from kitops.domain.catalog import ProductKind

    for code, (address, contact, country) in DEMO_CLINIC_PAPERS.items():
        clinic = uow.locations.clinic(code)
        clinic.address, clinic.contact, clinic.country = address, contact, country
    for code, (address, terms, skus) in DEMO_SUPPLIER_PAPERS.items():
        supplier = uow.suppliers.get(code)
        supplier.address, supplier.payment_terms = address, terms
        for sku, supplier_sku in skus.items():
            item = uow.session.get_one(SupplierItemRow, (supplier.id, uow.products.get(sku).id))
            item.supplier_sku = supplier_sku
    for country, percent in DEMO_VAT_PERCENT.items():
        for kind in ProductKind:
            uow.session.add(VatRateRow(country=country, product_kind=kind.value,
                                       rate_bp=percent * 100))  # fmt: skip
    for sku, (storage, usage) in DEMO_LABEL_TEXT.items():
        product = uow.products.get(sku)
        product.storage = i18n.gettext(storage)
        product.usage = i18n.gettext(usage) if usage else None
    uow.session.flush()
