"""Each home course's kit need dates, stored when the course is created, so one SQL
statement can reserve its kit without recomputing the calendar.

Existing courses get their rows the first time they are fulfilled (the general path
computes and stores them), so the upgrade itself needs no calendar arithmetic.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_kit_needs",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("first_use", sa.Date(), nullable=False),
        sa.Column("earliest_vial_last_use", sa.Date(), nullable=False),
        sa.Column("last_use", sa.Date(), nullable=False),
        sa.CheckConstraint("part >= 1", name=op.f("ck_course_kit_needs_part_positive")),
        sa.CheckConstraint(
            "first_use <= earliest_vial_last_use AND earliest_vial_last_use <= last_use",
            name=op.f("ck_course_kit_needs_dates_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_kit_needs_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("course_id", "part", name=op.f("pk_course_kit_needs")),
    )


def downgrade() -> None:
    op.drop_table("course_kit_needs")
