"""The clinic's real week: course lifecycle and reschedules, clinic opening days,
closures and appointments, session supplies traced lot by lot, and what a purchase order,
a label and a patient calendar must say (addresses, VAT rates, storage and usage lines).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('scheduled', 'cancelled', 'completed')"
NEW_STATUSES = (
    "status IN ('scheduled', 'active', 'paused', 'completed', 'ended_early', 'cancelled')"
)
NEW_SETTINGS = [
    ("clinic_sessions_per_day", "8"),
    (
        "home_application_instructions",
        "Do not wash your hair for at least 24 hours after an application, 48 hours if you can.",
    ),
]


def course_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("paused_on", sa.Date(), nullable=True),
        sa.Column("appointment_time", sa.Time(), nullable=True),
        sa.Column("reschedules", sa.String(length=2000), nullable=True),
    )


def location_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("open_weekdays", sa.String(length=32), nullable=True),
        sa.Column("opens_at", sa.Time(), nullable=True),
        sa.Column("sessions_per_day", sa.Integer(), nullable=True),
    )


def upgrade() -> None:
    # courses has no triggers: a batch rebuild on SQLite keeps everything it has
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_courses_status"), type_="check")
        batch_op.create_check_constraint("status", NEW_STATUSES)
        for column in course_columns():
            batch_op.add_column(column)
    # a clinic session finishing the vial its pair opened takes no new vial (quantity 0);
    # course_sessions has no triggers: the batch rebuild on SQLite keeps all it has
    with op.batch_alter_table("course_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_course_sessions_quantity_positive"), type_="check")
        batch_op.create_check_constraint("quantity_not_negative", "quantity >= 0")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needle_min_um", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("needle_max_um", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("interval_weeks", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.create_check_constraint("interval_weeks", "interval_weeks BETWEEN 1 AND 52")
        batch_op.create_check_constraint(
            "needles",
            "needle_min_um IS NULL OR (needle_min_um > 0 AND needle_max_um >= needle_min_um)",
        )
    # plain ADD COLUMNs: locations, suppliers and products keep their rows and constraints
    for column in location_columns():
        op.add_column("locations", column)
    op.add_column("suppliers", sa.Column("address", sa.String(length=300), nullable=True))
    op.add_column("suppliers", sa.Column("payment_terms", sa.String(length=200), nullable=True))
    op.add_column("products", sa.Column("storage", sa.String(length=200), nullable=True))
    op.add_column("products", sa.Column("usage", sa.String(length=200), nullable=True))
    op.create_table(
        "clinic_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_clinic_closures_days_in_order")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["locations.id"], name=op.f("fk_clinic_closures_clinic_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_closures")),
    )
    op.create_index(
        "ix_clinic_closures_clinic_id_first_day", "clinic_closures", ["clinic_id", "first_day"]
    )
    op.create_table(
        "vat_rates",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("product_kind", sa.String(length=20), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint("rate_bp BETWEEN 0 AND 10000", name=op.f("ck_vat_rates_rate")),
        sa.PrimaryKeyConstraint("country", "product_kind", name=op.f("pk_vat_rates")),
    )
    op.create_table(
        "course_appointments",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("planned_day", sa.Date(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", sa.Time(), nullable=False),
        sa.Column("moved_because", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('application', 'checkin', 'followup')",
            name=op.f("ck_course_appointments_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_appointments_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["locations.id"],
            name=op.f("fk_course_appointments_clinic_id_locations"),
        ),
        sa.PrimaryKeyConstraint("course_id", "kind", "number", name=op.f("pk_course_appointments")),
    )
    op.create_index(
        "ix_course_appointments_clinic_id_day", "course_appointments", ["clinic_id", "day"]
    )
    op.create_table(
        "course_session_items",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_course_session_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["course_sessions.id"],
            name=op.f("fk_course_session_items_session_id_course_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_course_session_items_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_course_session_items_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("session_id", "lot_id", name=op.f("pk_course_session_items")),
    )
    op.create_index(
        op.f("ix_course_session_items_lot_id"), "course_session_items", ["lot_id"], unique=False
    )
    # a course's history (`course show`) reads its audit rows by entity
    op.create_index("ix_audit_log_entity_entity_key", "audit_log", ["entity", "entity_key"])
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(settings, [{"key": k, "value": v} for k, v in NEW_SETTINGS])


def downgrade() -> None:
    settings = sa.table("settings", sa.column("key", sa.String))
    op.execute(settings.delete().where(settings.c.key.in_([k for k, _ in NEW_SETTINGS])))
    op.drop_index("ix_audit_log_entity_entity_key", table_name="audit_log")
    op.drop_index(op.f("ix_course_session_items_lot_id"), table_name="course_session_items")
    op.drop_table("course_session_items")
    op.drop_index("ix_course_appointments_clinic_id_day", table_name="course_appointments")
    op.drop_table("course_appointments")
    op.drop_table("vat_rates")
    op.drop_index("ix_clinic_closures_clinic_id_first_day", table_name="clinic_closures")
    op.drop_table("clinic_closures")
    for table, column in (("products", "usage"), ("products", "storage"),
                          ("suppliers", "payment_terms"), ("suppliers", "address")):  # fmt: skip
        op.drop_column(table, column)  # SQLite 3.35+ drops a plain column in place
    for added in reversed(location_columns()):
        op.drop_column("locations", added.name)
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plans_needles"), type_="check")
        batch_op.drop_constraint(op.f("ck_plans_interval_weeks"), type_="check")
        batch_op.drop_column("interval_weeks")
        batch_op.drop_column("needle_max_um")
        batch_op.drop_column("needle_min_um")
    # the old schema records a vial for every session: the second halves say one again
    op.execute("UPDATE course_sessions SET quantity = 1 WHERE quantity = 0")
    with op.batch_alter_table("course_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_course_sessions_quantity_not_negative"), type_="check")
        batch_op.create_check_constraint("quantity_positive", "quantity > 0")
    # the old schema knows only scheduled, cancelled and completed
    op.execute("UPDATE courses SET status = 'scheduled' WHERE status IN ('active', 'paused')")
    op.execute("UPDATE courses SET status = 'completed' WHERE status = 'ended_early'")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        for added in reversed(course_columns()):
            batch_op.drop_column(added.name)
        batch_op.drop_constraint(op.f("ck_courses_status"), type_="check")
        batch_op.create_check_constraint("status", OLD_STATUSES)
