"""An index on the lots' expiry: the stock list, soonest expiry first, reads lots in
expiry order and stops after its page instead of sorting every line of a place (a
fridge with 16,800 lines on a database of 100,000 lots: the first page a scanned location
label opens).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_lots_expiry"), "lots", ["expiry"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lots_expiry"), table_name="lots")
