"""``kitops supplier``, ``policy``, ``reorder``, ``po`` and ``jobs``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import command, group
from kitops.cli.output import emit_json, emit_table, human, say, yes_no
from kitops.domain.purchasing import PO_STATUSES as DOMAIN_PO_STATUSES
from kitops.i18n import N_, _

if TYPE_CHECKING:
    from datetime import date

    from kitops.services.dto.purchasing import Policy, PurchaseOrder, Supplier
    from kitops.services.dto.reorder import ReorderRun

PO_STATUSES = ["open", *DOMAIN_PO_STATUSES]


def _date(value: str | None, field: str) -> date | None:
    from kitops.domain.ledger import parse_date

    return parse_date(value, field) if value else None


# --- suppliers -------------------------------------------------------------------------


def _supplier_table(suppliers: list[Supplier]) -> None:
    rows: list[tuple[object, ...]] = []
    for s in suppliers:
        head = (s.code, s.name, s.lead_time_days, s.currency, s.contact or "")
        if not s.items:
            rows.append((*head, "", "", "", ""))
        for i, item in enumerate(s.items):
            shown = head if i == 0 else ("", "", "", "", "")
            rows.append((*shown, item.sku, item.pack_size, item.min_order, item.unit_cost))
    emit_table(
        [
            N_("supplier"),
            N_("name"),
            N_("lead"),
            N_("currency"),
            N_("contact"),
            N_("SKU"),
            N_("pack"),
            N_("min"),
            N_("unit cost"),
        ],
        rows,
        right=("lead", "pack", "min", "unit cost"),
    )


@group(help=N_("Suppliers: lead time, currency, and what they sell (pack size, minimum, cost)."))
def supplier() -> None: ...


@supplier.command("list", help=N_("Suppliers and their items."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of suppliers."))
@pass_context
def list_suppliers(ctx: Context, as_json: bool) -> None:
    from kitops.services.purchasing import list_suppliers as service

    found = service(ctx.uow(readonly=True))
    if as_json:
        emit_json(found)
    elif found:
        _supplier_table(found)
    else:
        say(_("no suppliers yet: `kitops supplier add`"))


@supplier.command("add", help=N_("Add a supplier."))
@click.argument("code")
@click.option("--name", required=True, help=N_("The supplier's name."))
@click.option(
    "--lead-time", "lead_time", required=True, metavar="DAYS", help=N_("Days to deliver.")
)
@click.option("--currency", required=True, metavar="CUR", help=N_("ISO 4217 code, e.g. GBP."))
@click.option("--contact", metavar="TEXT", help=N_("Where orders go (e-mail, phone)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the supplier as JSON."))
@pass_context
def add_supplier(
    ctx: Context, code: str, name: str, lead_time: str, currency: str, contact: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    from kitops.services.purchasing import add_supplier as service

    result = service(ctx.uow(), code, name, lead_time_days=lead_time, currency=currency,
                     contact=contact)  # fmt: skip
    emit_json(result) if as_json else say(_("supplier {code} added").format(code=result.code))


@supplier.command("item", help=N_("Set what supplier CODE sells of SKU."))
@click.argument("code")
@click.argument("sku")
@click.option(
    "--pack", required=True, metavar="N", help=N_("Units per pack (orders are whole packs).")
)
@click.option("--min-order", "min_order", required=True, metavar="N", help=N_("Minimum units."))
@click.option(
    "--cost", required=True, metavar="AMOUNT", help=N_("Unit cost in the supplier's currency.")
)
@click.option("--supplier-sku", metavar="TEXT", help=N_("The supplier's own article number."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the supplier as JSON."))
@pass_context
def supplier_item(
    ctx: Context, code: str, sku: str, pack: str, min_order: str, cost: str,
    supplier_sku: str | None, as_json: bool,
) -> None:  # fmt: skip
    from kitops.cli.numbers import decimal_text
    from kitops.services.purchasing import set_supplier_item

    result = set_supplier_item(ctx.uow(), code, sku, pack_size=pack, min_order=min_order,
                               unit_cost=decimal_text(cost, "cost") or cost,
                               supplier_sku=supplier_sku)  # fmt: skip
    emit_json(result) if as_json else say(
        _("{code} sells {sku}: packs of {pack}, minimum {minimum}").format(
            code=result.code, sku=sku.upper(), pack=pack, minimum=min_order))  # fmt: skip


@supplier.command(
    "set-address",
    help=N_(
        "Set the address and payment terms purchase orders print for supplier CODE "
        "(an option not given stays; an empty text clears it)."
    ),
)
@click.argument("code")
@click.option("--address", metavar="TEXT", help=N_("Postal address (commas between lines)."))
@click.option("--terms", metavar="TEXT", help=N_('Payment terms, e.g. "30 days net".'))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the supplier as JSON."))
@pass_context
def supplier_address(
    ctx: Context, code: str, address: str | None, terms: str | None, as_json: bool
) -> None:
    from kitops.services.purchasing import set_supplier_address

    result = set_supplier_address(ctx.uow(), code, address=address, terms=terms)
    if as_json:
        emit_json(result)
        return
    say(_("{code}: {address}; terms {terms}").format(
        code=result.code, address=result.address or _("(no address)"),
        terms=result.payment_terms or _("(none)")))  # fmt: skip


# --- policies ------------------------------------------------------------------------


def _policy_line(p: Policy) -> str:
    how = (f"min_max {p.min_qty}/{p.max_qty}" if p.method == "min_max"
           else _("calendar, review {review} d, safety {safety} d").format(
               review=p.review_period_days, safety=p.safety_days))  # fmt: skip
    lead = (_("lead {days} d (supplier's)") if p.lead_time_from_supplier
            else _("lead {days} d")).format(days=p.lead_time_days)  # fmt: skip
    return _("{sku} at {clinic} from {supplier}: {how}, {lead}").format(
        sku=p.sku, clinic=p.clinic, supplier=p.supplier, how=how, lead=lead)  # fmt: skip


@group(help=N_("Reorder policies, one per product and clinic: min_max or calendar."))
def policy() -> None: ...


@policy.command("set", help=N_("Create or replace the reorder policy of SKU at a clinic."))
@click.argument("sku")
@click.option("--clinic", required=True, metavar="LOC", help=N_("The clinic it is ordered for."))
@click.option("--supplier", required=True, metavar="CODE", help=N_("Who it is ordered from."))
@click.option("--method", required=True, type=click.Choice(["min_max", "calendar"]))
@click.option("--min", "min_qty", metavar="N", help=N_("min_max: order when below this."))
@click.option("--max", "max_qty", metavar="N", help=N_("min_max: order up to this."))
@click.option(
    "--review-days",
    default="7",
    show_default=True,
    metavar="DAYS",
    help=N_("calendar: days until the next reorder run that could order again."),
)
@click.option(
    "--safety-days",
    default="0",
    show_default=True,
    metavar="DAYS",
    help=N_("calendar: safety stock, in days of average demand."),
)
@click.option("--lead-time", metavar="DAYS", help=N_("Override the supplier's lead time."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the policy as JSON."))
@pass_context
def set_policy(
    ctx: Context, sku: str, clinic: str, supplier: str, method: str, min_qty: str | None,
    max_qty: str | None, review_days: str, safety_days: str, lead_time: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    from kitops.services.purchasing import set_policy as service

    result = service(
        ctx.uow(), sku, clinic, supplier=supplier, method=method, min_qty=min_qty,
        max_qty=max_qty, review_period_days=review_days, safety_days=safety_days,
        lead_time_days=lead_time,
    )  # fmt: skip
    emit_json(result) if as_json else say(_policy_line(result))


@policy.command("remove", help=N_("Stop reordering SKU for a clinic."))
@click.argument("sku")
@click.option("--clinic", required=True, metavar="LOC", help=N_("The clinic."))
@pass_context
def remove_policy(ctx: Context, sku: str, clinic: str) -> None:
    from kitops.services.purchasing import remove_policy as service

    result = service(ctx.uow(), sku, clinic)
    say(_("{sku} is no longer reordered for {clinic}").format(
        sku=result.sku, clinic=result.clinic))  # fmt: skip


@policy.command("list", help=N_("Reorder policies."))
@click.option("--clinic", metavar="LOC", help=N_("Only this clinic."))
@click.option("--sku", metavar="SKU", help=N_("Only this product."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of policies."))
@pass_context
def list_policies(ctx: Context, clinic: str | None, sku: str | None, as_json: bool) -> None:
    from kitops.services.purchasing import list_policies as service

    found = service(ctx.uow(readonly=True), clinic=clinic, sku=sku)
    if as_json:
        emit_json(found)
        return
    if not found:
        say(_("no reorder policies: `kitops policy set`"))
        return
    emit_table(
        [N_("clinic"), N_("SKU"), N_("supplier"), N_("method"), N_("min"), N_("max"),
         N_("lead"), N_("review"), N_("safety"), N_("active")],
        [(p.clinic, p.sku, p.supplier, p.method, p.min_qty, p.max_qty, p.lead_time_days,
          p.review_period_days, p.safety_days, yes_no(p.active)) for p in found],
        right=("min", "max", "lead", "review", "safety"),
    )  # fmt: skip


@policy.command(
    "session-supplies",
    help=N_(
        "What each clinic session of PLAN uses besides its serum (a clinic stamp...), "
        "for the demand forecast. No items: clears the list."
    ),
)
@click.argument("plan")
@click.argument("items", nargs=-1, metavar="[SKU=QTY ...]")
@pass_context
def session_supplies(ctx: Context, plan: str, items: tuple[str, ...]) -> None:
    from kitops.domain.catalog import parse_component
    from kitops.services.purchasing import set_session_supplies

    found = set_session_supplies(ctx.uow(), plan, [parse_component(i) for i in items])
    listed = ", ".join(f"{q} × {s}" for s, q in found) or _("nothing besides the serum")
    say(_("each session of {plan} uses {listed}").format(plan=plan.lower(), listed=listed))


# --- reorder -------------------------------------------------------------------------


def _print_run(result: ReorderRun, verbose: bool) -> None:
    say(result.summary)
    if verbose and result.suggestions:
        emit_table(
            [N_("PO"), N_("clinic"), N_("SKU"), N_("supplier"), N_("qty"), N_("explanation")],
            [(s.po or "-", s.clinic, s.sku, s.supplier, s.quantity, s.explanation)
             for s in result.suggestions],
            right=("qty",),
        )  # fmt: skip


@group(
    help=N_(
        "The reorder job: draft purchase orders from the reorder policies.\n\n"
        "Exit codes: 0 nothing to order, or orders drafted (a one-line summary), or "
        "another run is in progress (nothing done); 1 refused or the database failed; "
        "2 bad input."
    ),
)
def reorder() -> None: ...


@reorder.command(
    "run",
    help=N_(
        "Compute every policy's order; write one draft purchase order per supplier "
        "and clinic (unless --dry-run). A second run with nothing changed writes "
        "nothing."
    ),
)
@click.option("--dry-run", is_flag=True, help=N_("Compute and print; write nothing."))
@click.option("--as-of", metavar="YYYY-MM-DD", help=N_("Plan as if today were this day."))
@click.option(
    "--lines", "verbose", is_flag=True, help=N_("Also list each line with its arithmetic.")
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the run as JSON."))
@pass_context
def run_reorder(
    ctx: Context, dry_run: bool, as_of: str | None, verbose: bool, as_json: bool
) -> None:
    from kitops.services.reorder import run

    result = run(ctx.uow(), as_of=_date(as_of, "as-of"), dry_run=dry_run)
    emit_json(result) if as_json else _print_run(result, verbose or dry_run)


# --- purchase orders ----------------------------------------------------------------------


def _print_order(order: PurchaseOrder) -> None:
    fields = {"number": order.number, "supplier": order.supplier, "name": order.supplier_name,
              "clinic": order.clinic, "status": order.status, "total": human(order.total),
              "as_of": human(order.as_of),
              "expected": human(order.expected_on) if order.expected_on else "-"}  # fmt: skip
    if order.note:
        say(_("{number} to {supplier} ({name}) for {clinic}: {status}, {total}; as of {as_of}, "
              "expected {expected}; {note}").format(note=order.note, **fields))  # fmt: skip
    else:
        say(_("{number} to {supplier} ({name}) for {clinic}: {status}, {total}; as of {as_of}, "
              "expected {expected}").format(**fields))  # fmt: skip
    emit_table(
        [N_("#"), N_("SKU"), N_("supplier SKU"), N_("qty"), N_("received"), N_("open"),
         N_("unit cost"), N_("total"), N_("need by")],
        [(i, ln.sku, ln.supplier_sku or "", ln.quantity, ln.received, ln.open, ln.unit_cost,
          ln.line_total, ln.need_by or "") for i, ln in enumerate(order.lines, start=1)],
        right=("#", "qty", "received", "open", "unit cost", "total"),
    )  # fmt: skip
    for i, line in enumerate(order.lines, start=1):
        if line.explanation:
            say(f"{i}. {line.sku}: {line.explanation}")


@group(help=N_("Purchase orders: list, show, approve, send, cancel, export."))
def po() -> None: ...


@po.command("list", help=N_("Purchase orders, oldest first."))
@click.option("--status", type=click.Choice(PO_STATUSES), help=N_("Only orders in this state."))
@click.option("--clinic", metavar="LOC", help=N_("Only orders for this clinic."))
@click.option("--supplier", metavar="CODE", help=N_("Only orders to this supplier."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of orders."))
@pass_context
def list_orders(
    ctx: Context, status: str | None, clinic: str | None, supplier: str | None, as_json: bool
) -> None:
    from kitops.services.purchasing import list_orders as service

    found = service(ctx.uow(readonly=True), status=status, clinic=clinic, supplier=supplier)
    if as_json:
        emit_json(found)
        return
    if not found:
        say(_("no purchase orders match"))
        return
    emit_table(
        [N_("PO"), N_("supplier"), N_("clinic"), N_("status"), N_("as of"), N_("expected"),
         N_("lines"), N_("total")],
        [(o.number, o.supplier, o.clinic, o.status, o.as_of, o.expected_on or "",
          len(o.lines), o.total) for o in found],
        right=("lines", "total"),
    )  # fmt: skip


@po.command("show", help=N_("One order with its lines and the arithmetic behind each."))
@click.argument("number", metavar="PO")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the order as JSON."))
@pass_context
def show_order(ctx: Context, number: str, as_json: bool) -> None:
    from kitops.services.purchasing import show_order as service

    result = service(ctx.uow(readonly=True), number)
    emit_json(result) if as_json else _print_order(result)


def _transition(action: str) -> click.Command:
    @command(action)
    @click.argument("number", metavar="PO")
    @click.option("--json", "as_json", is_flag=True, help=N_("Print the order as JSON."))
    @pass_context
    def transition(ctx: Context, number: str, as_json: bool) -> None:
        from kitops.services.purchasing import change_status

        result = change_status(ctx.uow(), number, action)
        done = (
            _("{number} approved ({total})")
            if action == "approve"
            else _("{number} sent ({total})")
        )
        emit_json(result) if as_json else say(
            done.format(number=result.number, total=human(result.total))
        )

    transition.help = {
        "approve": N_("Approve a draft: the reorder job no longer changes it."),
        "send": N_("Mark an approved order as sent to the supplier (export it first)."),
    }[action]
    return transition


po.add_command(_transition("approve"))
po.add_command(_transition("send"))


@po.command("cancel", help=N_("Cancel an open order; its open lines stop counting as on order."))
@click.argument("number", metavar="PO")
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why (kept on the order)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the order as JSON."))
@pass_context
def cancel_order(ctx: Context, number: str, reason: str, as_json: bool) -> None:
    from kitops.services.purchasing import change_status

    result = change_status(ctx.uow(), number, "cancel", reason=reason)
    emit_json(result) if as_json else say(_("{number} cancelled").format(number=result.number))


@po.command(
    "export",
    help=N_(
        "Write what the supplier receives: a CSV of the lines, or an A4 PDF with the "
        "addresses, the lines with VAT, the totals and the payment terms."
    ),
)
@click.argument("number", metavar="PO")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "pdf"]))
@click.option("--out", required=True, metavar="FILE", help=N_("Where to write (.csv or .pdf)."))
@pass_context
def export_order(ctx: Context, number: str, fmt: str, out: str) -> None:
    from kitops.documents.purchase_orders import export_order as service

    with ctx.documents_for(purchase_order=number):  # in the ordering clinic's locale
        result = service(ctx.uow(readonly=True), number, fmt, out)
    say(_("{number} written to {path} ({n} bytes)").format(
        number=result.number, path=result.path, n=result.bytes))  # fmt: skip


# --- jobs ---------------------------------------------------------------------------------


@group(
    help=N_(
        "The cron jobs: list them, or run one (one structured log line on stderr per "
        "run).\n\n"
        "Exit codes of `jobs run`: 0 done, nothing to do, or another run in progress; "
        "1 refused or failed; 2 bad input."
    ),
)
def jobs() -> None: ...


@jobs.command("list", help=N_("The jobs, what they do and a suggested crontab schedule."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of jobs."))
def list_jobs(as_json: bool) -> None:
    from kitops.jobs import list_jobs as service

    found = service()
    if as_json:
        emit_json(found)
        return
    emit_table(
        [N_("job"), N_("schedule"), N_("what it does")],
        [(j.name if j.available else _("{job} (not available)").format(job=j.name), j.schedule,
          j.description)
         for j in found],
    )  # fmt: skip


@jobs.command("run", help=N_("Run one job (reorder, expiry-sweep, payment-sync)."))
@click.argument("name", metavar="JOB")
@click.option("--as-of", metavar="YYYY-MM-DD", help=N_("Run as if today were this day."))
@click.option("--dry-run", is_flag=True, help=N_("Compute and print; write nothing (reorder)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the job's result as JSON."))
@pass_context
def run_job(ctx: Context, name: str, as_of: str | None, dry_run: bool, as_json: bool) -> None:
    from kitops.jobs import run_job as service

    record, outcome, error = service(
        ctx.uow(),
        name,
        as_of=_date(as_of, "as-of"),
        dry_run=dry_run,
    )
    click.echo(record.line(), err=True)
    if error is not None:
        raise error
    assert outcome is not None
    emit_json(outcome.result) if as_json else say(outcome.summary)
