"""The email alerts run (``kitops jobs run alerts``): what is due, in whose language, as
text and HTML, each claimed before it is sent (kitops.services.alerts).

- **Immediate** alerts, to subscribers of ``recall``, ``payment`` and ``job``: a lot
  recalled (the kits it flagged and the courses whose reserved kit was released, by course
  number), a payment that failed, a job that failed twice in a row (``job_runs``: one alert
  per streak, keyed by the streak's first failed run). The run looks back two days; a key
  per audit row and subscriber keeps each to one sending. In the quiet hours (setting
  ``alert_quiet_hours``) they are neither sent nor recorded: the first run after sends them.
- The **daily digest**, to subscribers of ``digest``, once per clinic day: lots expiring
  within 30/60/90 days (units and value at cost), lots waiting for release longer than
  ``alert_release_wait_days`` (7), course kits due within 14 days that no kit fits (and
  why), purchase orders waiting for approval, products whose cover falls below their lead
  time (the reorder run's suggestions, computed and not written).

Messages never carry a patient reference: courses are named by number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from functools import partial
from html import escape

from kitops import faults
from kitops.data.schema import utcnow
from kitops.domain import alerts as rules
from kitops.errors import KitopsError
from kitops.i18n import _, formats, ngettext, use_locale
from kitops.services import alerts, job_runs, purchasing, reorder
from kitops.services.unit_of_work import UnitOfWork
from kitops.views import dashboard

log = logging.getLogger(__name__)

LOOK_BACK = timedelta(days=2)


@dataclass(frozen=True)
class AlertReport:
    sent: int
    skipped: int  # already sent, or being sent by another run
    failed: str | None  # what stopped the run (the mail server said no)
    held: int = 0  # immediate alerts waiting for the end of the quiet hours


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
    mail.add_alternative(_html(message), subtype="html")
    return mail


# inline styles: mail programs drop <style> blocks and external sheets
_BODY = "font-family:Helvetica,Arial,sans-serif;color:#1d2733;max-width:640px;margin:16px"
_H1 = "font-size:20px;margin:0 0 12px;padding-bottom:8px;border-bottom:3px solid #2f6f8f"
_H2 = "font-size:15px;margin:18px 0 6px;color:#2f6f8f"
_UL = "margin:0;padding-left:20px;line-height:1.5"


def _html(message: _Message) -> str:
    """The message's HTML part: a heading, then each section's heading and items."""
    html = [f'<h1 style="{_H1}">{escape(message.subject)}</h1>']
    for heading, items in message.sections:
        html.append(f'<h2 style="{_H2}">{escape(heading)}</h2>')
        html.append(f'<ul style="{_UL}">' + "".join(f"<li>{escape(i)}</li>" for i in items)
                    + "</ul>")  # fmt: skip
    return (f'<!doctype html><html><head><meta charset="utf-8"></head><body style="{_BODY}">'
            + "".join(html) + "</body></html>")  # fmt: skip


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


def _job_failed(streak: job_runs.FailedStreak) -> _Message:
    subject = _("Job {job} failed twice in a row").format(job=streak.job)
    sections = [
        (_("Failed runs in a row"), [str(streak.failures)]),
        (_("Failing since"), [formats.datetime(streak.since)]),
        (_("Latest error"), [streak.error or _("no error recorded")]),
        (_("What to do"), [_("run it by hand to see the error: kitops jobs run {job}").format(
            job=streak.job)]),
    ]  # fmt: skip
    return _text(_Message(subject, [], sections))


def _digest(uow: UnitOfWork, clinic: str) -> tuple[_Message, str] | None:
    """The clinic's digest, and its day (the clinic's today); None when it has nothing."""
    board = dashboard.overview(uow, clinic=clinic)
    if not board.clinics:
        return None
    work = board.clinics[0]
    sections: list[tuple[str, list[str]]] = []
    expiring = []
    for b in work.expiry:
        if not b.lots:
            continue
        worth = " + ".join(formats.money(m) for m in b.value) or "–"
        expiring.append(
            ngettext("within {days} days: {lots} lot, {units} units, worth {value}",
                     "within {days} days: {lots} lots, {units} units, worth {value}",
                     b.lots).format(days=b.within_days, lots=b.lots, units=b.units, value=worth)
            if b.within_days else
            ngettext("past expiry: {lots} lot, {units} units, worth {value}",
                     "past expiry: {lots} lots, {units} units, worth {value}", b.lots).format(
                lots=b.lots, units=b.units, value=worth)
        )  # fmt: skip
    if expiring:
        sections.append((_("Lots expiring"), expiring))
    wait = alerts.release_wait_days(uow)
    waiting = [q for q in work.quarantine
               if q.since is not None and (work.today - q.since).days > wait]  # fmt: skip
    if waiting:
        sections.append((_("Lots waiting for release longer than {days} days").format(days=wait), [
            _("{lot} ({sku}): {units} units, waiting since {since}, expires {day}").format(
                lot=q.lot, sku=q.sku, units=q.units, since=formats.date(q.since),
                day=formats.date(q.expiry) if q.expiry else "–")
            for q in waiting if q.since is not None]))  # fmt: skip
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
    short = [line for line in reorder.run(uow, as_of=work.today, dry_run=True).suggestions
             if line.clinic == clinic]  # fmt: skip
    if short:
        sections.append((_("Products whose cover falls below their lead time"), [
            _("{sku}: stock lasts until {day}; order {quantity} from {supplier}").format(
                sku=line.sku, quantity=line.quantity, supplier=line.supplier,
                day=formats.date(line.need_by))
            if line.need_by else
            _("{sku}: {usable} units usable, below the minimum; order {quantity} from "
              "{supplier}").format(sku=line.sku, usable=line.usable, quantity=line.quantity,
                                   supplier=line.supplier)
            for line in short]))  # fmt: skip
    if not sections:
        return None
    subject = _("kitops daily digest: {clinic}, {day}").format(
        clinic=f"{work.clinic} · {work.name}", day=formats.date(work.today)
    )
    return _text(_Message(subject, [], sections)), work.today.isoformat()


def run(uow: UnitOfWork, send: alerts.Mailer) -> AlertReport:
    """Send what is due; stop at the first message the mail server does not take."""
    sent = skipped = held = 0

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
        now = utcnow()
        quiet = alerts.quiet_hours(uow)
        hold = quiet is not None and quiet.holds(now)
        due: list[tuple[str, str, alerts.Recipient, Callable[[], _Message]]] = []
        events = alerts.immediate_events(uow, now - LOOK_BACK)
        for kind in (rules.RECALL, rules.PAYMENT):
            wanted = [e for e in events if e.kind == kind]
            if not wanted:
                continue
            # one alert per person and event, whichever clinics they subscribed for
            people = {who.user: who for who in alerts.recipients(uow, kind)}
            for who in people.values():
                for event in wanted:  # not one clinic's: in the person's own language
                    make = partial(_recall if kind == rules.RECALL else _payment, event)
                    due.append((rules.event_key(kind, event.audit_id, who.user), kind, who, make))
        streaks = job_runs.failed_streaks(uow)
        if streaks:
            people = {who.user: who for who in alerts.recipients(uow, rules.JOB)}
            for who in people.values():
                for streak in streaks:
                    key = rules.job_key(streak.job, streak.first_run, who.user)
                    due.append((key, rules.JOB, who, partial(_job_failed, streak)))
        for key, kind, who, build in due:  # each built in the person's own language
            if hold:  # not claimed: the first run after the quiet hours sends it
                held += not alerts.recorded(uow, key)
                continue
            with use_locale(who.language):
                message = build()
            deliver(key, kind, who, message)
        for who in alerts.recipients(uow, rules.DIGEST):
            with use_locale(who.language or who.clinic_locale):
                found = _digest(uow, who.clinic)
            if found is None:
                continue
            message, day = found
            key = f"digest:{day}:{who.user}:{who.clinic}"
            deliver(key, rules.DIGEST, who, message)
    except alerts.MailFailed as failure:
        return AlertReport(sent, skipped, str(failure), held)
    return AlertReport(sent, skipped, None, held)
