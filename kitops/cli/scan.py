"""``kitops scan DATA``: what a scanned code is and what can be done with it now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.output import emit_json, emit_table, say

if TYPE_CHECKING:
    from kitops.services.dto.scans import (
        ScannedCourse,
        ScannedKit,
        ScannedLocation,
        ScannedLot,
    )


@click.command("scan")
@click.argument("data")
@click.option("--json", "as_json", is_flag=True, help="Print what the code names as JSON.")
@pass_context
def scan(ctx: Context, data: str, as_json: bool) -> None:
    """What a scanned code names and what to do with it now: a kit label, a lot (a
    supplier's GS1 label or its lot code), a location label or a course card.

    DATA is what the scanner typed: GS1 with or without a symbology prefix (]d2, ]C1,
    ]Q3, ]e0) and GS separators, the bracketed form (01)...(21)..., or a plain code.
    An unknown or malformed code is bad input (exit 2)."""
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
    expiry = f", expires {lot.expiry}" if lot.expiry else ""
    reason = f" ({lot.status_reason})" if lot.status_reason else ""
    say(f"lot {lot.lot} of {lot.sku} ({lot.product}): {lot.status}{reason}{expiry}")
    if lot.on_hand:
        emit_table(["location", "clinic", "on hand"],
                   [(p.location, p.clinic, p.quantity) for p in lot.on_hand],
                   right=["on hand"])  # fmt: skip
    say(f"on hand: {lot.total_on_hand}")
    say(f"next: {lot.next_step}")


def _print_kit(kit: ScannedKit) -> None:
    course = f", course {kit.course_id} kit {kit.course_part}" if kit.course_id else ""
    recalled = ", HOLDS A RECALLED LOT" if kit.recalled else ""
    say(f"kit {kit.serial} ({kit.sku}): {kit.status}{recalled} at {kit.location}, "
        f"expires {kit.expiry}{course}")  # fmt: skip
    say(f"next: {kit.next_step}")


def _print_location(place: ScannedLocation) -> None:
    clinic = f", clinic {place.clinic}" if place.clinic else ""
    say(f"location {place.location} ({place.name}, {place.place_kind}{clinic})")
    if place.products:
        emit_table(["sku", "lots", "units", "earliest expiry"],
                   [(p.sku, p.lots, p.quantity, p.earliest_expiry) for p in place.products],
                   right=["lots", "units"])  # fmt: skip
    if place.kits:
        say("kits: " + ", ".join(f"{n} {status}" for status, n in place.kits))
    say(f"next: {place.next_step}")


def _print_course(course: ScannedCourse) -> None:
    say(f"course {course.course_id} ({course.plan}) at {course.clinic}: {course.status}")
    if course.kits:
        emit_table(["kit #", "serial", "status"],
                   [(k.part, k.serial, k.status) for k in course.kits])  # fmt: skip
    if course.next_date is not None:
        say(f"next: {course.next_date:%Y-%m-%d %H:%M %Z}, {course.next_event}")
    say(f"to do: {course.next_step}")


@click.command("label")
@click.argument("codes", nargs=-1, required=True, metavar="CODE...")
@click.option("--out", required=True, metavar="FILE.pdf|FILE.png", help="Where to write.")
@pass_context
def location_label(ctx: Context, codes: tuple[str, ...], out: str) -> None:
    """Printable location labels (a fridge, a shelf): a DataMatrix holding KLOC:CODE,
    which `kitops scan` and the terminal UI read as the place, and its name."""
    from kitops.documents.cards import write_location_labels

    with ctx.documents_for(places=codes):  # in their clinic's locale
        path = write_location_labels(ctx.uow(readonly=True), list(codes), out)
    say(f"{len(codes)} label(s) written to {path}")


@click.command("card")
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@click.option("--out", required=True, metavar="FILE.pdf|FILE.png", help="Where to write.")
@pass_context
def course_card(ctx: Context, numbers: tuple[str, ...], out: str) -> None:
    """Printable course cards for the front desk: a DataMatrix holding only KCRS:NUMBER
    (never the patient), and the course, plan, clinic and patient reference as text."""
    from kitops.documents.cards import write_course_cards

    with ctx.documents_for(courses=numbers):  # in their clinic's locale
        path = write_course_cards(ctx.uow(readonly=True), list(numbers), out)
    say(f"{len(numbers)} card(s) written to {path}")
