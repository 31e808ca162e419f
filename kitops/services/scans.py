"""What a scanned code names and what can be done with it now (``kitops scan``, and the
terminal UI on every scan).

A scan is read by ``kitops.gs1.read_code`` (any symbology prefix, GS characters, the
bracketed form, whitespace) and resolved with a few indexed reads in one read
transaction:

- GS1 with a kit product's (01) and (21): a kit (the serial; its product's GTIN must be
  the one scanned);
- GS1 with another product's (01) and (10): a lot of it (a (21) on a supplier's
  serialised vial is read past: kitops tracks vials by lot);
- ``KKIT:``, ``KLOC:``, ``KCRS:``: a kit, a location, a course card;
- plain text: a kit serial, else a lot code, else a location code.

Unknown or malformed: ``InvalidInput`` (exit 2) with one line in words. Clinic scoping
as everywhere: another clinic's kit or course reads as not found, a location outside the
user's clinics is refused (exit 1), and a lot shows the user's clinics' stock only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kitops import i18n
from kitops.data.repositories.locations import clinic_of, subtree_ids
from kitops.data.schema import (
    CourseRow,
    KitRow,
    LocationRow,
    LotRow,
    ProductRow,
    StockBalanceRow,
    utcnow,
)
from kitops.domain.catalog import ProductKind
from kitops.domain.kits import ON_A_SHELF, KitStatus
from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput
from kitops.gs1 import Code, read_code
from kitops.i18n import N_, _
from kitops.services.dto import scans as dto
from kitops.services.unit_of_work import UnitOfWork

FIELD = "scan"


def scan(
    uow: UnitOfWork, data: str, *, now: datetime | None = None, summary: bool = True
) -> dto.Scanned:
    """What ``data`` (a scan as the scanner typed it) names, and its next step as of
    ``now`` (default: the clock; an aware datetime). ``summary=False``: a location's
    products and kits are left out (empty), only whether it holds anything is asked:
    the terminal UI opens the stock list of the place, which shows them (summing 16,800
    lines of one fridge per product was most of a place's scan with 100,000 lots)."""
    code = read_code(data, FIELD)
    moment = now or utcnow()
    shown = data.strip(" \t\r\n")  # what the answer and its errors name
    uow.__dict__.pop("_scan_places", None)  # rows of an earlier transaction are stale
    with uow:
        if code.kind == "gs1":
            return _gs1(uow, code, shown, moment)
        if code.kind == "kit":
            return _kit(uow, _kit_row(uow, code.value, shown), shown)
        if code.kind == "location":
            return _location(uow, _location_row(uow, code.value, shown), shown, summary)
        if code.kind == "course":
            assert code.course is not None
            return _course(uow, code.course, shown, moment)
        return _text(uow, code.value, shown, moment, summary)


# --- what the code names ----------------------------------------------------------------------


def _gs1(uow: UnitOfWork, code: Code, shown: str, now: datetime) -> dto.Scanned:
    scanned = code.gs1
    assert scanned is not None
    product = uow.products.by_gtin(scanned.gtin)
    is_kit = product is not None and product.kind == ProductKind.KIT.value
    # a serial names a kit when the GTIN is a kit product's (or no product's: the kit
    # then tells whose GTIN it carries); a supplier's serialised vial is read by its lot
    if scanned.serial is not None and (is_kit or product is None):
        kit = uow.session.scalar(select(KitRow).where(KitRow.serial == scanned.serial.upper()))
        if kit is None or not uow.visible_kit(kit):
            if product is None:
                raise InvalidInput(
                    FIELD, shown, _("no product has the GTIN {gtin}").format(gtin=scanned.gtin)
                )
            raise InvalidInput(
                FIELD, shown, _("no kit has the serial {serial}").format(serial=scanned.serial)
            )
        if kit.product.gtin != scanned.gtin:
            raise InvalidInput(
                FIELD, shown,
                _("kit {kit} is a {sku}, whose GTIN is {gtin}, not {scanned}").format(
                    kit=kit.serial,
                    sku=kit.product.sku,
                    gtin=kit.product.gtin or _("not set"),
                    scanned=scanned.gtin,
                ),
            )  # fmt: skip
        return _kit(uow, kit, shown)
    if product is None:
        raise InvalidInput(
            FIELD, shown, _("no product has the GTIN {gtin}").format(gtin=scanned.gtin)
        )
    if is_kit:
        raise InvalidInput(
            FIELD, shown,
            _(
                "a kit code needs (21) serial: GTIN {gtin} is the kit "
                "product {sku}"
            ).format(gtin=scanned.gtin, sku=product.sku),
        )  # fmt: skip
    if scanned.lot is None:
        raise InvalidInput(
            FIELD, shown,
            _(
                "a lot code needs (10) lot: kitops tracks {sku} (GTIN "
                "{gtin}) by lot"
            ).format(sku=product.sku, gtin=scanned.gtin),
        )  # fmt: skip
    lot = uow.session.scalar(
        select(LotRow).where(LotRow.product_id == product.id, LotRow.code == scanned.lot)
    )
    if lot is None:
        raise InvalidInput(
            FIELD,
            shown,
            _("no lot {lot} of {sku} has been received").format(lot=scanned.lot, sku=product.sku),
        )
    return _lot(uow, lot, shown, now)


def _kit_row(uow: UnitOfWork, serial: str, shown: str) -> KitRow:
    kit = uow.session.scalar(select(KitRow).where(KitRow.serial == serial.upper()))
    if kit is None or not uow.visible_kit(kit):
        raise InvalidInput(FIELD, shown, _("no kit has the serial {serial}").format(serial=serial))
    return kit


def _location_row(uow: UnitOfWork, code: str, shown: str) -> LocationRow:
    wanted = code.upper()
    place = next((row for row in _all_places(uow) if row.code == wanted), None)
    if place is None:
        raise InvalidInput(FIELD, shown, _("no location has the code {code}").format(code=code))
    return place


def _text(
    uow: UnitOfWork, text: str, shown: str, now: datetime, summary: bool = True
) -> dto.Scanned:
    """A plain code: a kit serial, else a lot code, else a location code."""
    kit = uow.session.scalar(select(KitRow).where(KitRow.serial == text.upper()))
    if kit is not None and uow.visible_kit(kit):
        return _kit(uow, kit, shown)
    lots = uow.session.scalars(
        select(LotRow).where(LotRow.code == text).order_by(LotRow.id).limit(5)
    ).all()
    lots = [lot for lot in lots if lot.product.kind != ProductKind.KIT.value]  # kits: above
    if len(lots) == 1:
        return _lot(uow, lots[0], shown, now)
    if len(lots) > 1:
        skus = ", ".join(lot.product.sku for lot in lots)
        raise InvalidInput(
            FIELD, shown, _(
                "lot {text} is a lot of several products ({skus}): scan the "
                "product's GS1 label (its GTIN tells which)"
            ).format(text=text, skus=skus),
        )  # fmt: skip
    place = uow.locations.by_code(text.upper())
    if place is not None:
        return _location(uow, place, shown, summary)
    raise InvalidInput(
        FIELD, shown, _("nothing has the code {text}: no kit, lot or location").format(text=text)
    )


def _all_places(uow: UnitOfWork) -> list[LocationRow]:
    """Every location, read once per scan (a few dozen rows)."""
    cached: list[LocationRow] | None = uow.__dict__.get("_scan_places")
    if cached is None:
        cached = list(uow.locations.all())
        uow.__dict__["_scan_places"] = cached
    return cached


# --- lots ---------------------------------------------------------------------------------------


_LOT_STEPS = {
    LotStatus.QUARANTINE.value: (
        N_("in quarantine: a manager releases it after checking it (kitops lot release)"),
        ("release", "recall", "move", "count"),
    ),
    LotStatus.RELEASED.value: (
        N_("released: use it (assemble kits, move, count), or quarantine it if in doubt"),
        ("move", "count", "assemble", "quarantine", "recall", "writeoff"),
    ),
    LotStatus.RECALLED.value: (
        N_("recalled: keep it apart and write it off (kitops writeoff)"),
        ("writeoff", "move", "count"),
    ),
    LotStatus.EXPIRED.value: (
        N_("expired: write it off (kitops writeoff)"),
        ("writeoff", "move", "count"),
    ),
}


def _lot(uow: UnitOfWork, lot: LotRow, code: str, now: datetime) -> dto.ScannedLot:
    rows = uow.session.execute(
        select(StockBalanceRow.location_id, StockBalanceRow.quantity)
        .where(StockBalanceRow.lot_id == lot.id, StockBalanceRow.quantity > 0)
        .order_by(StockBalanceRow.location_id)
    ).all()
    places = {row.id: row for row in _all_places(uow)}
    scope = uow.scope_places()
    on_hand = []
    for location_id, quantity in rows:
        if scope is not None and location_id not in scope:
            continue  # a user limited to clinics sees what its clinics hold
        place = places[location_id]
        clinic = clinic_of(place, places)
        on_hand.append(dto.PlaceQuantity(place.code, clinic.code if clinic else None, quantity))
    step, actions = _LOT_STEPS.get(lot.status, ("", ()))
    step = i18n.gettext(step) if step else step
    total = sum(item.quantity for item in on_hand)
    if not total:
        if scope is not None:
            step = _("{status}, none on hand in your clinics").format(status=lot.status)
        else:
            step = _("{status}, none on hand").format(status=lot.status)
        actions = ("receive",) if lot.status != LotStatus.RECALLED.value else ()
    elif lot.expiry is not None and lot.status in (
        LotStatus.RELEASED.value,
        LotStatus.QUARANTINE.value,
    ):
        today = _today(on_hand, places, now)
        if lot.expiry < today:
            step = _("out of date: it waits for the expiry sweep; write it off (kitops writeoff)")
            actions = ("writeoff", "move", "count")
    return dto.ScannedLot(
        code=code, sku=lot.product.sku, product=lot.product.name, lot=lot.code,
        expiry=lot.expiry, status=lot.status, status_reason=lot.status_reason,
        on_hand=tuple(on_hand), total_on_hand=total, next_step=step, actions=actions,
    )  # fmt: skip


def _today(on_hand: list[dto.PlaceQuantity], places: dict[int, LocationRow], now: datetime) -> date:
    """The day of ``now`` in the clinic holding the first of the stock (UTC's when none)."""
    zones = {row.code: row.timezone for row in places.values()}
    zone = zones.get(on_hand[0].clinic or "") if on_hand else None
    return now.astimezone(ZoneInfo(zone)).date() if zone else now.astimezone(UTC).date()


# --- kits ---------------------------------------------------------------------------------------


def _kit_step(kit: KitRow, course: str) -> tuple[str, tuple[str, ...]]:
    status = kit.status
    if status == KitStatus.AVAILABLE.value:
        if kit.recalled:
            return _("holds a recalled lot: take it apart (kitops kit disassemble)"), (
                "disassemble", "writeoff")  # fmt: skip
        return _("in stock, for no course yet: fulfil reserves it for one (kitops fulfil)"), (
            "fulfil", "disassemble", "move")  # fmt: skip
    if status == KitStatus.RESERVED.value:
        return (
            _(
                "reserved for {course}: pick it, then hand it over (kitops kit handover) "
                "or ship it (kitops kit ship)"
            ).format(course=course),
            ("pick", "handover", "ship"),
        )
    if status in (KitStatus.SHIPPED.value, KitStatus.HANDED_OVER.value):
        if status == KitStatus.SHIPPED.value:
            text = _(
                "shipped, with the patient of {course}; if it comes back: kitops kit return "
                "--condition sealed|opened"
            )
        else:
            text = _(
                "handed over, with the patient of {course}; if it comes back: kitops kit return "
                "--condition sealed|opened"
            )
        return (
            text.format(course=course),
            ("return",),
        )
    if status == KitStatus.QUARANTINE.value:
        return _("back from a patient sealed: a manager releases it (kitops kit release)"), (
            "release", "disassemble")  # fmt: skip
    if status in (KitStatus.RECALLED.value, KitStatus.EXPIRED.value):
        return _("{status}: take it apart (kitops kit disassemble) or write it off").format(
            status=status), (
            "disassemble", "writeoff")  # fmt: skip
    return _("{status}: nothing more to do with it").format(status=status.replace("_", " ")), ()


def _kit(uow: UnitOfWork, kit: KitRow, code: str) -> dto.ScannedKit:
    places = {row.id: row for row in _all_places(uow)}
    place = places[kit.location_id]
    clinic = clinic_of(place, places)
    if kit.course_id:
        course = _("course {course} (kit {part})").format(
            course=kit.course_id, part=kit.course_part
        )
    else:
        course = _("no course")
    step, actions = _kit_step(kit, course)
    return dto.ScannedKit(
        code=code, serial=kit.serial, sku=kit.product.sku, gtin=kit.product.gtin,
        status=kit.status, recalled=kit.recalled, expiry=kit.expiry, location=place.code,
        clinic=clinic.code if clinic else None, course_id=kit.course_id,
        course_part=kit.course_part, next_step=step, actions=actions,
    )  # fmt: skip


# --- locations ----------------------------------------------------------------------------------


def _step(anything: bool) -> str:
    """A place's next step: what a scan there does."""
    if anything:
        return _("scan a lot or kit to move it here or count it")
    return _("empty: scan a lot or kit to move it here")


def _location(
    uow: UnitOfWork, place: LocationRow, code: str, summary: bool = True
) -> dto.ScannedLocation:
    uow.check_place(place, doing=_("look at what is"))
    rows = _all_places(uow)
    places = {row.id: row for row in rows}
    inside = sorted(subtree_ids(place, rows))
    held = StockBalanceRow.location_id.in_(inside), StockBalanceRow.quantity > 0
    if not summary:  # only whether anything is here: one line of the place's index
        clinic = clinic_of(place, places)
        anything = uow.session.scalar(select(StockBalanceRow.lot_id).where(*held).limit(1))
        return dto.ScannedLocation(
            code=code, location=place.code, name=place.name, place_kind=place.kind,
            clinic=clinic.code if clinic else None, products=(), kits=(),
            next_step=_step(anything is not None), actions=("move", "count", "receive"),
        )  # fmt: skip
    products = uow.session.execute(
        select(
            ProductRow.sku,
            func.count(StockBalanceRow.lot_id),
            func.sum(StockBalanceRow.quantity),
            func.min(LotRow.expiry),
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .join(ProductRow, ProductRow.id == StockBalanceRow.product_id)
        .where(*held)
        .group_by(ProductRow.sku)
        .order_by(ProductRow.sku)
    ).all()
    kits = uow.session.execute(
        select(KitRow.status, func.count())
        .where(KitRow.location_id.in_(inside), KitRow.status.in_(ON_A_SHELF))
        .group_by(KitRow.status)
        .order_by(KitRow.status)
    ).all()
    clinic = clinic_of(place, places)
    here = tuple(dto.ProductHere(sku, int(n), int(qty), expiry) for sku, n, qty, expiry in products)
    step = _step(bool(here))
    return dto.ScannedLocation(
        code=code, location=place.code, name=place.name, place_kind=place.kind,
        clinic=clinic.code if clinic else None, products=here,
        kits=tuple((status, int(n)) for status, n in kits), next_step=step,
        actions=("move", "count", "receive"),
    )  # fmt: skip


# --- course cards -------------------------------------------------------------------------------


def _course(uow: UnitOfWork, number: int, code: str, now: datetime) -> dto.ScannedCourse:
    from kitops.services.courses import course_dto

    try:
        row: CourseRow = uow.courses.get(number)
    except InvalidInput:
        raise InvalidInput(
            FIELD, code, _("no course has the number {number}").format(number=number)
        ) from None
    course = course_dto(uow, row, with_history=False)
    upcoming = next((e for e in course.events if _aware(e.at) >= now), None)
    zone = ZoneInfo(course.timezone)
    kits = tuple(
        dto.CourseKitLine(kit.serial, kit.course_part or 0, kit.status) for kit in course.kits
    )
    reserved = [k.serial for k in kits if k.status == KitStatus.RESERVED.value]
    actions: tuple[str, ...]
    if course.status in ("completed", "ended_early", "cancelled"):
        step = _("the course is {status}").format(status=course.status.replace("_", " "))
        actions = ()
    elif reserved:
        step = _("kits to hand over or ship: {kits} (scan each kit)").format(
            kits=", ".join(reserved)
        )
        actions = ("pick", "handover", "ship")
    else:
        step = _("no kit waiting to go out: fulfil reserves the next ones")
        actions = ("fulfil",)
    return dto.ScannedCourse(
        code=code, course_id=course.id, plan=course.plan, clinic=course.clinic,
        status=course.status, kits=kits,
        next_date=_aware(upcoming.at).astimezone(zone) if upcoming else None,
        next_event=f"{upcoming.kind} {upcoming.number}: {upcoming.note}" if upcoming else None,
        next_step=step, actions=actions,
    )  # fmt: skip


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- what location labels and course cards say (kitops.documents.cards draws them) ---------------


def location_cards(uow: UnitOfWork, codes: Sequence[str]) -> list[dto.LocationCard]:
    """Inside the caller's transaction: the labels of locations ``codes``; an unknown
    code is bad input, a place outside the acting user's clinics refused."""
    if not codes:
        raise InvalidInput("location", None, _("give at least one location code"))
    places = {row.id: row for row in _all_places(uow)}
    cards = []
    for code in codes:
        place = uow.locations.get(code.strip().upper())
        uow.check_place(place, doing=_("label a location"))
        clinic = clinic_of(place, places)
        cards.append(dto.LocationCard(place.code, place.name, place.kind,
                                      clinic.code if clinic else None))  # fmt: skip
    return cards


def course_cards(uow: UnitOfWork, numbers: Sequence[str]) -> list[dto.CourseCard]:
    """Inside the caller's transaction: the cards of courses ``numbers``; an unknown
    number (or another clinic's course) is bad input."""
    if not numbers:
        raise InvalidInput("course", None, _("give at least one course number"))
    cards = []
    for number in numbers:
        row = uow.courses.get(number)
        cards.append(dto.CourseCard(row.id, row.plan.code, row.clinic.code, row.patient_ref,
                                    row.start_date))  # fmt: skip
    return cards
