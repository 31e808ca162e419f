"""Every receipt of a lot with its own unit cost (``lot_receipts``).

Until now a lot held one cost, the first one given, and a second delivery of the lot at
another price was dropped. The receipts already in the ledger (``receipt`` moves from the
supplier, ``opening`` moves of ``import stock``) become receipt rows; the one cost kept
for a lot goes to its first receipt, and the later ones, whose cost was never kept, have
none, so each lot's average, and so its value, is what it was (README: Reports,
valuation).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lot_receipts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("audit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_lot_receipts_quantity_positive")),
        sa.CheckConstraint(
            "unit_cost_minor IS NULL OR unit_cost_minor >= 0",
            name=op.f("ck_lot_receipts_unit_cost"),
        ),
        sa.CheckConstraint(
            "(unit_cost_minor IS NULL) = (currency IS NULL)",
            name=op.f("ck_lot_receipts_cost_currency"),
        ),
        sa.CheckConstraint("source IN ('receipt', 'opening')", name=op.f("ck_lot_receipts_source")),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_log.id"], name=op.f("fk_lot_receipts_audit_id_audit_log")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_lot_receipts_location_id_locations")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_lot_receipts_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_receipts")),
    )
    with op.batch_alter_table("lot_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lot_receipts_lot_id"), ["lot_id"], unique=False)
    _receipts_from_the_ledger()


def _receipts_from_the_ledger() -> None:
    bind = op.get_bind()
    lots = sa.table(
        "lots",
        sa.column("id", sa.Integer),
        sa.column("unit_cost_minor", sa.BigInteger),
        sa.column("currency", sa.String),
    )
    locations = sa.table("locations", sa.column("id", sa.Integer), sa.column("kind", sa.String))
    moves = sa.table(
        "stock_moves",
        sa.column("id", sa.BigInteger),
        sa.column("lot_id", sa.Integer),
        sa.column("from_location_id", sa.Integer),
        sa.column("to_location_id", sa.Integer),
        sa.column("quantity", sa.Integer),
        sa.column("reason", sa.String),
        sa.column("reference", sa.String),
        sa.column("audit_id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    receipts = sa.table(
        "lot_receipts",
        sa.column("lot_id", sa.Integer),
        sa.column("location_id", sa.Integer),
        sa.column("quantity", sa.Integer),
        sa.column("unit_cost_minor", sa.BigInteger),
        sa.column("currency", sa.String),
        sa.column("source", sa.String),
        sa.column("reference", sa.String),
        sa.column("audit_id", sa.Integer),
        sa.column("received_at", sa.DateTime(timezone=True)),
    )
    source = locations.alias("source")
    found = bind.execute(
        sa.select(
            moves.c.lot_id, moves.c.to_location_id, moves.c.quantity, moves.c.reason,
            moves.c.reference, moves.c.audit_id, moves.c.created_at,
            lots.c.unit_cost_minor, lots.c.currency,
        )
        .join(lots, lots.c.id == moves.c.lot_id)
        .join(source, source.c.id == moves.c.from_location_id)
        .where(
            sa.or_(
                sa.and_(moves.c.reason == "receipt", source.c.kind == "supplier"),
                sa.and_(moves.c.reason == "opening", source.c.kind == "adjustment"),
            )
        )
        .order_by(moves.c.id)
    ).all()  # fmt: skip
    costed: set[int] = set()
    batch: list[dict[str, object]] = []
    for lot_id, place, qty, reason, reference, audit_id, at, unit, currency in found:
        first = unit is not None and currency is not None and lot_id not in costed
        if first:
            costed.add(lot_id)
        batch.append(
            {
                "lot_id": lot_id, "location_id": place, "quantity": qty,
                "unit_cost_minor": unit if first else None,
                "currency": currency if first else None,
                "source": "receipt" if reason == "receipt" else "opening",
                "reference": reference, "audit_id": audit_id, "received_at": at,
            }
        )  # fmt: skip
        if len(batch) >= 1000:
            op.bulk_insert(receipts, batch)
            batch = []
    if batch:
        op.bulk_insert(receipts, batch)


def downgrade() -> None:
    with op.batch_alter_table("lot_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lot_receipts_lot_id"))
    op.drop_table("lot_receipts")
