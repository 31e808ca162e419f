"""Orders and payments: prices per product or plan and currency, orders and their lines,
payment attempts, refunds, the Stripe events handled and the Events API cursor.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stripe_sync",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_created", sa.BigInteger(), nullable=True),
        sa.Column("last_event_id", sa.String(length=255), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stripe_sync")),
    )
    op.create_table(
        "prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("unit_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(product_id IS NULL) <> (plan_id IS NULL)", name=op.f("ck_prices_one_item")
        ),
        sa.CheckConstraint("unit_amount_minor >= 0", name=op.f("ck_prices_amount")),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_prices_plan_id_plans")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_prices_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prices")),
        sa.UniqueConstraint("plan_id", "currency", name=op.f("uq_prices_plan_id_currency")),
        sa.UniqueConstraint("product_id", "currency", name=op.f("uq_prices_product_id_currency")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_ref", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'pending', 'failed', 'paid', 'partially_refunded', "
            "'refunded', 'cancelled')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint("paid_minor >= 0", name=op.f("ck_orders_paid")),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= paid_minor", name=op.f("ck_orders_refunded")
        ),
        sa.CheckConstraint("total_minor > 0", name=op.f("ck_orders_total_positive")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["locations.id"], name=op.f("fk_orders_clinic_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_orders_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("reference", name=op.f("uq_orders_reference")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_clinic_id_currency", ["clinic_id", "currency"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_orders_course_id"), ["course_id"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "amount_minor = quantity * unit_amount_minor", name=op.f("ck_order_lines_amount")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.CheckConstraint("unit_amount_minor >= 0", name=op.f("ck_order_lines_unit_amount")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_order_lines_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_order_lines_product_id_products")
        ),
        sa.PrimaryKeyConstraint("order_id", "line_no", name=op.f("pk_order_lines")),
    )
    op.create_table(
        "order_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("intent_id", sa.String(length=255), nullable=True),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("failure", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("method IN ('card', 'checkout')", name=op.f("ck_order_payments_method")),
        sa.CheckConstraint(
            "status IN ('requested', 'pending', 'succeeded', 'failed', 'expired', 'cancelled')",
            name=op.f("ck_order_payments_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_order_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_payments_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_order_payments_idempotency_key")),
        sa.UniqueConstraint("intent_id", name=op.f("uq_order_payments_intent_id")),
        sa.UniqueConstraint(
            "order_id", "attempt_no", name=op.f("uq_order_payments_order_id_attempt_no")
        ),
        sa.UniqueConstraint("session_id", name=op.f("uq_order_payments_session_id")),
    )
    op.create_table(
        "order_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("refund_no", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("restock", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=True),
        sa.Column("refund_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "restock IN ('none', 'sealed', 'write-off')", name=op.f("ck_order_refunds_restock")
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'pending', 'requires_action', 'succeeded', 'failed', "
            "'canceled')",
            name=op.f("ck_order_refunds_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_order_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_refunds_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_order_refunds_idempotency_key")),
        sa.UniqueConstraint(
            "order_id", "refund_no", name=op.f("uq_order_refunds_order_id_refund_no")
        ),
        sa.UniqueConstraint("refund_id", name=op.f("uq_order_refunds_refund_id")),
    )
    op.create_table(
        "stripe_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_stripe_events_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_stripe_events")),
    )
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stripe_events_created"), ["created"], unique=False)
        batch_op.create_index(batch_op.f("ix_stripe_events_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_events_order_id"))
        batch_op.drop_index(batch_op.f("ix_stripe_events_created"))

    op.drop_table("stripe_events")
    op.drop_table("order_refunds")
    op.drop_table("order_payments")
    op.drop_table("order_lines")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_course_id"))
        batch_op.drop_index("ix_orders_clinic_id_currency")

    op.drop_table("orders")
    op.drop_table("prices")
    op.drop_table("stripe_sync")
