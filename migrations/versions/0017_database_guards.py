"""The database keeps kitops' invariants itself, whoever writes to it.

- ``stock_balances`` is maintained by a trigger on ``stock_moves``: a balance changes only
  together with a ledger row, so "balances equal the sum of moves" holds by construction
  (``kitops db check`` stays as the proof). Any other change to a balance is refused: on
  PostgreSQL unless it comes from that trigger, on SQLite unless the new quantity is what the
  ledger sums to.
- A recalled lot leaves ``recalled`` only for ``quarantine`` (then a release: the two
  documented steps); a kit never loses its recall flag, and a recalled kit only goes on to
  be written off or taken apart.
- The last active admin cannot be deleted, disabled or given another role.
- PostgreSQL stamps every ledger and audit row with the connection's login role and the
  server's clock (``db_role``, ``db_time``), whatever the inserting statement says.

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None

# kitops.domain.locations.PHYSICAL_KINDS, as the migration wrote it (a migration never
# imports the code it migrates: that code changes, the migration must not)
PHYSICAL = "('clinic', 'stockroom', 'fridge', 'shelf', 'quarantine')"
STAMPED = ("stock_moves", "audit_log")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# --- SQLite ------------------------------------------------------------------------------

# One row trigger per side of a move: the destination gains (a new balance row or more on
# an existing one), the source loses; a balance that would go below zero fails the table's
# CHECK (quantity >= 0). SQLite checks an upsert's candidate row before it finds the
# conflict, so the losing side is a plain UPDATE of a row that must exist. Each records
# the move it applied (``applied_move_id``): that is what the guards check, cheaply.
_SQLITE_APPLY = [
    f"""
    CREATE TRIGGER stock_moves_apply_to AFTER INSERT ON stock_moves
    WHEN EXISTS (SELECT 1 FROM locations
                 WHERE id = NEW.to_location_id AND kind IN {PHYSICAL})
    BEGIN
        INSERT INTO stock_balances (lot_id, location_id, product_id, quantity, applied_move_id)
        VALUES (NEW.lot_id, NEW.to_location_id, NEW.product_id, NEW.quantity, NEW.id)
        ON CONFLICT (lot_id, location_id) DO UPDATE
        SET quantity = quantity + excluded.quantity, applied_move_id = excluded.applied_move_id;
    END
    """,
    f"""
    CREATE TRIGGER stock_moves_apply_from AFTER INSERT ON stock_moves
    WHEN EXISTS (SELECT 1 FROM locations
                 WHERE id = NEW.from_location_id AND kind IN {PHYSICAL})
    BEGIN
        SELECT RAISE(ABORT, 'CHECK constraint failed: ck_stock_balances_not_negative')
        WHERE NOT EXISTS (SELECT 1 FROM stock_balances
                          WHERE lot_id = NEW.lot_id AND location_id = NEW.from_location_id);
        UPDATE stock_balances SET quantity = quantity - NEW.quantity, applied_move_id = NEW.id
        WHERE lot_id = NEW.lot_id AND location_id = NEW.from_location_id;
    END
    """,
]

# A balance changes only by the newest ledger row (the one being inserted), once, and by
# exactly what that row moves into or out of it. SQLite has no trigger depth to ask, so the
# guard asks the ledger: the newest move must be the one the change names, newer than the
# last one applied to this balance, touching this lot and place by this quantity. (An
# upsert fires the INSERT trigger with the move's delta before turning into an UPDATE: the
# INSERT guard looks only at a row that does not exist yet, which must hold what the
# ledger sums to there.)
_SQLITE_MOVE_EFFECT = """
(SELECT CASE WHEN m.to_location_id = NEW.location_id THEN m.quantity
             WHEN m.from_location_id = NEW.location_id THEN -m.quantity END
 FROM stock_moves AS m WHERE m.id = NEW.applied_move_id AND m.lot_id = NEW.lot_id)
"""
_SQLITE_LEDGER_SUM = """
(SELECT coalesce(sum(CASE WHEN m.to_location_id = NEW.location_id
                          THEN m.quantity ELSE -m.quantity END), 0)
 FROM stock_moves AS m
 WHERE m.lot_id = NEW.lot_id
   AND (m.to_location_id = NEW.location_id OR m.from_location_id = NEW.location_id))
"""
_REFUSE = "SELECT RAISE(ABORT, 'stock_balances change only with the ledger (stock_moves)');"

_SQLITE_GUARDS = [
    f"""
    CREATE TRIGGER stock_balances_follow_ledger_insert BEFORE INSERT ON stock_balances
    WHEN NOT EXISTS (SELECT 1 FROM stock_balances AS b
                     WHERE b.lot_id = NEW.lot_id AND b.location_id = NEW.location_id)
      AND (NEW.quantity IS NOT {_SQLITE_LEDGER_SUM}
           OR NEW.applied_move_id IS NOT (SELECT max(id) FROM stock_moves))
    BEGIN
        {_REFUSE}
    END
    """,
    f"""
    CREATE TRIGGER stock_balances_follow_ledger_update BEFORE UPDATE ON stock_balances
    WHEN NEW.applied_move_id IS NOT (SELECT max(id) FROM stock_moves)
      OR NEW.applied_move_id <= coalesce(OLD.applied_move_id, 0)
      OR NEW.quantity - OLD.quantity IS NOT {_SQLITE_MOVE_EFFECT}
      OR NEW.lot_id <> OLD.lot_id OR NEW.location_id <> OLD.location_id
      OR NEW.product_id <> OLD.product_id
    BEGIN
        {_REFUSE}
    END
    """,
    f"""
    CREATE TRIGGER stock_balances_no_delete BEFORE DELETE ON stock_balances
    BEGIN
        {_REFUSE}
    END
    """,
    """
    CREATE TRIGGER lots_recall_is_lifted_by_quarantine BEFORE UPDATE OF status ON lots
    WHEN OLD.status = 'recalled' AND NEW.status NOT IN ('recalled', 'quarantine')
    BEGIN
        SELECT RAISE(ABORT, 'a recalled lot goes to quarantine before anything else');
    END
    """,
    """
    CREATE TRIGGER kits_recall_stays BEFORE UPDATE OF recalled, status ON kits
    WHEN (OLD.recalled AND NOT NEW.recalled)
      OR (OLD.status = 'recalled'
          AND NEW.status NOT IN ('recalled', 'written_off', 'disassembled'))
    BEGIN
        SELECT RAISE(ABORT, 'a recalled kit stays recalled');
    END
    """,
    """
    CREATE TRIGGER users_keep_an_admin_update BEFORE UPDATE OF role, active ON users
    WHEN OLD.role = 'admin' AND OLD.active AND NOT (NEW.role = 'admin' AND NEW.active)
      AND NOT EXISTS (SELECT 1 FROM users
                      WHERE role = 'admin' AND active AND id <> OLD.id)
    BEGIN
        SELECT RAISE(ABORT, 'the last active admin stays an active admin');
    END
    """,
    """
    CREATE TRIGGER users_keep_an_admin_delete BEFORE DELETE ON users
    WHEN OLD.role = 'admin' AND OLD.active
      AND NOT EXISTS (SELECT 1 FROM users
                      WHERE role = 'admin' AND active AND id <> OLD.id)
    BEGIN
        SELECT RAISE(ABORT, 'the last active admin stays an active admin');
    END
    """,
]

_SQLITE_TRIGGERS = (
    "stock_moves_apply_to",
    "stock_moves_apply_from",
    "stock_balances_follow_ledger_insert",
    "stock_balances_follow_ledger_update",
    "stock_balances_no_delete",
    "lots_recall_is_lifted_by_quarantine",
    "kits_recall_stays",
    "users_keep_an_admin_update",
    "users_keep_an_admin_delete",
)

# --- PostgreSQL --------------------------------------------------------------------------

# One statement-level trigger per INSERT: the statement's moves, netted per balance; the
# balances that exist change in place, the others are created. (An upsert alone would not
# do: PostgreSQL checks a candidate row, say -2 for a balance that holds 5, against the
# CHECK before it finds the conflict.) SECURITY DEFINER: the function runs as the owner, so
# the application role needs no right to change balances.
_PG_APPLY = f"""
CREATE FUNCTION stock_moves_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    WITH delta AS (
        SELECT d.lot_id, d.location_id, d.product_id, sum(d.quantity) AS quantity
        FROM (
            SELECT lot_id, to_location_id AS location_id, product_id, quantity
            FROM new_moves
            UNION ALL
            SELECT lot_id, from_location_id, product_id, -quantity FROM new_moves
        ) AS d
        JOIN locations AS l ON l.id = d.location_id AND l.kind IN {PHYSICAL}
        GROUP BY d.lot_id, d.location_id, d.product_id
        HAVING sum(d.quantity) <> 0
    ), changed AS (
        UPDATE stock_balances AS b SET quantity = b.quantity + delta.quantity
        FROM delta
        WHERE b.lot_id = delta.lot_id AND b.location_id = delta.location_id
        RETURNING b.lot_id, b.location_id
    )
    INSERT INTO stock_balances AS b (lot_id, location_id, product_id, quantity)
    SELECT delta.lot_id, delta.location_id, delta.product_id, delta.quantity
    FROM delta
    WHERE NOT EXISTS (SELECT 1 FROM changed
                      WHERE changed.lot_id = delta.lot_id
                        AND changed.location_id = delta.location_id)
    ORDER BY delta.lot_id, delta.location_id
    ON CONFLICT (lot_id, location_id) DO UPDATE SET quantity = b.quantity + EXCLUDED.quantity;
    RETURN NULL;
END $$
"""

_PG_STATEMENTS = [
    _PG_APPLY,
    "REVOKE ALL ON FUNCTION stock_moves_apply() FROM PUBLIC",
    "CREATE TRIGGER stock_moves_apply AFTER INSERT ON stock_moves "
    "REFERENCING NEW TABLE AS new_moves FOR EACH STATEMENT EXECUTE FUNCTION stock_moves_apply()",
    # a change to a balance that does not come from the trigger above is refused
    """
    CREATE FUNCTION stock_balances_follow_ledger() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF pg_trigger_depth() < 2 THEN
            RAISE EXCEPTION 'stock_balances change only with the ledger (stock_moves)'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER stock_balances_follow_ledger BEFORE INSERT OR UPDATE OR DELETE "
    "ON stock_balances FOR EACH ROW EXECUTE FUNCTION stock_balances_follow_ledger()",
    "CREATE TRIGGER stock_balances_no_truncate BEFORE TRUNCATE ON stock_balances "
    "FOR EACH STATEMENT EXECUTE FUNCTION stock_balances_follow_ledger()",
    """
    CREATE FUNCTION lots_recall_is_lifted_by_quarantine() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status = 'recalled' AND NEW.status NOT IN ('recalled', 'quarantine') THEN
            RAISE EXCEPTION 'a recalled lot goes to quarantine before anything else'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER lots_recall_is_lifted_by_quarantine BEFORE UPDATE OF status ON lots "
    "FOR EACH ROW EXECUTE FUNCTION lots_recall_is_lifted_by_quarantine()",
    """
    CREATE FUNCTION kits_recall_stays() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF (OLD.recalled AND NOT NEW.recalled)
           OR (OLD.status = 'recalled'
               AND NEW.status NOT IN ('recalled', 'written_off', 'disassembled')) THEN
            RAISE EXCEPTION 'a recalled kit stays recalled'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER kits_recall_stays BEFORE UPDATE OF recalled, status ON kits "
    "FOR EACH ROW EXECUTE FUNCTION kits_recall_stays()",
    # two transactions each disabling one of two admins would each still see the other:
    # one advisory lock serialises them, and the count after it sees what committed
    """
    CREATE FUNCTION users_keep_an_admin() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.role = 'admin' AND OLD.active
           AND (TG_OP = 'DELETE' OR NOT (NEW.role = 'admin' AND NEW.active)) THEN
            PERFORM pg_advisory_xact_lock(hashtext('kitops.users.admins'));
            IF NOT EXISTS (SELECT 1 FROM users
                           WHERE role = 'admin' AND active AND id <> OLD.id) THEN
                RAISE EXCEPTION 'the last active admin stays an active admin'
                    USING ERRCODE = 'restrict_violation';
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER users_keep_an_admin BEFORE UPDATE OF role, active OR DELETE ON users "
    "FOR EACH ROW EXECUTE FUNCTION users_keep_an_admin()",
    # who and when, as the server knows them
    """
    CREATE FUNCTION kitops_stamp_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        NEW.db_role := session_user;
        NEW.db_time := clock_timestamp();
        RETURN NEW;
    END $$
    """,
    *(
        f"CREATE TRIGGER {table}_stamp BEFORE INSERT ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION kitops_stamp_row()"
        for table in STAMPED
    ),
]

_PG_DROP = [
    "DROP TRIGGER IF EXISTS stock_moves_apply ON stock_moves",
    "DROP FUNCTION IF EXISTS stock_moves_apply()",
    "DROP TRIGGER IF EXISTS stock_balances_follow_ledger ON stock_balances",
    "DROP TRIGGER IF EXISTS stock_balances_no_truncate ON stock_balances",
    "DROP FUNCTION IF EXISTS stock_balances_follow_ledger()",
    "DROP TRIGGER IF EXISTS lots_recall_is_lifted_by_quarantine ON lots",
    "DROP FUNCTION IF EXISTS lots_recall_is_lifted_by_quarantine()",
    "DROP TRIGGER IF EXISTS kits_recall_stays ON kits",
    "DROP FUNCTION IF EXISTS kits_recall_stays()",
    "DROP TRIGGER IF EXISTS users_keep_an_admin ON users",
    "DROP FUNCTION IF EXISTS users_keep_an_admin()",
    *(f"DROP TRIGGER IF EXISTS {table}_stamp ON {table}" for table in STAMPED),
    "DROP FUNCTION IF EXISTS kitops_stamp_row()",
]


def upgrade() -> None:
    # plain ADD COLUMNs: no table rebuild, so the append-only triggers stay in place
    op.add_column("stock_balances", sa.Column("applied_move_id", BigId, nullable=True))
    for table in STAMPED:
        op.add_column(table, sa.Column("db_role", sa.String(length=64), nullable=True))
        op.add_column(table, sa.Column("db_time", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in (*_SQLITE_APPLY, *_SQLITE_GUARDS):
            op.execute(statement)
    else:
        for statement in _PG_STATEMENTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for statement in _PG_DROP:
            op.execute(statement)
    for table in STAMPED:
        # SQLite's DROP COLUMN keeps the table (and its triggers); no batch rebuild needed
        op.drop_column(table, "db_time")
        op.drop_column(table, "db_role")
    op.drop_column("stock_balances", "applied_move_id")
