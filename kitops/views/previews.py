"""Previews shown before a change is confirmed -- a scanned label, an assembly's
shortfall, the calendar a new course would have -- and a course with its orders.
Nothing is written."""

from __future__ import annotations

from datetime import date

from kitops.domain.catalog import ProductKind, parse_positive_int
from kitops.domain.clinic_calendar import appointment_time
from kitops.domain.courses import (
    Administered,
    course_calendar,
    format_weekdays,
    kit_and_vial_numbers,
    parse_weekdays,
    weekdays_for,
)
from kitops.domain.ledger import parse_date
from kitops.errors import InvalidInput
from kitops.gs1 import parse_scan, read_code
from kitops.i18n import _, ngettext
from kitops.services import courses, orders
from kitops.services.clinic_calendar import preview_bookings, with_bookings
from kitops.services.courses import serum_per_kit
from kitops.services.dto import courses as courses_dto
from kitops.services.kits import capacity_at, default_min_shelf_life
from kitops.services.plans import to_domain
from kitops.services.unit_of_work import UnitOfWork
from kitops.views import dto as view

# --- receive -------------------------------------------------------------------------


def read_label(uow: UnitOfWork, scan: str) -> view.ScannedLabel:
    """What a scanned GS1 label says, matched to the catalogue: nothing is written."""
    label = parse_scan(scan)
    with uow:
        product = uow.products.by_gtin(label.gtin)
        if product is None:
            raise InvalidInput("scan", label.gtin, _("no product in the catalogue has this GTIN"))
        if product.kind == ProductKind.KIT.value:
            raise InvalidInput("scan", product.sku, _("kits are assembled, not received"))
        known = uow.lots.find(product.id, label.lot) if label.lot else None
        return view.ScannedLabel(
            sku=product.sku,
            product=product.name,
            gtin=label.gtin,
            lot=label.lot,
            expiry=label.expiry,
            count=label.count,
            serial=label.serial,
            lot_tracked=product.lot_tracked,
            known_lot_status=known.status if known else None,
            known_lot_expiry=known.expiry if known else None,
        )


def counted_item(uow: UnitOfWork, scan: str) -> view.CountedItem:
    """What a label scanned on a count adds to the sheet; nothing is written. A kit's
    label (GTIN of a kit product and serial (21)) counts that kit; a product's label
    counts its lot, by its count (30) or one."""
    read = read_code(scan)
    if read.kind == "kit":  # a kit product without a GTIN: KKIT:<serial>
        with uow:
            kit = uow.kits.get(read.value)
            return view.CountedItem(kit.product.sku, kit.serial, 1, _("kit"))
    if read.kind != "gs1" or read.gs1 is None:
        raise InvalidInput("scan", scan, _("is not the label of a vial, a box or a kit"))
    label = read.gs1
    with uow:
        product = uow.products.by_gtin(label.gtin)
        if product is None:
            raise InvalidInput("scan", label.gtin, _("no product in the catalogue has this GTIN"))
        if product.kind == ProductKind.KIT.value:
            if not label.serial:
                raise InvalidInput("scan", scan, _("a kit's label needs its serial (21)"))
            kit = uow.kits.get(label.serial)
            if kit.product_id != product.id:
                raise InvalidInput(
                    "scan", label.serial, _("no {sku} kit has this serial").format(sku=product.sku)
                )
            return view.CountedItem(product.sku, label.serial, 1, _("kit"))
        if product.lot_tracked and not label.lot:
            raise InvalidInput(
                "scan",
                scan,
                _("{sku} is lot-tracked; the label has no lot (10)").format(sku=product.sku),
            )
        quantity = label.count or 1
        what = (
            _("box of {count}").format(count=quantity) if label.count else product.unit or _("unit")
        )
        return view.CountedItem(product.sku, label.lot or "", quantity, what)


# --- kits ----------------------------------------------------------------------------


def assembly_preview(
    uow: UnitOfWork,
    recipe: str,
    quantity: int | str,
    location: str,
    *,
    today: date | None = None,
) -> view.AssemblyPreview:
    """What assembling ``quantity`` kits at ``location`` would take, component by
    component, and how many the usable stock allows: the shortfall before confirming."""
    count = parse_positive_int(quantity, "qty")
    with uow:
        kit = uow.products.kit(recipe)
        place = uow.locations.assembly_place(location)
        uow.check_place(place, doing="assemble kits")
        day = today or uow.locations.local_today(place)
        shelf = default_min_shelf_life(uow, kit)
        supply = capacity_at(uow, kit, place, day, shelf)
        fresh_until = supply.fresh_until
        components = tuple(
            view.ComponentShortfall(
                sku=line.sku,
                per_kit=line.per_kit,
                needed=line.per_kit * count,
                usable=line.usable,
            )
            for line in supply.components
        )
        return view.AssemblyPreview(
            sku=kit.sku,
            location=place.code,
            quantity=count,
            possible=min((c.usable // c.per_kit for c in components), default=0),
            min_shelf_life_days=shelf,
            fresh_until=fresh_until,
            components=components,
        )


# --- courses -------------------------------------------------------------------------


def preview_course(
    uow: UnitOfWork,
    plan: str,
    start: str | date,
    clinic: str,
    *,
    weekdays: str | None = None,
) -> view.CoursePreview:
    """The calendar ``course create`` would make, without creating anything."""
    day = start if isinstance(start, date) else parse_date(start, "start")
    chosen = parse_weekdays(weekdays) if weekdays and weekdays.strip() else None
    with uow:
        plan_row = uow.plans.get(plan)
        clinic_row = uow.locations.clinic(clinic)
        uow.check_clinic(clinic_row, doing="create a course")
        domain_plan = to_domain(plan_row)
        days = weekdays_for(domain_plan, day, chosen)
        zone = clinic_row.timezone or "UTC"
        clinic_code = clinic_row.code
        calendar = course_calendar(domain_plan, day, days, zone)
        vial_ul = None
        if domain_plan.uses_kits and plan_row.kit_product is not None:
            vial_ul = serum_per_kit(plan_row.kit_product)[0]
        # the clinic's open days and room, as course create books them
        bookings = preview_bookings(uow, clinic_row, domain_plan, calendar)
        at = appointment_time(None, clinic_row.opens_at)
    events = []
    numbered = zip(calendar.applications, kit_and_vial_numbers(domain_plan, vial_ul), strict=True)
    for number, (moment, kit_vial) in enumerate(numbered, start=1):
        part = vial = None
        home = domain_plan.administered is Administered.HOME
        note = _("at home") if home else _("in clinic")
        if kit_vial is not None:
            part, vial = kit_vial
            note = (
                _("kit {part}, vial {vial}, first in clinic")
                if number == 1
                else _("kit {part}, vial {vial}")
            ).format(part=part, vial=vial)
        events.append(courses_dto.CalendarEvent("application", number, moment, part, vial, note))
    events += [
        courses_dto.CalendarEvent(
            "checkin",
            i,
            moment,
            None,
            None,
            _("check-in, week {week}").format(week=domain_plan.checkin_weeks[i - 1]),
        )
        for i, moment in enumerate(calendar.checkins, start=1)
    ]
    events += [
        courses_dto.CalendarEvent(
            "followup",
            i,
            moment,
            None,
            None,
            ngettext(
                "follow-up, {months} month after",
                "follow-up, {months} months after",
                domain_plan.followup_months[i - 1],
            ).format(months=domain_plan.followup_months[i - 1]),
        )
        for i, moment in enumerate(calendar.followups, start=1)
    ]
    events = with_bookings(events, bookings, at, zone)
    events.sort(key=lambda e: (e.at, e.kind))
    return view.CoursePreview(
        plan=domain_plan.code,
        clinic=clinic_code,
        start=day,
        weekdays=format_weekdays(days),
        end=calendar.last_application,
        kits=domain_plan.kits_per_course if domain_plan.uses_kits else 0,
        events=tuple(events),
    )


def course_detail(uow: UnitOfWork, course_id: int | str) -> view.CourseDetail:
    """A course (calendar, kits, sessions) with its orders, newest first."""
    with uow:
        course = courses.show_course(uow, course_id)
        found = orders.list_orders(uow, course=course.id)
    return view.CourseDetail(course, tuple(reversed(found)))
