"""``kitops db``, ``kitops demo`` and ``kitops import``."""

from __future__ import annotations

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import command, group
from kitops.cli.output import emit_json, emit_table, human, say
from kitops.i18n import N_, _
from kitops.i18n.labels import stored_text


@group(help=N_("Set up, check and back up the database."))
def db() -> None: ...


@db.command(
    help=N_(
        "Migrate the database schema to this kitops' version (creates it when new).\n\n"
        "An admin may, and so may the database's owner (the account owning the SQLite "
        "file, or the PostgreSQL role owning the database); a database with no users "
        "yet, anyone."
    ),
)
@pass_context
def upgrade(ctx: Context) -> None:
    from kitops.services import admin

    before, after = admin.upgrade(ctx.database(check_schema=False), ctx.user)
    if before == after:
        say(_("database already at revision {revision}").format(revision=after))
    else:
        say(_("database migrated from {before} to revision {after}").format(
            before=before or _("empty"), after=after))  # fmt: skip
        from kitops.services.identity import bind_upgrader

        bound = bind_upgrader(ctx.database(), before, ctx.claimed)
        if bound:
            say(_("bound user {name} to your login; bind the others: `kitops user bind`").format(
                name=bound))  # fmt: skip


@db.command(help=N_("Show the database and its schema revision beside the one this kitops needs."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON: {url, revision, head}."))
@pass_context
def current(ctx: Context, as_json: bool) -> None:
    from kitops.services import admin

    database = ctx.database(check_schema=False)
    revision, head = admin.current(database)
    if as_json:
        emit_json({"url": database.display_url, "revision": revision, "head": head})
        return
    state = _("up to date") if revision == head else _("run `kitops db upgrade`")
    say(database.display_url)
    say(_("revision {revision} (head {head}): {state}").format(
        revision=revision or _("none"), head=head, state=state))  # fmt: skip


@db.command(
    help=N_(
        "Verify every balance equals the sum of its moves and none is negative, and "
        "that every kit is one unit or none and its record (status, place) agrees "
        "with the ledger.\n\n"
        "Exits 1 and lists every difference when the ledger and balances disagree."
    ),
)
@click.option(
    "--json", "as_json", is_flag=True, help=N_("Print JSON: {ok, balances_checked, ...}.")
)
@pass_context
def check(ctx: Context, as_json: bool) -> None:
    from kitops.errors import IntegrityProblem
    from kitops.services import admin

    report = admin.check(ctx.uow(readonly=True))
    headline = admin.check_headline(report)
    if as_json:
        emit_json(report)
    elif report.ok:
        say(_("ok: {balances} balances match {moves} ledger moves").format(
            balances=report.balances_checked, moves=report.moves))  # fmt: skip
    else:
        emit_table(
            [N_("SKU"), N_("lot"), N_("location"), N_("balance"), N_("moves"), N_("problem")],
            [
                (p.sku, p.lot, p.location, p.recorded, p.from_moves, stored_text(p.problem))
                for p in report.problems
            ],
            title=headline,
            right=("balance", "moves"),
        )
    if not report.ok:
        raise IntegrityProblem(headline)


@db.command(
    help=N_(
        "Write a consistent copy of the SQLite database to PATH, safe while others "
        "work.\n\n"
        "On PostgreSQL this prints the pg_dump command to use instead (exit 1)."
    ),
)
@click.argument("path", type=click.Path(dir_okay=False))
@pass_context
def backup(ctx: Context, path: str) -> None:
    from kitops.services import admin

    target = admin.backup(ctx.database(check_schema=False), path, ctx.user)
    say(_("backup written to {path}").format(path=target))


@db.command(
    help=N_(
        "Replace the SQLite database with a backup made by `kitops db backup`.\n\n"
        "The backup is checked first (a kitops database, not from a newer kitops, its "
        "ledger whole) and upgraded to this version's schema; then it replaces the "
        "database in one rename, asking first unless --yes. The replaced file is kept "
        "beside it as NAME.replaced-<time>. Stop the TUI and other kitops programs "
        "first.\n\n"
        "On PostgreSQL use pg_restore (the command is printed)."
    ),
)
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help=N_("Do not ask before replacing the current database."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON: {source, target, ...}."))
@pass_context
def restore(ctx: Context, path: str, yes: bool, as_json: bool) -> None:
    from sqlalchemy.exc import OperationalError

    from kitops.errors import DatabaseUnavailable
    from kitops.services import admin

    database = ctx.database(check_schema=False)

    def confirm(target: object) -> None:
        if not yes:
            click.confirm(
                _(
                    "Replace {target} with the backup {path}? (the current file is kept beside "
                    "it as .replaced-<time>)"
                ).format(target=target, path=path),
                abort=True,
                err=True,
            )

    try:
        actor = ctx.user  # proven on the live database, which a reader may hold locked
    except (DatabaseUnavailable, OperationalError) as error:
        if database.is_sqlite and ("busy" in str(error) or "locked" in str(error)):
            raise admin.in_use(database) from None
        raise
    done = admin.restore(database, path, actor, confirm=confirm)
    if as_json:
        emit_json(done)
        return
    upgraded = (
        _(", upgraded from revision {before} to {after}").format(
            before=done.backup_revision, after=done.revision
        )
        if done.backup_revision != done.revision
        else _(" (revision {revision})").format(revision=done.revision)
    )
    kept = (
        _("; the replaced database is kept as {path}").format(path=done.replaced)
        if done.replaced
        else ""
    )
    say(
        _(
            "restored {target} from {source}{upgraded}: {balances} balances match {moves} "
            "ledger moves{kept}"
        ).format(
            target=done.target,
            source=done.source,
            upgraded=upgraded,
            balances=done.balances_checked,
            moves=done.moves,
            kept=kept,
        )
    )


@command(
    help=N_("Load the demo data set: clinics LON, ESX, VIE; serum lots; stamps; the home kit."),
)
@click.option("--reset", is_flag=True, help=N_("Erase EVERYTHING in the database first."))
@click.option("--yes", is_flag=True, help=N_("Do not ask before --reset erases the database."))
@click.option(
    "--if-empty", is_flag=True, help=N_("Load only into an empty database; otherwise do nothing.")
)
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    help=N_("Date the demo expiries are counted from (default: today)."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON: {as_of, clinics, ...}."))
@pass_context
def demo(
    ctx: Context, reset: bool, yes: bool, if_empty: bool, as_of: str | None, as_json: bool
) -> None:
    from kitops.domain.ledger import parse_date
    from kitops.services import demo as demo_service
    from kitops.services.dto.database import DemoSummary

    day = parse_date(as_of, "as_of") if as_of else None
    if reset:
        database = ctx.database(check_schema=False)
        if not yes:
            click.confirm(
                _("Erase every record in {url} and load the demo data?").format(
                    url=database.display_url
                ),
                abort=True,
            )
        demo_service.reset(database, actor=ctx.user)
    elif if_empty and not demo_service.is_empty(ctx.uow(readonly=True)):
        if as_json:
            emit_json(DemoSummary(loaded=False, as_of=None, clinics=0, products=0, lots=0, moves=0))
        else:
            say(_("the database already holds data; demo data not loaded"))
        return
    from kitops.services.identity import current_identity

    uow = ctx.uow()
    summary = demo_service.load(uow, day, bind_login=current_identity(uow.db))
    if as_json:
        emit_json(summary)
    else:
        say(
            _(
                "demo data loaded as of {day}: {clinics} clinics, {products} products, {lots} "
                "lots, {moves} receipts"
            ).format(
                day=human(summary.as_of),
                clinics=summary.clinics,
                products=summary.products,
                lots=summary.lots,
                moves=summary.moves,
            )
        )


@command(
    "import",
    help=N_(
        "Onboard products, locations or opening stock from a CSV file.\n\n"
        "\x08\n"
        "products:  sku,name,kind[,unit,gtin,ml,needle_mm,at_home,lot_tracked,\n"
        "           requires_release,shelf_life_days,expiry_alert_days,\n"
        "           min_shelf_life_on_receipt_days]\n"
        "locations: code,name[,parent,kind,timezone,currency]\n"
        "stock:     sku,quantity,location[,lot,expiry,status,unit_cost,currency]\n\n"
        "Any bad row refuses the whole file (exit 2): nothing is written and every "
        "bad row is listed with its line number. A stock row's unit_cost is in its "
        "clinic's currency unless --foreign-currency."
    ),
)
@click.argument("kind", type=click.Choice(["products", "locations", "stock"]))
@click.argument("file", metavar="FILE.csv")
@click.option("--dry-run", is_flag=True, help=N_("Validate every row, write nothing."))
@click.option(
    "--foreign-currency",
    is_flag=True,
    help=N_("stock: unit costs in another currency than their clinic's are meant."),
)
@click.option(
    "--json", "as_json", is_flag=True, help=N_("Print JSON: {kind, rows, created, dry_run}.")
)
@pass_context
def import_(
    ctx: Context, kind: str, file: str, dry_run: bool, foreign_currency: bool, as_json: bool
) -> None:
    from kitops.services.imports import import_file

    report = import_file(ctx.uow(), kind, file, dry_run=dry_run, foreign_currency=foreign_currency)
    if as_json:
        emit_json(report)
    elif dry_run:
        say(_("{file}: {n} {kind} rows are valid (dry run, nothing written)").format(
            file=file, n=report.rows, kind=kind))  # fmt: skip
    else:
        say(_("{file}: imported {n} {kind} rows").format(file=file, n=report.rows, kind=kind))
