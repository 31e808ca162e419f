"""The email alerts run (``kitops jobs run alerts``): what is due, in whose language, as
text and HTML, each claimed before it is sent (kitops.services.alerts).

- **Immediate** alerts, to subscribers of ``recall`` and ``payment``: a lot recalled (the
  kits it flagged and the courses whose reserved kit was released, by course number), a
  payment that failed. The run looks back two days; a key per audit row and subscriber
  keeps each to one sending.
- The **daily digest**, to subscribers of ``digest``, once per clinic day: lots expiring
  within 30/60/90 days, lots awaiting release, course kits due within 14 days that no kit
  fits (and why), purchase orders waiting for approval.

Messages never carry a patient reference: courses are named by number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from html import escape

from kitops import faults
from kitops.data.schema import utcnow
from kitops.domain import alerts as rules
from kitops.errors import KitopsError
from kitops.i18n import _, formats, ngettext, use_locale
from kitops.services import alerts, purchasing
from kitops.services.unit_of_work import UnitOfWork
from kitops.views import dashboard

log = logging.getLogger(__name__)

LOOK_BACK = timedelta(days=2)


@dataclass(frozen=True)
class AlertReport:
    sent: int
    skipped: int  # already sent, or being sent by another run
    failed: str | None  # what stopped the run (the mail server said no)


@dataclass(frozen=True)
class _Message:
    subject: str
    lines: list[str]  # the plain text, a line each
    sections: list[tuple[str, list[str]]]  # the HTML: a heading and its items


def _message(to: str, message: _Message) -> EmailMessage:
    mail = EmailMessage()
    mail["To"] = to
    mail["Subject"] = message.subject
    mail.set_content("\n".join(message.lines) + "\n")
    html = [f"<h1>{escape(message.subject)}</h1>"]
    for heading, items in message.sections:
        html.append(f"<h2>{escape(heading)}</h2>")
        html.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
    mail.add_alternative("<!doctype html><html><body>" + "".join(html) + "</body></html>",
                         subtype="html")  # fmt: skip
    return mail


def _text(message: _Message) -> _Message:
    lines = [message.subject, ""]
    for heading, items in message.sections:
        lines += [heading, *(f"- {item}" for item in items), ""]
    return _Message(message.subject, lines, message.sections)


def _recall(event: alerts.ImmediateEvent) -> _Message:
    sku, _sep, lot = event.key.partition("/")
    kits = [str(k) for k in event.after.get("kits", [])]
    released = event.after.get("released", [])
    sections = [(
        _("Kits flagged"),
        kits or [_("none")],
    ), (
        _("Courses whose reserved kit was released (assign another)"),
        [_("course {course}, part {part}: kit {kit}").format(
            course=r.get("course"), part=r.get("part"), kit=r.get("kit")) for r in released]
        or [_("none")],
    )]  # fmt: skip
    subject = _("Recall: lot {lot} ({sku})").format(lot=lot, sku=sku)
    reason = event.after.get("reason") or ""
    head = [(_("Reason"), [str(reason)])] if reason else []
    return _text(_Message(subject, [], head + sections))


def _payment(event: alerts.ImmediateEvent) -> _Message:
    subject = _("Payment failed: order {order}").format(order=event.key)
    detail = str(event.after.get("note") or event.after.get("failure") or "")
    return _text(_Message(subject, [], [(_("What happened"), [detail or _("the payment failed")])]))


def _digest(uow: UnitOfWork, clinic: str) -> tuple[_Message, str] | None:
    """The clinic's digest, and its day (the clinic's today); None when it has nothing."""
    board = dashboard.overview(uow, clinic=clinic)
    if not board.clinics:
        return None
    work = board.clinics[0]
    sections: list[tuple[str, list[str]]] = []
    expiring = [
        ngettext("within {days} days: {lots} lot, {units} units",
                 "within {days} days: {lots} lots, {units} units", b.lots).format(
            days=b.within_days, lots=b.lots, units=b.units)
        if b.within_days else
        _("past expiry: {lots} lots, {units} units").format(lots=b.lots, units=b.units)
        for b in work.expiry if b.lots
    ]  # fmt: skip
    if expiring:
        sections.append((_("Lots expiring"), expiring))
    if work.quarantine:
        sections.append((_("Lots awaiting release"), [
            _("{lot} ({sku}): {units} units, expires {day}").format(
                lot=q.lot, sku=q.sku, units=q.units,
                day=formats.date(q.expiry) if q.expiry else "–")
            for q in work.quarantine]))  # fmt: skip
    unserved = [n for n in work.due if n.kit is None]
    if unserved:
        sections.append((_("Course kits due within {days} days that no kit fits").format(
            days=board.due_days), [
            _("course {course}, part {part}, from {day}: {why}").format(
                course=n.course_id, part=n.part, day=formats.date(n.first_use),
                why=n.reason or _("no kit fits"))
            for n in unserved]))  # fmt: skip
    drafts = purchasing.list_orders(uow, status="draft", clinic=clinic)
    if drafts:
        sections.append((_("Purchase orders waiting for approval"), [
            _("{number} to {supplier}: {total}").format(
                number=o.number, supplier=o.supplier_name, total=formats.money(o.total))
            for o in drafts]))  # fmt: skip
    if not sections:
        return None
    subject = _("kitops daily digest: {clinic}, {day}").format(
        clinic=f"{work.clinic} · {work.name}", day=formats.date(work.today)
    )
    return _text(_Message(subject, [], sections)), work.today.isoformat()


def run(uow: UnitOfWork, send: alerts.Mailer) -> AlertReport:
    """Send what is due; stop at the first message the mail server does not take."""
    sent = skipped = 0

    def deliver(key: str, kind: str, who: alerts.Recipient, message: _Message) -> bool:
        nonlocal sent, skipped
        seen = {"kind": kind, "recipient": who.user}  # the user's name, never the address
        if not alerts.claim(uow, key, kind, who.user_id, message.subject):
            log.debug("alert %s for %s already sent or being sent", kind, who.user, extra=seen)
            skipped += 1
            return True
        try:
            send(_message(who.email, message))
        except KitopsError as failed:  # refused, unanswered, or no usable mail server: not sent
            alerts.forget(uow, key)
            log.error("alert %s for %s not sent: %s", kind, who.user, failed, extra=seen)
            raise
        faults.point("alerts:after_send")
        alerts.mark_sent(uow, key)
        log.info("alert %s sent to %s", kind, who.user, extra=seen)
        sent += 1
        return True

    try:
        events = alerts.immediate_events(uow, utcnow() - LOOK_BACK)
        for kind in (rules.RECALL, rules.PAYMENT):
            wanted = [e for e in events if e.kind == kind]
            if not wanted:
                continue
            # one alert per person and event, whichever clinics they subscribed for
            people = {who.user: who for who in alerts.recipients(uow, kind)}
            for who in people.values():
                for event in wanted:  # not one clinic's: in the person's own language
                    with use_locale(who.language):
                        message = (_recall if kind == rules.RECALL else _payment)(event)
                    deliver(rules.event_key(kind, event.audit_id, who.user), kind, who, message)
        for who in alerts.recipients(uow, rules.DIGEST):
            with use_locale(who.language or who.clinic_locale):
                found = _digest(uow, who.clinic)
            if found is None:
                continue
            message, day = found
            key = f"digest:{day}:{who.user}:{who.clinic}"
            deliver(key, rules.DIGEST, who, message)
    except alerts.MailFailed as failure:
        return AlertReport(sent, skipped, str(failure))
    return AlertReport(sent, skipped, None)
