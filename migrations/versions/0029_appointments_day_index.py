"""An index on ``course_appointments`` by day (then kind, session number and course), so
the demand's count of the clinic sessions still to come reads only the window's
appointments, from the index alone.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

INDEX = "ix_course_appointments_day_kind_number"


def upgrade() -> None:
    op.create_index(INDEX, "course_appointments", ["day", "kind", "number", "course_id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="course_appointments")
