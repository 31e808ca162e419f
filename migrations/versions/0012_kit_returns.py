"""Kits back from a patient: a sealed return waits in ``quarantine`` until a manager
releases it; an opened return stays written off *and linked to its course part*, so the
course shows that part as returned opened and fulfilment leaves it alone (a replacement
is reserved only on request: ``kitops course replace-kit``).

So the kit status ``quarantine`` is allowed, and a course part is held by one kit at
most among those not written off (an opened return and its replacement share the part).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_STATUSES = (
    "status IN ('available', 'reserved', 'shipped', 'handed_over', 'disassembled', "
    "'written_off', 'recalled', 'expired')"
)
NEW_STATUSES = (
    "status IN ('available', 'reserved', 'shipped', 'handed_over', 'disassembled', "
    "'written_off', 'recalled', 'expired', 'quarantine')"
)
OLD_PART_RULE = "course_id IS NOT NULL"
NEW_PART_RULE = "course_id IS NOT NULL AND status <> 'written_off'"


def _change(statuses: str, part_rule: str) -> None:
    with op.batch_alter_table("kits", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_kits_status"), type_="check")
        batch_op.create_check_constraint("status", statuses)
        batch_op.drop_index("uq_kits_course_id_course_part")
        batch_op.create_index(
            "uq_kits_course_id_course_part",
            ["course_id", "course_part"],
            unique=True,
            sqlite_where=sa.text(part_rule),
            postgresql_where=sa.text(part_rule),
        )


def upgrade() -> None:
    _change(NEW_STATUSES, NEW_PART_RULE)


def downgrade() -> None:
    # kits that cannot exist before this revision: a quarantined kit becomes available
    # again (as a sealed return did then), an opened return lets go of its course part
    kits = sa.table(
        "kits",
        sa.column("status", sa.String),
        sa.column("course_id", sa.Integer),
        sa.column("course_part", sa.Integer),
    )
    op.execute(kits.update().where(kits.c.status == "quarantine").values(status="available"))
    op.execute(
        kits.update()
        .where(kits.c.status == "written_off", kits.c.course_id.is_not(None))
        .values(course_id=None, course_part=None)
    )
    _change(OLD_STATUSES, OLD_PART_RULE)
