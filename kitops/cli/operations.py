"""Daily stock work: receive, move, count, write off, lots, trace, the expiry sweep."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import command, group
from kitops.cli.output import (
    emit_json,
    emit_table,
    human,
    reason_label,
    say,
    status_label,
    yes_no,
)
from kitops.domain.text import visible
from kitops.i18n import N_, _
from kitops.i18n.labels import stored_text

if TYPE_CHECKING:
    from kitops.services.dto.lots import (
        KitAtPatient,
        KitReleased,
        LotDetail,
        LotRecall,
        SessionUse,
        Trace,
    )
    from kitops.services.operations import CountedLine

WRITE_OFF_REASONS = ["damaged", "expired", "opened", "other"]


@command(
    help=N_(
        "Receive stock from a supplier: SKU with --lot/--expiry/--qty, or --scan a "
        "label.\n\n"
        "A new serum lot starts in quarantine until `kitops lot release`."
    ),
)
@click.argument("sku", required=False)
@click.option("--scan", metavar="DATA", help=N_("What the scanner read from a GS1 label."))
@click.option("--lot", metavar="CODE", help=N_("Manufacturer lot (GS1 AI 10)."))
@click.option("--expiry", metavar="YYYY-MM-DD", help=N_("Expiry date printed on the box."))
@click.option("--qty", metavar="N", help=N_("Units received (default: the label's count, AI 30)."))
@click.option("--location", required=True, metavar="LOC", help=N_("Where the stock is put away."))
@click.option(
    "--po", metavar="PO",
    help=N_("A kitops purchase order (PO-000012 or 12: books its line) or a supplier's reference."),
)  # fmt: skip
@click.option("--cost", nargs=2, metavar="AMOUNT CUR", help=N_("Unit cost, e.g. --cost 35.00 GBP."))
@click.option(
    "--foreign-currency",
    is_flag=True,
    help=N_("The --cost is meant in another currency than the clinic's (the supplier's invoice)."),
)
@click.option(
    "--accept-short-dated",
    is_flag=True,
    help=N_("Receive stock that is expired or inside the minimum shelf life on receipt."),
)
@click.option(
    "--confirm-over-receipt",
    is_flag=True,
    help=N_("Receive more than the purchase order line still expects (--po)."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the receipt as JSON."))
@pass_context
def receive(
    ctx: Context,
    sku: str | None,
    scan: str | None,
    lot: str | None,
    expiry: str | None,
    qty: str | None,
    location: str,
    po: str | None,
    cost: tuple[str, str] | None,
    foreign_currency: bool,
    accept_short_dated: bool,
    confirm_over_receipt: bool,
    as_json: bool,
) -> None:
    from kitops.cli.numbers import decimal_text
    from kitops.domain.stock_rules import ShortDated
    from kitops.errors import Refused
    from kitops.services.operations import ReceiptInput
    from kitops.services.operations import receive as service

    given = ReceiptInput(
        location=location, sku=sku, lot=lot, expiry=expiry, quantity=qty, scan=scan, po=po,
        cost=decimal_text(cost[0], "cost") if cost else None, currency=cost[1] if cost else None,
        accept_short_dated=accept_short_dated, confirm_over_receipt=confirm_over_receipt,
        foreign_currency=foreign_currency,
    )  # fmt: skip
    try:
        receipt = service(ctx.uow(), given)
    except ShortDated as refusal:
        raise Refused(
            _("{refusal}; pass --accept-short-dated to receive it anyway").format(refusal=refusal)
        ) from None
    if as_json:
        emit_json(receipt)
        return
    state = _("new lot") if receipt.new_lot else _("existing lot")
    say(
        _(
            "received {qty} × {sku} lot {lot} (expires {expiry}, {state}, {status}) into "
            "{location}; now {on_hand} there"
        ).format(
            qty=human(receipt.quantity), sku=receipt.sku, lot=receipt.lot,
            expiry=human(receipt.expiry) if receipt.expiry else _("never"), state=state,
            status=status_label(receipt.status), location=receipt.location,
            on_hand=human(receipt.on_hand_at_location),
        )
    )  # fmt: skip


@command(
    "move",
    help=N_("Move stock between places. Without --lot, FEFO picks released, in-date lots."),
)
@click.argument("sku")
@click.option("--qty", required=True, metavar="N", help=N_("Units to move."))
@click.option("--from", "from_location", required=True, metavar="LOC", help=N_("Where from."))
@click.option("--to", "to_location", required=True, metavar="LOC", help=N_("Where to."))
@click.option("--lot", metavar="CODE", help=N_("Which lot (default: FEFO, earliest expiry first)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the transfer as JSON."))
@pass_context
def move_command(
    ctx: Context,
    sku: str,
    qty: str,
    from_location: str,
    to_location: str,
    lot: str | None,
    as_json: bool,
) -> None:
    from kitops.services.operations import move

    transfer = move(ctx.uow(), sku, qty, from_location, to_location, lot=lot)
    if as_json:
        emit_json(transfer)
        return
    lots = ", ".join(_("{qty} of {lot}").format(qty=m.quantity, lot=m.lot) for m in transfer.lots)
    say(_("moved {qty} × {sku} {source} → {target} ({lots})").format(
        qty=transfer.quantity, sku=transfer.sku, source=transfer.from_location,
        target=transfer.to_location, lots=lots))  # fmt: skip


@command(help=N_("Write stock off to scrap (damaged, expired, opened or other)."))
@click.argument("sku")
@click.option("--lot", metavar="CODE", help=N_("Which lot (required for lot-tracked products)."))
@click.option("--qty", required=True, metavar="N", help=N_("Units to write off."))
@click.option("--location", required=True, metavar="LOC", help=N_("Where the stock is."))
@click.option("--reason", required=True, type=click.Choice(WRITE_OFF_REASONS), help=N_("Why."))
@click.option("--note", metavar="TEXT", help=N_("A free-text note for the audit log."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the write-off as JSON."))
@pass_context
def writeoff(
    ctx: Context,
    sku: str,
    lot: str | None,
    qty: str,
    location: str,
    reason: str,
    note: str | None,
    as_json: bool,
) -> None:
    from kitops.services.operations import write_off

    result = write_off(ctx.uow(), sku, qty, location, reason, lot=lot, note=note)
    if as_json:
        emit_json(result)
        return
    say(_("wrote off {qty} × {sku} lot {lot} at {location} ({reason}); {left} left there").format(
        qty=result.quantity, sku=result.sku, lot=result.lot, location=result.location,
        reason=reason_label(result.reason), left=result.on_hand_after))  # fmt: skip


@command(
    "count",
    help=N_(
        "Apply a cycle count: from FILE.csv (columns sku,lot,counted) or line by "
        "line.\n\n"
        "Every difference becomes an adjustment move with the reason `count`; nothing "
        "is adjusted when any line is bad."
    ),
)
@click.argument("file", required=False, metavar="[FILE.csv]")
@click.option("--location", required=True, metavar="LOC", help=N_("The place that was counted."))
@click.option(
    "--full",
    is_flag=True,
    help=N_("The sheet covers the whole location: lots on record but not on it count as 0."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the count report as JSON."))
@pass_context
def count_command(ctx: Context, file: str | None, location: str, full: bool, as_json: bool) -> None:
    from kitops.services.operations import count, read_count_sheet

    if file:
        lines = read_count_sheet(file)
    else:
        lines = _interactive_count(ctx, location)
        full = True
    report = count(ctx.uow(), location, lines, full=full)
    if as_json:
        emit_json(report)
        return
    if report.differences:
        emit_table(
            [N_("SKU"), N_("lot"), N_("expected"), N_("counted"), N_("difference")],
            [(d.sku, d.lot, d.expected, d.counted, f"{d.difference:+d}")
             for d in report.differences],
            title=_("count at {location}: {n} differences").format(
                location=report.location, n=len(report.differences)),
            right=("expected", "counted", "difference"),
        )  # fmt: skip
    say(_("{n} lines counted at {location}: +{added} / -{removed} units adjusted").format(
        n=report.lines_counted, location=report.location, added=report.units_added,
        removed=report.units_removed))  # fmt: skip


def _interactive_count(ctx: Context, location: str) -> list[CountedLine]:
    """Ask for the count of each lot on record at the location (a blind count)."""
    from kitops.services.operations import CountedLine
    from kitops.services.stock import stock_on_hand

    on_record = [
        line
        for line in stock_on_hand(
            ctx.uow(readonly=True), location=location, include_unavailable=True
        )
        if line.location == location.strip().upper()
    ]
    # Prompts go to stderr so that `--json` output on stdout stays clean.
    say(
        _("counting {location}: type the quantity found (0 if none)").format(
            location=location.upper()
        ),
        err=True,
    )
    lines = []
    for index, line in enumerate(on_record, start=1):
        label = (
            _("{sku} lot {lot} (exp {expiry})").format(
                sku=line.sku, lot=line.lot, expiry=human(line.expiry)
            )
            if line.expiry
            else _("{sku} lot {lot}").format(sku=line.sku, lot=line.lot)
        )
        counted = click.prompt(visible(label), type=click.IntRange(min=0), err=True)
        lines.append(CountedLine(index, line.sku, line.lot, counted))
    return lines


@group(help=N_("Release, quarantine, recall and look up lots."))
def lot() -> None: ...


def _print_lot(detail: LotDetail) -> None:
    status = status_label(detail.status)
    if detail.status_reason:
        status = _("{status} ({reason})").format(
            status=status, reason=stored_text(detail.status_reason)
        )
    say(_("{sku} lot {lot}: {product}").format(
        sku=detail.sku, lot=detail.lot, product=detail.product))  # fmt: skip
    say(_("expiry {expiry}, status {status}, supplier {supplier}, receipt {receipt}").format(
        expiry=human(detail.expiry) if detail.expiry else _("none"), status=status,
        supplier=detail.supplier or "-", receipt=detail.receipt_ref or "-"))  # fmt: skip
    if detail.on_hand:
        emit_table(
            [N_("clinic"), N_("location"), N_("qty")],
            [(o.clinic, o.location, o.quantity) for o in detail.on_hand],
            right=("qty",),
        )
    say(_("on hand: {qty}").format(qty=human(detail.total_on_hand)))


def _status_command(name: str, target: str, needs_reason: bool, help_text: str) -> None:
    @lot.command(name, help=help_text)
    @click.argument("code")
    @click.option("--sku", metavar="SKU", help=N_("The product, when two share the lot code."))
    @click.option(
        "--reason", required=needs_reason, metavar="TEXT", help=N_("Why (for the audit).")
    )
    @click.option("--json", "as_json", is_flag=True, help=N_("Print the lot as JSON."))
    @pass_context
    def command(
        ctx: Context, code: str, sku: str | None, reason: str | None, as_json: bool
    ) -> None:
        from kitops.domain.ledger import LotStatus
        from kitops.services.lots import change_status

        detail = change_status(ctx.uow(), code, LotStatus(target), reason=reason, sku=sku)
        if as_json:
            emit_json(detail)
            return
        _print_lot(detail)
        from kitops.services.dto.lots import LotRecall

        if isinstance(detail, LotRecall):
            _print_recall(detail)


_status_command("release", "released", False, N_("Release a lot from quarantine for use."))
_status_command("quarantine", "quarantine", True, N_("Hold a lot: nothing may use it."))
_status_command(
    "recall", "recalled", True, N_("Recall a lot: blocked everywhere at once, for good.")
)


@lot.command("show", help=N_("Show a lot: expiry, status and where its stock is."))
@click.argument("code")
@click.option("--sku", metavar="SKU", help=N_("The product, when two share the lot code."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the lot as JSON."))
@pass_context
def show_lot(ctx: Context, code: str, sku: str | None, as_json: bool) -> None:
    from kitops.services.lots import show

    detail = show(ctx.uow(readonly=True), code, sku=sku)
    if as_json:
        emit_json(detail)
    else:
        _print_lot(detail)


@command(help=N_("Trace a lot: where every unit came from, went and is now."))
@click.argument("code")
@click.option("--sku", metavar="SKU", help=N_("The product, when two share the lot code."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the trace as JSON."))
@pass_context
def trace(ctx: Context, code: str, sku: str | None, as_json: bool) -> None:
    from kitops.services.lots import trace as service

    # The table shows three references a flow; --json lists them all.
    result = service(ctx.uow(readonly=True), code, sku=sku, references=None if as_json else 3)
    if as_json:
        emit_json(result)
        return
    _print_trace(result)


def _first_references(references: tuple[str, ...], shown: int = 3, total: int | None = None) -> str:
    more = (len(references) if total is None else total) - shown
    first = ", ".join(references[:shown])
    return _("{first} +{n} more").format(first=first, n=more) if more > 0 else first


def _print_recall(recall: LotRecall) -> None:
    """What a pharmacist acts on after a recall: every course the lot reaches."""
    if recall.kits_flagged:
        say(_("{n} kits holding this lot are flagged (those in the stockroom are blocked): "
              "{kits}").format(n=len(recall.kits_flagged),
                               kits=_first_references(recall.kits_flagged, 10)))  # fmt: skip
    _print_at_patients(recall.at_patients, empty=True)
    _print_released(recall.released, empty=True)
    _print_sessions(recall.sessions, empty=True)


def _print_at_patients(kits: tuple[KitAtPatient, ...], *, empty: bool = False) -> None:
    if not kits:
        if empty:
            say(_("kits at patients' homes: none"))
        return
    emit_table(
        [N_("kit"), N_("course"), N_("patient"), N_("clinic"), N_("part"), N_("status"),
         N_("went out"), N_("tracking"), N_("units")],
        [(k.serial, k.course_id, k.patient_ref, k.clinic, k.part, status_label(k.status),
          k.went_out, k.tracking, k.quantity) for k in kits],
        title=_("kits at patients' homes, to contact ({n})").format(n=len(kits)),
        right=("units",),
    )  # fmt: skip


def _print_released(released: tuple[KitReleased, ...], *, empty: bool = False) -> None:
    if not released:
        if empty:
            say(_("reserved kits released: none"))
        return
    emit_table(
        [N_("course"), N_("patient"), N_("clinic"), N_("part"), N_("needed from"),
         N_("kit released"), N_("recalled on"), N_("kit now")],
        [(r.course_id, r.patient_ref, r.clinic, r.part, r.needed_from, r.serial, r.recalled_on,
          r.now_kit or _("none")) for r in released],
        title=_("reserved kits released: courses left without a kit ({n})").format(
            n=len(released)),
    )  # fmt: skip


def _print_sessions(sessions: tuple[SessionUse, ...], *, empty: bool = False) -> None:
    if not sessions:
        if empty:
            say(_("clinic sessions given from this lot: none"))
        return
    emit_table(
        [N_("course"), N_("patient"), N_("clinic"), N_("session"), N_("date"), N_("used")],
        [(s.course_id, s.patient_ref, s.clinic, s.session_no, s.date, s.quantity)
         for s in sessions],
        title=_("clinic sessions given from this lot ({n})").format(n=len(sessions)),
        right=("used",),
    )  # fmt: skip


def _print_trace(result: Trace) -> None:
    _print_lot(result.lot)
    in_sessions = sum(s.quantity for s in result.sessions)
    parts = (
        [_("{n} inside kits").format(n=result.delivered_in_kits)]
        if result.delivered_in_kits
        else []
    )
    parts += [_("{n} in clinic sessions").format(n=in_sessions)] if in_sessions else []
    delivered = str(result.delivered)
    if parts:
        delivered = _("{n} ({parts})").format(n=result.delivered, parts=", ".join(parts))
    say(_("received {received}, written off {written_off}, delivered {delivered}, in kits "
          "{in_kits}, count adjustments {adjusted}").format(
        received=result.received, written_off=result.written_off, delivered=delivered,
        in_kits=result.in_kits, adjusted=f"{result.adjusted:+d}"))  # fmt: skip
    emit_table(
        [N_("from"), N_("to"), N_("reason"), N_("qty"), N_("moves"), N_("first"), N_("last"),
         N_("references")],
        [
            (
                f.from_location, f.to_location,
                reason_label(f.reason) + (f" ({f.detail})" if f.detail else ""),
                f.quantity, f.moves,
                f.first.date(), f.last.date(),
                _first_references(f.references, total=f.reference_count),
            )
            for f in result.flows
        ],
        right=("qty", "moves"),
    )  # fmt: skip
    if result.kits:
        emit_table(
            [N_("kit"), N_("status"), N_("course"), N_("patient"), N_("units of this lot")],
            [(k.serial,
              _("{status} (recalled)").format(status=status_label(k.status)) if k.recalled
              else status_label(k.status),
              k.course_id, k.patient_ref, k.quantity) for k in result.kits],
            title=_("in {n} kits").format(n=len(result.kits)), right=("units of this lot",),
        )  # fmt: skip
    _print_at_patients(result.at_patients)
    _print_released(result.released)
    _print_sessions(result.sessions)


@group(help=N_("The expiry sweep (run it from cron)."))
def expiry() -> None: ...


@expiry.command(
    "sweep",
    help=N_(
        "Mark lots past expiry `expired` and move their stock to the clinic's "
        "quarantine.\n\n"
        "Safe to run again: a second run changes nothing. A day after today on every "
        "clinic's calendar is refused (expiring is for good) unless --dry-run."
    ),
)
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    help=N_("Sweep as of this date (default: today on the latest clinic calendar)."),
)
@click.option(
    "--dry-run",
    is_flag=True,
    help=N_("Say what would expire and move (on any day, also a later one); write nothing."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the sweep report as JSON."))
@pass_context
def sweep(ctx: Context, as_of: str | None, dry_run: bool, as_json: bool) -> None:
    from kitops.domain.ledger import parse_date
    from kitops.services.expiry import sweep as service

    report = service(
        ctx.uow(), as_of=parse_date(as_of, "as_of") if as_of else None, dry_run=dry_run
    )
    if as_json:
        emit_json(report)
        return
    if report.lines:
        emit_table(
            [N_("SKU"), N_("lot"), N_("expiry"), N_("marked"), N_("moved"), N_("from"),
             N_("to"), N_("note")],
            [
                (s.sku, s.lot, s.expiry, yes_no(True) if s.marked_expired else "", s.moved,
                 s.from_location, s.to_location, s.note)
                for s in report.lines
            ],
            right=("moved",),
        )  # fmt: skip
    if report.kits:
        emit_table(
            [N_("kit"), N_("SKU"), N_("was"), N_("from"), N_("to"), N_("note")],
            [(k.serial, k.sku, status_label(k.status_before), k.from_location, k.to_location,
              k.note) for k in report.kits],
            title=_("kits expired with their stock"),
        )  # fmt: skip
    kits = ""
    n_kits, n_released = report.kits_expired, report.reservations_released
    if n_kits and n_released and dry_run:
        kits = _(
            ", {kits} kits would expire ({released} reservations would be released: "
            "those courses need another kit)"
        ).format(kits=n_kits, released=n_released)
    elif n_kits and n_released:
        kits = _(
            ", {kits} kits expired ({released} reservations released: those courses "
            "need another kit)"
        ).format(kits=n_kits, released=n_released)
    elif n_kits and dry_run:
        kits = _(", {kits} kits would expire").format(kits=n_kits)
    elif n_kits:
        kits = _(", {kits} kits expired").format(kits=n_kits)
    if dry_run:
        say(_("expiry sweep as of {day} (dry run, nothing written): {lots} lots would be marked "
              "expired, {units} units would move to quarantine{kits}").format(
            day=human(report.as_of), lots=report.lots_marked, units=report.units_moved,
            kits=kits))  # fmt: skip
        return
    say(_("expiry sweep as of {day}: {lots} lots marked expired, {units} units moved to "
          "quarantine{kits}").format(day=human(report.as_of), lots=report.lots_marked,
                                     units=report.units_moved, kits=kits))  # fmt: skip
