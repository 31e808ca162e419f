"""Less server work on every reservation of a kit and every audit row.

- The free-kit index gains the kit id as its last key, ``(status, product_id, expiry,
  id)``: a reservation takes the earliest-expiring kit, ties by id, so the index now
  gives that order itself and the scan stops at the first kit that qualifies, where it
  read and checked at least 32 kits (a sort's first batch) before. It replaces
  ``(status, product_id, expiry)``, whose every use it serves.
- PostgreSQL: the outbox trigger on ``audit_log`` fires only for the actions that can be
  an event (``WHEN``, as the SQLite trigger already had it). Any other audit row (a
  reservation, a move...) no longer queues an after-trigger event nor runs the function;
  the function itself is unchanged and still decides the event, and whether any
  subscription is active.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# kitops.domain.outbound_webhooks.EVENT_OF_ACTION's keys as this migration wrote them (a
# migration never imports the code it migrates); an order's row may be an event too
EVENT_ACTIONS = (
    "lot.recalled", "lot.quarantine", "lot.released", "kit.assemble", "kit.ship",
    "kit.handover", "kit.return", "po.approve", "po.send", "po.receive", "po.cancel",
    "course.create", "course.cancel", "course.complete",
)  # fmt: skip
_WHEN = (
    "WHEN (NEW.action IN (" + ", ".join(f"'{action}'" for action in EVENT_ACTIONS) + ") "
    "OR NEW.action LIKE 'order.%')"
)
_DROP_TRIGGER = "DROP TRIGGER IF EXISTS webhook_outbox_from_audit ON audit_log"
_CREATE_TRIGGER = (
    "CREATE TRIGGER webhook_outbox_from_audit AFTER INSERT ON audit_log FOR EACH ROW {when} "
    "EXECUTE FUNCTION kitops_webhook_outbox()"
)


def upgrade() -> None:
    op.create_index(
        "ix_kits_status_product_id_expiry_id", "kits", ["status", "product_id", "expiry", "id"]
    )
    op.drop_index("ix_kits_status_product_id_expiry", table_name="kits")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_DROP_TRIGGER)
        op.execute(_CREATE_TRIGGER.format(when=_WHEN))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_DROP_TRIGGER)
        op.execute(_CREATE_TRIGGER.format(when=""))
    op.create_index("ix_kits_status_product_id_expiry", "kits", ["status", "product_id", "expiry"])
    op.drop_index("ix_kits_status_product_id_expiry_id", table_name="kits")
