"""Tables, mapped with SQLAlchemy 2's typed ORM.

ORM classes carry a ``Row`` suffix; the pure domain owns the plain names. Constraint
names come from the naming convention so Alembic can alter SQLite in batch mode.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
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
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Append-only tables: nothing updates or deletes their rows (triggers in migration 0001).
APPEND_ONLY_TABLES = ("stock_moves", "audit_log")

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


def utcnow() -> datetime:
    return datetime.now(UTC)


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

    recipe: Mapped[list[RecipeLineRow]] = relationship(
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

    parent: Mapped[LocationRow | None] = relationship(remote_side=[id])


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


class AuditRow(Base):
    """Who changed what, when, with a before/after summary. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_key: Mapped[str] = mapped_column(String(120))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


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


class StockBalanceRow(Base):
    """On hand per (lot, physical location), kept in step with the ledger."""

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


class PlanRow(Base):
    """A treatment protocol: how often, how long, how much serum, kits or clinic vials."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("administered IN ('home', 'clinic')", name="administered"),
        CheckConstraint("applications_per_week BETWEEN 1 AND 7", name="per_week"),
        CheckConstraint("weeks BETWEEN 1 AND 104", name="weeks"),
        CheckConstraint("serum_ul_per_application > 0", name="serum"),
        CheckConstraint("kits_per_course >= 0", name="kits"),
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

    kit_product: Mapped[ProductRow | None] = relationship()


class CourseRow(Base):
    """One patient's treatment course at a clinic. The patient is a pseudonymous
    reference only: no names, no medical data."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'cancelled', 'completed')", name="status"),
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

    plan: Mapped[PlanRow] = relationship()
    clinic: Mapped[LocationRow] = relationship()


class KitRow(Base):
    """One assembled, serialised kit. Its stock is a lot of the kit product whose code is
    the serial; its components stay traceable in ``kit_components``."""

    __tablename__ = "kits"
    __table_args__ = (
        CheckConstraint(
            "status IN ('available', 'reserved', 'shipped', 'handed_over', 'disassembled', "
            "'written_off', 'recalled')",
            name="status",
        ),
        CheckConstraint(
            "(course_id IS NULL) = (course_part IS NULL)", name="course_part_with_course"
        ),
        # a course's kit 1, kit 2... is held by one kit at most
        Index(
            "uq_kits_course_id_course_part",
            "course_id",
            "course_part",
            unique=True,
            sqlite_where=text("course_id IS NOT NULL"),
            postgresql_where=text("course_id IS NOT NULL"),
        ),
        Index("ix_kits_status_product_id_expiry", "status", "product_id", "expiry"),
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
    components: Mapped[list[KitComponentRow]] = relationship(order_by="KitComponentRow.position")


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
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    session_no: Mapped[int]
    session_date: Mapped[date] = mapped_column(Date)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    quantity: Mapped[int]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
