"""Onboarding from spreadsheets: products, locations and opening stock from CSV.

Every row is validated; when any row is bad the whole file is refused, nothing is
written, and every bad row is reported with its line number and reason.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import kitops.i18n as i18n
from kitops.data.repositories import PostedMove
from kitops.data.schema import LocationRow, LotRow, ProductRow
from kitops.domain.catalog import ProductKind, parse_non_negative_int, parse_positive_int, parse_sku
from kitops.domain.ledger import (
    UNTRACKED_LOT_CODE,
    LotStatus,
    Move,
    MoveReason,
    parse_date,
    parse_lot_code,
    parse_lot_status,
)
from kitops.domain.locations import PHYSICAL_KINDS, LocationKind, parse_location_code
from kitops.domain.money import Money
from kitops.errors import Conflict, InvalidInput, KitopsError, NotAllowed, Refused
from kitops.i18n import _, ngettext
from kitops.services.catalog import create_product, parse_product
from kitops.services.csvfiles import read_csv
from kitops.services.dto import database as database_dto
from kitops.services.locations import create_location
from kitops.services.receipts import OPENING, check_cost_currency, keep_receipts
from kitops.services.unit_of_work import UnitOfWork

KINDS = ("products", "locations", "stock")

COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required columns, optional columns)
    "products": (
        ("sku", "name", "kind"),
        ("unit", "gtin", "ml", "needle_mm", "at_home", "lot_tracked", "requires_release",
         "shelf_life_days", "expiry_alert_days", "min_shelf_life_on_receipt_days"),
    ),
    "locations": (("code", "name"), ("parent", "kind", "timezone", "currency")),
    "stock": (
        ("sku", "quantity", "location"),
        ("lot", "expiry", "status", "unit_cost", "currency"),
    ),
}  # fmt: skip

_TRUE = {"y", "yes", "true", "1", "home", "at-home"}
_FALSE = {"n", "no", "false", "0", "clinic", "clinic-only"}


class ImportRejected(KitopsError):
    """The file had bad rows; nothing was written."""

    exit_code = 2

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        n = len(problems)
        head = ngettext(
            "{path}: {n} bad row, nothing imported", "{path}: {n} bad rows, nothing imported", n
        ).format(path=path, n=n)
        super().__init__(head + "\n" + "\n".join(problems))


def _flag(value: str, field: str) -> bool | None:
    text = value.strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(field, value, _("must be yes or no"))


def _optional_int(value: str, field: str, default: int | None) -> int | None:
    return default if not value.strip() else parse_non_negative_int(value, field)


def read_rows(path: str, kind: str) -> list[tuple[int, dict[str, str]]]:
    """The data rows with their line numbers; refuses a file with the wrong columns."""
    if kind not in KINDS:
        raise InvalidInput(
            "kind", kind, _("must be one of {choices}").format(choices="|".join(KINDS))
        )
    header, rows = read_csv(path)
    required, optional = COLUMNS[kind]
    missing = [name for name in required if name not in header]
    if missing:
        raise InvalidInput(
            "file",
            path,
            _("has no column {missing} (header: {header})").format(
                missing=", ".join(missing), header=header
            ),
        )
    unknown = [name for name in header if name not in required + optional]
    if unknown:
        raise InvalidInput(
            "file", path, _("has unknown column {unknown}; known: {known}").format(
                unknown=', '.join(unknown),
                known=', '.join(required + optional),
            ),
        )  # fmt: skip
    return rows


def _product_row(uow: UnitOfWork, row: dict[str, str]) -> None:
    spec = parse_product(
        row["sku"],
        row["name"],
        row["kind"],
        unit=row.get("unit", ""),
        gtin=row.get("gtin") or None,
        ml=row.get("ml") or None,
        needle_mm=row.get("needle_mm") or None,
        at_home=_flag(row.get("at_home", ""), "at_home"),
        lot_tracked=_flag(row.get("lot_tracked", ""), "lot_tracked"),
        requires_release=_flag(row.get("requires_release", ""), "requires_release"),
        shelf_life_days=_optional_int(row.get("shelf_life_days", ""), "shelf_life_days", None),
        expiry_alert_days=_optional_int(row.get("expiry_alert_days", ""), "expiry_alert_days", 90)
        or 0,
        min_shelf_life_on_receipt_days=_optional_int(
            row.get("min_shelf_life_on_receipt_days", ""), "min_shelf_life_on_receipt_days", 30
        )
        or 0,
    )
    create_product(uow, spec)


def _location_row(uow: UnitOfWork, row: dict[str, str]) -> None:
    create_location(
        uow,
        row["code"],
        row["name"],
        parent=row.get("parent") or None,
        kind=row.get("kind") or None,
        timezone=row.get("timezone") or None,
        currency=row.get("currency") or None,
    )


class _StockImport:
    """Opening balances: lots are created or matched, moves come from ADJUSTMENT.

    A row writes nothing while the file is read: the lots the file names are read in one
    query first (``prefetch``), a new lot is kept in the session until every row has
    passed (one batched insert), and the moves are posted once for the whole file. So
    no row needs a savepoint of its own, and a file of thousands of rows costs a few
    statements instead of several round trips a row."""

    def __init__(self, uow: UnitOfWork, reference: str, *, foreign_currency: bool) -> None:
        self.uow = uow
        self.reference = reference
        self.foreign_currency = foreign_currency
        # each row's lot, place and quantity; its move is made once the new lots have ids
        self.lines: list[tuple[LotRow, LocationRow, int, int]] = []
        # each row's receipt, kept with its cost once the file is through (the audit row)
        self.receipts: list[tuple[LotRow, LocationRow, int, Money | None]] = []
        self.currency_of: dict[tuple[int, str], str] = {}  # lot → the currency it is costed in
        self.adjustment = uow.locations.get("ADJUSTMENT")
        # read once per file: a file of thousands of rows names a few products and places
        self.products: dict[str, ProductRow] = {}
        self.places: dict[str, LocationRow] = {}
        self.by_id: dict[int, LocationRow] = {}
        # the lots the file names, as stored or as made by an earlier row of the file
        self.lots: dict[tuple[int, str], LotRow] = {}

    def prefetch(self, rows: list[tuple[int, dict[str, str]]]) -> None:
        """Read every stored lot whose code the file names, in one query (a row that
        cannot be read is left to its own line's refusal)."""
        codes = set()
        for _line, row in rows:
            try:
                codes.add(parse_lot_code(row.get("lot") or UNTRACKED_LOT_CODE))
            except InvalidInput:
                continue
        for lot in self.uow.lots.with_codes(codes):
            self.lots[(lot.product_id, lot.code)] = lot

    def __call__(self, uow: UnitOfWork, row: dict[str, str]) -> None:
        sku = parse_sku(row["sku"])
        product = self.products.get(sku) or self.products.setdefault(sku, uow.products.get(sku))
        if product.kind == ProductKind.KIT.value:
            raise InvalidInput(
                "sku", product.sku, _("kits are assembled, not imported: `kitops kit assemble`")
            )
        quantity = parse_positive_int(row["quantity"], "quantity")
        code = parse_location_code(row["location"])
        place = self.places.get(code) or self.places.setdefault(code, uow.locations.get(code))
        uow.check_place(place, doing=_("import stock"))
        if LocationKind(place.kind) not in PHYSICAL_KINDS:
            raise InvalidInput(
                "location",
                place.code,
                _("is virtual ({kind}); stock sits in a physical location").format(kind=place.kind),
            )
        status = parse_lot_status(row["status"]) if row.get("status") else LotStatus.RELEASED
        cost = None
        if row.get("unit_cost"):
            cost = Money.parse(row["unit_cost"], row.get("currency") or "", "unit_cost")
            if not self.by_id:  # every location, read once for the file's costed rows
                self.by_id.update((row.id, row) for row in uow.locations.all())
            check_cost_currency(
                uow, place, cost, foreign_currency=self.foreign_currency,
                option=_("import with --foreign-currency"), places=self.by_id,
            )  # fmt: skip
        elif row.get("currency"):
            raise InvalidInput("unit_cost", "", _("a currency needs a unit cost beside it"))
        lot = self._lot(product.id, product.lot_tracked, row, status)
        key = (lot.product_id, lot.code)
        if cost is not None:
            costed_in = self.currency_of.get(key) or lot.currency or cost.currency
            if costed_in != cost.currency:
                raise Refused(
                    _(
                        "lot {lot} is costed in {costed_in}; a unit cost of {cost} "
                        "cannot be averaged with it: give it in {costed_in}, or none"
                    ).format(lot=lot.code, costed_in=costed_in, cost=i18n.format_money(cost))
                )
            self.currency_of[key] = costed_in
        if key not in self.lots:  # a new lot: made once its first row has passed
            self.lots[key] = lot
            uow.session.add(lot)
        self.lines.append((lot, place, quantity, product.id))
        self.receipts.append((lot, place, quantity, cost))

    def posted_moves(self) -> list[PostedMove]:
        """The file's moves, the new lots inserted first (one batch) so each has its id."""
        self.uow.session.flush()
        return [
            PostedMove(Move(lot.id, self.adjustment.id, place.id, quantity), product_id)
            for lot, place, quantity, product_id in self.lines
        ]

    def keep_costs(self, audit_id: int) -> None:
        """Every row's receipt with its cost; the lots' costs become their averages."""
        # the costed lots locked in id order (two imports never lock crosswise), then
        # every receipt kept together: a few statements for the file, not a few a row
        self.uow.lots.lock_all(lot.id for lot, _, _, cost in self.receipts if cost is not None)
        keep_receipts(self.uow, self.receipts, source=OPENING, reference=self.reference,
                      audit_id=audit_id)  # fmt: skip

    def _lot(
        self,
        product_id: int,
        tracked: bool,
        row: dict[str, str],
        status: LotStatus,
    ) -> LotRow:
        """The row's lot: stored, made by an earlier row, or a new one (not yet added)."""
        if not tracked:
            if row.get("lot") or row.get("expiry"):
                raise InvalidInput("lot", row.get("lot", ""), _("this product is not lot-tracked"))
            lot = self.lots.get((product_id, UNTRACKED_LOT_CODE))
            if lot is None:
                lot = self.uow.lots.find(product_id, UNTRACKED_LOT_CODE)
                assert lot is not None
                self.lots[(product_id, UNTRACKED_LOT_CODE)] = lot
            return lot
        if not row.get("lot"):
            raise InvalidInput("lot", "", _("a lot-tracked product needs its lot code"))
        if not row.get("expiry"):
            raise InvalidInput("expiry", "", _("a lot-tracked product needs its expiry date"))
        code = parse_lot_code(row["lot"])
        expiry = parse_date(row["expiry"], "expiry")
        lot = self.lots.get((product_id, code))
        if lot is None:
            return LotRow(
                product_id=product_id,
                code=code,
                expiry=expiry,
                status=status.value,
                receipt_ref=self.reference[:64],
            )
        if lot.expiry != expiry:
            raise Conflict(
                _("lot {code} is recorded with expiry {recorded}, the file says {given}").format(
                    code=code, recorded=i18n.format_date(lot.expiry), given=i18n.format_date(expiry)
                )
            )
        if row.get("status") and lot.status != status.value:
            raise Conflict(
                _("lot {code} is {status}, the file says {given}").format(
                    code=code, status=lot.status, given=status.value
                )
            )
        return lot


def import_file(
    uow: UnitOfWork, kind: str, path: str, *, dry_run: bool = False, foreign_currency: bool = False
) -> database_dto.ImportReport:
    """Validate every row of ``path``; write all of them, or none. A stock row's unit cost
    is in its clinic's currency unless ``foreign_currency``."""
    rows = read_rows(path, kind)
    name = Path(path).name
    with uow:
        uow.require("import.run")
        handler: Callable[[UnitOfWork, dict[str, str]], None]
        stock: _StockImport | None = None
        if kind == "products":
            handler = _product_row
        elif kind == "locations":
            handler = _location_row
        else:
            stock = handler = _StockImport(uow, f"import:{name}", foreign_currency=foreign_currency)
            stock.prefetch(rows)
        problems: list[str] = []
        for line, row in rows:
            try:
                # a row that may have written something before it failed is undone alone
                with uow.session.begin_nested() if stock is None else nullcontext():
                    handler(uow, row)
            except NotAllowed:
                raise  # a refusal stops the whole import, and is audited
            except KitopsError as error:
                problems.append(_("line {line}: {error}").format(line=line, error=error))
        if problems:
            raise ImportRejected(path, problems)
        audit_id = uow.record(
            f"import.{kind}", "file", name, after={"rows": len(rows), "dry_run": dry_run}
        )
        if stock is not None:
            try:
                uow.ledger.post(
                    stock.posted_moves(),
                    reason=MoveReason.OPENING.value,
                    actor=uow.actor,
                    reference=f"import:{name}"[:120],
                    audit_id=audit_id,
                )
                stock.keep_costs(audit_id)
            except KitopsError as error:
                raise ImportRejected(path, [str(error)]) from None
        if not dry_run:
            uow.commit()
    return database_dto.ImportReport(kind=kind, rows=len(rows), created=len(rows), dry_run=dry_run)
