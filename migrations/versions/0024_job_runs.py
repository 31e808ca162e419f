"""Job runs: every `kitops jobs run` recorded (job, start, end, ok or failed, a short error
with no secrets, who ran it), so a job that failed twice in a row raises an alert; the
quiet hours for immediate alerts and how long a lot may wait for release before the
digest names it.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NEW_SETTINGS = [("alert_quiet_hours", "off"), ("alert_release_wait_days", "7")]


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.CheckConstraint("outcome IN ('ok', 'failed')", name=op.f("ck_job_runs_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index(op.f("ix_job_runs_job_id"), "job_runs", ["job", "id"])
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(settings, [{"key": k, "value": v} for k, v in NEW_SETTINGS])


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM settings WHERE key IN ('alert_quiet_hours', 'alert_release_wait_days')"
        )
    )
    op.drop_index("ix_job_runs_job_id", table_name="job_runs")
    op.drop_table("job_runs")
