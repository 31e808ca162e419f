"""The last day of every vial of a course's kit, stored beside the kit's need dates, so
the scheduled demand (the reorder job, the demand and cover reports) matches a kit of
any size vial by vial without computing the course calendar.

Existing rows are filled where their dates already say it: a kit of one vial (its day is
``last_use``) or of two (``earliest_vial_last_use``, ``last_use``). The rows of a larger
kit cannot be filled without calendar arithmetic: they are removed, the state a kit
recipe change leaves, and computed again (with every vial's day) the next time the course
is fulfilled or its dates are stored; until then the demand computes them from the
calendar, as before.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# vials per kit of the course's plan: the quantity of the first serum vial of its recipe
_VIALS = """(
    SELECT r.quantity
    FROM courses AS c
    JOIN plans AS p ON p.id = c.plan_id
    JOIN kit_recipe_lines AS r ON r.kit_product_id = p.kit_product_id
    JOIN products AS s ON s.id = r.component_product_id
    WHERE c.id = course_kit_needs.course_id AND s.kind = 'serum_vial'
      AND s.volume_ul IS NOT NULL AND s.volume_ul > 0
    ORDER BY r.position
    LIMIT 1
)"""


def upgrade() -> None:
    with op.batch_alter_table("course_kit_needs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vial_last_uses", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        earliest = "to_char(earliest_vial_last_use, 'YYYY-MM-DD')"
        last = "to_char(last_use, 'YYYY-MM-DD')"
    else:  # SQLite keeps dates as ISO text
        earliest, last = "earliest_vial_last_use", "last_use"
    op.execute(
        f"UPDATE course_kit_needs SET vial_last_uses = CASE {_VIALS} "
        f"WHEN 1 THEN {last} WHEN 2 THEN {earliest} || ',' || {last} END"
    )
    op.execute("DELETE FROM course_kit_needs WHERE vial_last_uses IS NULL")
    with op.batch_alter_table("course_kit_needs", schema=None) as batch_op:
        batch_op.alter_column("vial_last_uses", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("course_kit_needs", schema=None) as batch_op:
        batch_op.drop_column("vial_last_uses")
