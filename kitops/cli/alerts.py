"""``kitops alert`` and ``kitops user set-email``: who gets which email alerts (admins)."""

from __future__ import annotations

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import group
from kitops.cli.output import emit_json, emit_table, say
from kitops.cli.users import user
from kitops.i18n import N_, _


@user.command("set-email", help=N_("Where NAME's email alerts go."))
@click.argument("name")
@click.argument("email", required=False)
@click.option(
    "--clear", is_flag=True, help=N_("Remove the address (alerts stop; subscriptions stay).")
)
@pass_context
def user_set_email(ctx: Context, name: str, email: str | None, clear: bool) -> None:
    from kitops.errors import InvalidInput
    from kitops.services import alerts

    if not clear and not email:
        raise InvalidInput("EMAIL", None, _("give the address, or --clear"))
    done = alerts.set_email(ctx.uow(), name, None if clear else email)
    if done.email:
        say(_("{user}'s alerts go to {email}").format(user=done.user, email=done.email))
    else:
        say(_("{user} gets no email alerts").format(user=done.user))


@group(
    "alert",
    help=N_(
        "Email alerts, sent by `kitops jobs run alerts` (cron, every few minutes): `recall` "
        "(a lot recalled: the kits and courses it touches), `payment` (a payment failed), "
        "`job` (a job failed twice in a row) and `digest` (once a clinic day: expiring lots, "
        "lots awaiting release, course kits due that no kit fits, purchase orders waiting "
        "for approval, products whose cover falls below their lead time). Admins."
    ),
)
def alert() -> None: ...


@alert.command("subscribe", help=N_("USER gets the KIND alerts (recall, payment, job or digest)."))
@click.argument("name", metavar="USER")
@click.argument("kind", metavar="KIND")
@click.option(
    "--clinic",
    metavar="CODE",
    help=N_("Only this clinic (default: every clinic the user may see)."),
)
@pass_context
def alert_subscribe(ctx: Context, name: str, kind: str, clinic: str | None) -> None:
    from kitops.services import alerts

    done = alerts.subscribe(ctx.uow(), name, kind, clinic)
    say(_("{user} subscribes to {kind} alerts for {clinics}").format(
        user=done.user, kind=done.kind, clinics=done.clinic or _("every clinic")))  # fmt: skip
    if not done.email:
        say(_("note: {user} has no email address yet (kitops user set-email)").format(
            user=done.user))  # fmt: skip


@alert.command("unsubscribe", help=N_("USER no longer gets the KIND alerts."))
@click.argument("name", metavar="USER")
@click.argument("kind", metavar="KIND")
@click.option("--clinic", metavar="CODE", help=N_("The clinic the subscription names."))
@pass_context
def alert_unsubscribe(ctx: Context, name: str, kind: str, clinic: str | None) -> None:
    from kitops.services import alerts

    done = alerts.unsubscribe(ctx.uow(), name, kind, clinic)
    say(_("{user} no longer subscribes to {kind} alerts").format(user=done.user, kind=done.kind))


@alert.command(
    "list", help=N_("Every subscription: the user, the address, the kind and the clinic.")
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list."))
@pass_context
def alert_list(ctx: Context, as_json: bool) -> None:
    from kitops.services import alerts

    found = alerts.list_subscriptions(ctx.uow(readonly=True))
    if as_json:
        emit_json(found)
        return
    emit_table(
        [_("user"), _("email"), _("kind"), _("clinic")],
        [(s.user, s.email or "", s.kind, s.clinic or _("every clinic")) for s in found],
    )
