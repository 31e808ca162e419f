"""A kit can be `expired`: the expiry sweep moves an expired kit to quarantine with its
stock and marks it so (kits follow their stock).

Existing kit records are left as they are: the next `kitops expiry sweep` marks kits whose
stock an earlier sweep put aside, and `kitops db check` lists any it has not reached yet.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_STATUSES = (
    "status IN ('available', 'reserved', 'shipped', 'handed_over', 'disassembled', "
    "'written_off', 'recalled')"
)
NEW_STATUSES = (
    "status IN ('available', 'reserved', 'shipped', 'handed_over', 'disassembled', "
    "'written_off', 'recalled', 'expired')"
)


def _kit_statuses(check: str) -> None:
    with op.batch_alter_table("kits", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_kits_status"), type_="check")
        batch_op.create_check_constraint("status", check)


def upgrade() -> None:
    _kit_statuses(NEW_STATUSES)


def downgrade() -> None:
    # an expired kit sits in quarantine until written off; the old schema knew it as
    # `recalled` (blocked, in the stockroom, to be destroyed), the nearest it had
    op.execute("UPDATE kits SET status = 'recalled' WHERE status = 'expired'")
    _kit_statuses(OLD_STATUSES)
