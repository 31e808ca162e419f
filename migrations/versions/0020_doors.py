"""The manager's and the integrator's doors (`kitops serve`): users limited to some
clinics, API tokens kept as hashes, and the answers to POST requests carrying an
``Idempotency-Key`` so a retried request is answered again instead of done twice.

Web sessions are ``user_sessions`` rows whose identity is ``web`` (migration 0018's
table): a random token in a signed cookie, its SHA-256 in the row, idle for at most
``web_session_idle_minutes``.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

NEW_SETTINGS = [("web_session_idle_minutes", "30")]


def upgrade() -> None:
    op.create_table(
        "user_clinics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_clinics_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_user_clinics_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_clinics")),
        sa.UniqueConstraint(
            "user_id", "location_id", name=op.f("uq_user_clinics_user_id_location_id")
        ),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("actor", "key", name=op.f("uq_idempotency_keys_actor_key")),
    )
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(settings, [{"key": k, "value": v} for k, v in NEW_SETTINGS])


def downgrade() -> None:
    settings = sa.table("settings", sa.column("key", sa.String))
    op.execute(settings.delete().where(settings.c.key.in_([k for k, _ in NEW_SETTINGS])))
    op.drop_table("idempotency_keys")
    op.drop_table("api_tokens")
    op.drop_table("user_clinics")
