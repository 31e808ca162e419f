"""One covering index for the lot trace in place of the two (lot, location) indexes.

A trace groups every move of a lot by (from, to, reason, detail, reference); with all the
columns it reads in the index, that is an index-only scan instead of thousands of
scattered table reads.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = [
    "lot_id",
    "from_location_id",
    "to_location_id",
    "reason",
    "detail",
    "reference",
    "quantity",
    "created_at",
]


def upgrade() -> None:
    op.drop_index("ix_stock_moves_lot_id_from", table_name="stock_moves")
    op.drop_index("ix_stock_moves_lot_id_to", table_name="stock_moves")
    op.create_index("ix_stock_moves_lot_flow", "stock_moves", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_stock_moves_lot_flow", table_name="stock_moves")
    op.create_index("ix_stock_moves_lot_id_to", "stock_moves", ["lot_id", "to_location_id"])
    op.create_index("ix_stock_moves_lot_id_from", "stock_moves", ["lot_id", "from_location_id"])
