"""Initial schema: catalogue, locations, lots, the append-only stock ledger and audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY = ("stock_moves", "audit_log")

# The virtual ends of every move (kitops.domain.locations.VIRTUAL_LOCATIONS).
VIRTUAL_LOCATIONS = [
    ("SUPPLIER", "Suppliers (stock received)", "supplier"),
    ("PATIENT", "Patients (stock delivered)", "patient"),
    ("SCRAP", "Scrap (written off)", "scrap"),
    ("ADJUSTMENT", "Inventory adjustment (counts)", "adjustment"),
]

DEFAULT_SETTINGS = [
    ("at_home_max_needle_mm", "0.6"),
    ("expiry_margin_days", "7"),
]


def _append_only_triggers() -> None:
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        else:
            op.execute(
                f"""
                CREATE FUNCTION {table}_append_only() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '{table} is append-only' USING ERRCODE = 'restrict_violation';
                END $$
                """
            )
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
            )


def _drop_append_only_triggers() -> None:
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_key", sa.String(length=120), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind <> 'clinic' OR timezone IS NOT NULL", name=op.f("ck_locations_clinic_timezone")
        ),
        sa.CheckConstraint(
            "kind IN ('clinic', 'stockroom', 'fridge', 'shelf', 'quarantine', "
            "'supplier', 'patient', 'scrap', 'adjustment')",
            name=op.f("ck_locations_kind"),
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_locations_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["locations.id"], name=op.f("fk_locations_parent_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("code", name=op.f("uq_locations_code")),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_locations_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("volume_ul", sa.Integer(), nullable=True),
        sa.Column("needle_um", sa.Integer(), nullable=True),
        sa.Column("at_home_allowed", sa.Boolean(), nullable=False),
        sa.Column("lot_tracked", sa.Boolean(), nullable=False),
        sa.Column("requires_release", sa.Boolean(), nullable=False),
        sa.Column("shelf_life_days", sa.Integer(), nullable=True),
        sa.Column("expiry_alert_days", sa.Integer(), nullable=False),
        sa.Column("min_shelf_life_on_receipt_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('serum_vial', 'derma_stamp', 'consumable', 'kit')",
            name=op.f("ck_products_kind"),
        ),
        sa.CheckConstraint("expiry_alert_days >= 0", name=op.f("ck_products_alert_days")),
        sa.CheckConstraint(
            "min_shelf_life_on_receipt_days >= 0", name=op.f("ck_products_receipt_shelf_life")
        ),
        sa.CheckConstraint(
            "needle_um IS NULL OR needle_um > 0", name=op.f("ck_products_needle_positive")
        ),
        sa.CheckConstraint(
            "volume_ul IS NULL OR volume_ul > 0", name=op.f("ck_products_volume_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("gtin", name=op.f("uq_products_gtin")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.CheckConstraint("lead_time_days >= 0", name=op.f("ck_suppliers_lead_time")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("code", name=op.f("uq_suppliers_code")),
    )
    op.create_table(
        "kit_recipe_lines",
        sa.Column("kit_product_id", sa.Integer(), nullable=False),
        sa.Column("component_product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kit_product_id <> component_product_id", name=op.f("ck_kit_recipe_lines_not_itself")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_kit_recipe_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["component_product_id"],
            ["products.id"],
            name=op.f("fk_kit_recipe_lines_component_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["kit_product_id"],
            ["products.id"],
            name=op.f("fk_kit_recipe_lines_kit_product_id_products"),
        ),
        sa.PrimaryKeyConstraint(
            "kit_product_id", "component_product_id", name=op.f("pk_kit_recipe_lines")
        ),
    )
    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("receipt_ref", sa.String(length=64), nullable=True),
        sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('quarantine', 'released', 'recalled', 'expired')",
            name=op.f("ck_lots_status"),
        ),
        sa.CheckConstraint(
            "unit_cost_minor IS NULL OR unit_cost_minor >= 0", name=op.f("ck_lots_unit_cost")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_lots_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_lots_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("id", "product_id", name=op.f("uq_lots_id_product_id")),
        sa.UniqueConstraint("product_id", "code", name=op.f("uq_lots_product_id_code")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index("ix_lots_code", ["code"], unique=False)

    op.create_table(
        "supplier_items",
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("supplier_sku", sa.String(length=64), nullable=True),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("min_order_qty", sa.Integer(), nullable=False),
        sa.Column("unit_cost_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("min_order_qty > 0", name=op.f("ck_supplier_items_min_order")),
        sa.CheckConstraint("pack_size > 0", name=op.f("ck_supplier_items_pack_size")),
        sa.CheckConstraint("unit_cost_minor >= 0", name=op.f("ck_supplier_items_unit_cost")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_supplier_items_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_supplier_items_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("supplier_id", "product_id", name=op.f("pk_supplier_items")),
    )
    op.create_table(
        "stock_balances",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_stock_balances_not_negative")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_stock_balances_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id", "product_id"],
            ["lots.id", "lots.product_id"],
            name=op.f("fk_stock_balances_lot_id_product_id_lots"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_balances_product_id_products")
        ),
        sa.PrimaryKeyConstraint("lot_id", "location_id", name=op.f("pk_stock_balances")),
    )
    with op.batch_alter_table("stock_balances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_balances_location_id_product_id", ["location_id", "product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stock_balances_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "stock_moves",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("from_location_id", sa.Integer(), nullable=False),
        sa.Column("to_location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("audit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "from_location_id <> to_location_id", name=op.f("ck_stock_moves_distinct_locations")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_moves_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_log.id"], name=op.f("fk_stock_moves_audit_id_audit_log")
        ),
        sa.ForeignKeyConstraint(
            ["from_location_id"],
            ["locations.id"],
            name=op.f("fk_stock_moves_from_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id", "product_id"],
            ["lots.id", "lots.product_id"],
            name=op.f("fk_stock_moves_lot_id_product_id_lots"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_moves_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"],
            ["locations.id"],
            name=op.f("fk_stock_moves_to_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_moves")),
    )
    with op.batch_alter_table("stock_moves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_moves_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_moves_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_stock_moves_lot_id_from", ["lot_id", "from_location_id"], unique=False
        )
        batch_op.create_index(
            "ix_stock_moves_lot_id_to", ["lot_id", "to_location_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stock_moves_reference"), ["reference"], unique=False)

    _append_only_triggers()
    locations = sa.table(
        "locations",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        locations,
        [{"code": c, "name": n, "kind": k, "active": True} for c, n, k in VIRTUAL_LOCATIONS],
    )
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(settings, [{"key": k, "value": v} for k, v in DEFAULT_SETTINGS])


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table("stock_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_moves_reference"))
        batch_op.drop_index("ix_stock_moves_lot_id_to")
        batch_op.drop_index("ix_stock_moves_lot_id_from")
        batch_op.drop_index(batch_op.f("ix_stock_moves_created_at"))
        batch_op.drop_index(batch_op.f("ix_stock_moves_audit_id"))

    op.drop_table("stock_moves")
    with op.batch_alter_table("stock_balances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_balances_product_id"))
        batch_op.drop_index("ix_stock_balances_location_id_product_id")

    op.drop_table("stock_balances")
    op.drop_table("supplier_items")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index("ix_lots_code")

    op.drop_table("lots")
    op.drop_table("kit_recipe_lines")
    op.drop_table("suppliers")
    op.drop_table("settings")
    op.drop_table("products")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locations_parent_id"))

    op.drop_table("locations")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))

    op.drop_table("audit_log")
