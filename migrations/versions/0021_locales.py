"""Who reads which language: a clinic's locale (its documents, and its staff's screens
when they set none) and a user's own language for the screens.

Both are CLDR locale tags as ``kitops.i18n.parse_locale`` normalises them (``de_AT``);
``NULL`` means "not set": the resolution order in ``kitops.i18n.resolve_locale`` goes on
to the next source.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs: both tables keep their rows, constraints and triggers
    op.add_column("locations", sa.Column("locale", sa.String(length=32), nullable=True))
    op.add_column("users", sa.Column("language", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a plain column in place
    op.drop_column("users", "language")
    op.drop_column("locations", "locale")
