"""Reorder and purchase orders: policies, orders and their lines, session supplies of
plans, job locks; suppliers can be retired.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    op.create_table(
        "plan_session_items",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_plan_session_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_session_items_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_plan_session_items_product_id_products")
        ),
        sa.PrimaryKeyConstraint("plan_id", "product_id", name=op.f("pk_plan_session_items")),
    )

    op.create_table(
        "reorder_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("min_qty", sa.Integer(), nullable=True),
        sa.Column("max_qty", sa.Integer(), nullable=True),
        sa.Column("review_period_days", sa.Integer(), nullable=False),
        sa.Column("safety_days", sa.Integer(), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lead_time_days IS NULL OR lead_time_days BETWEEN 0 AND 365",
            name=op.f("ck_reorder_policies_lead_time"),
        ),
        sa.CheckConstraint(
            "max_qty IS NULL OR max_qty >= 1", name=op.f("ck_reorder_policies_max_qty")
        ),
        sa.CheckConstraint(
            "method <> 'min_max' OR (min_qty IS NOT NULL AND max_qty IS NOT NULL)",
            name=op.f("ck_reorder_policies_min_max_levels"),
        ),
        sa.CheckConstraint(
            "method IN ('min_max', 'calendar')", name=op.f("ck_reorder_policies_method")
        ),
        sa.CheckConstraint(
            "min_qty IS NULL OR min_qty >= 0", name=op.f("ck_reorder_policies_min_qty")
        ),
        sa.CheckConstraint(
            "min_qty IS NULL OR max_qty IS NULL OR max_qty >= min_qty",
            name=op.f("ck_reorder_policies_max_over_min"),
        ),
        sa.CheckConstraint(
            "review_period_days BETWEEN 0 AND 365", name=op.f("ck_reorder_policies_review_period")
        ),
        sa.CheckConstraint(
            "safety_days BETWEEN 0 AND 365", name=op.f("ck_reorder_policies_safety_days")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["locations.id"], name=op.f("fk_reorder_policies_clinic_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_reorder_policies_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id", "product_id"],
            ["supplier_items.supplier_id", "supplier_items.product_id"],
            name=op.f("fk_reorder_policies_supplier_id_product_id_supplier_items"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_reorder_policies_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reorder_policies")),
        sa.UniqueConstraint(
            "product_id", "clinic_id", name=op.f("uq_reorder_policies_product_id_clinic_id")
        ),
    )
    with op.batch_alter_table("reorder_policies", schema=None) as batch_op:
        batch_op.create_index("ix_reorder_policies_clinic_id", ["clinic_id"], unique=False)
        batch_op.create_index(
            "ix_reorder_policies_supplier_id_product_id",
            ["supplier_id", "product_id"],
            unique=False,
        )

    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "origin IN ('reorder', 'manual')", name=op.f("ck_purchase_orders_origin")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'sent', 'partial', 'received', 'cancelled')",
            name=op.f("ck_purchase_orders_status"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["locations.id"], name=op.f("fk_purchase_orders_clinic_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_purchase_orders_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_orders")),
    )
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_purchase_orders_status_clinic_id", ["status", "clinic_id"], unique=False
        )
        batch_op.create_index(
            "uq_purchase_orders_supplier_id_clinic_id_draft",
            ["supplier_id", "clinic_id"],
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )

    op.create_table(
        "purchase_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received_qty", sa.Integer(), nullable=False),
        sa.Column("unit_cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("need_by", sa.Date(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_purchase_order_lines_quantity_positive")),
        sa.CheckConstraint("received_qty >= 0", name=op.f("ck_purchase_order_lines_received")),
        sa.CheckConstraint("unit_cost_minor >= 0", name=op.f("ck_purchase_order_lines_unit_cost")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_purchase_order_lines_order_id_purchase_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_purchase_order_lines_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_order_lines")),
        sa.UniqueConstraint(
            "order_id", "product_id", name=op.f("uq_purchase_order_lines_order_id_product_id")
        ),
    )
    with op.batch_alter_table("purchase_order_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_purchase_order_lines_product_id_closed", ["product_id", "closed"], unique=False
        )

    op.create_table(
        "job_locks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_locks")),
    )


def downgrade() -> None:
    op.drop_table("job_locks")
    with op.batch_alter_table("purchase_order_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_order_lines_product_id_closed")

    op.drop_table("purchase_order_lines")
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_purchase_orders_supplier_id_clinic_id_draft",
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )
        batch_op.drop_index("ix_purchase_orders_status_clinic_id")

    op.drop_table("purchase_orders")
    with op.batch_alter_table("reorder_policies", schema=None) as batch_op:
        batch_op.drop_index("ix_reorder_policies_supplier_id_product_id")
        batch_op.drop_index("ix_reorder_policies_clinic_id")

    op.drop_table("reorder_policies")
    op.drop_table("plan_session_items")
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.drop_column("active")
