"""``kitops token``: API tokens for integrations (admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import group
from kitops.cli.output import emit_json, emit_table, say
from kitops.i18n import N_, _

if TYPE_CHECKING:
    from kitops.services.dto.tokens import ApiToken


def _when(value: Any) -> str:
    from kitops.i18n import formats

    return formats.datetime(value.astimezone()) if value is not None else ""


def _show(token: ApiToken) -> str:
    access = _("read-only") if token.read_only else _("read and write")
    fields = {"name": token.name, "user": token.user, "access": access, "state": token.state}
    if token.expires_at:
        return _("{name}: acts as {user}, {access}, until {until}, {state}").format(
            until=_when(token.expires_at), **fields
        )
    return _("{name}: acts as {user}, {access}, {state}").format(**fields)


@group(
    "token",
    help=N_(
        "API tokens: an integration sends one as `Authorization: Bearer TOKEN` and "
        "acts as its user, audited as `USER (token NAME)` (admins)."
    ),
)
def token() -> None: ...


@token.command(
    "create",
    help=N_("Make a token. It is printed this once: only its SHA-256 is kept."),
)
@click.argument("name")
@click.option("--user", "user_name", required=True, metavar="USER", help=N_("The user it acts as."))
@click.option("--read-only", is_flag=True, help=N_("It may read only: every change is refused."))
@click.option(
    "--expires", metavar="YYYY-MM-DD", help=N_("Its last day (UTC); default: until revoked.")
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the token and its facts as JSON."))
@pass_context
def token_create(
    ctx: Context, name: str, user_name: str, read_only: bool, expires: str | None, as_json: bool
) -> None:
    from kitops.services import tokens

    made = tokens.create_token(ctx.uow(), name, user_name, read_only=read_only, expires=expires)
    if as_json:
        emit_json(made)
        return
    say(_("created {token}").format(token=_show(made.token)))
    say(_("the token (shown this once; keep it in the integration's secret store):"))
    click.echo(made.secret)


@token.command(
    "list",
    help=N_("Every token: its user, access, expiry, state and last use (never the token)."),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of tokens."))
@pass_context
def token_list(ctx: Context, as_json: bool) -> None:
    from kitops.services import tokens

    found = tokens.list_tokens(ctx.uow(readonly=True))
    if as_json:
        emit_json(found)
        return
    emit_table(
        [
            N_("token"),
            N_("user"),
            N_("access"),
            N_("expires"),
            N_("state"),
            N_("last used"),
            N_("created"),
            N_("by"),
        ],
        [
            (
                t.name,
                t.user,
                _("read-only") if t.read_only else _("read-write"),
                _when(t.expires_at),
                t.state,
                _when(t.last_used_at),
                _when(t.created_at),
                t.created_by,
            )
            for t in found
        ],
    )


@token.command("revoke", help=N_("Stop a token at once (it stays listed, revoked)."))
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the revoked token as JSON."))
@pass_context
def token_revoke(ctx: Context, name: str, as_json: bool) -> None:
    from kitops.services import tokens

    done = tokens.revoke_token(ctx.uow(), name)
    if as_json:
        emit_json(done)
    else:
        say(_("revoked {token}").format(token=_show(done)))
