"""The dashboard's aggregates: kits per SKU and status, quarantined lots on hand, lots
on hand by expiry bucket, and the latest audit entries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kitops.data.queries.stock import held_at
from kitops.data.schema import (
    AuditRow,
    CourseRow,
    KitRow,
    LotRow,
    PlanRow,
    ProductRow,
    StockBalanceRow,
    WebhookSubscriptionRow,
)
from kitops.domain.kits import SERVING
from kitops.domain.ledger import LotStatus


def kit_counts_by_place(session: Session, places: set[int]) -> dict[tuple[int, str, str], int]:
    """Available and reserved kits at ``places``, per (place, SKU, status)."""
    return {
        (location_id, sku, status): int(n)
        for location_id, sku, status, n in session.execute(
            select(KitRow.location_id, ProductRow.sku, KitRow.status, func.count())
            .join(ProductRow, ProductRow.id == KitRow.product_id)
            .where(KitRow.location_id.in_(places), KitRow.status.in_(SERVING))
            .group_by(KitRow.location_id, ProductRow.sku, KitRow.status)
        )
    }


def kit_sku_of_courses(session: Session, course_ids: Iterable[int]) -> dict[int, str]:
    """The kit recipe's SKU of each course's plan."""
    return dict(
        session.execute(
            select(CourseRow.id, ProductRow.sku)
            .join(PlanRow, PlanRow.id == CourseRow.plan_id)
            .join(ProductRow, ProductRow.id == PlanRow.kit_product_id)
            .where(CourseRow.id.in_(list(course_ids)))
        ).all()
    )


def quarantined_on_hand(session: Session) -> Sequence[Any]:
    """The lots on hand in quarantine (rows as ``queries.stock.held_at``, then the lot's
    arrival), found from the (few) quarantined lots."""
    quarantined = select(LotRow.id).where(LotRow.status == LotStatus.QUARANTINE.value)
    return session.execute(
        held_at(None, LotRow.created_at).where(StockBalanceRow.lot_id.in_(quarantined))
    ).all()


def expiry_on_hand(session: Session, day: date, buckets: Sequence[int]) -> Sequence[Any]:
    """Rows of location id, bucket, lot id, quantity, unit cost and currency of the lots on
    hand past expiry on ``day`` (bucket 0) or expiring within each of ``buckets`` days
    (ascending): one aggregate over the balances, so 100,000 lots cost one scan. Plain rows
    through the connection: thousands of balances need no ORM bookkeeping (which cost several times
    the query itself)."""
    edges = [(0, LotRow.expiry < day)]
    previous = day
    for within in buckets:
        upper = day + timedelta(days=within)
        edges.append((within, LotRow.expiry.between(previous, upper)))
        previous = upper + timedelta(days=1)
    bucket = case(*[(condition, within) for within, condition in edges], else_=-1)
    rows = (
        select(
            StockBalanceRow.location_id,
            bucket,
            StockBalanceRow.lot_id,
            StockBalanceRow.quantity,
            LotRow.unit_cost_minor,
            LotRow.currency,
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .where(
            StockBalanceRow.quantity > 0,
            LotRow.expiry < day + timedelta(days=buckets[-1] + 1),
            LotRow.status.in_(
                (LotStatus.RELEASED.value, LotStatus.QUARANTINE.value, LotStatus.EXPIRED.value)
            ),
        )
    )
    return session.connection().execute(rows).all()


def latest_audit(session: Session, lines: int) -> Sequence[AuditRow]:
    """The latest ``lines`` entries of the audit log, newest first."""
    return session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(lines)).all()


def webhooks_failing(session: Session) -> int:
    """Active outbound webhooks whose deliveries are failing now (tried again after a
    back-off; ``kitops webhook list`` says why)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(WebhookSubscriptionRow)
            .where(WebhookSubscriptionRow.active, WebhookSubscriptionRow.failing_since.is_not(None))
        )
        or 0
    )
