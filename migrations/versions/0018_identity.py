"""Who acts is proven, not claimed: a kitops user may be bound to a login (the operating-
system account on SQLite, the database login role on PostgreSQL), and ``kitops login``
keeps short-lived sessions (README: Users, roles and audit).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NEW_SETTINGS = [("session_idle_minutes", "15")]


def upgrade() -> None:
    # a plain ADD COLUMN and a unique index: a batch rebuild of ``users`` on SQLite would
    # drop its last-admin triggers (migration 0017)
    op.add_column("users", sa.Column("login", sa.String(length=64), nullable=True))
    op.create_index("ix_users_login", "users", ["login"], unique=True)
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(settings, [{"key": k, "value": v} for k, v in NEW_SETTINGS])


def downgrade() -> None:
    settings = sa.table("settings", sa.column("key", sa.String))
    op.execute(settings.delete().where(settings.c.key.in_([k for k, _ in NEW_SETTINGS])))
    op.drop_table("user_sessions")
    op.drop_index("ix_users_login", table_name="users")
    op.drop_column("users", "login")  # SQLite 3.35+ drops a plain column in place
