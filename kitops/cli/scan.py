"""``kitops scan DATA``: what a scanned code is and what can be done with it now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import command
from kitops.cli.output import emit_json, emit_table, human, say, status_label
from kitops.i18n import N_, _

if TYPE_CHECKING:
    from kitops.services.dto.scans import (
        ScannedCourse,
        ScannedKit,
        ScannedLocation,
        ScannedLot,
    )


@command(
    "scan",
    help=N_(
        "What a scanned code names and what to do with it now: a kit label, a lot (a "
        "supplier's GS1 label or its lot code), a location label or a course card.\n\n"
        "DATA is what the scanner typed: GS1 with or without a symbology prefix (]d2, "
        "]C1, ]Q3, ]e0) and GS separators, the bracketed form (01)...(21)..., or a "
        "plain code. An unknown or malformed code is bad input (exit 2)."
    ),
)
@click.argument("data")
@click.option("--json", "as_json", is_flag=True, help=N_("Print what the code names as JSON."))
@pass_context
def scan(ctx: Context, data: str, as_json: bool) -> None:
    from kitops.services.scans import scan as service

    result = service(ctx.uow(readonly=True), data)
    if as_json:
        emit_json(result)
    elif result.kind == "lot":
        _print_lot(result)  # type: ignore[arg-type]
    elif result.kind == "kit":
        _print_kit(result)  # type: ignore[arg-type]
    elif result.kind == "location":
        _print_location(result)  # type: ignore[arg-type]
    else:
        _print_course(result)  # type: ignore[arg-type]


def _print_lot(lot: ScannedLot) -> None:
    status = status_label(lot.status)
    if lot.status_reason:
        status = _("{status} ({reason})").format(status=status, reason=lot.status_reason)
    fields = {"lot": lot.lot, "sku": lot.sku, "product": lot.product, "status": status}
    if lot.expiry:
        say(_("lot {lot} of {sku} ({product}): {status}, expires {expiry}").format(
            expiry=human(lot.expiry), **fields))  # fmt: skip
    else:
        say(_("lot {lot} of {sku} ({product}): {status}").format(**fields))
    if lot.on_hand:
        emit_table([N_("location"), N_("clinic"), N_("on hand")],
                   [(p.location, p.clinic, p.quantity) for p in lot.on_hand],
                   right=["on hand"])  # fmt: skip
    say(_("on hand: {qty}").format(qty=human(lot.total_on_hand)))
    say(_("next: {step}").format(step=lot.next_step))


def _print_kit(kit: ScannedKit) -> None:
    course = (_(", course {course} kit {part}").format(course=kit.course_id, part=kit.course_part)
              if kit.course_id else "")  # fmt: skip
    status = status_label(kit.status)
    if kit.recalled:
        status = _("{status}, HOLDS A RECALLED LOT").format(status=status)
    say(_("kit {serial} ({sku}): {status} at {location}, expires {expiry}{course}").format(
        serial=kit.serial, sku=kit.sku, status=status, location=kit.location,
        expiry=human(kit.expiry), course=course))  # fmt: skip
    say(_("next: {step}").format(step=kit.next_step))


def _print_location(place: ScannedLocation) -> None:
    clinic = _(", clinic {clinic}").format(clinic=place.clinic) if place.clinic else ""
    say(_("location {code} ({name}, {kind}{clinic})").format(
        code=place.location, name=place.name, kind=place.place_kind, clinic=clinic))  # fmt: skip
    if place.products:
        emit_table([N_("sku"), N_("lots"), N_("units"), N_("earliest expiry")],
                   [(p.sku, p.lots, p.quantity, p.earliest_expiry) for p in place.products],
                   right=["lots", "units"])  # fmt: skip
    if place.kits:
        kits = ", ".join(f"{n} {status_label(status)}" for status, n in place.kits)
        say(_("kits: {kits}").format(kits=kits))
    say(_("next: {step}").format(step=place.next_step))


def _print_course(course: ScannedCourse) -> None:
    say(_("course {course} ({plan}) at {clinic}: {status}").format(
        course=course.course_id, plan=course.plan, clinic=course.clinic,
        status=status_label(course.status)))  # fmt: skip
    if course.kits:
        emit_table([N_("kit #"), N_("serial"), N_("status")],
                   [(k.part, k.serial, status_label(k.status)) for k in course.kits])  # fmt: skip
    if course.next_date is not None:
        from kitops.i18n import formats

        when = f"{formats.datetime(course.next_date)} {course.next_date:%Z}"
        say(_("next: {when}, {event}").format(when=when, event=course.next_event))
    say(_("to do: {step}").format(step=course.next_step))


@command(
    "label",
    help=N_(
        "Printable location labels (a fridge, a shelf): a DataMatrix holding "
        "KLOC:CODE, which `kitops scan` and the terminal UI read as the place, and "
        "its name."
    ),
)
@click.argument("codes", nargs=-1, required=True, metavar="CODE...")
@click.option("--out", required=True, metavar="FILE.pdf|FILE.png", help=N_("Where to write."))
@pass_context
def location_label(ctx: Context, codes: tuple[str, ...], out: str) -> None:
    from kitops.documents.cards import write_location_labels

    with ctx.documents_for(places=codes):  # in their clinic's locale
        path = write_location_labels(ctx.uow(readonly=True), list(codes), out)
    say(_("{n} label(s) written to {path}").format(n=len(codes), path=path))


@command(
    "card",
    help=N_(
        "Printable course cards for the front desk: a DataMatrix holding only "
        "KCRS:NUMBER (never the patient), and the course, plan, clinic and patient "
        "reference as text."
    ),
)
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@click.option("--out", required=True, metavar="FILE.pdf|FILE.png", help=N_("Where to write."))
@pass_context
def course_card(ctx: Context, numbers: tuple[str, ...], out: str) -> None:
    from kitops.documents.cards import write_course_cards

    with ctx.documents_for(courses=numbers):  # in their clinic's locale
        path = write_course_cards(ctx.uow(readonly=True), list(numbers), out)
    say(_("{n} card(s) written to {path}").format(n=len(numbers), path=path))
