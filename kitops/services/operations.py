"""What a stockroom does to loose stock: receive, move, write off and count.

Each use case is one transaction: it writes the audit row, the ledger moves and the
balance changes together, or nothing. On PostgreSQL the balance rows involved are
locked in a fixed order and availability is re-checked inside the lock; a
serialization failure or deadlock reruns the whole use case a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import kitops.i18n as i18n
from kitops import faults
from kitops.data.repositories import LotKey, PostedMove
from kitops.data.schema import KitRow, LotRow, ProductRow
from kitops.domain.catalog import ProductKind, parse_non_negative_int, parse_positive_int, parse_sku
from kitops.domain.kits import ON_A_SHELF, KitStatus
from kitops.domain.ledger import (
    UNTRACKED_LOT_CODE,
    LotStatus,
    Move,
    MoveReason,
    parse_date,
    parse_lot_code,
)
from kitops.domain.money import Money
from kitops.domain.purchasing import is_po_number, po_number
from kitops.domain.stock_rules import (
    CountDifference,
    LotOnHand,
    check_existing_lot,
    check_receipt_expiry,
    count_differences,
    fefo_pick,
    parse_write_off_reason,
    status_of_new_lot,
)
from kitops.domain.text import no_control
from kitops.errors import InvalidInput, KitopsError, Refused
from kitops.i18n import _, ngettext
from kitops.i18n.labels import status_label
from kitops.services.csvfiles import read_csv
from kitops.services.dto import stock as stock_dto
from kitops.services.receipts import check_cost_currency, keep_receipt
from kitops.services.unit_of_work import UnitOfWork, retrying


def _kit_in_stock(uow: UnitOfWork, lot: LotRow) -> KitRow:
    """The kit whose own lot this is, while it is still in the stockroom."""
    kit = uow.kits.of_lot(lot.id, lock=True)
    if kit is None:
        raise Refused(_("no kit has the serial {kit}; it is not on a shelf").format(kit=lot.code))
    if kit.status not in ON_A_SHELF:
        raise Refused(
            _("kit {kit} is {state}; it is not on a shelf").format(
                kit=lot.code, state=status_label(kit.status)
            )
        )
    return kit


# --- receive -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptInput:
    """A receipt as typed or scanned, before it is checked against the catalogue."""

    location: str
    sku: str | None = None
    lot: str | None = None
    expiry: str | None = None
    quantity: int | str | None = None
    scan: str | None = None
    po: str | None = None
    cost: str | None = None
    currency: str | None = None
    accept_short_dated: bool = False
    confirm_over_receipt: bool = False  # receive more than a purchase order line still expects
    foreign_currency: bool = False  # a cost in another currency than the clinic's, on purpose


def _receipt_product(
    uow: UnitOfWork, given: ReceiptInput
) -> tuple[ProductRow, str | None, date | None, int | None]:
    """Product, lot code, expiry and scanned count from the scan and/or the options."""
    lot_code = given.lot
    expiry = parse_date(given.expiry, "expiry") if given.expiry else None
    count: int | None = None
    if given.scan:
        from kitops.gs1 import parse_scan

        scan = parse_scan(given.scan)
        product = uow.products.by_gtin(scan.gtin)
        if product is None:
            raise InvalidInput("scan", scan.gtin, _("no product in the catalogue has this GTIN"))
        if given.sku and parse_sku(given.sku) != product.sku:
            raise InvalidInput(
                "sku", given.sku, _("the scanned GTIN is {sku}").format(sku=product.sku)
            )
        if lot_code and scan.lot and lot_code != scan.lot:
            raise InvalidInput("lot", lot_code, _("the label says {lot}").format(lot=scan.lot))
        if expiry and scan.expiry and expiry != scan.expiry:
            raise InvalidInput(
                "expiry",
                given.expiry,
                _("the label says {expiry}").format(expiry=i18n.format_date(scan.expiry)),
            )
        lot_code = lot_code or scan.lot
        expiry = expiry or scan.expiry
        count = scan.count
    elif given.sku:
        product = uow.products.get(parse_sku(given.sku))
    else:
        raise InvalidInput("sku", None, _("give a SKU or --scan the label"))
    if product.kind == ProductKind.KIT.value:
        raise InvalidInput(
            "sku", product.sku, _("kits are assembled, not received: `kitops kit assemble`")
        )
    return product, lot_code, expiry, count


@retrying
def receive(
    uow: UnitOfWork, given: ReceiptInput, *, today: date | None = None
) -> stock_dto.Receipt:
    """Stock arrives from a supplier at a physical location.

    A new lot of a product that requires release starts in quarantine; stock that is
    expired or inside the minimum shelf life on receipt is refused unless accepted as
    short-dated; a known lot must carry the same expiry and must not be recalled.
    """
    with uow:
        uow.require("stock.receive")
        product, lot_code, expiry, count = _receipt_product(uow, given)
        if given.quantity not in (None, ""):
            quantity = parse_positive_int(given.quantity, "qty")
        elif count is not None:
            quantity = count
        else:
            raise InvalidInput("qty", None, _("give --qty (the label has no count, AI 30)"))
        place = uow.locations.physical(given.location)
        uow.check_place(place, doing=_("receive stock"))
        day = today or uow.locations.local_today(place)
        cost = None
        if given.cost not in (None, ""):
            cost = Money.parse(str(given.cost), given.currency or "", "cost")
            check_cost_currency(
                uow, place, cost, foreign_currency=given.foreign_currency,
                option=_("repeat with --foreign-currency"),
            )  # fmt: skip
        reference = no_control(given.po or "", "po").strip()[:64] or None
        order = None
        if reference is not None and is_po_number(reference):
            # a kitops purchase order: its line is booked, and closes when all is in (the
            # purchasing service imported here: a move or a plain receipt does without it)
            from kitops.services import purchasing

            order = purchasing.receive_against(
                uow, reference, product, quantity, place,
                confirm_over=given.confirm_over_receipt,
            )  # fmt: skip
            reference = po_number(order.order_id)
            if cost is None:  # the order's price, in the currency it was approved in
                cost = Money(order.unit_cost_minor, order.currency)

        if product.lot_tracked:
            if not lot_code:
                raise InvalidInput("lot", None, (
                    _("{sku} is lot-tracked; the lot is missing (the scan has no lot (10))")
                    if given.scan else _("{sku} is lot-tracked; the lot is missing")
                ).format(sku=product.sku))  # fmt: skip
            if expiry is None:
                raise InvalidInput("expiry", None, (
                    _("{sku} is lot-tracked; the expiry is missing (the scan has no expiry (17))")
                    if given.scan else _("{sku} is lot-tracked; the expiry is missing")
                ).format(sku=product.sku))  # fmt: skip
            lot_code = parse_lot_code(lot_code)
            lot = uow.lots.find(product.id, lot_code)
        else:
            if lot_code:
                raise InvalidInput(
                    "lot", lot_code, _("{sku} is not lot-tracked").format(sku=product.sku)
                )
            if expiry:
                raise InvalidInput(
                    "expiry", given.expiry or expiry.isoformat(),
                    _("{sku} is not lot-tracked and has no expiry").format(sku=product.sku),
                )  # fmt: skip
            lot = uow.lots.named(product, None)
        check_receipt_expiry(
            expiry, day, product.min_shelf_life_on_receipt_days,
            accept_short_dated=given.accept_short_dated,
        )  # fmt: skip
        new_lot = lot is None
        if lot is None:
            assert lot_code is not None
            lot = uow.lots.add(
                LotRow(
                    product_id=product.id,
                    code=lot_code,
                    expiry=expiry,
                    status=status_of_new_lot(product.requires_release).value,
                    receipt_ref=reference,
                    supplier_id=order.supplier_id if order is not None else None,
                )
            )
        else:
            # a cost changes the lot's average: exclusively, so two receipts cannot cross
            lot = uow.lots.lock(lot, share=cost is None)
            check_existing_lot(
                lot.code, lot.expiry, LotStatus(lot.status), expiry if product.lot_tracked else None
            )
        audit_id = uow.record(
            "stock.receive", "lot", f"{product.sku}/{lot.code}",
            after={"quantity": quantity, "location": place.code, "status": lot.status,
                   "expiry": str(lot.expiry) if lot.expiry else None, "new_lot": new_lot,
                   "po": reference, "scan": bool(given.scan),
                   "unit_cost": str(cost) if cost else None},
        )  # fmt: skip
        keep_receipt(uow, lot, place, quantity, cost, reference=reference, audit_id=audit_id)
        supplier = uow.locations.get("SUPPLIER")
        uow.ledger.post(
            [PostedMove(Move(lot.id, supplier.id, place.id, quantity), product.id)],
            reason=MoveReason.RECEIPT.value, actor=uow.actor, reference=reference,
            audit_id=audit_id,
        )  # fmt: skip
        result = stock_dto.Receipt(
            sku=product.sku,
            lot=lot.code,
            expiry=lot.expiry,
            status=lot.status,
            new_lot=new_lot,
            quantity=quantity,
            location=place.code,
            on_hand_at_location=uow.ledger.quantity(lot.id, place.id),
            reference=reference,
        )
        uow.commit()
    return result


# --- move --------------------------------------------------------------------------


@retrying
def move(
    uow: UnitOfWork,
    sku: str,
    quantity: int | str,
    from_location: str,
    to_location: str,
    *,
    lot: str | None = None,
    today: date | None = None,
) -> stock_dto.Transfer:
    """Move stock between two places. Without a lot, FEFO picks released, in-date lots
    earliest expiry first; a named lot moves whatever its status (quarantine shelves)."""
    qty = parse_positive_int(quantity, "qty")
    with uow:
        uow.require("stock.move")
        product = uow.products.get(parse_sku(sku))
        source = uow.locations.physical(from_location, "from")
        target = uow.locations.physical(to_location, "to")
        uow.check_place(source, doing=_("move stock"))
        uow.check_place(target, doing=_("move stock"))
        if source.id == target.id:
            raise InvalidInput("to", target.code, _("is the same as --from"))
        day = today or uow.locations.local_today(source)
        if product.kind == ProductKind.KIT.value:
            if not lot:
                raise InvalidInput("lot", None, _("a kit moves by its serial (--lot K0000001)"))
            kit_row = _kit_in_stock(uow, uow.lots.named(product, lot))
            kit_row.location_id = target.id  # the kit's record follows its stock
        if lot or not product.lot_tracked:
            chosen = uow.lots.named(product, lot)
            picks = [(chosen, qty)]
        else:
            candidates = uow.ledger.on_hand(location_id=source.id, product_id=product.id)
            by_id = {row.id: row for row, _ in candidates}
            picked = fefo_pick(
                [LotOnHand(r.id, r.code, r.expiry, LotStatus(r.status), q) for r, q in candidates],
                qty, day,
            )  # fmt: skip
            picks = [(uow.lots.lock(by_id[lot_id], share=True), n) for lot_id, n in picked]
            for locked, _rest in picks:
                if locked.status != LotStatus.RELEASED.value:
                    raise Refused(
                        _("lot {lot} changed to {status}; try again").format(
                            lot=locked.code, status=status_label(locked.status)
                        )
                    )
        audit_id = uow.record(
            "stock.move", "product", product.sku,
            after={"from": source.code, "to": target.code,
                   "lots": {row.code: n for row, n in picks}},
        )  # fmt: skip
        uow.ledger.post(
            [PostedMove(Move(row.id, source.id, target.id, n), product.id) for row, n in picks],
            reason=MoveReason.TRANSFER.value, actor=uow.actor, audit_id=audit_id,
        )  # fmt: skip
        result = stock_dto.Transfer(
            sku=product.sku,
            from_location=source.code,
            to_location=target.code,
            quantity=qty,
            lots=tuple(stock_dto.MovedLot(row.code, row.expiry, n) for row, n in picks),
        )
        uow.commit()
    return result


# --- write off ---------------------------------------------------------------------


@retrying
def write_off(
    uow: UnitOfWork,
    sku: str,
    quantity: int | str,
    location: str,
    reason: str,
    *,
    lot: str | None = None,
    note: str | None = None,
) -> stock_dto.WriteOff:
    """Destroy stock: a move to SCRAP with the reason (damaged, expired, opened, other)."""
    qty = parse_positive_int(quantity, "qty")
    why = parse_write_off_reason(reason)
    with uow:
        uow.require("stock.writeoff")
        # the users' service is loaded by a write-off or a count, not by every stock command
        from kitops.services.users import writeoff_approval_units

        limit = writeoff_approval_units(uow)
        if qty > limit:
            uow.require("stock.writeoff_large", doing=_(
                "write off more than {limit} units at once ({qty})"
            ).format(limit=limit, qty=qty))  # fmt: skip
        product = uow.products.get(parse_sku(sku))
        place = uow.locations.physical(location)
        uow.check_place(place, doing=_("write off stock"))
        chosen = uow.lots.named(product, lot)
        if product.kind == ProductKind.KIT.value:
            kit_row = _kit_in_stock(uow, chosen)
            kit_row.status, kit_row.course_id, kit_row.course_part = (
                KitStatus.WRITTEN_OFF.value,
                None,
                None,
            )
        audit_id = uow.record(
            "stock.write_off", "lot", f"{product.sku}/{chosen.code}",
            after={"quantity": qty, "location": place.code, "reason": why.value, "note": note},
        )  # fmt: skip
        scrap = uow.locations.get("SCRAP")
        uow.ledger.post(
            [PostedMove(Move(chosen.id, place.id, scrap.id, qty), product.id)],
            reason=MoveReason.WRITE_OFF.value, detail=why.value, actor=uow.actor,
            audit_id=audit_id,
        )  # fmt: skip
        result = stock_dto.WriteOff(
            sku=product.sku,
            lot=chosen.code,
            location=place.code,
            quantity=qty,
            reason=why.value,
            on_hand_after=uow.ledger.quantity(chosen.id, place.id),
        )
        uow.commit()
    return result


# --- count -------------------------------------------------------------------------


@dataclass(frozen=True)
class CountedLine:
    """One line of a count sheet: what was found on the shelf."""

    line: int
    sku: str
    lot: str
    counted: str | int


class CountRejected(KitopsError):
    """The count sheet had bad lines; nothing was adjusted."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        n = len(problems)
        head = ngettext(
            "{n} bad line, nothing adjusted", "{n} bad lines, nothing adjusted", n
        ).format(n=n)
        super().__init__(head + "\n" + "\n".join(problems))


@retrying
def count(
    uow: UnitOfWork, location: str, lines: Iterable[CountedLine], *, full: bool = False
) -> stock_dto.CountReport:
    """Apply a cycle count at one location in one transaction.

    Each difference between the counted and the recorded quantity of a lot becomes a
    move to or from ADJUSTMENT with the reason ``count``. With ``full`` every lot on
    record at the location that is not on the sheet is counted as zero.
    """
    sheet = list(lines)
    with uow:
        uow.require("stock.count")
        place = uow.locations.physical(location)
        uow.check_place(place, doing=_("count stock"))
        products = {row.sku: row for row in uow.products.all()}
        # serialised kits are not counted on a sheet (`kitops kit list` checks them)
        kit_products = {row.id for row in products.values() if row.kind == ProductKind.KIT.value}
        # lock first, then read (one statement): the differences are applied to the
        # balances they were computed from (a move at the same place waits for the count)
        held = uow.ledger.lock_and_read_location(place.id)
        locked = {(row.id, place.id): qty for row, qty in held}
        on_record = [
            (row, qty) for row, qty in held if qty > 0 and row.product_id not in kit_products
        ]
        lots = {(row.product_id, row.code): row for row, _ in held}
        problems: dict[int, str] = {}  # by position on the sheet
        checked: list[tuple[int, CountedLine, ProductRow, str]] = []
        for index, line in enumerate(sheet):
            try:
                sku = parse_sku(line.sku)
                product = products.get(sku)
                if product is None:
                    raise InvalidInput("sku", line.sku, _("no product has this SKU"))
                code = line.lot.strip() or UNTRACKED_LOT_CODE
                if product.lot_tracked and code == UNTRACKED_LOT_CODE:
                    raise InvalidInput(
                        "lot", None, _("{sku} is lot-tracked; the lot is missing").format(sku=sku)
                    )
                if not product.lot_tracked and code != UNTRACKED_LOT_CODE:
                    raise InvalidInput(
                        "lot", line.lot, _("{sku} is not lot-tracked").format(sku=sku)
                    )
                if product.kind == ProductKind.KIT.value:
                    raise InvalidInput(
                        "sku", sku, _("kits are serialised: check them with `kit list`")
                    )
            except KitopsError as error:
                problems[index] = _("line {line}: {error}").format(line=line.line, error=error)
                continue
            checked.append((index, line, product, code))
        # the sheet's lots are mostly those held here; the others are looked up by code
        elsewhere = {code for _, _, product, code in checked if (product.id, code) not in lots}
        lots.update(
            {(row.product_id, row.code): row for row in uow.lots.keys_with_codes(elsewhere)}
        )
        counted: dict[int, int] = {}
        lot_rows: dict[int, LotKey] = {}
        for index, line, product, code in checked:
            try:
                lot_row = lots.get((product.id, code))
                if lot_row is None:
                    raise InvalidInput(
                        "lot",
                        line.lot,
                        _("no lot of {sku} has this code; receive it").format(sku=product.sku),
                    )
                qty = parse_non_negative_int(line.counted, "counted")
            except KitopsError as error:
                problems[index] = _("line {line}: {error}").format(line=line.line, error=error)
                continue
            counted[lot_row.id] = counted.get(lot_row.id, 0) + qty
            lot_rows[lot_row.id] = lot_row
        if problems:
            raise CountRejected([problems[index] for index in sorted(problems)])
        expected = {row.id: qty for row, qty in on_record}
        lot_rows.update({row.id: row for row, _ in on_record})
        differences = count_differences(expected, counted, full=full)
        _require_approval_for_shrinkage(uow, differences, lot_rows, products)
        faults.point("stock.count:after_reading")
        adjustment = uow.locations.get("ADJUSTMENT")
        audit_id = uow.record(
            "stock.count", "location", place.code,
            after={"lines": len(sheet), "full": full, "differences": len(differences)},
        )  # fmt: skip
        moves = []
        for diff in differences:
            lot_row = lot_rows[diff.lot_id]
            source, target = (adjustment, place) if diff.delta > 0 else (place, adjustment)
            moves.append(
                PostedMove(
                    Move(diff.lot_id, source.id, target.id, abs(diff.delta)), lot_row.product_id
                )
            )
        # the place's balances are locked and read above, and ADJUSTMENT holds none
        uow.ledger.post(
            moves, reason=MoveReason.COUNT.value, actor=uow.actor,
            reference=f"count:{place.code}", audit_id=audit_id, physical={place.id},
            locked=locked,
        )  # fmt: skip
        skus = {row.id: row.sku for row in products.values()}
        report = stock_dto.CountReport(
            location=place.code,
            lines_counted=len(sheet),
            differences=tuple(
                stock_dto.CountLine(
                    sku=skus[lot_rows[d.lot_id].product_id],
                    lot=lot_rows[d.lot_id].code,
                    expected=d.expected,
                    counted=d.counted,
                    difference=d.delta,
                )
                for d in differences
            ),
            units_added=sum(d.delta for d in differences if d.delta > 0),
            units_removed=-sum(d.delta for d in differences if d.delta < 0),
        )
        faults.point("stock.count:after_moves")
        uow.commit()
    return report


def _require_approval_for_shrinkage(
    uow: UnitOfWork,
    differences: Iterable[CountDifference],
    lot_rows: dict[int, LotKey],
    products: dict[str, ProductRow],
) -> None:
    """A count that removes more units of one product than a write-off may without a
    manager (``writeoff_approval_units``) needs a manager too: stock counted away is
    gone as surely as stock written off."""
    shrinkage: dict[int, int] = {}
    for diff in differences:
        if diff.delta < 0:
            product_id = lot_rows[diff.lot_id].product_id
            shrinkage[product_id] = shrinkage.get(product_id, 0) - diff.delta
    from kitops.services.users import writeoff_approval_units

    limit = writeoff_approval_units(uow)
    skus = {row.id: row.sku for row in products.values()}
    for product_id, units in sorted(shrinkage.items()):
        if units > limit:
            uow.require("stock.writeoff_large", doing=_(
                "count away more than {limit} units of {sku} at once ({units})"
            ).format(limit=limit, sku=skus[product_id], units=units))  # fmt: skip


def read_count_sheet(path: str) -> list[CountedLine]:
    """A count sheet CSV with columns ``sku,lot,counted`` (``qty`` also accepted)."""
    header, rows = read_csv(path)
    quantity_column = "counted" if "counted" in header else "qty" if "qty" in header else None
    if "sku" not in header or quantity_column is None:
        raise InvalidInput(
            "file",
            path,
            _("needs columns sku, lot, counted (header: {header})").format(header=header),
        )
    return [
        CountedLine(
            line, values.get("sku", ""), values.get("lot", ""), values.get(quantity_column, "")
        )
        for line, values in rows
    ]
