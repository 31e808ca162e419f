"""Suppliers, reorder policies and purchase orders: look up, approve, send, cancel,
export, and receive against them.

A purchase order moves draft → approved → sent → (partial →) received; a draft, approved,
sent or partly received order can be cancelled (its open lines close). The reorder job
owns the drafts: it writes one per supplier and clinic and recomputes it on every run;
once approved, an order is the manager's and only counts as on order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, String, case, cast, func, literal, or_, select
from sqlalchemy.orm import selectinload

from kitops.data.queries.paging import filters, matching
from kitops.data.repositories.locations import clinic_of
from kitops.data.schema import (
    LocationRow,
    PlanSessionItemRow,
    ProductRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ReorderPolicyRow,
    SupplierItemRow,
    SupplierRow,
    VatRateRow,
    utcnow,
)
from kitops.domain.catalog import ProductKind, parse_non_negative_int, parse_positive_int, parse_sku
from kitops.domain.courses import check_session_stamp
from kitops.domain.money import Money, currency_code
from kitops.domain.purchasing import (
    OPEN_PO_STATUSES,
    PO_STATUSES,
    RECEIVABLE,
    TRANSITIONS,
    POStatus,
    check_transition,
    parse_supplier_code,
    po_number,
)
from kitops.domain.reorder import Method, parse_method
from kitops.domain.text import no_control
from kitops.errors import Conflict, InvalidInput, Refused
from kitops.i18n import _
from kitops.i18n.labels import status_label
from kitops.services.dto import as_json
from kitops.services.dto import purchasing as purchasing_dto
from kitops.services.plans import to_domain
from kitops.services.unit_of_work import UnitOfWork, retrying


def money(amount_minor: int, currency: str) -> Money:
    return Money(amount_minor, currency)


# --- suppliers -----------------------------------------------------------------------


def _supplier_dto(uow: UnitOfWork, row: SupplierRow) -> purchasing_dto.Supplier:
    items = uow.session.execute(
        select(SupplierItemRow, ProductRow.sku)
        .join(ProductRow, ProductRow.id == SupplierItemRow.product_id)
        .where(SupplierItemRow.supplier_id == row.id)
        .order_by(ProductRow.sku)
    ).all()
    return purchasing_dto.Supplier(
        code=row.code, name=row.name, lead_time_days=row.lead_time_days, currency=row.currency,
        contact=row.contact, active=row.active, address=row.address,
        payment_terms=row.payment_terms,
        items=tuple(
            purchasing_dto.SupplierItem(sku, item.supplier_sku, item.pack_size, item.min_order_qty,
                                        money(item.unit_cost_minor, item.currency))
            for item, sku in items
        ),
    )  # fmt: skip


def list_suppliers(uow: UnitOfWork) -> list[purchasing_dto.Supplier]:
    with uow:
        rows = uow.suppliers.all()
        return [_supplier_dto(uow, row) for row in rows]


def _days(value: int | str, field: str) -> int:
    days = parse_non_negative_int(value, field)
    if days > 365:
        raise InvalidInput(field, value, _("must be 0-365 days"))
    return days


def add_supplier(
    uow: UnitOfWork,
    code: str,
    name: str,
    *,
    lead_time_days: int | str,
    currency: str,
    contact: str | None = None,
) -> purchasing_dto.Supplier:
    supplier_code = parse_supplier_code(code, "code")
    if not name.strip() or len(name.strip()) > 200:
        raise InvalidInput("name", name, _("must be 1-200 characters"))
    no_control(name, "name")
    no_control(contact or "", "contact")
    lead = _days(lead_time_days, "lead_time")
    money_code = currency_code(currency)
    if contact is not None and len(contact.strip()) > 200:
        raise InvalidInput("contact", contact[:40] + "...", _("must be at most 200 characters"))
    with uow:
        uow.require("supplier.edit")
        if uow.suppliers.by_code(supplier_code) is not None:
            raise Conflict(_("supplier {supplier} already exists").format(supplier=supplier_code))
        row = uow.suppliers.add(
            SupplierRow(code=supplier_code, name=name.strip(), lead_time_days=lead,
                        currency=money_code, contact=(contact or "").strip() or None, active=True)
        )  # fmt: skip
        uow.record("supplier.add", "supplier", supplier_code,
                   after={"name": row.name, "lead_time_days": lead, "currency": money_code,
                          "contact": row.contact})  # fmt: skip
        result = _supplier_dto(uow, row)
        uow.commit()
    return result


def set_supplier_address(
    uow: UnitOfWork,
    code: str,
    *,
    address: str | None = None,
    terms: str | None = None,
) -> purchasing_dto.Supplier:
    """Set the supplier's postal address and payment terms printed on purchase orders.
    Options not given stay; an empty text clears one."""
    if address is None and terms is None:
        raise InvalidInput("address", None, _("give --address or --terms"))
    checked: dict[str, str | None] = {}
    for field, column, value, limit in (("address", "address", address, 300),
                                        ("terms", "payment_terms", terms, 200)):  # fmt: skip
        if value is None:
            continue
        no_control(value, field)
        text = " ".join(value.split())
        if len(text) > limit:
            raise InvalidInput(
                field,
                text[:40] + "...",
                _("must be at most {limit} characters").format(limit=limit),
            )
        checked[column] = text or None
    with uow:
        uow.require("supplier.edit")
        row = uow.suppliers.get(code)
        before = {column: getattr(row, column) for column in checked}
        for column, value in checked.items():
            setattr(row, column, value)
        uow.record("supplier.address", "supplier", row.code, before=before, after=checked)
        result = _supplier_dto(uow, row)
        uow.commit()
    return result


def set_supplier_item(
    uow: UnitOfWork,
    supplier: str,
    sku: str,
    *,
    pack_size: int | str,
    min_order: int | str,
    unit_cost: str,
    supplier_sku: str | None = None,
) -> purchasing_dto.Supplier:
    """What a supplier sells of a product: pack size, minimum order, unit cost (in the
    supplier's currency). Replaces an earlier entry."""
    pack = parse_positive_int(pack_size, "pack")
    minimum = parse_positive_int(min_order, "min_order")
    if supplier_sku is not None and len(supplier_sku.strip()) > 64:
        raise InvalidInput("supplier_sku", supplier_sku, _("must be at most 64 characters"))
    no_control(supplier_sku or "", "supplier_sku")
    with uow:
        uow.require("supplier.edit")
        row = uow.suppliers.get(supplier)
        product = uow.products.get(parse_sku(sku))
        if product.kind == ProductKind.KIT.value:
            raise InvalidInput("sku", product.sku, _("kits are assembled here, not bought"))
        cost = Money.parse(unit_cost, row.currency, "cost")
        item = uow.suppliers.item(row.id, product.id)
        before = None
        if item is None:
            item = SupplierItemRow(supplier_id=row.id, product_id=product.id)
            uow.session.add(item)
        else:
            before = {"pack_size": item.pack_size, "min_order": item.min_order_qty,
                      "unit_cost_minor": item.unit_cost_minor}  # fmt: skip
        item.pack_size, item.min_order_qty = pack, minimum
        item.unit_cost_minor, item.currency = cost.amount_minor, cost.currency
        item.supplier_sku = (supplier_sku or "").strip() or None
        uow.session.flush()
        after = {"pack_size": pack, "min_order": minimum, "unit_cost_minor": cost.amount_minor,
                 "currency": cost.currency}  # fmt: skip
        uow.record("supplier.item", "supplier", f"{row.code}/{product.sku}", before=before,
                   after=after)  # fmt: skip
        result = _supplier_dto(uow, row)
        uow.commit()
    return result


# --- reorder policies ----------------------------------------------------------------


def _policy_dto(
    row: ReorderPolicyRow, sku: str, clinic: str, supplier: SupplierRow
) -> purchasing_dto.Policy:
    return purchasing_dto.Policy(
        sku=sku, clinic=clinic, supplier=supplier.code, method=row.method,
        min_qty=row.min_qty, max_qty=row.max_qty, review_period_days=row.review_period_days,
        safety_days=row.safety_days,
        lead_time_days=(row.lead_time_days if row.lead_time_days is not None
                        else supplier.lead_time_days),
        lead_time_from_supplier=row.lead_time_days is None, active=row.active,
    )  # fmt: skip


def set_policy(
    uow: UnitOfWork,
    sku: str,
    clinic: str,
    *,
    supplier: str,
    method: str,
    min_qty: int | str | None = None,
    max_qty: int | str | None = None,
    review_period_days: int | str = 7,
    safety_days: int | str = 0,
    lead_time_days: int | str | None = None,
) -> purchasing_dto.Policy:
    """Create or replace the reorder policy of one product at one clinic."""
    kind = parse_method(method)
    low = parse_non_negative_int(min_qty, "min") if min_qty not in (None, "") else None
    high = parse_positive_int(max_qty, "max") if max_qty not in (None, "") else None
    if kind is Method.MIN_MAX:
        if low is None:
            raise InvalidInput("min", None, _("a min_max policy needs --min"))
        if high is None:
            raise InvalidInput("max", None, _("a min_max policy needs --max"))
        if high < low:
            raise InvalidInput("max", high, _("is below the minimum {low}").format(low=low))
    elif low is not None or high is not None:
        raise InvalidInput("min", low if low is not None else high,
                           _("a calendar policy has no min/max levels"))  # fmt: skip
    review = _days(review_period_days, "review_days")
    safety = _days(safety_days, "safety_days")
    lead = _days(lead_time_days, "lead_time") if lead_time_days not in (None, "") else None
    with uow:
        uow.require("policy.edit")
        product = uow.products.get(parse_sku(sku))
        if product.kind == ProductKind.KIT.value:
            raise InvalidInput("sku", product.sku, _(
                "kits are assembled here, not bought; give their components "
                "a policy"
            ))  # fmt: skip
        clinic_row = uow.locations.clinic(clinic)
        uow.check_clinic(clinic_row, doing=_("change reorder policies"))
        supplier_row = uow.suppliers.get(supplier)
        if not supplier_row.active:
            raise Refused(
                _("supplier {supplier} is no longer active").format(supplier=supplier_row.code)
            )
        if uow.suppliers.item(supplier_row.id, product.id) is None:
            hint = f"`kitops supplier item {supplier_row.code} {product.sku} ...`"
            raise InvalidInput("supplier", supplier_row.code,
                               _("does not sell {sku}; {hint}").format(
                                   sku=product.sku,
                                   hint=hint,
                               ))  # fmt: skip
        row = uow.suppliers.policy(product.id, clinic_row.id)
        before = None
        if row is None:
            row = ReorderPolicyRow(product_id=product.id, clinic_id=clinic_row.id)
            uow.session.add(row)
        else:
            before = _policy_dto(row, product.sku, clinic_row.code, uow.suppliers.of_policy(row))
        row.supplier_id, row.method = supplier_row.id, kind.value
        row.min_qty, row.max_qty = low, high
        row.review_period_days, row.safety_days, row.lead_time_days = review, safety, lead
        row.active, row.updated_at = True, utcnow()
        uow.session.flush()
        result = _policy_dto(row, product.sku, clinic_row.code, supplier_row)
        uow.record("policy.set", "reorder_policy", f"{product.sku}@{clinic_row.code}",
                   before=dto_dict(before) if before else None, after=dto_dict(result))  # fmt: skip
        uow.commit()
    return result


def dto_dict(value: object) -> dict[str, object]:
    found = as_json(value)
    assert isinstance(found, dict)
    return found


def remove_policy(uow: UnitOfWork, sku: str, clinic: str) -> purchasing_dto.Policy:
    """Stop reordering a product for a clinic (the policy is kept, inactive)."""
    with uow:
        uow.require("policy.edit")
        product = uow.products.get(parse_sku(sku))
        clinic_row = uow.locations.clinic(clinic)
        uow.check_clinic(clinic_row, doing=_("change reorder policies"))
        row = uow.suppliers.policy(product.id, clinic_row.id)
        if row is None or not row.active:
            raise Refused(
                _("{sku} has no active reorder policy at {clinic}").format(
                    sku=product.sku, clinic=clinic_row.code
                )
            )
        row.active, row.updated_at = False, utcnow()
        uow.session.flush()
        result = _policy_dto(row, product.sku, clinic_row.code, uow.suppliers.of_policy(row))
        uow.record("policy.remove", "reorder_policy", f"{product.sku}@{clinic_row.code}",
                   before={"active": True}, after={"active": False})  # fmt: skip
        uow.commit()
    return result


def list_policies(
    uow: UnitOfWork, *, clinic: str | None = None, sku: str | None = None
) -> list[purchasing_dto.Policy]:
    with uow:
        stmt = (
            select(ReorderPolicyRow, ProductRow.sku, LocationRow.code, SupplierRow)
            .join(ProductRow, ProductRow.id == ReorderPolicyRow.product_id)
            .join(LocationRow, LocationRow.id == ReorderPolicyRow.clinic_id)
            .join(SupplierRow, SupplierRow.id == ReorderPolicyRow.supplier_id)
            .order_by(LocationRow.code, ProductRow.sku)
        )
        if clinic:
            only = uow.clinic_filter(clinic, _("see reorder policies")).id
            stmt = stmt.where(ReorderPolicyRow.clinic_id == only)
        if (scope := uow.scope_clinics()) is not None:
            stmt = stmt.where(ReorderPolicyRow.clinic_id.in_(scope))
        if sku:
            stmt = stmt.where(ReorderPolicyRow.product_id == uow.products.get(parse_sku(sku)).id)
        return [_policy_dto(row, s, c, sup) for row, s, c, sup in uow.session.execute(stmt)]


def set_session_supplies(
    uow: UnitOfWork, plan: str, items: list[tuple[str, int]]
) -> list[tuple[str, int]]:
    """What each clinic session of a plan uses besides its serum (``session record``
    consumes it, the demand forecast counts it); an empty list clears it. A derma stamp's
    needle must be within the plan's range when the plan names one."""

    with uow:
        uow.require("policy.edit")
        after = set_session_supplies_in(uow, plan, items)
        uow.commit()
    return after


def set_session_supplies_in(
    uow: UnitOfWork, plan: str, items: list[tuple[str, int]]
) -> list[tuple[str, int]]:
    """``set_session_supplies`` inside the caller's unit of work (the demo's loader)."""
    plan_row = uow.plans.get(plan)
    if plan_row.administered != "clinic":
        raise InvalidInput("plan", plan_row.code, _(
            "is treated at home; its kit recipe says what it "
            "uses"
        ))  # fmt: skip
    parsed = []
    for sku, quantity in items:
        product = uow.products.get(parse_sku(sku), "supply")
        if product.kind in (ProductKind.KIT.value, ProductKind.SERUM_VIAL.value):
            raise InvalidInput("supply", product.sku, _(
                "a {kind} is not a session supply (the serum is counted from "
                "the plan)"
            ).format(kind=product.kind))  # fmt: skip
        if product.kind == ProductKind.DERMA_STAMP.value:
            check_session_stamp(to_domain(plan_row), product.sku, product.needle_um)
        parsed.append((product, parse_positive_int(quantity, "quantity")))
    before = session_supplies_in(uow, plan_row.id)
    for old in uow.session.scalars(
        select(PlanSessionItemRow).where(PlanSessionItemRow.plan_id == plan_row.id)
    ):
        uow.session.delete(old)
    uow.session.flush()
    for product, quantity in parsed:
        uow.session.add(
            PlanSessionItemRow(plan_id=plan_row.id, product_id=product.id, quantity=quantity)
        )
    uow.session.flush()
    after = session_supplies_in(uow, plan_row.id)
    uow.record("plan.session_supplies", "plan", plan_row.code,
               before={"items": before}, after={"items": after})  # fmt: skip
    return after


def session_supplies_in(uow: UnitOfWork, plan_id: int) -> list[tuple[str, int]]:
    return [
        (sku, quantity)
        for sku, quantity in uow.session.execute(
            select(ProductRow.sku, PlanSessionItemRow.quantity)
            .join(ProductRow, ProductRow.id == PlanSessionItemRow.product_id)
            .where(PlanSessionItemRow.plan_id == plan_id)
            .order_by(ProductRow.sku)
        )
    ]


# --- purchase orders -------------------------------------------------------------------


def order_dto(uow: UnitOfWork, order: PurchaseOrderRow) -> purchasing_dto.PurchaseOrder:
    items = {
        item.product_id: item
        for item in uow.session.scalars(
            select(SupplierItemRow).where(SupplierItemRow.supplier_id == order.supplier_id)
        )
    }
    lines = []
    total = 0
    for line in order.lines:
        item = items.get(line.product_id)
        explanation = (line.explanation or {}).get("text")
        total += line.quantity * line.unit_cost_minor
        lines.append(
            purchasing_dto.PurchaseOrderLine(
                sku=line.product.sku,
                supplier_sku=item.supplier_sku if item else None,
                quantity=line.quantity,
                received=line.received_qty,
                open=0 if line.closed else max(line.quantity - line.received_qty, 0),
                closed=line.closed,
                unit_cost=money(line.unit_cost_minor, order.currency),
                line_total=money(line.quantity * line.unit_cost_minor, order.currency),
                need_by=line.need_by,
                explanation=str(explanation) if explanation else None,
            )
        )
    return purchasing_dto.PurchaseOrder(
        number=po_number(order.id), supplier=order.supplier.code,
        supplier_name=order.supplier.name, contact=order.supplier.contact,
        clinic=order.clinic.code, status=order.status, origin=order.origin,
        currency=order.currency, as_of=order.as_of, expected_on=order.expected_on,
        created_at=order.created_at, created_by=order.created_by,
        approved_by=order.approved_by, sent_at=order.sent_at,
        total=money(total, order.currency), note=order.note, lines=tuple(lines),
    )  # fmt: skip


def _listed(
    uow: UnitOfWork,
    stmt: Select[Any],
    *,
    status: str | None,
    clinic: str | None,
    supplier: str | None,
    search: str = "",
) -> Select[Any]:
    """``stmt`` (over purchase orders) with the list's filters, within the acting user's
    clinics. ``search`` matches the number, the supplier (code or name) and the SKUs
    ordered, in any case."""
    if status == "open":
        stmt = stmt.where(PurchaseOrderRow.status.in_(OPEN_PO_STATUSES))
    elif status:
        if status not in PO_STATUSES:
            raise InvalidInput("status", status, _("must be open or one of {choices}").format(
                choices='|'.join(PO_STATUSES),
            ))  # fmt: skip
        stmt = stmt.where(PurchaseOrderRow.status == status)
    if clinic:
        stmt = stmt.where(
            PurchaseOrderRow.clinic_id == uow.clinic_filter(clinic, _("see purchase orders")).id
        )
    if (scope := uow.scope_clinics()) is not None:
        stmt = stmt.where(PurchaseOrderRow.clinic_id.in_(scope))
    if supplier:
        stmt = stmt.where(PurchaseOrderRow.supplier_id == uow.suppliers.get(supplier).id)
    if search.strip():
        # the number as po_number writes it: PO- and six digits at least
        digits = cast(PurchaseOrderRow.id, String)
        number = literal("PO-") + case(
            (PurchaseOrderRow.id < 1_000_000,
             func.substr(cast(PurchaseOrderRow.id + 1_000_000, String), 2)),
            else_=digits,
        )  # fmt: skip
        skus = (
            select(PurchaseOrderLineRow.id)
            .join(ProductRow, ProductRow.id == PurchaseOrderLineRow.product_id)
            .where(
                PurchaseOrderLineRow.order_id == PurchaseOrderRow.id,
                *filters(matching(search, ProductRow.sku)),
            )
        )
        found = filters(matching(search, number, SupplierRow.code, SupplierRow.name))
        stmt = stmt.join(SupplierRow, SupplierRow.id == PurchaseOrderRow.supplier_id).where(
            or_(*found, skus.exists())
        )
    return stmt


def list_orders(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    clinic: str | None = None,
    supplier: str | None = None,
) -> list[purchasing_dto.PurchaseOrder]:
    with uow:
        stmt = (
            select(PurchaseOrderRow)
            .options(selectinload(PurchaseOrderRow.lines).joinedload(PurchaseOrderLineRow.product))
            .order_by(PurchaseOrderRow.id)
        )
        stmt = _listed(uow, stmt, status=status, clinic=clinic, supplier=supplier)
        return [order_dto(uow, row) for row in uow.session.scalars(stmt)]


def page_orders(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    clinic: str | None = None,
    supplier: str | None = None,
    search: str = "",
    offset: int = 0,
    limit: int | None = None,
) -> tuple[int, list[purchasing_dto.PurchaseOrder]]:
    """(orders in all, this page of them, newest first): filtered, counted and cut in the
    query; ``limit`` None: every order from ``offset``."""
    with uow:
        counted = _listed(
            uow, select(func.count()).select_from(PurchaseOrderRow), status=status,
            clinic=clinic, supplier=supplier, search=search,
        )  # fmt: skip
        total = int(uow.session.scalar(counted) or 0)
        stmt = _listed(
            uow,
            select(PurchaseOrderRow)
            .options(selectinload(PurchaseOrderRow.lines).joinedload(PurchaseOrderLineRow.product))
            .order_by(PurchaseOrderRow.id.desc()),
            status=status, clinic=clinic, supplier=supplier, search=search,
        ).offset(max(0, offset))  # fmt: skip
        if limit is not None:
            stmt = stmt.limit(limit)
        return total, [order_dto(uow, row) for row in uow.session.scalars(stmt)]


def show_order(uow: UnitOfWork, number: str | int) -> purchasing_dto.PurchaseOrder:
    with uow:
        return order_dto(uow, uow.purchase_orders.get(number))


@retrying
def change_status(
    uow: UnitOfWork, number: str | int, action: str, *, reason: str | None = None
) -> purchasing_dto.PurchaseOrder:
    """approve (draft → approved), send (approved → sent), cancel (any open order; its
    open lines close and stop counting as on order)."""
    target = TRANSITIONS[action][1]
    if action == "cancel" and not (reason or "").strip():
        raise InvalidInput("reason", reason, _("say why the order is cancelled (--reason)"))
    with uow:
        uow.require(f"po.{action}")
        order = uow.purchase_orders.get(number, lock=True)
        check_transition(po_number(order.id), order.status, action)
        if action == "approve" and not order.lines:
            raise Refused(_("{order} has no lines").format(order=po_number(order.id)))
        before = {"status": order.status}
        now = utcnow()
        order.status, order.updated_at = target, now
        if action == "approve":
            order.approved_at, order.approved_by = now, uow.actor
        elif action == "send":
            order.sent_at = now
        else:
            order.closed_at = now
            order.note = (reason or "").strip()[:200]
            for line in order.lines:
                line.closed = True
        uow.session.flush()
        uow.record(f"po.{action}", "purchase_order", po_number(order.id), before=before,
                   after={"status": target} | ({"reason": order.note} if action == "cancel"
                                               else {}))  # fmt: skip
        result = order_dto(uow, order)
        uow.commit()
    return result


@dataclass(frozen=True)
class BookedReceipt:
    """A receipt booked against a purchase-order line: what the lot and its cost take
    from the order."""

    order_id: int
    supplier_id: int
    currency: str
    unit_cost_minor: int


def receive_against(
    uow: UnitOfWork,
    number: str,
    product: ProductRow,
    quantity: int,
    place: LocationRow,
    *,
    confirm_over: bool,
) -> BookedReceipt:
    """Inside a receipt's transaction: book ``quantity`` of ``product`` against the
    order's line, refusing a product not on it, a place outside its clinic, an order not
    yet approved or already closed, and more than is still open unless confirmed.
    The line closes when all of it is in; the order is received when every line is."""
    order = uow.purchase_orders.get(number, lock=True)
    name = po_number(order.id)
    if order.status == POStatus.DRAFT:
        raise Refused(
            _("{name} is still a draft; approve it before receiving against it").format(name=name)
        )
    if order.status not in RECEIVABLE:
        raise Refused(
            _("{name} is {status}; nothing more can be received against it").format(
                name=name, status=status_label(order.status)
            )
        )
    by_id = {row.id: row for row in uow.locations.all()}
    clinic = clinic_of(place, by_id)
    if clinic is None or clinic.id != order.clinic_id:
        raise Refused(
            _("{name} is for {clinic}; {place} is not there").format(
                name=name, clinic=order.clinic.code, place=place.code
            )
        )
    line = next((ln for ln in order.lines if ln.product_id == product.id), None)
    if line is None:
        skus = ", ".join(ln.product.sku for ln in order.lines)
        raise Refused(
            _("{name} has no line for {sku} (it orders {skus})").format(
                name=name, sku=product.sku, skus=skus
            )
        )
    open_qty = 0 if line.closed else max(line.quantity - line.received_qty, 0)
    if quantity > open_qty and not confirm_over:
        raise Refused(
            _(
                "{name} has {open_qty} of {sku} still to receive "
                "({received_qty} of {ordered} in); receiving {receiving} is "
                "an over-receipt: check the delivery, then repeat with "
                "--confirm-over-receipt"
            ).format(
                name=name,
                open_qty=open_qty,
                sku=product.sku,
                received_qty=line.received_qty,
                ordered=line.quantity,
                receiving=quantity,
            )
        )
    line.received_qty += quantity
    if line.received_qty >= line.quantity:
        line.closed = True
    before = order.status
    if all(ln.closed for ln in order.lines):
        order.status, order.closed_at = POStatus.RECEIVED.value, utcnow()
    else:
        order.status = POStatus.PARTIAL.value
    order.updated_at = utcnow()
    uow.session.flush()
    uow.record("po.receive", "purchase_order", name,
               before={"status": before},
               after={"status": order.status, "sku": product.sku, "quantity": quantity,
                      "line_received": line.received_qty, "line_ordered": line.quantity,
                      "over_receipt": quantity > open_qty})  # fmt: skip
    return BookedReceipt(order.id, order.supplier_id, order.currency, line.unit_cost_minor)


# --- export ----------------------------------------------------------------------------


def order_to_send(uow: UnitOfWork, number: str | int) -> tuple[purchasing_dto.PurchaseOrder, str]:
    """Purchase order ``number`` as the supplier receives it, and the name of the clinic it
    is delivered to; a cancelled order has nothing to send (refused)."""
    with uow:
        row = uow.purchase_orders.get(number)
        order = order_dto(uow, row)
        clinic_name = row.clinic.name
    if order.status == POStatus.CANCELLED:
        raise Refused(
            _("{number} is cancelled; there is nothing to send").format(number=order.number)
        )
    return order, clinic_name


def order_paper(uow: UnitOfWork, number: str | int) -> purchasing_dto.OrderPaper:
    """Purchase order ``number`` as printed for the supplier, with VAT per line from the
    rates of the delivery clinic's country (``vat_rates``); a line whose product kind has
    no rate there says so and stays out of the VAT total. A cancelled order is refused."""
    from kitops.domain.vat import line_vat

    with uow:
        row = uow.purchase_orders.get(number)
        order = order_dto(uow, row)
        clinic, supplier = row.clinic, row.supplier
        rates: dict[str, int] = {}
        if clinic.country:
            rates = {
                kind: rate
                for kind, rate in uow.session.execute(
                    select(VatRateRow.product_kind, VatRateRow.rate_bp).where(
                        VatRateRow.country == clinic.country
                    )
                )
            }
        products = {line.product.sku: (line.product.name, line.product.kind) for line in row.lines}
        clinic_name, address, contact, country = (
            clinic.name, clinic.address, clinic.contact, clinic.country)  # fmt: skip
        supplier_code, supplier_name, supplier_address, supplier_contact, terms = (
            supplier.code, supplier.name, supplier.address, supplier.contact,
            supplier.payment_terms)  # fmt: skip
    if order.status == POStatus.CANCELLED:
        raise Refused(
            _("{number} is cancelled; there is nothing to send").format(number=order.number)
        )
    lines = []
    net = vat = missing = 0
    for position, line in enumerate(order.lines, start=1):
        name, kind = products[line.sku]
        rate = rates.get(kind)
        amount = line.line_total.amount_minor
        tax = line_vat(amount, rate) if rate is not None else None
        net += amount
        vat += tax or 0
        missing += tax is None
        lines.append(
            purchasing_dto.PaperLine(
                position=position, sku=line.sku, supplier_sku=line.supplier_sku,
                description=name, kind=kind, quantity=line.quantity,
                unit_price=line.unit_cost, net=line.line_total, vat_rate_bp=rate,
                vat=money(tax, order.currency) if tax is not None else None,
            )
        )  # fmt: skip
    return purchasing_dto.OrderPaper(
        number=order.number, status=order.status, as_of=order.as_of,
        expected_on=order.expected_on, currency=order.currency, clinic=order.clinic,
        clinic_name=clinic_name, delivery_address=address, delivery_contact=contact,
        country=country, supplier=supplier_code, supplier_name=supplier_name,
        supplier_address=supplier_address, supplier_contact=supplier_contact,
        payment_terms=terms,
        note=order.note, lines=tuple(lines), net=money(net, order.currency),
        vat=money(vat, order.currency), gross=money(net + vat, order.currency),
        vat_missing=missing,
    )  # fmt: skip


def parse_day(value: str | date | None, field: str) -> date | None:
    from kitops.domain.ledger import parse_date

    if value is None or isinstance(value, date):
        return value
    return parse_date(value, field)
