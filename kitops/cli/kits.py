"""``kitops kit``, ``plan``, ``course``, ``session``, ``fulfil`` and ``pick-list``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import command, group
from kitops.cli.output import emit_json, emit_table, human, say, status_label
from kitops.domain.courses import CourseStatus
from kitops.domain.kits import KIT_STATUSES, SERVING, KitStatus
from kitops.i18n import N_, _
from kitops.i18n.labels import audit_details, stored_text

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from kitops.services.dto.courses import Course, FulfilReport, ScheduleChange
    from kitops.services.dto.kits import AssemblyCapacity, Kit


def _date(value: str | None, field: str) -> object:
    from kitops.domain.ledger import parse_date

    return parse_date(value, field) if value else None


def _kit_table(kits: list[Kit] | tuple[Kit, ...], title: str | None = None) -> None:
    # a chain's list holds 20,000 kits in a handful of states: each state is labelled once
    labels: dict[tuple[str, bool], str] = {}

    def label(status: str, recalled: bool) -> str:
        found = labels.get((status, recalled))
        if found is None:
            found = labels[status, recalled] = (
                _("{status} (recalled)").format(status=status_label(status))
                if recalled and status != KitStatus.RECALLED else status_label(status)
            )  # fmt: skip
        return found

    emit_table(
        [N_("serial"), N_("SKU"), N_("location"), N_("expiry"), N_("status"), N_("course"),
         N_("patient"), N_("serves")],
        [
            (k.serial, k.sku, k.location, k.expiry, label(k.status, k.recalled),
             f"{k.course_id}/{k.course_part}" if k.course_id else "", k.patient_ref,
             _serves(k))
            for k in kits
        ],
        title=title,
    )  # fmt: skip


def _serves(kit: Kit) -> str:
    """The plans a kit could still serve if handed out today; "-" for an available or
    reserved kit that fits none, nothing for a kit that has left stock."""
    if kit.servable_plans:
        return ", ".join(kit.servable_plans)
    return "-" if kit.status in SERVING else ""


def _print_kit(kit: Kit) -> None:
    fields = {"serial": kit.serial, "sku": kit.sku, "location": kit.location,
              "expiry": human(kit.expiry), "status": status_label(kit.status)}  # fmt: skip
    if kit.recalled:
        say(_("kit {serial} ({sku}) at {location}, expires {expiry}, {status}, CONTAINS A "
              "RECALLED LOT").format(**fields))  # fmt: skip
    else:
        say(_("kit {serial} ({sku}) at {location}, expires {expiry}, {status}").format(**fields))
    if kit.course_id:
        course = {"course": kit.course_id, "part": kit.course_part, "patient": kit.patient_ref}
        say(_("course {course}, kit {part}, patient {patient}, tracking {tracking}").format(
            tracking=kit.tracking, **course) if kit.tracking else
            _("course {course}, kit {part}, patient {patient}").format(**course))  # fmt: skip
    if kit.status in SERVING:
        plans = ", ".join(kit.servable_plans)
        if plans:
            say(_("serves: {plans} (if handed out today)").format(plans=plans))
        else:
            say(_("serves: no plan any more (a vial would run out of date mid-course)"))
    emit_table(
        [N_("component"), N_("lot"), N_("expiry"), N_("qty")],
        [(c.sku, c.lot, c.expiry, c.quantity) for c in kit.components],
        right=("qty",),
    )


@group(help=N_("Assemble, look up, label, ship and take back kits."))
def kit() -> None: ...


@kit.command(
    "assemble",
    help=N_("Assemble serialised kits from released, in-date lots; all or nothing."),
)
@click.argument("recipe", metavar="KIT_SKU")
@click.option("--qty", required=True, metavar="N", help=N_("How many kits."))
@click.option(
    "--location", required=True, metavar="LOC",
    help=N_("Where the kits are made; components come from anywhere in its clinic."),
)  # fmt: skip
@click.option(
    "--min-shelf-life", metavar="DAYS",
    help=N_("Components must last this many days (default: one kit of the shortest plan "
    "using the kit + margin)."),
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help=N_("Print the kits as JSON."))
@pass_context
def assemble(
    ctx: Context, recipe: str, qty: str, location: str, min_shelf_life: str | None, as_json: bool
) -> None:
    from kitops.services.kits import assemble as service

    result = service(ctx.uow(), recipe, qty, location, min_shelf_life_days=min_shelf_life)
    if as_json:
        emit_json(result)
        return
    title = _("{n} × {sku} assembled at {location} (components in date until at least "
              "{day})").format(n=len(result.kits), sku=result.sku, location=result.location,
                               day=human(result.min_expiry))  # fmt: skip
    for draw in result.drawn:
        say(_("moved {qty} × {sku} lot {lot} from {source} to {target}").format(
            qty=draw.quantity, sku=draw.sku, lot=draw.lot, source=draw.from_location,
            target=result.location))  # fmt: skip
    _kit_table(result.kits, title=title)


@kit.command(
    "available",
    help=N_(
        "How many more kits could be assembled now at LOC from the usable stock "
        "anywhere in its clinic (never quarantine), and which component holds it "
        "back."
    ),
)
@click.argument("recipe", metavar="KIT_SKU")
@click.option(
    "--location", required=True, metavar="LOC",
    help=N_("Where the kits would be made; its whole clinic's stock counts."),
)  # fmt: skip
@click.option("--min-shelf-life", metavar="DAYS", help=N_("As for `kit assemble`."))
@click.option(
    "--json", "as_json", is_flag=True,
    help=N_('Print {"sku", "location", "kits", ...} with each component\'s usable units.'),
)  # fmt: skip
@pass_context
def available(
    ctx: Context, recipe: str, location: str, min_shelf_life: str | None, as_json: bool
) -> None:
    from kitops.services.kits import capacity

    result = capacity(ctx.uow(readonly=True), recipe, location, min_shelf_life_days=min_shelf_life)
    if as_json:
        emit_json(result)
    else:
        _print_capacity(result)


def _print_capacity(result: AssemblyCapacity) -> None:
    where = (_("in {clinic}").format(clinic=result.clinic) if result.clinic
             else _("at {location}").format(location=result.location))  # fmt: skip
    say(_("{n} more {sku} can be assembled at {location}").format(
        n=result.kits, sku=result.sku, location=result.location))  # fmt: skip
    for c in result.components:
        limit = _(" (the limit)") if c.sku in result.limited_by else ""
        short = _(" (short)") if c.kits == 0 else limit
        say("  " + _("{sku}: {usable} usable {where}, {per_kit} a kit: {kits} kits{short}").format(
            sku=c.sku, usable=c.usable, where=where, per_kit=c.per_kit, kits=c.kits,
            short=short))  # fmt: skip
    say(_("usable: released, in date until {day} ({days} days' shelf life), not in "
          "quarantine").format(day=human(result.fresh_until),
                               days=result.min_shelf_life_days))  # fmt: skip


@kit.command(
    "disassemble",
    help=N_(
        "Take an unreserved kit apart: its components go back to their lots.\n\n"
        "An expired kit (in quarantine since the expiry sweep) may be taken apart "
        "too: its components stay in quarantine, and its expired lots stay expired."
    ),
)
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the kit as JSON."))
@pass_context
def disassemble(ctx: Context, serial: str, as_json: bool) -> None:
    from kitops.services.kits import disassemble as service

    result = service(ctx.uow(), serial)
    emit_json(result) if as_json else say(
        _("kit {serial} taken apart at {location}").format(
            serial=result.serial, location=result.location
        )
    )


@kit.command("list", help=N_("List kits, earliest expiry first."))
@click.option("--status", type=click.Choice(KIT_STATUSES), help=N_("Only kits in this state."))
@click.option("--location", metavar="LOC", help=N_("A clinic or place (with what is below it)."))
@click.option("--sku", metavar="KIT_SKU", help=N_("Only this kit product."))
@click.option(
    "--limit", type=click.IntRange(1, 100_000), metavar="N",
    help=N_("Only the first N kits (the soonest to expire)."),
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of kits."))
@pass_context
def list_kits(
    ctx: Context, status: str | None, location: str | None, sku: str | None,
    limit: int | None, as_json: bool,
) -> None:  # fmt: skip
    from kitops.services.kits import list_kits as service

    # one kit more than asked for tells whether more match
    kits = service(ctx.uow(readonly=True), status=status, location=location, sku=sku,
                   limit=None if limit is None else limit + 1)  # fmt: skip
    more = limit is not None and len(kits) > limit
    if more:
        kits = kits[:limit]
    if as_json:
        emit_json(kits)
    elif kits:
        _kit_table(kits)
        if more:
            say(_("the first {n} kits; more match (a higher --limit, or --status, "
                  "--location, --sku)").format(n=limit))  # fmt: skip
    else:
        say(_("no kits match"))


@kit.command("show", help=N_("A kit's components and lots, expiry and course."))
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the kit as JSON."))
@pass_context
def show_kit(ctx: Context, serial: str, as_json: bool) -> None:
    from kitops.services.kits import show_kit as service

    result = service(ctx.uow(readonly=True), serial)
    emit_json(result) if as_json else _print_kit(result)


@kit.command(
    "label",
    help=N_(
        "Printable labels: a GS1 2D code (GTIN, expiry, serum lot, serial) and the "
        "text, with the product's storage and usage lines, to a file (--out) or a "
        "label printer (--printer). A kit already handed over or shipped needs "
        "--reprint."
    ),
)
@click.argument("serials", nargs=-1, required=True, metavar="SERIAL...")
@click.option("--out", metavar="FILE.pdf|FILE.png", help=N_("Write the labels to a file."))
@click.option(
    "--printer",
    "printer_name",
    metavar="NAME",
    help=N_("Send the labels to this printer, in one job (`kitops printer list`)."),
)
@click.option(
    "--copies",
    type=int,
    default=1,
    show_default=True,
    metavar="N",
    help=N_("Copies of each label (with --printer)."),
)
@click.option(
    "--reprint", is_flag=True,
    help=N_("Print again the label of a kit already with its patient (audited)."),
)  # fmt: skip
@pass_context
def label(
    ctx: Context, serials: tuple[str, ...], out: str | None, printer_name: str | None,
    copies: int, reprint: bool,
) -> None:  # fmt: skip
    from kitops.errors import InvalidInput

    if (out is None) == (printer_name is None):
        raise InvalidInput("out", out, _("give either --out FILE or --printer NAME"))
    if printer_name is None:
        from kitops.documents.labels import write_labels

        if copies != 1:
            raise InvalidInput("copies", copies, _("is for --printer only"))
        with ctx.documents_for(kits=serials):  # in the kits' clinic's locale
            path = write_labels(ctx.uow(readonly=not reprint), list(serials), out or "",
                                reprint=reprint)  # fmt: skip
        say(_("{n} label(s) written to {path}").format(n=len(serials), path=path))
        return
    from kitops.documents.printers import print_labels

    with ctx.documents_for(kits=serials):
        job = print_labels(ctx.uow(readonly=not reprint), list(serials), printer_name,
                           reprint=reprint, copies=copies)  # fmt: skip
    if job.copies > 1:
        say(_("{n} label(s) × {copies} sent to printer {printer} in one job").format(
            n=job.labels, copies=job.copies, printer=job.printer))  # fmt: skip
    else:
        say(_("{n} label(s) sent to printer {printer} in one job").format(
            n=job.labels, printer=job.printer))  # fmt: skip


@kit.command("ship", help=N_("Send a reserved kit to its patient."))
@click.argument("serial")
@click.option("--tracking", required=True, metavar="TEXT", help=N_("The carrier's reference."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the kit as JSON."))
@pass_context
def ship(ctx: Context, serial: str, tracking: str, as_json: bool) -> None:
    from kitops.services.kits import dispatch

    result = dispatch(ctx.uow(), serial, tracking=tracking)
    emit_json(result) if as_json else say(
        _("kit {serial} shipped to {patient} (course {course}), tracking {tracking}").format(
            serial=result.serial, patient=result.patient_ref, course=result.course_id,
            tracking=result.tracking)
    )  # fmt: skip


@kit.command("handover", help=N_("Give a reserved kit to its patient in the clinic."))
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the kit as JSON."))
@pass_context
def handover(ctx: Context, serial: str, as_json: bool) -> None:
    from kitops.services.kits import dispatch

    result = dispatch(ctx.uow(), serial, handover=True)
    emit_json(result) if as_json else say(
        _("kit {serial} handed to {patient} (course {course})").format(
            serial=result.serial, patient=result.patient_ref, course=result.course_id)
    )  # fmt: skip


@kit.command(
    "return",
    help=N_(
        "A kit comes back from its patient: sealed, it waits in quarantine for a "
        "manager's `kit release`; opened, it is written off and ends its course part "
        "(a replacement only with `course replace-kit`)."
    ),
)
@click.argument("serial")
@click.option("--condition", required=True, type=click.Choice(["sealed", "opened"]))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the kit as JSON."))
@pass_context
def return_kit(ctx: Context, serial: str, condition: str, as_json: bool) -> None:
    from kitops.services.kits import take_back

    result = take_back(ctx.uow(), serial, condition)
    if as_json:
        emit_json(result)
    elif result.status == KitStatus.QUARANTINE:
        say(_("kit {serial} is in quarantine (returned) at {location}; a manager releases it "
              "after inspection: kitops kit release {serial}").format(
            serial=result.serial, location=result.location))  # fmt: skip
    elif result.course_id is not None:
        say(_("kit {serial} is written_off (opened): kit {part} of course {course} returned "
              "opened; a replacement only on request: kitops course replace-kit {course} "
              "--part {part}").format(serial=result.serial, part=result.course_part,
                                      course=result.course_id))  # fmt: skip
    else:
        say(_("kit {serial} is now {status}").format(
            serial=result.serial, status=status_label(result.status)))  # fmt: skip


@kit.command(
    "release",
    help=N_(
        "Managers: a kit back sealed, inspected, becomes available again (its "
        "component lots are checked again: released and in date)."
    ),
)
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the kit as JSON."))
@pass_context
def release_kit(ctx: Context, serial: str, as_json: bool) -> None:
    from kitops.services.kits import release

    result = release(ctx.uow(), serial)
    emit_json(result) if as_json else say(
        _("kit {serial} released: available at {location}").format(
            serial=result.serial, location=result.location)
    )  # fmt: skip


@group(help=N_("Treatment plans (protocols)."))
def plan() -> None: ...


@plan.command("list", help=N_("The plans and their schedules."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of plans."))
@pass_context
def list_plans(ctx: Context, as_json: bool) -> None:
    from kitops.services.plans import list_plans as service

    plans = service(ctx.uow(readonly=True))
    if as_json:
        emit_json(plans)
        return
    emit_table(
        [N_("code"), N_("name"), N_("per week"), N_("weeks"), N_("ml"), N_("where"),
         N_("needle"), N_("kit"), N_("kits")],
        [(p.code, p.name, p.applications_per_week,
          _("{weeks}, every {every}").format(weeks=p.weeks, every=p.every_weeks)
          if p.every_weeks > 1 else p.weeks,
          p.ml_per_application, p.administered, p.needle or "", p.kit_sku,
          p.kits_per_course or "") for p in plans],
    )  # fmt: skip


@plan.command("show", help=N_("One plan in full."))
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the plan as JSON."))
@pass_context
def show_plan(ctx: Context, code: str, as_json: bool) -> None:
    from kitops.services.plans import show_plan as service

    p = service(ctx.uow(readonly=True), code)
    if as_json:
        emit_json(p)
        return
    say(f"{p.code}: {p.name}")
    n, weeks, every = p.applications_per_week, p.weeks, p.every_weeks
    if every > 1 and n == 1:
        when = _("once every {every} weeks, {weeks} times").format(every=every, weeks=weeks)
    elif every > 1:
        when = _("{n}× a week every {every} weeks, {weeks} times").format(
            n=n, every=every, weeks=weeks)  # fmt: skip
    else:
        when = _("{n}× a week for {weeks} weeks").format(n=n, weeks=weeks)
    say(_("{when} = {n} applications of {ml} ml, {where}").format(
        when=when, n=p.applications, ml=human(p.ml_per_application),
        where=p.administered))  # fmt: skip
    if p.kit_sku:
        say(_("kit: {n} × {sku}").format(n=p.kits_per_course, sku=p.kit_sku))
    if p.needle:
        say(_("needle in the clinic: {needle}").format(needle=p.needle))
    if p.administered == "clinic":
        supplies = ", ".join(f"{q} × {s}" for s, q in p.session_supplies)
        say(_("each session uses: the serum, {supplies}").format(supplies=supplies)
            if supplies else _("each session uses: the serum"))  # fmt: skip
    say(_("weekdays: {weekdays}; check-in weeks: {checkins}; follow-ups after {months} "
          "months").format(
        weekdays=p.default_weekdays or _("from the start day"),
        checkins=", ".join(map(str, p.checkin_weeks)) or _("none"),
        months=", ".join(map(str, p.followup_months)) or "-"))  # fmt: skip


@plan.command(
    "add",
    help=N_(
        "Add a treatment plan. `--weeks` counts the weeks with applications; with "
        "`--every-weeks 4` they are four weeks apart."
    ),
)
@click.argument("code")
@click.option("--name", required=True, help=N_("What clinicians call it."))
@click.option("--per-week", required=True, metavar="N", help=N_("Applications a week."))
@click.option("--weeks", required=True, metavar="N", help=N_("Length of the course."))
@click.option("--ml", required=True, metavar="N", help=N_("Serum per application, in ml."))
@click.option("--administered", required=True, type=click.Choice(["home", "clinic"]))
@click.option("--kit", metavar="KIT_SKU", help=N_("The kit a home plan uses."))
@click.option("--kits", default="0", metavar="N", help=N_("Kits per course."))
@click.option("--weekdays", metavar="mon,thu", help=N_("Default application days."))
@click.option("--checkins", default="", metavar="4,6", help=N_("Clinic check-in weeks."))
@click.option("--followups", default="3,6", metavar="3,6", help=N_("Follow-ups, months after."))
@click.option(
    "--needle", metavar="MM", help=N_("Clinic plan: its stamps' needle, 2 or 1.2-3 (mm).")
)
@click.option(
    "--every-weeks",
    default="1",
    metavar="N",
    help=N_("Weeks between application weeks (4: maintenance every 4 weeks)."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the plan as JSON."))
@pass_context
def add_plan(
    ctx: Context, code: str, name: str, per_week: str, weeks: str, ml: str, administered: str,
    kit: str | None, kits: str, weekdays: str | None, checkins: str, followups: str,
    needle: str | None, every_weeks: str, as_json: bool,
) -> None:  # fmt: skip
    from kitops.cli.numbers import decimal_text, range_text
    from kitops.services.plans import add_plan as service

    ml = decimal_text(ml, "ml") or ml
    needle = range_text(needle, "needle")
    p = service(ctx.uow(), code, name, per_week=per_week, weeks=weeks, ml=ml,
                administered=administered, kit=kit, kits=kits, weekdays=weekdays,
                checkins=checkins, followups=followups, needle=needle,
                every_weeks=every_weeks)  # fmt: skip
    emit_json(p) if as_json else say(
        _("added plan {code}: {name}").format(code=p.code, name=p.name)
    )


@group(help=N_("Patients' treatment courses."))
def course() -> None: ...


def _print_course(c: Course) -> None:
    status = status_label(c.status)
    if c.status_reason:
        status = _("{status} ({reason})").format(status=status, reason=stored_text(c.status_reason))
    if c.paused_on:
        status = _("{status} since {day}").format(status=status, day=human(c.paused_on))
    say(_("course {id}: patient {patient}, plan {plan}, {clinic} ({timezone}), {start} to "
          "{end} on {weekdays}, {status}").format(
        id=c.id, patient=c.patient_ref, plan=c.plan, clinic=c.clinic, timezone=c.timezone,
        start=human(c.start), end=human(c.end), weekdays=c.weekdays, status=status))  # fmt: skip
    emit_table(
        [N_("date"), N_("time"), N_("what"), N_("#"), N_("note")],
        [
            (
                e.at.date(),
                e.at.strftime("%H:%M %Z"),
                e.kind,
                e.number,
                _("{note} (moved from {day})").format(note=e.note, day=human(e.moved_from))
                if e.moved_from else e.note,
            )
            for e in c.events
        ],
    )  # fmt: skip
    for e in c.events:
        if e.moved_from is not None:
            say(_("{what} {n} moved from {source} to {target}: {why}").format(
                what=e.kind, n=e.number, source=human(e.moved_from), target=human(e.at.date()),
                why=stored_text(e.moved_because) or _("booked later")))  # fmt: skip
    if c.kits:
        _kit_table(c.kits, title=_("kits"))
    for part in c.parts_returned_opened:
        written_off = KitStatus.WRITTEN_OFF
        gone = [k.serial for k in c.kits if k.course_part == part and k.status == written_off]
        now = [k.serial for k in c.kits if k.course_part == part and k.status != written_off]
        say(_("kit {part} returned opened ({gone}): replaced by {now}").format(
            part=part, gone=", ".join(gone), now=", ".join(now)) if now else
            _("kit {part} returned opened ({gone}): no replacement; kitops course replace-kit "
              "{id} --part {part}").format(part=part, gone=", ".join(gone), id=c.id))  # fmt: skip
    if c.sessions_recorded:
        say(_("sessions recorded: {n}").format(n=c.sessions_recorded))


def _print_history(c: Course) -> None:
    from kitops.i18n import formats

    if c.history:
        emit_table(
            [N_("when (UTC)"), N_("who"), N_("what"), N_("details")],
            [
                (formats.datetime(h.at), h.actor, h.action, audit_details(h.details))
                for h in c.history
            ],
            title=_("history"),
        )


def _print_move(m: ScheduleChange, verb: str) -> None:
    c = m.course
    say(_("course {id} {verb}: applications from {first} on restart on {start} ({weekdays}); "
          "ends {end}; {status}").format(
        id=c.id, verb=verb, first=m.first_moved, start=human(m.start), weekdays=m.weekdays,
        end=human(c.end), status=status_label(c.status)))  # fmt: skip
    for note in m.released:
        say(_("kit {serial} (kit {part}) released back to stock: {why}").format(
            serial=note.serial, part=note.part, why=note.why))  # fmt: skip
    for note in m.out_not_lasting:
        where = status_label(note.status).replace("_", " ")
        say(_("warning: kit {serial} (kit {part}) is {where} and no longer lasts: {why}").format(
            serial=note.serial, part=note.part, where=where, why=note.why))  # fmt: skip


@course.command(
    "create",
    help=N_(
        "Create a course; prints its calendar of applications, check-ins and "
        "follow-ups. Clinic visits on a day the clinic is closed or full move to the "
        "next open day with room (each move is said)."
    ),
)
@click.option("--patient", required=True, metavar="REF", help=N_("Pseudonymous reference only."))
@click.option("--plan", "plan_code", required=True, metavar="PLAN", help=N_("e.g. home-6w."))
@click.option("--start", required=True, metavar="YYYY-MM-DD", help=N_("First application."))
@click.option("--clinic", required=True, metavar="LOC", help=N_("The treating clinic."))
@click.option("--weekdays", metavar="mon,thu", help=N_("Application days (default from the plan)."))
@click.option(
    "--overlap",
    is_flag=True,
    help=N_("Allow dates that overlap a running course of the patient on the plan."),
)
@click.option(
    "--at", metavar="HH:MM", help=N_("Time of its clinic visits (default: clinic opens).")
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the course as JSON."))
@pass_context
def create_course(
    ctx: Context, patient: str, plan_code: str, start: str, clinic: str,
    weekdays: str | None, overlap: bool, at: str | None, as_json: bool,
) -> None:  # fmt: skip
    from kitops.services.courses import create_course as service

    c = service(ctx.uow(), patient, plan_code, start, clinic, weekdays=weekdays,
                overlap=overlap, at=at)  # fmt: skip
    emit_json(c) if as_json else _print_course(c)


@course.command("show", help=N_("A course's status, calendar, kits, sessions and history."))
@click.argument("course_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the course as JSON."))
@pass_context
def show_course(ctx: Context, course_id: str, as_json: bool) -> None:
    from kitops.services.courses import show_course as service

    c = service(ctx.uow(readonly=True), course_id)
    if as_json:
        emit_json(c)
        return
    _print_course(c)
    _print_history(c)


@course.command("list", help=N_("Courses by start date."))
@click.option("--clinic", metavar="LOC", help=N_("Only this clinic's courses."))
@click.option("--status", type=click.Choice([s.value for s in CourseStatus]))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of courses."))
@pass_context
def list_courses(ctx: Context, clinic: str | None, status: str | None, as_json: bool) -> None:
    from kitops.services.courses import list_courses as service

    courses = service(ctx.uow(readonly=True), clinic=clinic, status=status)
    if as_json:
        emit_json(courses)
        return
    emit_table(
        [N_("id"), N_("patient"), N_("plan"), N_("clinic"), N_("start"), N_("end"),
         N_("status"), N_("kits")],
        [(c.id, c.patient_ref, c.plan, c.clinic, c.start, c.end, status_label(c.status),
          " ".join(k.serial for k in c.kits)) for c in courses],
    )  # fmt: skip


@course.command("cancel", help=N_("Cancel a course; its reserved kits become available again."))
@click.argument("course_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the course as JSON."))
@pass_context
def cancel_course(ctx: Context, course_id: str, as_json: bool) -> None:
    from kitops.services.courses import cancel_course as service

    c = service(ctx.uow(), course_id)
    emit_json(c) if as_json else say(_("course {id} cancelled").format(id=c.id))


def _move_options(command: F) -> F:
    """The options of the commands that move a course's remaining applications."""
    command = click.option("--json", "as_json", is_flag=True,
                           help=N_("Print the change as JSON."))(command)  # fmt: skip
    command = click.option("--weekdays", metavar="mon,thu",
                           help=N_("New application days (default: as now)."))(command)  # fmt: skip
    return click.option(
        "--from",
        "start",
        required=True,
        metavar="YYYY-MM-DD",
        help=N_("The day the remaining applications restart."),
    )(command)


@course.command(
    "reschedule",
    help=N_(
        "Move the applications not yet done; kits that no longer last are released "
        "(or, if already with the patient, named)."
    ),
)
@click.argument("course_id", metavar="COURSE")
@_move_options
@pass_context
def reschedule_course(
    ctx: Context, course_id: str, start: str, weekdays: str | None, as_json: bool
) -> None:
    from kitops.services.courses import reschedule_course as service

    m = service(ctx.uow(), course_id, start, weekdays=weekdays)
    emit_json(m) if as_json else _print_move(m, _("rescheduled"))


@course.command("pause", help=N_("Pause a course: it reserves no new kit until it is resumed."))
@click.argument("course_id", metavar="COURSE")
@click.option("--reason", metavar="TEXT", help=N_("Why (shown on the course)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the course as JSON."))
@pass_context
def pause_course(ctx: Context, course_id: str, reason: str | None, as_json: bool) -> None:
    from kitops.services.courses import pause_course as service

    r = service(ctx.uow(), course_id, reason=reason)
    emit_json(r.course) if as_json else say(
        _("course {id} paused ({reason})").format(
            id=r.course.id, reason=stored_text(r.course.status_reason)
        )
    )


@course.command(
    "resume",
    help=N_("Resume a paused course; its remaining applications restart on the day given."),
)
@click.argument("course_id", metavar="COURSE")
@_move_options
@pass_context
def resume_course(
    ctx: Context, course_id: str, start: str, weekdays: str | None, as_json: bool
) -> None:
    from kitops.services.courses import resume_course as service

    m = service(ctx.uow(), course_id, start, weekdays=weekdays)
    emit_json(m) if as_json else _print_move(m, _("resumed"))


@course.command(
    "complete",
    help=N_(
        "Finish a course (refused while applications remain, unless --early "
        "--reason); its reserved kits go back to stock."
    ),
)
@click.argument("course_id", metavar="COURSE")
@click.option("--early", is_flag=True, help=N_("End it with applications still to come."))
@click.option("--reason", metavar="TEXT", help=N_("Why it ends early (needed with --early)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the course as JSON."))
@pass_context
def complete_course(
    ctx: Context, course_id: str, early: bool, reason: str | None, as_json: bool
) -> None:
    from kitops.services.courses import complete_course as service

    r = service(ctx.uow(), course_id, early=early, reason=reason)
    if as_json:
        emit_json(r.course)
        return
    status = status_label(r.course.status)
    if r.course.status_reason:
        status = _("{status} ({reason})").format(
            status=status, reason=stored_text(r.course.status_reason)
        )
    say(_("course {id} {status}").format(id=r.course.id, status=status))
    if r.kits_released:
        say(_("kits released back to stock: {kits}").format(kits=", ".join(r.kits_released)))


@course.command(
    "replace-kit",
    help=N_(
        "Reserve a replacement for a course's kit that came back opened, as `fulfil` "
        "picks one (exit 1, saying why, when none fits)."
    ),
)
@click.argument("course_id", metavar="COURSE")
@click.option("--part", required=True, metavar="N", help=N_("The kit number returned opened."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the reservation as JSON."))
@pass_context
def replace_kit(ctx: Context, course_id: str, part: str, as_json: bool) -> None:
    from kitops.services.fulfilment import replace_kit as service

    line = service(ctx.uow(), course_id, part)
    emit_json(line) if as_json else say(
        _("course {course} kit {part}: {kit} reserved (expires {expiry}; vials needed until "
          "{until})").format(course=line.course_id, part=line.part, kit=line.kit,
                             expiry=human(line.kit_expiry), until=human(line.needed_until))
    )  # fmt: skip


@course.command(
    "calendar",
    help=N_("Write the course's calendar as an iCalendar file for the patient's phone."),
)
@click.argument("course_id", metavar="ID")
@click.option("--out", required=True, metavar="FILE.ics", help=N_("Where to write."))
@pass_context
def course_calendar(ctx: Context, course_id: str, out: str) -> None:
    from kitops.documents.calendar import write_calendar

    with ctx.documents_for(courses=[course_id]):  # in the course's clinic's locale
        path = write_calendar(ctx.uow(readonly=True), course_id, out)
    say(_("calendar of course {id} written to {path}").format(id=course_id, path=path))


@group(help=N_("Clinic sessions of courses treated in the clinic."))
def session() -> None: ...


@session.command(
    "record",
    help=N_("Consume one session's vials and supplies (FEFO, in date that day); record the lots."),
)
@click.argument("course_id", metavar="COURSE")
@click.option("--date", "on", metavar="YYYY-MM-DD", help=N_("Session day (default: today)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the session as JSON."))
@pass_context
def record_session(ctx: Context, course_id: str, on: str | None, as_json: bool) -> None:
    from kitops.services.sessions import record_session as service

    s = service(ctx.uow(), course_id, on=on)
    if as_json:
        emit_json(s)
        return
    if s.vial_opened_at is not None:
        say(_("course {course} session {n} on {day}: the second half of the {sku} vial of lot "
              "{lot} opened at session {opened}").format(
            course=s.course_id, n=s.session_no, day=human(s.date), sku=s.sku, lot=s.lot,
            opened=s.vial_opened_at))  # fmt: skip
    else:
        say(_("course {course} session {n} on {day}: {qty} × {sku} lot {lot} from "
              "{location}").format(
            course=s.course_id, n=s.session_no, day=human(s.date), qty=s.quantity, sku=s.sku,
            lot=s.lot, location=s.location))  # fmt: skip
    if s.supplies:
        emit_table(
            [N_("SKU"), N_("lot"), N_("qty"), N_("from")],
            [(s.sku, s.lot, s.quantity, s.location)]
            + [(u.sku, u.lot, u.quantity, u.location) for u in s.supplies],
            right=("qty",),
        )


def _print_report(report: FulfilReport, *, would: bool = False) -> None:
    if report.served:
        emit_table(
            [N_("course"), N_("patient"), N_("clinic"), N_("kit #"), N_("from"),
             N_("vials until"), N_("kit"), N_("expires")],
            [(s.course_id, s.patient_ref, s.clinic, s.part, s.first_use, s.needed_until,
              s.kit, s.kit_expiry) for s in report.served],
            title=(_("would serve: {n}") if would else _("served: {n}")).format(
                n=len(report.served)),
        )  # fmt: skip
    if report.unserved:
        say((_("would not serve: {n}") if would else _("unserved: {n}")).format(
            n=len(report.unserved)))  # fmt: skip
        for line in report.unserved:
            say(f"  {line.reason}")
    if not report.served and not report.unserved:
        say(_("nothing due"))


@command(
    help=N_(
        "Reserve kits so that no vial is used out of date.\n\n"
        "`kitops fulfil COURSE` reserves one course's kit(s) (exit 1, with the "
        "reason, when none fits); a clinic course is checked for enough in-date serum "
        "and session supplies instead. `kitops fulfil --due-within 14d` assigns every "
        "course due a kit in the window as one batch and lists served and unserved "
        "(exit 0); with `--dry-run` it only shows what it would do."
    ),
)
@click.argument("course_id", metavar="[COURSE]", required=False)
@click.option(
    "--due-within", metavar="14d", help=N_("Batch: every course needing a kit that soon.")
)
@click.option("--clinic", metavar="LOC", help=N_("Batch: only this clinic."))
@click.option("--check", is_flag=True, help=N_("Clinic course: enough in-date serum and supplies?"))
@click.option(
    "--dry-run",
    is_flag=True,
    help=N_("Batch: show what it would reserve (and why not), reserve nothing."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the report as JSON."))
@pass_context
def fulfil(
    ctx: Context, course_id: str | None, due_within: str | None, clinic: str | None,
    check: bool, dry_run: bool, as_json: bool,
) -> None:  # fmt: skip
    from kitops.errors import InvalidInput, Refused
    from kitops.services import fulfilment

    if course_id and due_within:
        raise InvalidInput("due-within", due_within, _("give a course or --due-within, not both"))
    if dry_run and not due_within:
        raise InvalidInput("dry-run", course_id, _("goes with --due-within (the batch)"))
    if course_id:
        if check or _is_clinic_course(ctx, course_id):
            result = fulfilment.check_clinic_course(ctx.uow(readonly=True), course_id)
            if as_json:
                emit_json(result)
            else:
                say(_("course {course} at {clinic}: {covered} of {left} sessions covered by "
                      "in-date serum and supplies").format(
                    course=result.course_id, clinic=result.clinic, covered=result.covered,
                    left=result.sessions_left))  # fmt: skip
                for day in result.shortfall_dates:
                    say("  " + _("short on {day}").format(day=human(day)))
            if not result.enough:
                short = ", ".join(result.short_skus) or _("serum")
                raise Refused(_("not enough in-date {short} at {clinic} for this course").format(
                    short=short, clinic=result.clinic))  # fmt: skip
            return
        report = fulfilment.fulfil_course(ctx.uow(), course_id)
    elif due_within:
        text = due_within.strip().lower().removesuffix("d")
        if not text.isdigit():
            raise InvalidInput("due-within", due_within, _("must be a number of days such as 14d"))
        if dry_run:
            report = fulfilment.preview_due(
                ctx.uow(readonly=True), within_days=int(text), clinic=clinic
            )
        else:
            report = fulfilment.fulfil_due(ctx.uow(), within_days=int(text), clinic=clinic)
    else:
        raise InvalidInput("course", None, _("give a course number or --due-within DAYS"))
    emit_json(report) if as_json else _print_report(report, would=dry_run)


def _is_clinic_course(ctx: Context, course_id: str) -> bool:
    from kitops.services.courses import show_course

    c = show_course(ctx.uow(readonly=True), course_id)
    return all(e.kit_part is None for e in c.events if e.kind == "application")


@command("pick-list", help=N_("Reserved kits to pick and send, soonest first."))
@click.option("--clinic", required=True, metavar="LOC", help=N_("The clinic whose kits go out."))
@click.option("--date", "on", metavar="YYYY-MM-DD", help=N_("From this day (default: today)."))
@click.option("--days", default=7, type=click.IntRange(0, 366), show_default=True,
              help=N_("Kits due out within this many days."))  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list."))
@pass_context
def pick_list(ctx: Context, clinic: str, on: str | None, days: int, as_json: bool) -> None:
    from kitops.services.fulfilment import pick_list as service

    lines = service(ctx.uow(readonly=True), clinic, on=_date(on, "date"), days=days)  # type: ignore[arg-type]
    if as_json:
        emit_json(lines)
    elif lines:
        emit_table(
            [N_("due"), N_("serial"), N_("location"), N_("expiry"), N_("course"), N_("kit #"),
             N_("patient")],
            [(p.due, p.serial, p.location, p.expiry, p.course_id, p.part, p.patient_ref)
             for p in lines],
        )  # fmt: skip
    else:
        say(_("nothing to pick"))
