"""Kits, treatment plans, courses and clinic sessions; the ASSEMBLY virtual location.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


OLD_KINDS = (
    "kind IN ('clinic', 'stockroom', 'fridge', 'shelf', 'quarantine', "
    "'supplier', 'patient', 'scrap', 'adjustment')"
)
NEW_KINDS = (
    "kind IN ('clinic', 'stockroom', 'fridge', 'shelf', 'quarantine', "
    "'supplier', 'patient', 'scrap', 'adjustment', 'assembly')"
)
LOCATIONS = sa.table(
    "locations",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("active", sa.Boolean),
)


def _location_kinds(check: str) -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_locations_kind"), type_="check")
        batch_op.create_check_constraint("kind", check)


def upgrade() -> None:
    # Components leave a place for ASSEMBLY and kits come out of it (and back on
    # disassembly), so every kit move has a source and a destination.
    _location_kinds(NEW_KINDS)
    op.bulk_insert(
        LOCATIONS,
        [{"code": "ASSEMBLY", "name": "Kit assembly (components in, kits out)",
          "kind": "assembly", "active": True}],
    )  # fmt: skip
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("applications_per_week", sa.Integer(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("serum_ul_per_application", sa.Integer(), nullable=False),
        sa.Column("administered", sa.String(length=10), nullable=False),
        sa.Column("kit_product_id", sa.Integer(), nullable=True),
        sa.Column("kits_per_course", sa.Integer(), nullable=False),
        sa.Column("default_weekdays", sa.String(length=32), nullable=True),
        sa.Column("checkin_weeks", sa.String(length=100), nullable=False),
        sa.Column("followup_months", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "administered IN ('home', 'clinic')", name=op.f("ck_plans_administered")
        ),
        sa.CheckConstraint("applications_per_week BETWEEN 1 AND 7", name=op.f("ck_plans_per_week")),
        sa.CheckConstraint("kits_per_course >= 0", name=op.f("ck_plans_kits")),
        sa.CheckConstraint("serum_ul_per_application > 0", name=op.f("ck_plans_serum")),
        sa.CheckConstraint("weeks BETWEEN 1 AND 104", name=op.f("ck_plans_weeks")),
        sa.ForeignKeyConstraint(
            ["kit_product_id"], ["products.id"], name=op.f("fk_plans_kit_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("code", name=op.f("uq_plans_code")),
    )
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_ref", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("weekdays", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('scheduled', 'cancelled', 'completed')", name=op.f("ck_courses_status")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["locations.id"], name=op.f("fk_courses_clinic_id_locations")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_courses_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_courses_clinic_id_start_date", ["clinic_id", "start_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_courses_patient_ref"), ["patient_ref"], unique=False)

    op.create_table(
        "course_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("session_no", sa.Integer(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_course_sessions_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_sessions_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_course_sessions_lot_id_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_sessions")),
        sa.UniqueConstraint(
            "course_id", "session_no", name=op.f("uq_course_sessions_course_id_session_no")
        ),
    )
    with op.batch_alter_table("course_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_sessions_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "kits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("vial_expiries", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("course_part", sa.Integer(), nullable=True),
        sa.Column("recalled", sa.Boolean(), nullable=False),
        sa.Column("tracking", sa.String(length=64), nullable=True),
        sa.Column("assembled_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('available', 'reserved', 'shipped', 'handed_over', 'disassembled', "
            "'written_off', 'recalled')",
            name=op.f("ck_kits_status"),
        ),
        sa.CheckConstraint(
            "(course_id IS NULL) = (course_part IS NULL)",
            name=op.f("ck_kits_course_part_with_course"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_kits_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_kits_location_id_locations")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_kits_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_kits_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kits")),
        sa.UniqueConstraint("lot_id", name=op.f("uq_kits_lot_id")),
        sa.UniqueConstraint("serial", name=op.f("uq_kits_serial")),
    )
    with op.batch_alter_table("kits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kits_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kits_location_id"), ["location_id"], unique=False)
        batch_op.create_index(
            "ix_kits_status_product_id_expiry", ["status", "product_id", "expiry"], unique=False
        )
        batch_op.create_index(
            "uq_kits_course_id_course_part",
            ["course_id", "course_part"],
            unique=True,
            sqlite_where=sa.text("course_id IS NOT NULL"),
            postgresql_where=sa.text("course_id IS NOT NULL"),
        )

    op.create_table(
        "kit_components",
        sa.Column("kit_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_kit_components_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["kit_id"], ["kits.id"], name=op.f("fk_kit_components_kit_id_kits")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_kit_components_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_kit_components_product_id_products")
        ),
        sa.PrimaryKeyConstraint("kit_id", "lot_id", name=op.f("pk_kit_components")),
    )
    with op.batch_alter_table("kit_components", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kit_components_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kit_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kit_components_lot_id"))

    op.drop_table("kit_components")
    with op.batch_alter_table("kits", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_kits_course_id_course_part",
            sqlite_where=sa.text("course_id IS NOT NULL"),
            postgresql_where=sa.text("course_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_kits_status_product_id_expiry")
        batch_op.drop_index(batch_op.f("ix_kits_location_id"))
        batch_op.drop_index(batch_op.f("ix_kits_course_id"))

    op.drop_table("kits")
    with op.batch_alter_table("course_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_sessions_lot_id"))

    op.drop_table("course_sessions")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_patient_ref"))
        batch_op.drop_index("ix_courses_clinic_id_start_date")

    op.drop_table("courses")
    op.drop_table("plans")
    op.execute(LOCATIONS.delete().where(LOCATIONS.c.code == "ASSEMBLY"))
    _location_kinds(OLD_KINDS)
