"""Ledger moves carry a detail: the write-off reason (damaged, expired, opened, other).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no table rebuild, so the append-only triggers stay in place.
    op.add_column("stock_moves", sa.Column("detail", sa.String(length=32), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite drops a column in place since 3.35; batch mode would rebuild the table
        # and lose its triggers.
        op.execute("ALTER TABLE stock_moves DROP COLUMN detail")
    else:
        op.drop_column("stock_moves", "detail")
