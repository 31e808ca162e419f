"""Daily stock work: receive, move, count, write off, lots, trace, the expiry sweep."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.output import emit_json, emit_table, say
from kitops.domain.text import visible

if TYPE_CHECKING:
    from kitops.services.dto.stock import (
        KitAtPatient,
        KitReleased,
        LotDetail,
        LotRecall,
        SessionUse,
        Trace,
    )
    from kitops.services.operations import CountedLine

WRITE_OFF_REASONS = ["damaged", "expired", "opened", "other"]


@click.command()
@click.argument("sku", required=False)
@click.option("--scan", metavar="DATA", help="What the scanner read from a GS1 label.")
@click.option("--lot", metavar="CODE", help="Manufacturer lot (GS1 AI 10).")
@click.option("--expiry", metavar="YYYY-MM-DD", help="Expiry date printed on the box.")
@click.option("--qty", metavar="N", help="Units received (default: the label's count, AI 30).")
@click.option("--location", required=True, metavar="LOC", help="Where the stock is put away.")
@click.option(
    "--po", metavar="PO",
    help="A kitops purchase order (PO-000012 or 12: books its line) or a supplier's reference.",
)  # fmt: skip
@click.option("--cost", nargs=2, metavar="AMOUNT CUR", help="Unit cost, e.g. --cost 35.00 GBP.")
@click.option(
    "--foreign-currency",
    is_flag=True,
    help="The --cost is meant in another currency than the clinic's (the supplier's invoice).",
)
@click.option(
    "--accept-short-dated",
    is_flag=True,
    help="Receive stock that is expired or inside the minimum shelf life on receipt.",
)
@click.option(
    "--confirm-over-receipt",
    is_flag=True,
    help="Receive more than the purchase order line still expects (--po).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the receipt as JSON.")
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
    """Receive stock from a supplier: SKU with --lot/--expiry/--qty, or --scan a label.

    A new serum lot starts in quarantine until `kitops lot release`.
    """
    from kitops.domain.stock_rules import ShortDated
    from kitops.errors import Refused
    from kitops.services.operations import ReceiptInput
    from kitops.services.operations import receive as service

    given = ReceiptInput(
        location=location, sku=sku, lot=lot, expiry=expiry, quantity=qty, scan=scan, po=po,
        cost=cost[0] if cost else None, currency=cost[1] if cost else None,
        accept_short_dated=accept_short_dated, confirm_over_receipt=confirm_over_receipt,
        foreign_currency=foreign_currency,
    )  # fmt: skip
    try:
        receipt = service(ctx.uow(), given)
    except ShortDated as refusal:
        raise Refused(f"{refusal}; pass --accept-short-dated to receive it anyway") from None
    if as_json:
        emit_json(receipt)
        return
    state = "new lot" if receipt.new_lot else "existing lot"
    say(
        f"received {receipt.quantity} × {receipt.sku} lot {receipt.lot} "
        f"(expires {receipt.expiry or 'never'}, {state}, {receipt.status}) into "
        f"{receipt.location}; now {receipt.on_hand_at_location} there"
    )


@click.command("move")
@click.argument("sku")
@click.option("--qty", required=True, metavar="N", help="Units to move.")
@click.option("--from", "from_location", required=True, metavar="LOC", help="Where from.")
@click.option("--to", "to_location", required=True, metavar="LOC", help="Where to.")
@click.option("--lot", metavar="CODE", help="Which lot (default: FEFO, earliest expiry first).")
@click.option("--json", "as_json", is_flag=True, help="Print the transfer as JSON.")
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
    """Move stock between places. Without --lot, FEFO picks released, in-date lots."""
    from kitops.services.operations import move

    transfer = move(ctx.uow(), sku, qty, from_location, to_location, lot=lot)
    if as_json:
        emit_json(transfer)
        return
    lots = ", ".join(f"{m.quantity} of {m.lot}" for m in transfer.lots)
    say(f"moved {transfer.quantity} × {transfer.sku} {transfer.from_location} → "
        f"{transfer.to_location} ({lots})")  # fmt: skip


@click.command()
@click.argument("sku")
@click.option("--lot", metavar="CODE", help="Which lot (required for lot-tracked products).")
@click.option("--qty", required=True, metavar="N", help="Units to write off.")
@click.option("--location", required=True, metavar="LOC", help="Where the stock is.")
@click.option("--reason", required=True, type=click.Choice(WRITE_OFF_REASONS), help="Why.")
@click.option("--note", metavar="TEXT", help="A free-text note for the audit log.")
@click.option("--json", "as_json", is_flag=True, help="Print the write-off as JSON.")
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
    """Write stock off to scrap (damaged, expired, opened or other)."""
    from kitops.services.operations import write_off

    result = write_off(ctx.uow(), sku, qty, location, reason, lot=lot, note=note)
    if as_json:
        emit_json(result)
        return
    say(f"wrote off {result.quantity} × {result.sku} lot {result.lot} at {result.location} "
        f"({result.reason}); {result.on_hand_after} left there")  # fmt: skip


@click.command("count")
@click.argument("file", required=False, metavar="[FILE.csv]")
@click.option("--location", required=True, metavar="LOC", help="The place that was counted.")
@click.option(
    "--full",
    is_flag=True,
    help="The sheet covers the whole location: lots on record but not on it count as 0.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the count report as JSON.")
@pass_context
def count_command(ctx: Context, file: str | None, location: str, full: bool, as_json: bool) -> None:
    """Apply a cycle count: from FILE.csv (columns sku,lot,counted) or line by line.

    Every difference becomes an adjustment move with the reason `count`; nothing is
    adjusted when any line is bad.
    """
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
            ["SKU", "lot", "expected", "counted", "difference"],
            [(d.sku, d.lot, d.expected, d.counted, f"{d.difference:+d}")
             for d in report.differences],
            title=f"count at {report.location}: {len(report.differences)} differences",
            right=("expected", "counted", "difference"),
        )  # fmt: skip
    say(f"{report.lines_counted} lines counted at {report.location}: "
        f"+{report.units_added} / -{report.units_removed} units adjusted")  # fmt: skip


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
    say(f"counting {location.upper()}: type the quantity found (0 if none)", err=True)
    lines = []
    for index, line in enumerate(on_record, start=1):
        label = f"{line.sku} lot {line.lot}" + (f" (exp {line.expiry})" if line.expiry else "")
        counted = click.prompt(visible(label), type=click.IntRange(min=0), err=True)
        lines.append(CountedLine(index, line.sku, line.lot, counted))
    return lines


@click.group()
def lot() -> None:
    """Release, quarantine, recall and look up lots."""


def _print_lot(detail: LotDetail) -> None:
    reason = f" ({detail.status_reason})" if detail.status_reason else ""
    say(f"{detail.sku} lot {detail.lot}: {detail.product}")
    say(f"expiry {detail.expiry or 'none'}, status {detail.status}{reason}, "
        f"supplier {detail.supplier or '-'}, receipt {detail.receipt_ref or '-'}")  # fmt: skip
    if detail.on_hand:
        emit_table(
            ["clinic", "location", "qty"],
            [(o.clinic, o.location, o.quantity) for o in detail.on_hand],
            right=("qty",),
        )
    say(f"on hand: {detail.total_on_hand}")


def _status_command(name: str, target: str, needs_reason: bool, help_text: str) -> None:
    @lot.command(name, help=help_text)
    @click.argument("code")
    @click.option("--sku", metavar="SKU", help="The product, when two share the lot code.")
    @click.option("--reason", required=needs_reason, metavar="TEXT", help="Why (for the audit).")
    @click.option("--json", "as_json", is_flag=True, help="Print the lot as JSON.")
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
        from kitops.services.dto.stock import LotRecall

        if isinstance(detail, LotRecall):
            _print_recall(detail)


_status_command("release", "released", False, "Release a lot from quarantine for use.")
_status_command("quarantine", "quarantine", True, "Hold a lot: nothing may use it.")
_status_command("recall", "recalled", True, "Recall a lot: blocked everywhere at once, for good.")


@lot.command("show")
@click.argument("code")
@click.option("--sku", metavar="SKU", help="The product, when two share the lot code.")
@click.option("--json", "as_json", is_flag=True, help="Print the lot as JSON.")
@pass_context
def show_lot(ctx: Context, code: str, sku: str | None, as_json: bool) -> None:
    """Show a lot: expiry, status and where its stock is."""
    from kitops.services.lots import show

    detail = show(ctx.uow(readonly=True), code, sku=sku)
    if as_json:
        emit_json(detail)
    else:
        _print_lot(detail)


@click.command()
@click.argument("code")
@click.option("--sku", metavar="SKU", help="The product, when two share the lot code.")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON.")
@pass_context
def trace(ctx: Context, code: str, sku: str | None, as_json: bool) -> None:
    """Trace a lot: where every unit came from, went and is now."""
    from kitops.services.lots import trace as service

    result = service(ctx.uow(readonly=True), code, sku=sku)
    if as_json:
        emit_json(result)
        return
    _print_trace(result)


def _first_references(references: tuple[str, ...], shown: int = 3) -> str:
    more = len(references) - shown
    return ", ".join(references[:shown]) + (f" +{more} more" if more > 0 else "")


def _print_recall(recall: LotRecall) -> None:
    """What a pharmacist acts on after a recall: every course the lot reaches."""
    if recall.kits_flagged:
        say(f"{len(recall.kits_flagged)} kits holding this lot are flagged (those in the "
            f"stockroom are blocked): {_first_references(recall.kits_flagged, 10)}")  # fmt: skip
    _print_at_patients(recall.at_patients, empty=True)
    _print_released(recall.released, empty=True)
    _print_sessions(recall.sessions, empty=True)


def _print_at_patients(kits: tuple[KitAtPatient, ...], *, empty: bool = False) -> None:
    if not kits:
        if empty:
            say("kits at patients' homes: none")
        return
    emit_table(
        ["kit", "course", "patient", "clinic", "part", "status", "went out", "tracking",
         "units"],
        [(k.serial, k.course_id, k.patient_ref, k.clinic, k.part, k.status, k.went_out,
          k.tracking, k.quantity) for k in kits],
        title=f"kits at patients' homes, to contact ({len(kits)})", right=("units",),
    )  # fmt: skip


def _print_released(released: tuple[KitReleased, ...], *, empty: bool = False) -> None:
    if not released:
        if empty:
            say("reserved kits released: none")
        return
    emit_table(
        ["course", "patient", "clinic", "part", "needed from", "kit released", "recalled on",
         "kit now"],
        [(r.course_id, r.patient_ref, r.clinic, r.part, r.needed_from, r.serial, r.recalled_on,
          r.now_kit or "none") for r in released],
        title=f"reserved kits released: courses left without a kit ({len(released)})",
    )  # fmt: skip


def _print_sessions(sessions: tuple[SessionUse, ...], *, empty: bool = False) -> None:
    if not sessions:
        if empty:
            say("clinic sessions given from this lot: none")
        return
    emit_table(
        ["course", "patient", "clinic", "session", "date", "used"],
        [(s.course_id, s.patient_ref, s.clinic, s.session_no, s.date, s.quantity)
         for s in sessions],
        title=f"clinic sessions given from this lot ({len(sessions)})", right=("used",),
    )  # fmt: skip


def _print_trace(result: Trace) -> None:
    _print_lot(result.lot)
    in_sessions = sum(s.quantity for s in result.sessions)
    parts = [f"{result.delivered_in_kits} inside kits"] if result.delivered_in_kits else []
    parts += [f"{in_sessions} in clinic sessions"] if in_sessions else []
    say(f"received {result.received}, written off {result.written_off}, "
        f"delivered {result.delivered}" + (f" ({', '.join(parts)})" if parts else "")
        + f", in kits {result.in_kits}, count adjustments {result.adjusted:+d}")  # fmt: skip
    emit_table(
        ["from", "to", "reason", "qty", "moves", "first", "last", "references"],
        [
            (
                f.from_location, f.to_location,
                f.reason + (f" ({f.detail})" if f.detail else ""),
                f.quantity, f.moves,
                f.first.date(), f.last.date(),
                _first_references(f.references),
            )
            for f in result.flows
        ],
        right=("qty", "moves"),
    )  # fmt: skip
    if result.kits:
        emit_table(
            ["kit", "status", "course", "patient", "units of this lot"],
            [(k.serial, k.status + (" (recalled)" if k.recalled else ""), k.course_id,
              k.patient_ref, k.quantity) for k in result.kits],
            title=f"in {len(result.kits)} kits", right=("units of this lot",),
        )  # fmt: skip
    _print_at_patients(result.at_patients)
    _print_released(result.released)
    _print_sessions(result.sessions)


@click.group()
def expiry() -> None:
    """The expiry sweep (run it from cron)."""


@expiry.command("sweep")
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    help="Sweep as of this date (default: today on the latest clinic calendar).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say what would expire and move (on any day, also a later one); write nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the sweep report as JSON.")
@pass_context
def sweep(ctx: Context, as_of: str | None, dry_run: bool, as_json: bool) -> None:
    """Mark lots past expiry `expired` and move their stock to the clinic's quarantine.

    Safe to run again: a second run changes nothing. A day after today on every clinic's
    calendar is refused (expiring is for good) unless --dry-run.
    """
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
            ["SKU", "lot", "expiry", "marked", "moved", "from", "to", "note"],
            [
                (s.sku, s.lot, s.expiry, "yes" if s.marked_expired else "", s.moved,
                 s.from_location, s.to_location, s.note)
                for s in report.lines
            ],
            right=("moved",),
        )  # fmt: skip
    if report.kits:
        emit_table(
            ["kit", "SKU", "was", "from", "to", "note"],
            [(k.serial, k.sku, k.status_before, k.from_location, k.to_location, k.note)
             for k in report.kits],
            title="kits expired with their stock",
        )  # fmt: skip
    kits = ""
    if report.kits_expired:
        kits = f", {report.kits_expired} kits expired"
        if report.reservations_released:
            kits += (f" ({report.reservations_released} reservations released: "
                     "those courses need another kit)")  # fmt: skip
    if dry_run:
        would = kits.replace(" kits expired", " kits would expire").replace(
            " reservations released", " reservations would be released"
        )
        say(f"expiry sweep as of {report.as_of} (dry run, nothing written): "
            f"{report.lots_marked} lots would be marked expired, "
            f"{report.units_moved} units would move to quarantine{would}")  # fmt: skip
        return
    say(f"expiry sweep as of {report.as_of}: {report.lots_marked} lots marked expired, "
        f"{report.units_moved} units moved to quarantine{kits}")  # fmt: skip
