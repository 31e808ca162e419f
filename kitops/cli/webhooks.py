"""``kitops webhook``: send events to an integration's URL, signed (admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import group
from kitops.cli.output import emit_json, emit_table, say
from kitops.i18n import N_, _, formats

if TYPE_CHECKING:
    from kitops.services.dto.outbound_webhooks import Webhook


def _when(value: Any) -> str:
    return formats.datetime(value.astimezone()) if value is not None else ""


def _state(hook: Webhook) -> str:
    if not hook.active:
        return _("removed")
    if hook.attempts:
        return _("failing: {error}, next try {when}").format(
            error=hook.last_error or "", when=_when(hook.next_attempt_at)
        )
    return _("ok")


@group(
    "webhook",
    help=N_(
        "Outbound webhooks: kitops POSTs each event (a recall, a shipped kit, a paid order, "
        "a sent purchase order...) as JSON to a URL, signed with HMAC-SHA256 in the "
        "`Kitops-Signature` header (Stripe's scheme), in order, at least once; the receiver "
        "deduplicates by the event id. Delivered by `kitops jobs run webhooks` (admins)."
    ),
)
def webhook() -> None: ...


@webhook.command(
    "add", help=N_("Send the events from now on to URL (https, or http to this machine).")
)
@click.argument("url")
@click.option(
    "--events",
    required=True,
    metavar="E1,E2",
    help=N_("The events to send, comma-separated (`kitops webhook events`), or `all`."),
)
@click.option(
    "--secret-file",
    required=True,
    metavar="FILE",
    help=N_(
        "A file only you may read (chmod 600) holding the signing secret; read at every "
        "delivery, never stored."
    ),
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print the subscription as JSON."))
@pass_context
def webhook_add(ctx: Context, url: str, events: str, secret_file: str, as_json: bool) -> None:
    from kitops.services import outbound_webhooks

    hook = outbound_webhooks.add_webhook(ctx.uow(), url, events, secret_file)
    if as_json:
        emit_json(hook)
        return
    say(
        _("webhook {id}: {url} gets {events}").format(
            id=hook.id, url=hook.url, events=",".join(hook.events)
        )
    )


@webhook.command("events", help=N_("The events a webhook can ask for."))
def webhook_events() -> None:
    from kitops.domain.outbound_webhooks import EVENTS

    for name in EVENTS:
        click.echo(name)


@webhook.command(
    "list", help=N_("Every webhook: its events, what it has had, what waits, and its failures.")
)
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of webhooks."))
@pass_context
def webhook_list(ctx: Context, as_json: bool) -> None:
    from kitops.services import outbound_webhooks

    found = outbound_webhooks.list_webhooks(ctx.uow(readonly=True))
    if as_json:
        emit_json(found)
        return
    emit_table(
        [_("id"), _("url"), _("events"), _("delivered"), _("waiting"), _("given up"),
         _("last delivery"), _("state")],
        [(h.id, h.url, ",".join(h.events), h.delivered, h.pending, h.given_up,
          _when(h.last_delivered_at), _state(h)) for h in found],
    )  # fmt: skip


@webhook.command("remove", help=N_("Stop sending to a webhook (it stays listed, removed)."))
@click.argument("webhook_id", metavar="ID", type=int)
@pass_context
def webhook_remove(ctx: Context, webhook_id: int) -> None:
    from kitops.services import outbound_webhooks

    hook = outbound_webhooks.remove_webhook(ctx.uow(), webhook_id)
    say(_("webhook {id} removed: {url}").format(id=hook.id, url=hook.url))
