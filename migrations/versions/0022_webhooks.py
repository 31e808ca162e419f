"""Outbound webhooks: subscriptions, the outbox of events, and the events given up.

An audit row whose action is one of the events (a recall, a shipped kit, a sent purchase
order, an order paid...) writes its outbox row by a trigger, in the same transaction, and
only while some subscription is active: the event exists exactly when the change does,
whatever code path made it (the ORM or the one-statement PostgreSQL paths).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# kitops.domain.outbound_webhooks.EVENT_OF_ACTION and EVENT_OF_ORDER_STATUS as this migration wrote
# them (a migration never imports the code it migrates)
EVENT_OF_ACTION = {
    "lot.recalled": "lot.recalled",
    "lot.quarantine": "lot.quarantined",
    "lot.released": "lot.released",
    "kit.assemble": "kit.assembled",
    "kit.ship": "kit.shipped",
    "kit.handover": "kit.handed_over",
    "kit.return": "kit.returned",
    "po.approve": "po.approved",
    "po.send": "po.sent",
    "po.receive": "po.received",
    "po.cancel": "po.cancelled",
    "course.create": "course.created",
    "course.cancel": "course.cancelled",
    "course.complete": "course.completed",
}
EVENT_OF_ORDER_STATUS = {"paid": "order.paid", "failed": "order.payment_failed",
                         "refunded": "order.refunded"}  # fmt: skip


def _case(subject: str, table: dict[str, str]) -> str:
    whens = " ".join(f"WHEN '{key}' THEN '{value}'" for key, value in table.items())
    return f"CASE {subject} {whens} END"


def _sqlite_trigger() -> str:
    actions = ", ".join(f"'{a}'" for a in EVENT_OF_ACTION)
    statuses = ", ".join(f"'{s}'" for s in EVENT_OF_ORDER_STATUS)
    after_status = "json_extract(NEW.after, '$.status')"
    before_status = "coalesce(json_extract(NEW.before, '$.status'), '')"
    order_change = (
        f"(NEW.action LIKE 'order.%' AND {after_status} IN ({statuses}) "
        f"AND {before_status} <> {after_status})"
    )
    return f"""
    CREATE TRIGGER webhook_outbox_from_audit AFTER INSERT ON audit_log
    WHEN (NEW.action IN ({actions}) OR {order_change})
         AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE active)
    BEGIN
        INSERT INTO webhook_outbox (audit_id, event, created_at)
        VALUES (NEW.id,
                coalesce({_case("NEW.action", EVENT_OF_ACTION)},
                         {_case(after_status, EVENT_OF_ORDER_STATUS)}),
                NEW.at);
    END
    """


def _postgresql_function() -> str:
    return f"""
    CREATE FUNCTION kitops_webhook_outbox() RETURNS trigger AS $$
    DECLARE
        kind text;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE active) THEN
            RETURN NULL;
        END IF;
        kind := {_case("NEW.action", EVENT_OF_ACTION)};
        IF kind IS NULL AND NEW.action LIKE 'order.%'
           AND (NEW.after ->> 'status') IS DISTINCT FROM (NEW.before ->> 'status') THEN
            kind := {_case("NEW.after ->> 'status'", EVENT_OF_ORDER_STATUS)};
        END IF;
        IF kind IS NOT NULL THEN
            INSERT INTO webhook_outbox (audit_id, event, created_at)
            VALUES (NEW.id, kind, NEW.at);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("events", sa.String(length=1000), nullable=False),
        sa.Column("secret_file", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("cursor", BigId, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("last_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered", BigId, nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("audit_id", BigId, nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_log.id"], name=op.f("fk_webhook_outbox_audit_id_audit_log")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_outbox")),
        sa.UniqueConstraint("audit_id", name=op.f("uq_webhook_outbox_audit_id")),
    )
    op.create_table(
        "webhook_failures",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", BigId, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_failures_subscription_id_webhook_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["webhook_outbox.id"],
            name=op.f("fk_webhook_failures_outbox_id_webhook_outbox"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_failures")),
    )  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgresql_function())
        op.execute(
            "CREATE TRIGGER webhook_outbox_from_audit AFTER INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION kitops_webhook_outbox()"
        )
    else:
        op.execute(_sqlite_trigger())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS webhook_outbox_from_audit ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS kitops_webhook_outbox()")
    else:
        op.execute("DROP TRIGGER IF EXISTS webhook_outbox_from_audit")
    op.drop_table("webhook_failures")
    op.drop_table("webhook_outbox")
    op.drop_table("webhook_subscriptions")
