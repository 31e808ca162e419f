"""The root ``kitops`` group and its global options."""

from __future__ import annotations

import click

from kitops import __version__
from kitops.bootstrap import configure_logging
from kitops.cli.alerts import alert
from kitops.cli.catalog import catalog, location
from kitops.cli.click_texts import speak_kitops
from kitops.cli.clinics import clinic
from kitops.cli.context import Context
from kitops.cli.database import db, demo, import_
from kitops.cli.help import command as kitops_command
from kitops.cli.help import group
from kitops.cli.kits import course, fulfil, kit, pick_list, plan, session
from kitops.cli.operations import count_command, expiry, lot, move_command, receive, trace, writeoff
from kitops.cli.payments import order, price, stripe
from kitops.cli.printers import printer
from kitops.cli.purchasing import jobs, po, policy, reorder, supplier
from kitops.cli.reports import report
from kitops.cli.scan import course_card, location_label, scan
from kitops.cli.stock import stock
from kitops.cli.tokens import token
from kitops.cli.users import audit, login, logout, setting, user, whoami
from kitops.cli.vat import vat
from kitops.cli.web import serve
from kitops.cli.webhooks import webhook
from kitops.domain.text import has_control
from kitops.errors import InvalidInput
from kitops.i18n import (
    N_,
    UnknownLocale,
    _,
    force_locale,
    forced_locale,
    locale_from_environment,
    parse_locale,
    set_default_locale,
)

__all__ = ["cli"]

speak_kitops()  # click's own messages ("Missing option", "Usage:") through our catalogs


@group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    help=N_(
        "kitops: the stockroom of clinics selling lot-tracked serum, stamps and home "
        "kits.\n\n"
        "Exit codes: 0 done, 1 refused (the stock, a lot's status or the database "
        "said no), 2 bad input (unknown SKU or location, malformed value). A refused "
        "command writes nothing."
    ),
)
@click.version_option(__version__, prog_name="kitops")
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    help=N_(
        "Database URL (sqlite:///PATH or postgresql://...). Default: $KITOPS_DATABASE_URL "
        "(or the 0600 file $KITOPS_DATABASE_URL_FILE), else kitops.db in the user data folder."
    ),
)
@click.option(
    "--user",
    metavar="NAME",
    envvar="KITOPS_USER",
    help=N_(
        "Act as this kitops user (default: $KITOPS_USER, else the user bound to your login "
        "or your `kitops login` session). Another user than those needs its PIN: "
        "--pin-stdin, or a prompt on a terminal."
    ),
)
@click.option(
    "--pin-stdin",
    is_flag=True,
    help=N_("Read the PIN of the --user from the first line of standard input."),
)
@click.option(
    "--locale",
    "locale_tag",
    metavar="LOCALE",
    is_eager=True,  # before an eager --help that follows it: `kitops --locale de --help`
    callback=lambda _ctx, _param, value: _speak_locale(value),
    help=N_(
        "Speak this locale in this command (e.g. de_AT, de, en_GB): its messages, and the "
        "documents it makes for any clinic. Default: the user's language, else their clinic's "
        "locale, else $LANG (README: Languages)."
    ),
)
@click.pass_context
def cli(
    ctx: click.Context, db_url: str | None, user: str | None, pin_stdin: bool,
    locale_tag: str | None,
) -> None:  # fmt: skip
    name = (user or "").strip() or None
    if name is not None and len(name) > 64:
        raise click.BadParameter(
            _("{name} must be 1-64 characters").format(name=repr(name)), param_hint="'--user'"
        )
    if name is not None and has_control(name):
        raise click.BadParameter(
            _("{name} must not hold control characters").format(name=repr(name)),
            param_hint="'--user'",
        )
    if locale_tag is None:
        # the environment's language until the acting user is known (``Context.user``
        # then resolves theirs); ``kitops.cli.run`` brings back the language in force
        # before the command once its last line is written
        set_default_locale(locale_from_environment())
    configure_logging(ctx.invoked_subcommand)  # KITOPS_LOG_LEVEL, KITOPS_LOG_FORMAT
    ctx.obj = Context(
        db_url=db_url or None, claimed=name or None, pin_stdin=pin_stdin,
        locale=forced_locale(),
    )  # fmt: skip


def _speak_locale(locale_tag: str | None) -> str | None:
    """``--locale``, processed as soon as it is read (an eager option, so before the root
    ``--help`` that follows it and before a usage error in what follows): the command
    speaks it, and documents for any clinic too. Returns the normalised tag."""
    if locale_tag is None:
        return None
    try:
        tag = parse_locale(locale_tag)
    except UnknownLocale as error:
        raise InvalidInput("--locale", locale_tag, str(error)) from None
    return force_locale(tag)


for command in (
    db, demo, import_, catalog, location, clinic, stock,
    receive, move_command, count_command, writeoff, lot, trace, expiry,
    kit, plan, course, session, fulfil, pick_list, report, printer,
    supplier, policy, reorder, po, jobs, vat, user, token, webhook, alert, audit, setting,
    login, logout, whoami, scan,
):  # fmt: skip
    cli.add_command(command)

# the codes of places and courses (kitops.cli.scan), in the groups they belong to
location.add_command(location_label)
course.add_command(course_card)

# orders and payments (Stripe is imported only inside these commands)
for command in (order, price, stripe):
    cli.add_command(command)


@kitops_command(
    "tui",
    help=N_("The stockroom terminal UI: dashboard, stock, receive by scanner, kits, courses."),
)
@click.option(
    "--db",
    "tui_db_url",
    metavar="URL",
    help=N_("Database URL for this session (overrides the global --db)."),
)
@click.option("--clinic", metavar="LOC", help=N_("Show one clinic only (default: every clinic)."))
@click.pass_obj
def tui_command(ctx: Context, tui_db_url: str | None, clinic: str | None) -> None:
    # The UI is imported here only: `kitops --help` and every other command start without
    # Textual (tests/test_architecture.py checks it). The one import from the command line
    # up into the UI, declared in pyproject.toml's import-linter contract.
    from kitops.tui import app as tui_app

    code = tui_app.run(db_url=tui_db_url or ctx.db_url, user=ctx.claimed, clinic=clinic)
    if code:
        raise click.exceptions.Exit(code)


cli.add_command(tui_command)
cli.add_command(serve)
