"""The reorder job: for every active policy, what to order and why, written as one draft
purchase order per supplier and clinic.

The job owns the drafts. Each run recomputes, for every product with a policy at a clinic,
the quantity its supplier's draft should carry (from scheduled demand, usable stock and
what approved or sent orders still bring) and changes a draft only where that quantity
differs, so a second run with nothing changed writes nothing; a draft is never added to
twice. An approved order is the manager's: it only counts as on order.

Two runs never overlap: on PostgreSQL the run's transaction takes a transaction-level
advisory lock (released by the database even if the process dies); on SQLite, which has
no such lock, a lease row in ``job_locks`` (expiring after ``LEASE``) marks a run in
progress. The second run returns at once, saying so, having written nothing. A lease left
by a run that was killed (its process on this host is gone) is taken over at once. On
SQLite a run that finds nothing to write while nobody holds the lease takes none (it
writes nothing either way); one that finds drafts to write takes it and computes again
under it before writing.
"""

from __future__ import annotations

import os
import socket
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, overload

from sqlalchemy import (
    Date,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, aliased

from kitops import faults
from kitops.data.engine import Database
from kitops.data.schema import (
    JobLockRow,
    LocationRow,
    ProductRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ReorderPolicyRow,
    SupplierItemRow,
    SupplierRow,
    utcnow,
)
from kitops.domain.catalog import ProductKind
from kitops.domain.purchasing import RECEIVABLE, POStatus, po_number
from kitops.domain.reorder import (
    Method,
    Requirement,
    Suggestion,
    Supply,
    Terms,
    calendar_suggestion,
    min_max_suggestion,
)
from kitops.i18n import _
from kitops.services.demand import needs_by_id, usable_units
from kitops.services.dto import reorder as reorder_dto
from kitops.services.unit_of_work import UnitOfWork, retrying

LOCK_NAME = "reorder"
LEASE = timedelta(minutes=15)
ADVISORY_KEY = 0x6B69_746F_7073_0001  # "kitops" + job 1


@dataclass(frozen=True)
class _Policy:
    clinic_id: int
    clinic: str
    product_id: int
    sku: str
    supplier_id: int
    supplier: str
    currency: str
    supplier_lead: int
    terms: Terms
    unit_cost_minor: int


def run(
    uow: UnitOfWork, *, as_of: date | None = None, dry_run: bool = False
) -> reorder_dto.ReorderRun:
    """Compute every policy's suggestion and, unless ``dry_run``, write the drafts.

    Returns at once with ``in_progress`` set when another run holds the lock."""
    if dry_run:
        return _compute(_reading(uow), as_of, dry_run=True, advisory=False)
    if not uow.db.is_sqlite:
        _refuse(uow)
        return _compute(uow, as_of, dry_run=False, advisory=True)
    reading = _reading(uow)
    with reading:  # one read-only transaction for the checks and the run without lease
        current = _refuse(reading)  # before the lease: a refused run holds nothing
        if current is None:
            # nobody holds the lease: a run that finds nothing to write (the everyday cron
            # case) needs none; one that finds drafts to write takes it and works again
            # under it
            unchanged = _compute(reading, as_of, dry_run=False, advisory=False, unchanged_only=True)
            if unchanged is not None:
                return unchanged
    holder = f"{uow.actor[:40]}@{socket.gethostname()[:60]}:{os.getpid()}"  # fits 120
    if not _take_lease(uow.db, uow.actor, holder, current):
        return _in_progress(as_of, dry_run)
    try:
        return _compute(uow, as_of, dry_run=False, advisory=False)
    finally:
        _drop_lease(uow.db, uow.actor, holder)


def _refuse(uow: UnitOfWork) -> str | None:
    """Refuse a user whose role may not run the job, and one limited to clinics: the job
    writes the drafts of every clinic (such a user may preview, ``dry_run``, their
    clinics only). On SQLite, answer who holds the lease now, if anyone (a quick look that
    never waits for the write lock). In one read-only transaction (in the caller's, when
    inside one)."""
    checking = _reading(uow)
    with checking:
        checking.require("reorder.run")
        if checking.scope_clinics() is not None:
            raise checking.scope_refusal(_("run the reorder job, which orders for every clinic"))
        return _holder(checking.session) if uow.db.is_sqlite else None


def _reading(uow: UnitOfWork) -> UnitOfWork:
    """A read-only unit of work as ``uow``'s actor (``uow`` itself when inside its
    transaction): on SQLite it never asks for the write lock."""
    if uow.in_use:
        return uow
    return UnitOfWork(
        uow.db, uow.actor, readonly=True, identify=uow.identify, bootstrap=uow.bootstrap,
        via=uow.via,
    )  # fmt: skip


def _in_progress(as_of: date | None, dry_run: bool) -> reorder_dto.ReorderRun:
    return reorder_dto.ReorderRun(
        as_of=as_of or date.today(), dry_run=dry_run, in_progress=True, policies=0,
        suggestions=(), orders_created=(), orders_changed=(), orders_cancelled=(),
        summary="another reorder run is in progress; this one did nothing",
    )  # fmt: skip


def lease_holder(db: Database) -> str | None:
    """Who holds the SQLite lease now, if anyone (for `kitops jobs list`)."""
    with db.read_sessions() as session:
        return _holder(session)


def _holder(session: Session) -> str | None:
    row = session.get(JobLockRow, LOCK_NAME)
    if row is None or row.expires_at <= utcnow():
        return None
    return row.holder


def _holder_is_gone(holder: str) -> bool:
    """True when the lease was taken by a process on this host that no longer runs (a
    run killed before it could drop its lease): its lease need not be waited out."""
    _, _, place = holder.rpartition("@")
    host, _, pid_text = place.rpartition(":")
    if host != socket.gethostname()[:60] or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, under another user
        return False
    return False


def _take_lease(db: Database, actor: str, holder: str, current: str | None) -> bool:
    """Take the SQLite lease for ``holder``, unless ``current`` (who held it a moment ago,
    from ``_refuse``) still does. The lease is the job's own bookkeeping, for an actor
    ``run`` has just checked: its transactions identify nobody again (here and in
    ``_drop_lease``)."""
    if current is not None and not _holder_is_gone(current):
        return False
    with UnitOfWork(db, actor, identify=False) as uow:
        now = utcnow()
        connection = uow.session.connection()  # plain statements: no ORM objects
        row = connection.execute(
            select(JobLockRow.holder, JobLockRow.expires_at).where(JobLockRow.name == LOCK_NAME)
        ).first()
        if row is not None and row.expires_at > now and not _holder_is_gone(row.holder):
            return False
        taken = {"holder": holder, "acquired_at": now, "expires_at": now + LEASE}
        if row is None:
            connection.execute(insert(JobLockRow).values(name=LOCK_NAME, **taken))
        else:
            connection.execute(
                update(JobLockRow).where(JobLockRow.name == LOCK_NAME).values(**taken)
            )
        uow.commit()
    return True


def _drop_lease(db: Database, actor: str, holder: str) -> None:
    with UnitOfWork(db, actor, identify=False) as uow:
        uow.session.connection().execute(
            delete(JobLockRow).where(JobLockRow.name == LOCK_NAME, JobLockRow.holder == holder)
        )
        uow.commit()


_METHODS = {m.value: m for m in Method}


@lru_cache(maxsize=4096)
def _terms(*fields: Any) -> Terms:
    return Terms(*fields)


def _active(scoped: bool) -> list[Any]:
    """The conditions on a policy (joined to its supplier) the job works on: active, of
    an active supplier, of the user's clinics (parameter ``scope``, when ``scoped``) for
    a preview by a user limited to them."""
    conditions: list[Any] = [ReorderPolicyRow.active, SupplierRow.active]
    if scoped:
        conditions.append(ReorderPolicyRow.clinic_id.in_(bindparam("scope", expanding=True)))
    return conditions


def _scope(uow: UnitOfWork) -> tuple[bool, dict[str, Any]]:
    """(whether the user is limited to clinics, the parameters of ``_active``)."""
    scope = uow.scope_clinics()
    return (False, {}) if scope is None else (True, {"scope": sorted(scope)})


def _window(uow: UnitOfWork) -> tuple[int, int]:
    """(how many policies the job works on, the longest lead time + review period of a
    calendar policy among them: the days of demand a run reads), in one query."""
    scoped, params = _scope(uow)
    count, period = uow.session.connection().execute(_window_query(scoped), params).one()
    return int(count), int(period or 0)


@lru_cache(maxsize=4)
def _window_query(scoped: bool) -> Any:
    return (
        select(
            func.count(),
            func.max(
                case(
                    (ReorderPolicyRow.method == Method.CALENDAR.value,
                     func.coalesce(ReorderPolicyRow.lead_time_days, SupplierRow.lead_time_days)
                     + ReorderPolicyRow.review_period_days),
                )
            ),
        )
        .join(SupplierRow, SupplierRow.id == ReorderPolicyRow.supplier_id)
        .where(*_active(scoped))
    )  # fmt: skip


# a policy that may have something to order: (policy id, clinic id, product id, method,
# min, usable units of lots, units on order)
_Position = tuple[int, int, int, str, int | None, int, int]


def _positions(uow: UnitOfWork, day: date, needed: set[int]) -> list[_Position]:
    """The policies that may have something to order, with their stock position, in one
    grouped query: the usable units of lots in the clinic on ``day`` (as the scheduled
    demand counts them, lots awaiting release included; kits apart) and what approved,
    sent and partly received orders still bring (ordered minus received on lines not
    closed). The database leaves out a calendar policy of a product no course needs
    (``needed``: the products with demand in the window) and a min/max policy whose
    position is not below its minimum (one of a kit, whose available kits are counted
    apart, is kept). Names and terms come from ``_policies``, for those that order."""
    scoped, params = _scope(uow)
    params = {**params, "day": day, "needed": sorted(needed)}
    # plain rows through the connection: no ORM bookkeeping
    return list(uow.session.connection().execute(_positions_query(scoped), params))


@lru_cache(maxsize=4)
def _positions_query(scoped: bool) -> Any:
    """``_positions``' statement, built once: parameters ``day``, ``needed`` and, when
    ``scoped``, ``scope`` (the user's clinics)."""
    units = usable_units(bindparam("day", type_=Date), awaiting_release=True)
    coming = (
        select(
            PurchaseOrderRow.clinic_id.label("clinic_id"),
            PurchaseOrderLineRow.product_id.label("product_id"),
            func.sum(PurchaseOrderLineRow.quantity - PurchaseOrderLineRow.received_qty)
            .label("units"),
        )
        .join(PurchaseOrderRow, PurchaseOrderRow.id == PurchaseOrderLineRow.order_id)
        .where(
            PurchaseOrderRow.status.in_(RECEIVABLE),
            ~PurchaseOrderLineRow.closed,
            PurchaseOrderLineRow.quantity > PurchaseOrderLineRow.received_qty,
        )
        .group_by(PurchaseOrderRow.clinic_id, PurchaseOrderLineRow.product_id)
        .subquery("coming")
    )  # fmt: skip
    in_date = func.coalesce(units.c.units, 0)
    on_order = func.coalesce(coming.c.units, 0)
    kits = select(ProductRow.id).where(ProductRow.kind == ProductKind.KIT.value)
    return (
        select(
            ReorderPolicyRow.id, ReorderPolicyRow.clinic_id, ReorderPolicyRow.product_id,
            ReorderPolicyRow.method, ReorderPolicyRow.min_qty, in_date, on_order,
        )
        .join(SupplierRow, SupplierRow.id == ReorderPolicyRow.supplier_id)
        .outerjoin(units, (units.c.clinic_id == ReorderPolicyRow.clinic_id)
                   & (units.c.product_id == ReorderPolicyRow.product_id))
        .outerjoin(coming, (coming.c.clinic_id == ReorderPolicyRow.clinic_id)
                   & (coming.c.product_id == ReorderPolicyRow.product_id))
        .where(
            *_active(scoped),
            or_(
                and_(ReorderPolicyRow.method == Method.CALENDAR.value,
                     ReorderPolicyRow.product_id.in_(bindparam("needed", expanding=True))),
                and_(ReorderPolicyRow.method != Method.CALENDAR.value,
                     or_(in_date + on_order < func.coalesce(ReorderPolicyRow.min_qty, 0),
                         ReorderPolicyRow.product_id.in_(kits))),
            ),
        )
        .order_by(ReorderPolicyRow.id)
    )  # fmt: skip


def _policies(uow: UnitOfWork, ids: list[int]) -> dict[int, _Policy]:
    """Policy id → the policy with its names and terms, of the policies ``ids``."""
    found: dict[int, _Policy] = {}
    for start in range(0, len(ids), 5000):
        rows = uow.session.connection().execute(
            _policies_query(), {"ids": ids[start : start + 5000]}
        )
        for (policy_id, clinic_id, clinic, product_id, sku, supplier_id, supplier, currency,
             supplier_lead, method, low, high, review, safety, lead, pack, minimum,
             cost) in rows:  # fmt: skip
            terms = _terms(_METHODS[method], lead if lead is not None else supplier_lead,
                           review, safety, pack, minimum, low, high)  # fmt: skip
            found[policy_id] = _Policy(clinic_id, clinic, product_id, sku, supplier_id,
                                       supplier, currency, supplier_lead, terms, cost)  # fmt: skip
    return found


@lru_cache(maxsize=1)
def _policies_query() -> Any:
    return (
        select(
            ReorderPolicyRow.id, ReorderPolicyRow.clinic_id, LocationRow.code,
            ReorderPolicyRow.product_id, ProductRow.sku, ReorderPolicyRow.supplier_id,
            SupplierRow.code, SupplierRow.currency, SupplierRow.lead_time_days,
            ReorderPolicyRow.method, ReorderPolicyRow.min_qty, ReorderPolicyRow.max_qty,
            ReorderPolicyRow.review_period_days, ReorderPolicyRow.safety_days,
            ReorderPolicyRow.lead_time_days, SupplierItemRow.pack_size,
            SupplierItemRow.min_order_qty, SupplierItemRow.unit_cost_minor,
        )
        .join(LocationRow, LocationRow.id == ReorderPolicyRow.clinic_id)
        .join(ProductRow, ProductRow.id == ReorderPolicyRow.product_id)
        .join(SupplierRow, SupplierRow.id == ReorderPolicyRow.supplier_id)
        .join(SupplierItemRow, (SupplierItemRow.supplier_id == ReorderPolicyRow.supplier_id)
              & (SupplierItemRow.product_id == ReorderPolicyRow.product_id))
        .where(ReorderPolicyRow.id.in_(bindparam("ids", expanding=True)))
    )  # fmt: skip


@dataclass
class _Draft:
    order_id: int | None
    supplier: str
    clinic: str
    lines: dict[int, tuple[int, int, int]]  # product → (line id, quantity, position)


def _drafts(uow: UnitOfWork) -> tuple[dict[tuple[int, int], _Draft], set[tuple[int, int]]]:
    """The draft orders the user sees, with their lines, and the (clinic, product) pairs
    of their lines an active policy covers: those lines are the job's to change. In one
    query."""
    drafts: dict[tuple[int, int], _Draft] = {}
    owned: set[tuple[int, int]] = set()
    seen: dict[int, bool] = {}
    for (order_id, supplier_id, clinic_id, supplier, clinic, line_id, product_id, quantity,
         position, covered) in uow.session.connection().execute(_drafts_query()):  # fmt: skip
        visible = seen.get(order_id)
        if visible is None:
            visible = seen[order_id] = uow.visible_clinic(clinic_id)
            if visible:
                drafts[(supplier_id, clinic_id)] = _Draft(order_id, supplier, clinic, {})
        if not visible or line_id is None:
            continue
        drafts[(supplier_id, clinic_id)].lines[product_id] = (line_id, quantity, position)
        if covered:
            owned.add((clinic_id, product_id))
    return drafts, owned


@lru_cache(maxsize=1)
def _drafts_query() -> Any:
    """The draft orders (with their supplier's and clinic's codes), each line of theirs
    (none: NULLs) and whether a policy the job works on covers it: active, of an active
    supplier (the user's clinics need no condition: the draft's clinic is one)."""
    covered = (
        select(ReorderPolicyRow.id)
        .join(SupplierRow, SupplierRow.id == ReorderPolicyRow.supplier_id)
        .where(
            *_active(False),
            ReorderPolicyRow.clinic_id == PurchaseOrderRow.clinic_id,
            ReorderPolicyRow.product_id == PurchaseOrderLineRow.product_id,
        )
        .exists()
    )
    supplier = aliased(SupplierRow, name="order_supplier")
    return (
        select(PurchaseOrderRow.id, PurchaseOrderRow.supplier_id, PurchaseOrderRow.clinic_id,
               supplier.code, LocationRow.code, PurchaseOrderLineRow.id,
               PurchaseOrderLineRow.product_id, PurchaseOrderLineRow.quantity,
               PurchaseOrderLineRow.position, covered)
        .join(supplier, supplier.id == PurchaseOrderRow.supplier_id)
        .join(LocationRow, LocationRow.id == PurchaseOrderRow.clinic_id)
        .outerjoin(PurchaseOrderLineRow, PurchaseOrderLineRow.order_id == PurchaseOrderRow.id)
        .where(PurchaseOrderRow.status == POStatus.DRAFT.value)
    )  # fmt: skip


def _explanation(policy: _Policy, s: Suggestion) -> dict[str, Any]:
    return {
        "method": s.method.value, "as_of": s.as_of.isoformat(),
        "horizon_end": s.horizon_end.isoformat(), "lead_time_days": policy.terms.lead_time_days,
        "review_period_days": policy.terms.review_period_days,
        "safety_days": policy.terms.safety_days, "demand": s.demand, "safety": s.safety,
        "usable": s.usable, "on_hand": s.on_hand, "expiring_unused": s.expiring_unused,
        "on_order": s.on_order, "net": s.net, "pack_size": policy.terms.pack_size,
        "min_order": policy.terms.min_order, "min_qty": policy.terms.min_qty,
        "max_qty": policy.terms.max_qty, "quantity": s.quantity, "text": s.explanation,
    }  # fmt: skip


@retrying
@overload
def _compute(
    uow: UnitOfWork, as_of: date | None, *, dry_run: bool, advisory: bool
) -> reorder_dto.ReorderRun: ...


@overload
def _compute(
    uow: UnitOfWork, as_of: date | None, *, dry_run: bool, advisory: bool, unchanged_only: bool
) -> reorder_dto.ReorderRun | None: ...


def _compute(
    uow: UnitOfWork,
    as_of: date | None,
    *,
    dry_run: bool,
    advisory: bool,
    unchanged_only: bool = False,
) -> reorder_dto.ReorderRun | None:
    """The run (``dry_run``: the preview). ``unchanged_only``: None instead of writing,
    when there are drafts to create, change or cancel."""
    with uow:
        if advisory and not uow.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY}
        ):
            return _in_progress(as_of, dry_run)
        day = as_of or uow.locations.latest_clinic_today()
        count, period = _window(uow)
        if not count:
            return reorder_dto.ReorderRun(
                as_of=day, dry_run=dry_run, in_progress=False, policies=0, suggestions=(),
                orders_created=(), orders_changed=(), orders_cancelled=(),
                summary=f"reorder {day}: no active reorder policies (`kitops policy set`)",
            )  # fmt: skip
        end = day + timedelta(days=period)
        demand = needs_by_id(uow, start=day, end=end, awaiting_release=True)
        needs, stock, kits = demand.needs, demand.supplies, demand.kits
        rows = _positions(uow, day, {product_id for _, product_id in needs})
        drafts, owned = _drafts(uow)

        # a dict lookup per policy decides whether it has anything to order
        calendar = Method.CALENDAR.value
        candidates: list[tuple[int, list[Requirement] | None, int, int]] = []
        for policy_id, clinic_id, product_id, method, low, units, coming in rows:
            key = (clinic_id, product_id)
            if method == calendar:
                in_window = needs.get(key)
                if in_window:  # else no demand in the window: nothing to order (net ≤ 0)
                    asked = [Requirement(*need) for need in in_window]
                    candidates.append((policy_id, asked, 0, int(coming)))
            else:
                # every unit counted is in date today (the sums are of stock in date on day)
                in_date = int(units) + kits.get(key, 0)
                if in_date + coming < (low or 0):  # else not below the minimum
                    candidates.append((policy_id, None, in_date, int(coming)))
        found = _policies(uow, [c[0] for c in candidates])
        targets: dict[tuple[int, int], dict[int, tuple[int, _Policy, Suggestion]]] = defaultdict(
            dict
        )
        results: list[tuple[_Policy, Suggestion]] = []
        for policy_id, required, in_date, coming in candidates:
            policy = found[policy_id]
            if required is not None:
                have = stock.get((policy.clinic_id, policy.product_id), ())
                suggestion = calendar_suggestion(
                    policy.terms, day, required, have, coming, margin_days=demand.margin
                )
            else:
                suggestion = min_max_suggestion(policy.terms, day, (Supply(None, in_date),), coming)
            results.append((policy, suggestion))
            if suggestion.quantity > 0:
                targets[(policy.supplier_id, policy.clinic_id)][policy.product_id] = (
                    suggestion.quantity, policy, suggestion,
                )  # fmt: skip

        # what changes: draft lines of (clinic, product) pairs with a policy are the job's
        created: list[tuple[int, int]] = []
        changed: set[tuple[int, int]] = set()
        line_updates: list[dict[str, Any]] = []
        line_inserts: list[tuple[tuple[int, int], int, int, _Policy, Suggestion]] = []
        line_deletes: list[int] = []
        change_notes: dict[tuple[int, int], list[str]] = defaultdict(list)
        for pair, draft in drafts.items():
            clinic_id = pair[1]
            targeted = targets.get(pair, {})
            for product_id, (line_id, quantity, _) in draft.lines.items():
                if (clinic_id, product_id) not in owned:
                    continue  # no policy covers this line any more: left as it is
                target = targeted.get(product_id)
                if target is None:
                    line_deletes.append(line_id)
                    changed.add(pair)
                    change_notes[pair].append(f"-{product_id}")
                elif target[0] != quantity:
                    _, policy, suggestion = target
                    line_updates.append({
                        "l_id": line_id, "l_qty": target[0], "l_cost": policy.unit_cost_minor,
                        "l_need": suggestion.need_by,
                        "l_expl": _explanation(policy, suggestion),
                    })  # fmt: skip
                    changed.add(pair)
                    change_notes[pair].append(f"{policy.sku} {quantity}→{target[0]}")
        for pair, wanted in targets.items():
            existing = drafts.get(pair)
            if existing is None:
                created.append(pair)
            for product_id, (quantity, policy, suggestion) in wanted.items():
                if existing is None or product_id not in existing.lines:
                    line_inserts.append((pair, product_id, quantity, policy, suggestion))
                    if existing is not None:
                        changed.add(pair)
                        change_notes[pair].append(f"+{policy.sku} {quantity}")
        emptied = [
            pair
            for pair in changed
            if (draft := drafts[pair]) is not None
            and not targets.get(pair)
            and all((pair[1], product_id) in owned for product_id in draft.lines)
        ]

        # the policies of the drafts this run would create (a draft of a pair with nothing
        # to order is never created)
        by_pair = {(p.supplier_id, p.clinic_id): p for p, _ in results}
        order_numbers: dict[tuple[int, int], str] = {
            pair: po_number(d.order_id) for pair, d in drafts.items() if d.order_id is not None
        }
        if unchanged_only and (created or changed):
            return None
        if not dry_run and (created or changed):
            now = utcnow()
            for pair in created:
                policy = by_pair[pair]
                order = PurchaseOrderRow(
                    supplier_id=pair[0], clinic_id=pair[1], status=POStatus.DRAFT.value,
                    origin="reorder",
                    currency=policy.currency, as_of=day,
                    expected_on=day + timedelta(days=policy.supplier_lead), created_at=now,
                    created_by=uow.actor, updated_at=now,
                )  # fmt: skip
                uow.session.add(order)
                uow.session.flush()
                drafts[pair] = _Draft(order.id, policy.supplier, policy.clinic, {})
                order_numbers[pair] = po_number(order.id)
            _write_lines(uow, drafts, line_inserts, line_updates, line_deletes)
            for pair in emptied:
                order_id = drafts[pair].order_id
                uow.session.execute(
                    update(PurchaseOrderRow)
                    .where(PurchaseOrderRow.id == order_id)
                    .values(status=POStatus.CANCELLED.value, closed_at=now, updated_at=now,
                            note=f"no longer needed (reorder run {day})")
                    .execution_options(synchronize_session=False)
                )  # fmt: skip
            touched = [pair for pair in changed if pair not in emptied]
            if touched:
                uow.session.execute(
                    update(PurchaseOrderRow)
                    .where(PurchaseOrderRow.id.in_([drafts[p].order_id for p in touched]))
                    .values(updated_at=now, as_of=day)
                    .execution_options(synchronize_session=False)
                )
            for pair in created:
                lines = targets[pair]
                uow.record("po.draft", "purchase_order", order_numbers[pair],
                           after={"supplier": drafts[pair].supplier, "clinic": drafts[pair].clinic,
                                  "as_of": day.isoformat(),
                                  "lines": {p.sku: q for q, p, _ in lines.values()}})  # fmt: skip
            for pair in sorted(changed):
                action = "po.cancel" if pair in emptied else "po.redraft"
                notes = {"as_of": day.isoformat(), "changes": change_notes[pair]}
                uow.record(action, "purchase_order", order_numbers[pair], after=notes)
            uow.record("reorder.run", "database", day.isoformat(),
                       after={"policies": count, "created": len(created),
                              "changed": len(changed) - len(emptied),
                              "cancelled": len(emptied)})  # fmt: skip
            faults.point("reorder.run:after_orders")
            uow.commit()

        def name(pair: tuple[int, int]) -> str:
            if pair in order_numbers:
                return order_numbers[pair]
            policy = by_pair[pair]
            return f"new draft {policy.supplier}→{policy.clinic}"

        suggestions = tuple(
            reorder_dto.Suggestion(
                clinic=p.clinic,
                sku=p.sku,
                supplier=p.supplier,
                method=s.method.value,
                demand=s.demand,
                safety=s.safety,
                usable=s.usable,
                on_hand=s.on_hand,
                expiring_unused=s.expiring_unused,
                on_order=s.on_order,
                net=s.net,
                pack_size=p.terms.pack_size,
                min_order=p.terms.min_order,
                quantity=s.quantity,
                need_by=s.need_by,
                horizon_end=s.horizon_end,
                explanation=s.explanation,
                po=order_numbers.get((p.supplier_id, p.clinic_id)) if not dry_run else None,
            )
            for p, s in sorted(results, key=lambda r: (r[0].clinic, r[0].sku))
            if s.quantity > 0
        )
        created_names = tuple(name(pair) for pair in created)
        changed_names = tuple(sorted(name(p) for p in changed if p not in emptied))
        cancelled_names = tuple(sorted(name(p) for p in emptied))
        return reorder_dto.ReorderRun(
            as_of=day, dry_run=dry_run, in_progress=False, policies=count,
            suggestions=suggestions, orders_created=created_names,
            orders_changed=changed_names, orders_cancelled=cancelled_names,
            summary=_summary(day, dry_run, count, suggestions, created_names,
                             changed_names, cancelled_names),
        )  # fmt: skip


def _write_lines(
    uow: UnitOfWork,
    drafts: dict[tuple[int, int], _Draft],
    inserts: list[tuple[tuple[int, int], int, int, _Policy, Suggestion]],
    updates: list[dict[str, Any]],
    deletes: list[int],
) -> None:
    table: Table = PurchaseOrderLineRow.__table__  # type: ignore[assignment]
    connection = uow.session.connection()
    if deletes:
        for start in range(0, len(deletes), 500):
            chunk = deletes[start : start + 500]
            connection.execute(delete(table).where(table.c.id.in_(chunk)))
    if updates:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("l_id"))
            .values(quantity=bindparam("l_qty"), unit_cost_minor=bindparam("l_cost"),
                    need_by=bindparam("l_need"), explanation=bindparam("l_expl")),
            updates,
        )  # fmt: skip
    if inserts:
        next_position: dict[tuple[int, int], int] = {
            pair: max((pos for _, _, pos in d.lines.values()), default=-1) + 1
            for pair, d in drafts.items()
        }
        rows = []
        for pair, product_id, quantity, policy, suggestion in inserts:
            position = next_position[pair]
            next_position[pair] = position + 1
            rows.append({
                "order_id": drafts[pair].order_id, "product_id": product_id,
                "position": position, "quantity": quantity, "received_qty": 0,
                "unit_cost_minor": policy.unit_cost_minor, "need_by": suggestion.need_by,
                "closed": False, "explanation": _explanation(policy, suggestion),
            })  # fmt: skip
        connection.execute(insert(table), rows)


def _summary(
    day: date,
    dry_run: bool,
    policies: int,
    suggestions: tuple[reorder_dto.Suggestion, ...],
    created: tuple[str, ...],
    changed: tuple[str, ...],
    cancelled: tuple[str, ...],
) -> str:
    head = f"reorder {day}{' (dry run)' if dry_run else ''}: "
    if not (created or changed or cancelled):
        if suggestions:
            return head + (f"{len(suggestions)} lines to order, all already on draft orders; "
                           f"nothing changed ({policies} policies)")  # fmt: skip
        return head + f"nothing to order ({policies} policies checked)"
    done = "would be " if dry_run else ""
    parts = []
    if created:
        parts.append(f"{len(created)} draft orders {done}created ({', '.join(created)})")
    if changed:
        parts.append(f"{len(changed)} {done}changed ({', '.join(changed)})")
    if cancelled:
        parts.append(f"{len(cancelled)} {done}cancelled ({', '.join(cancelled)})")
    text_ = "; ".join(parts)
    return head + f"{text_}; {len(suggestions)} lines to order ({policies} policies)"
