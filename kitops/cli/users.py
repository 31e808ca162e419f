"""``kitops user``, ``kitops audit`` and ``kitops setting``: who may do what, what they
did, and the settings an admin changes."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import command, group
from kitops.cli.output import emit_json, emit_table, say, yes_no
from kitops.i18n import N_, _

if TYPE_CHECKING:
    from kitops.services.dto.users import User

ROLE_HELP = N_("stockroom, manager, admin or job (README: Users, roles and audit)")


def _read_pin(prompt: str, *, from_stdin: bool, confirm: bool = True) -> str:
    """A PIN typed twice without echo, or one line of standard input (scripts)."""
    from kitops.errors import InvalidInput

    if from_stdin:
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            line = ""
        if not line:
            raise InvalidInput("PIN", None, _("standard input ended before the PIN"))
        return line.rstrip("\r\n")
    try:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):
        interactive = False
    if not interactive:
        raise InvalidInput("PIN", None, _("no terminal to type it on: use --pin-stdin or --no-pin"))
    again = _("Repeat for confirmation") if confirm else False
    value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=again, err=True)
    return value


def _when(value: Any) -> str:
    from kitops.i18n import formats

    return formats.datetime(value.astimezone()) if value is not None else ""


def _state(active: bool, locked_until: Any) -> str:
    state = _("active") if active else _("disabled")
    if locked_until is not None:
        state = _("{state}, locked until {when}").format(state=state, when=_when(locked_until))
    return state


def _show(user: User) -> str:
    state = _state(user.active, user.locked_until)
    pin = _("PIN set") if user.pin_set else _("no PIN (cannot log in to the TUI)")
    bound = _(", bound to login {login}").format(login=user.login) if user.login else ""
    clinics = (
        _(", clinics {clinics}").format(clinics=",".join(user.clinics)) if user.clinics else ""
    )
    language = _(", language {language}").format(language=user.language) if user.language else ""
    return f"{user.name}: {user.role}, {state}, {pin}{bound}{clinics}{language}"


@group(
    "user",
    help=N_("Users and their roles (admins; the first admin on a database with no users)."),
)
def user() -> None: ...


@user.command(
    "add",
    help=N_(
        "Add a user. Asks for a PIN or password twice (4-128 characters), kept only "
        "as its argon2 hash; the TUI's login asks for it."
    ),
)
@click.argument("name")
@click.option("--role", required=True, metavar="ROLE", help=ROLE_HELP)
@click.option("--pin-stdin", is_flag=True, help=N_("Read the PIN from one line of standard input."))
@click.option(
    "--no-pin",
    is_flag=True,
    help=N_("No PIN: the user acts from the command line only (the default for job users)."),
)
@click.option(
    "--login",
    metavar="LOGIN",
    help=N_(
        "Bind the user to this login (an operating-system account on SQLite, a database "
        "login role on PostgreSQL), which then acts as it without a PIN. The first admin of a "
        "new database is bound to yours."
    ),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the user as JSON."))
@pass_context
def user_add(
    ctx: Context,
    name: str,
    role: str,
    pin_stdin: bool,
    no_pin: bool,
    login: str | None,
    as_json: bool,
) -> None:
    from kitops.domain.roles import Role, parse_role
    from kitops.domain.users import parse_login, parse_user_name
    from kitops.services import identity, users

    wanted = parse_role(role)
    parse_user_name(name, "name")  # before asking for a PIN
    secret = None
    if not no_pin and (pin_stdin or wanted is not Role.JOB):
        secret = users.parse_secret(_read_pin(f"PIN for {name}", from_stdin=pin_stdin))
    if login is not None:
        parse_login(login)
    uow = ctx.uow()
    done = users.add_user(uow, name, wanted.value, secret, login=login,
                          bootstrap_login=identity.current_identity(uow.db))  # fmt: skip
    if as_json:
        emit_json(done)
    else:
        say(_("added {user}").format(user=_show(done)))


@user.command(
    "list",
    help=N_("Every user with role, state, the login it is bound to and last login."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of users."))
@pass_context
def user_list(ctx: Context, as_json: bool) -> None:
    from kitops.services import users

    found = users.list_users(ctx.uow(readonly=True))
    if as_json:
        emit_json(found)
        return
    emit_table(
        [
            N_("user"),
            N_("role"),
            N_("clinics"),
            N_("language"),
            N_("state"),
            N_("PIN"),
            N_("login"),
            N_("last login"),
            N_("created"),
            N_("by"),
        ],
        [
            (
                u.name,
                u.role,
                ",".join(u.clinics) or _("all"),
                u.language or "",
                _state(u.active, u.locked_until),
                yes_no(u.pin_set),
                u.login or "",
                _when(u.last_login_at),
                _when(u.created_at),
                u.created_by,
            )
            for u in found
        ],
    )


@user.command("show", help=N_("One user, with what its role may do."))
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the user as JSON."))
@pass_context
def user_show(ctx: Context, name: str, as_json: bool) -> None:
    from kitops.services import users

    found = users.get_user(ctx.uow(readonly=True), name)
    if as_json:
        emit_json(found)
        return
    say(_show(found))
    say(_("may: {permissions}").format(permissions=", ".join(found.permissions)))


@user.command(
    "set-clinics",
    help=N_(
        "Limit a user to some clinics (CLINICS: codes separated by commas, e.g. "
        "LON,ESX): it then sees and acts on those clinics only. `--all` or an empty "
        "CLINICS lifts the limit (admins; an admin limited to clinics gives only its "
        "own clinics)."
    ),
)
@click.argument("name")
@click.argument("clinics", metavar="CLINICS", required=False, default="")
@click.option("--all", "every", is_flag=True, help=N_("Lift the limit: every clinic."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the user as JSON."))
@pass_context
def user_set_clinics(ctx: Context, name: str, clinics: str, every: bool, as_json: bool) -> None:
    from kitops.errors import InvalidInput
    from kitops.services import users

    if every and clinics.strip():
        raise InvalidInput("clinics", clinics, _("give clinics or --all, not both"))
    codes = [] if every else users.parse_clinic_codes(clinics)
    done = users.set_clinics(ctx.uow(), name, codes)
    if as_json:
        emit_json(done)
    else:
        if done.clinics:
            say(_("changed {user}").format(user=_show(done)))
        else:
            say(_("changed {user}, every clinic").format(user=_show(done)))


@user.command(
    "set-language",
    help=N_(
        "Set the language NAME reads kitops in (e.g. de, de_AT, en): the screens, the "
        "command line's messages and the web pages. Anyone may set their own; admins "
        "anyone's. `--clear` removes it (README: Languages)."
    ),
)
@click.argument("name")
@click.argument("language", required=False)
@click.option(
    "--clear", is_flag=True,
    help=N_("Clear it: the user reads their clinic's locale, else the environment's."),
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help=N_("Print the user as JSON."))
@pass_context
def user_set_language(
    ctx: Context, name: str, language: str | None, clear: bool, as_json: bool
) -> None:
    from kitops.errors import InvalidInput
    from kitops.i18n import has_catalog
    from kitops.services.locales import set_user_language

    if clear == (language is not None):
        raise InvalidInput(
            "language", language, _("give a language or --clear, not both or neither")
        )
    done = set_user_language(ctx.uow(), name, None if clear else language)
    if as_json:
        emit_json(done)
        return
    if done.language is None:
        say(_("{user}: no language of their own; the clinic's locale or the environment's "
              "applies").format(user=done.name))  # fmt: skip
        return
    say(_("{user}: language {language}").format(user=done.name, language=done.language))
    if not has_catalog(done.language):
        say(_("kitops has no translation for {locale} yet: its texts stay in English, its "
              "numbers, dates and money follow {locale}").format(locale=done.language))  # fmt: skip


def _set_active(ctx: Context, name: str, active: bool) -> None:
    from kitops.services import users

    done = users.set_active(ctx.uow(), name, active)
    say((_("enabled {user}") if active else _("disabled {user}")).format(user=_show(done)))


@user.command(
    "disable",
    help=N_("Stop a user: kept with its history, it can do nothing (not even read)."),
)
@click.argument("name")
@pass_context
def user_disable(ctx: Context, name: str) -> None:
    _set_active(ctx, name, False)


@user.command("enable", help=N_("Let a disabled user in again; also lifts a login lock."))
@click.argument("name")
@pass_context
def user_enable(ctx: Context, name: str) -> None:
    _set_active(ctx, name, True)


@user.command("set-role", help=N_("Change a user's role (ROLE: stockroom, manager, admin or job)."))
@click.argument("name")
@click.argument("role", metavar="ROLE")
@pass_context
def user_set_role(ctx: Context, name: str, role: str) -> None:
    from kitops.services import users

    done = users.set_role(ctx.uow(), name, role)
    say(_("changed {user}").format(user=_show(done)))


@user.command(
    "set-pin",
    help=N_(
        "Set a user's PIN (admins: anyone's; everyone: their own, giving the current "
        "one). Lifts a login lock."
    ),
)
@click.argument("name")
@click.option(
    "--pin-stdin",
    is_flag=True,
    help=N_(
        "Read the new PIN from standard input (changing your own as a non-admin: the "
        "current PIN on the line before)."
    ),
)
@click.option("--remove", is_flag=True, help=N_("Remove the PIN: no TUI login for this user."))
@pass_context
def user_set_pin(ctx: Context, name: str, pin_stdin: bool, remove: bool) -> None:
    from kitops.domain.users import parse_user_name
    from kitops.services import users

    parse_user_name(name)
    current = None
    if ctx.user == name.strip() and not remove:
        current = _read_pin(_("Current PIN"), from_stdin=pin_stdin, confirm=False)
    secret = None
    if not remove:
        secret = users.parse_secret(
            _read_pin(_("New PIN for {name}").format(name=name), from_stdin=pin_stdin)
        )
    done = users.set_secret(ctx.uow(), name, secret, current=current)
    say((_("removed the PIN of {name}") if remove else _("set the PIN of {name}")).format(
        name=done.name))  # fmt: skip


@user.command(
    "bind",
    help=N_(
        "Bind a user to a login (an operating-system account on SQLite, a database "
        "login role on PostgreSQL): that login acts as the user without a PIN "
        "(admins)."
    ),
)
@click.argument("name")
@click.option("--login", required=True, metavar="LOGIN", help=N_("The login to bind it to."))
@pass_context
def user_bind(ctx: Context, name: str, login: str) -> None:
    from kitops.services import identity

    done = identity.bind(ctx.uow(), name, login)
    say(_("bound {user}").format(user=_show(done)))


@user.command("unbind", help=N_("Unbind a user from its login (admins)."))
@click.argument("name")
@pass_context
def user_unbind(ctx: Context, name: str) -> None:
    from kitops.services import identity

    done = identity.unbind(ctx.uow(), name)
    say(_("unbound {user}").format(user=_show(done)))


@command(
    "login",
    help=N_(
        "Log in as NAME with its PIN, for a shared terminal: until `kitops logout`, "
        "or session_idle_minutes unused, commands run here act as NAME (a 0600 "
        "session file)."
    ),
)
@click.argument("name", required=False)
@click.option("--pin-stdin", is_flag=True, help=N_("Read the PIN from one line of standard input."))
@pass_context
def login(ctx: Context, name: str | None, pin_stdin: bool) -> None:
    from kitops.domain.users import parse_user_name
    from kitops.errors import InvalidInput
    from kitops.services import identity

    wanted = name or ctx.claimed
    if not wanted:
        raise InvalidInput("user", None, _("name the user to log in as: `kitops login NAME`"))
    parse_user_name(wanted)
    secret = _read_pin(
        _("PIN of {name}").format(name=wanted), from_stdin=pin_stdin or ctx.pin_stdin,
        confirm=False,
    )  # fmt: skip
    token, user = identity.start_session(ctx.database(), wanted, secret)
    identity.write_token(ctx.session_file(), token)
    say(_("logged in as {name} ({role}); `kitops logout` ends the session").format(
        name=user.name, role=user.role))  # fmt: skip


@command("logout", help=N_("End this terminal's `kitops login` session."))
@pass_context
def logout(ctx: Context) -> None:
    from kitops.services import identity

    path = ctx.session_file()
    token = identity.read_token(path)
    who = identity.end_session(ctx.database(), token) if token else None
    path.unlink(missing_ok=True)
    say(_("logged out {name}").format(name=who) if who else _("no session to end"))


@command(
    "whoami",
    help=N_(
        "Your login (what the operating system or the database authenticated), the "
        "kitops user bound to it, your `kitops login` session and who commands act "
        "as."
    ),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
@pass_context
def whoami(ctx: Context, as_json: bool) -> None:
    from kitops.services import identity

    found = identity.describe(
        ctx.database(), ctx.claimed, token=identity.read_token(ctx.session_file())
    )
    if as_json:
        emit_json(found)
        return
    say(_("login: {login}").format(login=found.login))
    say(_("bound user: {name}").format(name=found.bound_user or _("(none)")))
    say(_("session user: {name}").format(name=found.session_user or _("(none)")))
    say(_("acting user: {name}").format(
        name=found.acting_user or _("(none: needs a PIN, or a binding)")))  # fmt: skip


@command(
    "audit",
    help=N_("Who changed what and when, refusals included (managers and admins), oldest first."),
)
@click.option("--user", "who", metavar="NAME", help=N_("Only what this user did (or tried)."))
@click.option("--since", metavar="YYYY-MM-DD", help=N_("From this UTC day on."))
@click.option("--action", metavar="PREFIX", help=N_("Actions starting so: lot., access.refused..."))
@click.option("--limit", type=int, default=100, show_default=True, help=N_("The newest N rows."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of audit rows."))
@pass_context
def audit(
    ctx: Context,
    who: str | None,
    since: str | None,
    action: str | None,
    limit: int,
    as_json: bool,
) -> None:
    import json

    from kitops.domain.ledger import parse_date
    from kitops.services import users

    entries = users.read_audit(
        ctx.uow(readonly=True),
        user=who,
        since=parse_date(since, "since") if since else None,
        action=action,
        limit=limit,
    )
    if as_json:
        emit_json(entries)
        return
    if not entries:
        say(_("no audit rows match"))
        return

    def summary(value: dict[str, Any] | None) -> str:
        return json.dumps(value, ensure_ascii=False, default=str) if value else ""

    emit_table(
        [N_("id"), N_("at (UTC)"), N_("user"), N_("action"), N_("what"), N_("before"), N_("after")],
        [
            (
                e.id,
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.action,
                f"{e.entity} {e.key}",
                summary(e.before),
                summary(e.after),
            )
            for e in entries
        ],
        right=("id",),
    )


@group("setting", help=N_("Settings kept in the database (admins change them)."))
def setting() -> None: ...


@setting.command("list", help=N_("Every setting with its value and meaning."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of settings."))
@pass_context
def setting_list(ctx: Context, as_json: bool) -> None:
    from kitops.services import users

    found = users.list_settings(ctx.uow(readonly=True))
    if as_json:
        emit_json(found)
        return
    emit_table(
        [N_("setting"), N_("value"), N_("meaning")],
        [(s.key, s.value, s.description) for s in found],
    )


@setting.command("set", help=N_("Change a setting (admins)."))
@click.argument("key")
@click.argument("value")
@pass_context
def setting_set(ctx: Context, key: str, value: str) -> None:
    from kitops.cli.numbers import decimal_text
    from kitops.services import users

    if key.strip().lower().endswith("_mm"):  # a length: typed with the locale's comma too
        value = decimal_text(value, key.strip().lower()) or value
    done = users.set_setting(ctx.uow(), key, value)
    say(f"{done.key} = {done.value}")
