"""Tables, mapped with SQLAlchemy 2's typed ORM.

ORM classes carry a ``Row`` suffix; the pure domain owns the plain names. Constraint
names come from the naming convention so Alembic can alter SQLite in batch mode.

The annotations here are evaluated as each class is defined (no ``from __future__ import
annotations``): SQLAlchemy then reads ``Mapped[...]`` as objects instead of evaluating
some four hundred annotation strings at every start. A relationship to a class defined
further down names it in quotes (``Mapped[list["RecipeLineRow"]]``).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.base import DialectKWArgs, _DialectArgDict
from sqlalchemy.util import PopulateDict, memoized_property

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Append-only tables: nothing updates or deletes their rows (triggers in migrations 0001
# and 0028).
APPEND_ONLY_TABLES = ("stock_moves", "audit_log", "lot_receipts")


class PartialIndex(Index):
    """An index over the rows ``where`` picks, on SQLite and PostgreSQL alike.

    The condition becomes the dialects' ``where`` option (``sqlite_where``,
    ``postgresql_where``) only when something first asks for the index's dialect options:
    creating the index, a migration, a comparison with the database. Naming those options
    in the constructor imports both dialect packages while the schema is defined, which
    every command paid for (the whole PostgreSQL dialect on SQLite too).
    """

    def __init__(self, name: str, *expressions: Any, where: str, **kw: Any) -> None:
        super().__init__(name, *expressions, **kw)
        self.partial_where = where

    @memoized_property
    def dialect_options(self) -> PopulateDict[str, _DialectArgDict]:
        options = DialectKWArgs.dialect_options.fget(self)
        for dialect in ("sqlite", "postgresql"):
            options[dialect]["where"] = text(self.partial_where)
        return options


# Integer primary key that is a 64-bit BIGSERIAL on PostgreSQL and the rowid on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# How far the clock that stamps rows is set off the real one: the demo loader records its
# history as of the day it is given (``stamped_as_of``); everything else runs on real time.
_CLOCK_OFFSET: ContextVar[timedelta] = ContextVar("kitops_clock_offset", default=timedelta(0))


def utcnow() -> datetime:
    return datetime.now(UTC) + _CLOCK_OFFSET.get()


@contextmanager
def stamped_as_of(day: date, hour: int = 8) -> Iterator[None]:
    """Rows written inside this block carry times on ``day`` (from ``hour``:00 UTC, the
    clock running on from there) instead of now; on today itself the real clock is kept."""
    now = datetime.now(UTC)
    offset = timedelta(0)
    if day != now.date():
        offset = datetime.combine(day, time(hour), UTC) - now
    token = _CLOCK_OFFSET.set(offset)
    try:
        yield
    finally:
        _CLOCK_OFFSET.reset(token)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class SettingRow(Base):
    """Configurable facts the source documents leave open (``at_home_max_needle_mm``...)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ProductRow(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("kind IN ('serum_vial', 'derma_stamp', 'consumable', 'kit')", name="kind"),
        CheckConstraint("needle_um IS NULL OR needle_um > 0", name="needle_positive"),
        CheckConstraint("volume_ul IS NULL OR volume_ul > 0", name="volume_positive"),
        CheckConstraint("expiry_alert_days >= 0", name="alert_days"),
        CheckConstraint("min_shelf_life_on_receipt_days >= 0", name="receipt_shelf_life"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(20))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    volume_ul: Mapped[int | None]
    needle_um: Mapped[int | None]
    at_home_allowed: Mapped[bool] = mapped_column(Boolean)
    lot_tracked: Mapped[bool] = mapped_column(Boolean)
    requires_release: Mapped[bool] = mapped_column(Boolean)
    shelf_life_days: Mapped[int | None]
    expiry_alert_days: Mapped[int] = mapped_column(default=90)
    min_shelf_life_on_receipt_days: Mapped[int] = mapped_column(default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # added in migration 0019: the storage and usage lines printed on the product's labels
    storage: Mapped[str | None] = mapped_column(String(200))
    usage: Mapped[str | None] = mapped_column(String(200))

    recipe: Mapped[list["RecipeLineRow"]] = relationship(
        foreign_keys="RecipeLineRow.kit_product_id", order_by="RecipeLineRow.position"
    )


class RecipeLineRow(Base):
    """One line of a kit's bill of materials."""

    __tablename__ = "kit_recipe_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("kit_product_id <> component_product_id", name="not_itself"),
    )

    kit_product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    component_product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    component: Mapped[ProductRow] = relationship(foreign_keys=[component_product_id])


class SupplierRow(Base):
    __tablename__ = "suppliers"
    __table_args__ = (CheckConstraint("lead_time_days >= 0", name="lead_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_time_days: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    contact: Mapped[str | None] = mapped_column(String(200))
    # added in migration 0005 (reorder): a supplier no longer used keeps its history
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # added in migration 0019: what a purchase order must tell the supplier
    address: Mapped[str | None] = mapped_column(String(300))
    payment_terms: Mapped[str | None] = mapped_column(String(200))


class SupplierItemRow(Base):
    """What one supplier sells of one product: pack size, minimum order, unit cost."""

    __tablename__ = "supplier_items"
    __table_args__ = (
        CheckConstraint("pack_size > 0", name="pack_size"),
        CheckConstraint("min_order_qty > 0", name="min_order"),
        CheckConstraint("unit_cost_minor >= 0", name="unit_cost"),
    )

    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    supplier_sku: Mapped[str | None] = mapped_column(String(64))
    pack_size: Mapped[int]
    min_order_qty: Mapped[int]
    unit_cost_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))


class LocationRow(Base):
    __tablename__ = "locations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('clinic', 'stockroom', 'fridge', 'shelf', 'quarantine', "
            "'supplier', 'patient', 'scrap', 'adjustment', 'assembly')",
            name="kind",
        ),
        CheckConstraint("kind <> 'clinic' OR timezone IS NOT NULL", name="clinic_timezone"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str | None] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # added in migration 0019, for clinics: where deliveries and patients go, who to call,
    # the country whose VAT rates apply, and the clinic's week (None: open every day; no
    # opening time: the clinic's first appointment is at 09:00; no cap: the setting
    # ``clinic_sessions_per_day``)
    address: Mapped[str | None] = mapped_column(String(300))
    contact: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    open_weekdays: Mapped[str | None] = mapped_column(String(32))
    opens_at: Mapped[time | None] = mapped_column(Time)
    sessions_per_day: Mapped[int | None]
    # a clinic's locale (migration 0021): the language and formats of its documents, and of
    # its staff's screens when they choose none (kitops.i18n.resolve_locale); None: not set
    locale: Mapped[str | None] = mapped_column(String(32))

    parent: Mapped["LocationRow | None"] = relationship(remote_side=[id])


class ClinicClosureRow(Base):
    """Days a clinic is closed (a holiday, a refit), both days included (migration 0019)."""

    __tablename__ = "clinic_closures"
    __table_args__ = (
        CheckConstraint("first_day <= last_day", name="days_in_order"),
        Index("ix_clinic_closures_clinic_id_first_day", "clinic_id", "first_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VatRateRow(Base):
    """The VAT rate of one kind of product in one country, in basis points (2000: 20 %),
    as data: purchase orders show it per line (migration 0019)."""

    __tablename__ = "vat_rates"
    __table_args__ = (CheckConstraint("rate_bp BETWEEN 0 AND 10000", name="rate"),)

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    product_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    rate_bp: Mapped[int]


class LotRow(Base):
    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        UniqueConstraint("id", "product_id"),
        CheckConstraint(
            "status IN ('quarantine', 'released', 'recalled', 'expired')", name="status"
        ),
        CheckConstraint("unit_cost_minor IS NULL OR unit_cost_minor >= 0", name="unit_cost"),
        Index("ix_lots_code", "code"),
        # the stock list in expiry order reads lots in that order (migration 0025)
        Index("ix_lots_expiry", "expiry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    code: Mapped[str] = mapped_column(String(20))
    expiry: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(String(200))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    receipt_ref: Mapped[str | None] = mapped_column(String(64))
    unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[ProductRow] = relationship()


class LotReceiptRow(Base):
    """Every receipt of a lot with the unit cost it came at (migration 0011): a lot
    delivered twice at two prices keeps both. The lot's own ``unit_cost_minor`` is the
    average of these costs weighted by quantity; ``report valuation`` values stock from
    them. ``source``: ``receipt`` (``kitops receive``), ``opening`` (``import stock``)."""

    __tablename__ = "lot_receipts"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_cost_minor IS NULL OR unit_cost_minor >= 0", name="unit_cost"),
        CheckConstraint("(unit_cost_minor IS NULL) = (currency IS NULL)", name="cost_currency"),
        CheckConstraint("source IN ('receipt', 'opening')", name="source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    quantity: Mapped[int]
    unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(120))
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_log.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditRow(Base):
    """Who changed what, when, with a before/after summary. Append-only."""

    __tablename__ = "audit_log"
    # a course's (or any entity's) history in one index range (migration 0019)
    __table_args__ = (Index("ix_audit_log_entity_entity_key", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_key: Mapped[str] = mapped_column(String(120))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    # PostgreSQL stamps these itself (migration 0017): the login role and the server's clock
    db_role: Mapped[str | None] = mapped_column(String(64))
    db_time: Mapped[datetime | None]


class StockMoveRow(Base):
    """The append-only stock ledger: rows are never updated or deleted."""

    __tablename__ = "stock_moves"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("from_location_id <> to_location_id", name="distinct_locations"),
        ForeignKeyConstraint(["lot_id", "product_id"], ["lots.id", "lots.product_id"]),
        # covers the lot trace: an index-only scan of one lot's moves
        Index(
            "ix_stock_moves_lot_flow",
            "lot_id",
            "from_location_id",
            "to_location_id",
            "reason",
            "detail",
            "reference",
            "quantity",
            "created_at",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int]
    from_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    quantity: Mapped[int]
    reason: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reference: Mapped[str | None] = mapped_column(String(120), index=True)
    detail: Mapped[str | None] = mapped_column(String(32))
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_log.id"), index=True)
    # PostgreSQL stamps these itself (migration 0017): the login role and the server's clock
    db_role: Mapped[str | None] = mapped_column(String(64))
    db_time: Mapped[datetime | None]


class StockBalanceRow(Base):
    """On hand per (lot, physical location). Written only by the database's trigger on
    ``stock_moves`` (migration 0017), so it is in step with the ledger by construction."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="not_negative"),
        ForeignKeyConstraint(["lot_id", "product_id"], ["lots.id", "lots.product_id"]),
        Index("ix_stock_balances_location_id_product_id", "location_id", "product_id"),
    )

    lot_id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int]
    # SQLite: the ledger row the trigger applied last (its guard's proof); NULL on PostgreSQL
    applied_move_id: Mapped[int | None] = mapped_column(BigId)


class PlanRow(Base):
    """A treatment protocol: how often, how long, how much serum, kits or clinic vials."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("administered IN ('home', 'clinic')", name="administered"),
        CheckConstraint("applications_per_week BETWEEN 1 AND 7", name="per_week"),
        CheckConstraint("weeks BETWEEN 1 AND 104", name="weeks"),
        CheckConstraint("serum_ul_per_application > 0", name="serum"),
        CheckConstraint("kits_per_course >= 0", name="kits"),
        CheckConstraint("interval_weeks BETWEEN 1 AND 52", name="interval_weeks"),
        CheckConstraint(
            "needle_min_um IS NULL OR (needle_min_um > 0 AND needle_max_um >= needle_min_um)",
            name="needles",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    applications_per_week: Mapped[int]
    weeks: Mapped[int]
    serum_ul_per_application: Mapped[int]
    administered: Mapped[str] = mapped_column(String(10))
    kit_product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    kits_per_course: Mapped[int] = mapped_column(default=0)
    default_weekdays: Mapped[str | None] = mapped_column(String(32))
    checkin_weeks: Mapped[str] = mapped_column(String(100), default="")
    followup_months: Mapped[str] = mapped_column(String(100), default="3,6")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # added in migration 0019: the needle lengths a clinic session of the plan may use
    # (seed 000: 1.2 to 3 mm; seed 002: 2 mm), and weeks between application weeks
    # (maintenance: one application every 4 weeks)
    needle_min_um: Mapped[int | None]
    needle_max_um: Mapped[int | None]
    interval_weeks: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    kit_product: Mapped[ProductRow | None] = relationship()


class CourseRow(Base):
    """One patient's treatment course at a clinic. The patient is a pseudonymous
    reference only: no names, no medical data."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint(
            "status IN ('scheduled', 'active', 'paused', 'completed', 'ended_early', 'cancelled')",
            name="status",
        ),
        Index("ix_courses_clinic_id_start_date", "clinic_id", "start_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_ref: Mapped[str] = mapped_column(String(64), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    start_date: Mapped[date] = mapped_column(Date)
    weekdays: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # added in migration 0019: the lifecycle (why the status last changed, the day a
    # pause began), the appointment time of the course's clinic visits (None: the
    # clinic's opening time), and the moves of its remaining applications as a JSON list
    # of {"from": application number, "start": date, "weekdays": "mon,thu"} (None: the
    # applications follow ``start_date`` and ``weekdays``)
    status_reason: Mapped[str | None] = mapped_column(String(200))
    paused_on: Mapped[date | None] = mapped_column(Date)
    appointment_time: Mapped[time | None] = mapped_column(Time)
    reschedules: Mapped[str | None] = mapped_column(String(2000))

    plan: Mapped[PlanRow] = relationship()
    clinic: Mapped[LocationRow] = relationship()


class CourseAppointmentRow(Base):
    """When a clinic visit of a course (a clinic application or session, a check-in, a
    follow-up) is booked: the day the plan gives, the day it moved to (a closed day, a full
    day) and why, and the time (migration 0019). Home applications have none."""

    __tablename__ = "course_appointments"
    __table_args__ = (
        CheckConstraint("kind IN ('application', 'checkin', 'followup')", name="kind"),
        Index("ix_course_appointments_clinic_id_day", "clinic_id", "day"),
        # the window's sessions still to come, read from the index alone (migration 0029)
        Index("ix_course_appointments_day_kind_number", "day", "kind", "number", "course_id"),
    )

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    planned_day: Mapped[date] = mapped_column(Date)
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[time] = mapped_column(Time)
    moved_because: Mapped[str | None] = mapped_column(String(200))


class KitRow(Base):
    """One assembled, serialised kit. Its stock is a lot of the kit product whose code is
    the serial; its components stay traceable in ``kit_components``."""

    __tablename__ = "kits"
    __table_args__ = (
        CheckConstraint(
            "status IN ('available', 'reserved', 'shipped', 'handed_over', 'disassembled', "
            "'written_off', 'recalled', 'expired', 'quarantine')",
            name="status",
        ),
        CheckConstraint(
            "(course_id IS NULL) = (course_part IS NULL)", name="course_part_with_course"
        ),
        # a course's kit 1, kit 2... is held by one kit at most; a kit returned opened
        # (written off) keeps its course part, which shows it and which fulfilment then
        # leaves alone, beside the replacement a user may ask for (`course replace-kit`)
        PartialIndex(
            "uq_kits_course_id_course_part",
            "course_id",
            "course_part",
            unique=True,
            where="course_id IS NOT NULL AND status <> 'written_off'",
        ),
        Index("ix_kits_status_product_id_expiry_id", "status", "product_id", "expiry", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    expiry: Mapped[date] = mapped_column(Date)
    vial_expiries: Mapped[str] = mapped_column(String(400))  # ISO dates, earliest first
    status: Mapped[str] = mapped_column(String(20))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    course_part: Mapped[int | None]
    recalled: Mapped[bool] = mapped_column(Boolean, default=False)
    tracking: Mapped[str | None] = mapped_column(String(64))
    assembled_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[ProductRow] = relationship()
    components: Mapped[list["KitComponentRow"]] = relationship(order_by="KitComponentRow.position")


class CourseKitNeedRow(Base):
    """When each kit of a home course is first used and until when its vials are used
    (expiry margin not included), computed from the course calendar when the course is
    created: the one-statement reservation and the scheduled demand read these instead of
    the calendar. ``vial_last_uses`` holds the last day of every vial of the kit, vial by
    vial (ISO dates, comma-separated, earliest first; the first is
    ``earliest_vial_last_use``, the last ``last_use``). Rows of a course whose kit recipe
    changed are removed and computed again on demand."""

    __tablename__ = "course_kit_needs"
    __table_args__ = (
        CheckConstraint("part >= 1", name="part_positive"),
        CheckConstraint(
            "first_use <= earliest_vial_last_use AND earliest_vial_last_use <= last_use",
            name="dates_in_order",
        ),
    )

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), primary_key=True)
    part: Mapped[int] = mapped_column(primary_key=True)
    first_use: Mapped[date] = mapped_column(Date)
    earliest_vial_last_use: Mapped[date] = mapped_column(Date)
    last_use: Mapped[date] = mapped_column(Date)
    vial_last_uses: Mapped[str] = mapped_column(Text)  # migration 0026


class KitComponentRow(Base):
    """Exactly which lot each component of a kit came from."""

    __tablename__ = "kit_components"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    kit_id: Mapped[int] = mapped_column(ForeignKey("kits.id"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), primary_key=True, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    lot: Mapped[LotRow] = relationship()


class SessionRow(Base):
    """A clinic session of a course: which lot the vials came from, for the trace."""

    __tablename__ = "course_sessions"
    __table_args__ = (
        UniqueConstraint("course_id", "session_no"),
        # 0: the session used the second half of the vial its pair opened (migration 0019)
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    session_no: Mapped[int]
    session_date: Mapped[date] = mapped_column(Date)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    quantity: Mapped[int]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))


class SessionItemRow(Base):
    """A supply a clinic session used besides its serum (its stamp, its chlorhexidine),
    lot by lot, so a trace reaches the patient from those lots too (migration 0019)."""

    __tablename__ = "course_session_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), primary_key=True, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]


# --- Reorder and purchase orders (migration 0005) ------------------------------------


class PlanSessionItemRow(Base):
    """What each clinic session of a plan uses besides its serum (a clinic stamp...):
    the source documents do not say, so it is data, for the demand forecast."""

    __tablename__ = "plan_session_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int]


class ReorderPolicyRow(Base):
    """How one product is reordered for one clinic, and from which supplier.

    ``min_max``: when usable on hand + on order falls below ``min_qty``, order up to
    ``max_qty``. ``calendar``: scheduled demand over lead time + review period, plus
    ``safety_days`` of demand, minus stock still in date when needed, minus open orders.
    The composite foreign key makes a policy name a supplier that sells the product.
    """

    __tablename__ = "reorder_policies"
    __table_args__ = (
        UniqueConstraint("product_id", "clinic_id"),
        ForeignKeyConstraint(
            ["supplier_id", "product_id"],
            ["supplier_items.supplier_id", "supplier_items.product_id"],
        ),
        CheckConstraint("method IN ('min_max', 'calendar')", name="method"),
        CheckConstraint(
            "method <> 'min_max' OR (min_qty IS NOT NULL AND max_qty IS NOT NULL)",
            name="min_max_levels",
        ),
        CheckConstraint("min_qty IS NULL OR min_qty >= 0", name="min_qty"),
        CheckConstraint("max_qty IS NULL OR max_qty >= 1", name="max_qty"),
        CheckConstraint(
            "min_qty IS NULL OR max_qty IS NULL OR max_qty >= min_qty", name="max_over_min"
        ),
        CheckConstraint("review_period_days BETWEEN 0 AND 365", name="review_period"),
        CheckConstraint("safety_days BETWEEN 0 AND 365", name="safety_days"),
        CheckConstraint(
            "lead_time_days IS NULL OR lead_time_days BETWEEN 0 AND 365", name="lead_time"
        ),
        Index("ix_reorder_policies_clinic_id", "clinic_id"),
        Index("ix_reorder_policies_supplier_id_product_id", "supplier_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    method: Mapped[str] = mapped_column(String(10))
    min_qty: Mapped[int | None]
    max_qty: Mapped[int | None]
    review_period_days: Mapped[int] = mapped_column(default=7)
    safety_days: Mapped[int] = mapped_column(default=0)
    lead_time_days: Mapped[int | None]  # None: the supplier's lead time
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurchaseOrderRow(Base):
    """An order to one supplier for one clinic. A partial unique index keeps one draft
    per supplier and clinic, so two reorder runs can never draft the same order twice."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'approved', 'sent', 'partial', 'received', 'cancelled')",
            name="status",
        ),
        CheckConstraint("origin IN ('reorder', 'manual')", name="origin"),
        Index("ix_purchase_orders_status_clinic_id", "status", "clinic_id"),
        PartialIndex(
            "uq_purchase_orders_supplier_id_clinic_id_draft",
            "supplier_id",
            "clinic_id",
            unique=True,
            where="status = 'draft'",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[str] = mapped_column(String(12))
    origin: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    as_of: Mapped[date] = mapped_column(Date)  # the day the order was computed for
    expected_on: Mapped[date | None] = mapped_column(Date)  # as_of + lead time
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(200))

    supplier: Mapped[SupplierRow] = relationship()
    clinic: Mapped[LocationRow] = relationship()
    lines: Mapped[list["PurchaseOrderLineRow"]] = relationship(
        order_by="PurchaseOrderLineRow.position", back_populates="order"
    )


class PurchaseOrderLineRow(Base):
    """One product on a purchase order; ``explanation`` keeps the arithmetic behind it.
    Received may exceed ordered only when an over-receipt was confirmed."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("received_qty >= 0", name="received"),
        CheckConstraint("unit_cost_minor >= 0", name="unit_cost"),
        Index("ix_purchase_order_lines_product_id_closed", "product_id", "closed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    position: Mapped[int] = mapped_column(default=0)
    quantity: Mapped[int]
    received_qty: Mapped[int] = mapped_column(default=0)
    unit_cost_minor: Mapped[int] = mapped_column(BigInteger)
    need_by: Mapped[date | None] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    explanation: Mapped[dict[str, Any] | None]

    order: Mapped[PurchaseOrderRow] = relationship(back_populates="lines")
    product: Mapped[ProductRow] = relationship()


class JobLockRow(Base):
    """A lease that keeps a cron job to one run at a time on SQLite (PostgreSQL uses an
    advisory lock, released by the database itself if the process dies)."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


# --- Orders and payments (migration 0006) ---------------------------------------------
# Money is integer minor units plus the ISO currency. No secret is ever stored: only the
# provider's object ids (pi_..., cs_..., re_..., evt_...), which are not credentials.


class PriceRow(Base):
    """What a product (a kit) or a plan (a clinic course) costs in one currency."""

    __tablename__ = "prices"
    __table_args__ = (
        CheckConstraint("(product_id IS NULL) <> (plan_id IS NULL)", name="one_item"),
        CheckConstraint("unit_amount_minor >= 0", name="amount"),
        UniqueConstraint("product_id", "currency"),
        UniqueConstraint("plan_id", "currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    currency: Mapped[str] = mapped_column(String(3))
    unit_amount_minor: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[ProductRow | None] = relationship()
    plan: Mapped[PlanRow | None] = relationship()


class OrderRow(Base):
    """A patient's order for a course (its kits or its clinic fee) and extras. The
    patient is the course's pseudonymous reference."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'pending', 'failed', 'paid', 'partially_refunded', "
            "'refunded', 'cancelled')",
            name="status",
        ),
        CheckConstraint("total_minor > 0", name="total_positive"),
        CheckConstraint("paid_minor >= 0", name="paid"),
        # never more back than came in: over-refund is impossible in the database too
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= paid_minor", name="refunded"),
        Index("ix_orders_clinic_id_currency", "clinic_id", "currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # random, fixed at creation: with the id it names the order to Stripe (metadata and
    # idempotency keys), so two kitops databases sharing an account never meet
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    patient_ref: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list["OrderLineRow"]] = relationship(order_by="OrderLineRow.line_no")
    course: Mapped[CourseRow] = relationship()
    clinic: Mapped[LocationRow] = relationship()


class OrderLineRow(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_amount_minor >= 0", name="unit_amount"),
        CheckConstraint("amount_minor = quantity * unit_amount_minor", name="amount"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_amount_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class OrderPaymentRow(Base):
    """One attempt to take an order's money: a PaymentIntent (card in clinic) or a
    Checkout Session (paying from home). The row is written before the provider is
    called, so a retried command re-sends the same idempotency key."""

    __tablename__ = "order_payments"
    __table_args__ = (
        UniqueConstraint("order_id", "attempt_no"),
        CheckConstraint("method IN ('card', 'checkout')", name="method"),
        CheckConstraint(
            "status IN ('requested', 'pending', 'succeeded', 'failed', 'expired', 'cancelled')",
            name="status",
        ),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    attempt_no: Mapped[int]
    method: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    url: Mapped[str | None] = mapped_column(String(1000))
    failure: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderRefundRow(Base):
    """A refund of (part of) an order: requested here or seen at the provider. Its
    stock effect (``restock``) is applied once, when the refund is confirmed."""

    __tablename__ = "order_refunds"
    __table_args__ = (
        UniqueConstraint("order_id", "refund_no"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("restock IN ('none', 'sealed', 'write-off')", name="restock"),
        CheckConstraint(
            "status IN ('requested', 'pending', 'requires_action', 'succeeded', 'failed', "
            "'canceled')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    refund_no: Mapped[int]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    restock: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16))
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StripeEventRow(Base):
    """Every provider event handled, recorded in the transaction of its effects: the
    primary key makes a second delivery (webhook, sync, or both at once) a no-op."""

    __tablename__ = "stripe_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    created: Mapped[int] = mapped_column(BigInteger, index=True)
    source: Mapped[str] = mapped_column(String(10))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(200))
    handled_at: Mapped[datetime] = mapped_column(default=utcnow)


class StripeSyncRow(Base):
    """Where ``kitops stripe sync`` has read the Events API up to."""

    __tablename__ = "stripe_sync"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_created: Mapped[int | None] = mapped_column(BigInteger)
    last_event_id: Mapped[str | None] = mapped_column(String(255))
    runs: Mapped[int] = mapped_column(default=0)
    last_run_at: Mapped[datetime | None]


# --- users, roles and login (migration 0008) -------------------------------------------


class UserRow(Base):
    """Who may use kitops and in which role. A PIN or password is kept only as its argon2
    hash; failed logins count towards a lock (``login_max_failures`` in settings)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('stockroom', 'manager', 'admin', 'job')", name="role"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    # the login this user is bound to: the operating-system account (SQLite) or the
    # database login role (PostgreSQL) that acts as this user without a PIN (migration 0018)
    login: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    # the language this user reads kitops in (migration 0021); None: their clinic's locale,
    # else the environment's (kitops.i18n.resolve_locale)
    language: Mapped[str | None] = mapped_column(String(32))
    # where this user's alerts go (migration 0023; ``kitops user set-email``)
    email: Mapped[str | None] = mapped_column(String(254))


class UserSessionRow(Base):
    """A ``kitops login`` session: the SHA-256 of a random token kept in a 0600 file, for
    one user on one login; valid while used within ``session_idle_minutes``."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    identity: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserClinicRow(Base):
    """A clinic a user is limited to (``kitops user set-clinics``); a user with none sees
    and acts on every clinic (migration 0020)."""

    __tablename__ = "user_clinics"
    __table_args__ = (UniqueConstraint("user_id", "location_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))


class ApiTokenRow(Base):
    """An integration's API token (``kitops token create``): only its SHA-256 is kept; it
    acts as its user, read-only if so made, until it expires or is revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None]


class IdempotencyKeyRow(Base):
    """The answer to a POST that carried an ``Idempotency-Key``, kept so a retry of the
    same request gets the same answer and nothing is done twice; ``status_code`` is None
    while the first request is still running."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("actor", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookSubscriptionRow(Base):
    """An integration that wants events (``kitops webhook add``): where to send them, which,
    and the 0600 file holding the signing secret (never the secret itself). Delivery goes
    in event order: ``cursor`` is the last outbox event handled; a failing event is tried
    again after ``next_attempt_at`` until 24 hours have passed, then given up (a
    ``webhook_failures`` row) and the next one goes. ``lease_until`` keeps two delivery runs
    from sending the same event at once."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[str] = mapped_column(String(1000))
    secret_file: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[int] = mapped_column(BigId, default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    failing_since: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    last_delivered_at: Mapped[datetime | None]
    delivered: Mapped[int] = mapped_column(BigId, default=0)
    failed: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(40))


class WebhookOutboxRow(Base):
    """An event waiting for its subscribers: written by a trigger on ``audit_log`` in the
    transaction of the change (migration 0022), so it exists exactly when the change does.
    Append-only; its id orders delivery."""

    __tablename__ = "webhook_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    audit_id: Mapped[int] = mapped_column(BigId, ForeignKey("audit_log.id"), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class WebhookFailureRow(Base):
    """An event a subscription gave up on after 24 hours of failed deliveries."""

    __tablename__ = "webhook_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    outbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_outbox.id"))
    attempts: Mapped[int]
    error: Mapped[str] = mapped_column(String(300))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertSubscriptionRow(Base):
    """A user's wish for one kind of alert (``kitops alert subscribe``), for one clinic or
    (``location_id`` None) every clinic the user may see."""

    __tablename__ = "alert_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "kind", "location_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


class AlertRow(Base):
    """One alert to one user, recorded BEFORE it is sent (``state`` sending), marked
    ``sent`` after: its unique ``dedupe_key`` keeps a rerun, a second run at the same time
    or a crash between send and record from sending it twice. A ``sending`` row older than
    the timeout is tried once more and flagged."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(default=1)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class JobRunRow(Base):
    """One ``kitops jobs run`` (migration 0024): which job, when, ok or failed, and a short
    error (the job's own summary, never a secret). Written in its own transaction after
    the job, so a failed run is recorded even when the job's own work was rolled back; two
    failed runs of a job in a row raise an alert (``kitops alert subscribe USER job``)."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'failed')", name="outcome"),
        Index("ix_job_runs_job_id", "job", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(String(300))
    actor: Mapped[str] = mapped_column(String(64))
