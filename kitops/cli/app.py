"""The root ``kitops`` group and its global options."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import click

from kitops import __version__
from kitops.bootstrap import configure_logging
from kitops.cli import collector
from kitops.cli.click_texts import speak_kitops
from kitops.cli.context import Context
from kitops.cli.help import KitopsGroup
from kitops.cli.help import command as kitops_command
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


# Each command's module is imported when the command is asked for, not at start: `kitops
# stock` imports kitops.cli.stock and none of the other command modules. A command
# name, the module defining it and the attribute; the commands some modules add to a
# group defined in another (the places' and courses' codes, the alert addresses).
COMMANDS = {
    "alert": "alerts:alert", "audit": "users:audit", "catalog": "catalog:catalog",
    "clinic": "clinics:clinic", "count": "operations:count_command", "course": "kits:course",
    "db": "database:db", "demo": "database:demo", "expiry": "operations:expiry",
    "fulfil": "kits:fulfil", "import": "database:import_", "jobs": "purchasing:jobs",
    "kit": "kits:kit", "location": "catalog:location", "login": "users:login",
    "logout": "users:logout", "lot": "operations:lot", "move": "operations:move_command",
    "order": "payments:order", "pick-list": "kits:pick_list", "plan": "kits:plan",
    "po": "purchasing:po", "policy": "purchasing:policy", "price": "payments:price",
    "printer": "printers:printer", "receive": "operations:receive",
    "reorder": "purchasing:reorder", "report": "reports:report", "scan": "scan:scan",
    "serve": "web:serve", "session": "kits:session", "setting": "users:setting",
    "stock": "stock:stock", "stripe": "payments:stripe", "supplier": "purchasing:supplier",
    "token": "tokens:token", "trace": "operations:trace", "user": "users:user",
    "vat": "vat:vat", "webhook": "webhooks:webhook", "whoami": "users:whoami",
    "writeoff": "operations:writeoff",
}  # fmt: skip
ADDED_TO = {
    "location": ("scan:location_label",),
    "course": ("scan:course_card",),
}
IMPORTED_WITH = {"user": ("alerts",)}  # kitops.cli.alerts adds `user set-email` to `user`


def _attribute(where: str) -> Any:
    module, name = where.split(":")
    return getattr(importlib.import_module(f"kitops.cli.{module}"), name)


class _Commands(dict[str, click.Command]):
    """The root group's commands, each imported on first use: ``get`` and ``[name]`` load
    that one; anything that walks them all (``items()``, help listings, tests) loads all."""

    def __init__(self, lazy: dict[str, str]) -> None:
        super().__init__()
        self.lazy = dict(lazy)

    def load(self, name: str) -> None:
        where = self.lazy.pop(name, None)
        if where is None:
            return
        for module in IMPORTED_WITH.get(name, ()):
            importlib.import_module(f"kitops.cli.{module}")
        command: click.Command = _attribute(where)
        for extra in ADDED_TO.get(name, ()):
            if isinstance(command, click.Group):
                command.add_command(_attribute(extra))
        super().__setitem__(name, command)

    def load_all(self) -> None:
        for name in list(self.lazy):
            self.load(name)

    def names(self) -> list[str]:
        return sorted({*super().keys(), *self.lazy})

    def __getitem__(self, name: str) -> click.Command:
        self.load(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.load(name)
        return super().get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.lazy or super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        self.load_all()
        return super().__iter__()

    def __len__(self) -> int:
        return len(self.names())

    def keys(self) -> Any:
        self.load_all()
        return super().keys()

    def values(self) -> Any:
        self.load_all()
        return super().values()

    def items(self) -> Any:
        self.load_all()
        return super().items()


class RootGroup(KitopsGroup):
    """``kitops``: its commands' modules imported on first use (``COMMANDS``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(COMMANDS)

    def list_commands(self, ctx: click.Context) -> list[str]:
        commands = self.commands
        return commands.names() if isinstance(commands, _Commands) else sorted(commands)


@click.group(
    cls=RootGroup,
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

    collector.resume()  # the UI holds and resumes the collector around its own imports
    code = tui_app.run(db_url=tui_db_url or ctx.db_url, user=ctx.claimed, clinic=clinic)
    if code:
        raise click.exceptions.Exit(code)


cli.add_command(tui_command)
