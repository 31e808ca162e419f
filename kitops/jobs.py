"""The cron-able jobs: what each does, when to schedule it, and one entry point that runs
any of them and writes one structured log line per run. Jobs sit above the services:
they take the payment gateway from ``kitops.bootstrap`` and pass it in.

A job returns a plain ``JobOutcome``; ``run_job`` adds the timing and turns it into the
log record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any

from kitops import logs
from kitops.bootstrap import payment_gateway
from kitops.domain.text import json_text
from kitops.errors import InvalidInput, KitopsError, Refused
from kitops.i18n import N_, _
from kitops.secrets import mask
from kitops.services.dto import jobs as jobs_dto
from kitops.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    status: str  # ok | nothing | in_progress
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)
    result: Any = None  # the job's own DTO, for --json


@dataclass(frozen=True)
class JobRecord:
    """The structured line a run logs (JSON, one line)."""

    job: str
    started: datetime
    ms: int
    status: str  # ok | nothing | in_progress | refused | bad_input | failed
    exit_code: int
    summary: str
    detail: dict[str, Any]

    def line(self) -> str:
        return json_text(  # nothing a terminal would act on (kitops.domain.text)
            {"ts": self.started.isoformat(timespec="seconds"), "job": self.job,
             "status": self.status, "exit": self.exit_code, "ms": self.ms,
             "summary": self.summary} | self.detail,
            default=str,
        )  # fmt: skip


def _reorder(uow: UnitOfWork, as_of: date | None, dry_run: bool) -> JobOutcome:
    from kitops.services.reorder import run

    result = run(uow, as_of=as_of, dry_run=dry_run)
    if result.in_progress:
        status = "in_progress"
    elif result.orders_created or result.orders_changed or result.orders_cancelled:
        status = "ok"
    else:
        status = "nothing"
    return JobOutcome(
        status, result.summary,
        {"as_of": result.as_of.isoformat(), "policies": result.policies,
         "lines": len(result.suggestions), "created": list(result.orders_created),
         "changed": list(result.orders_changed), "cancelled": list(result.orders_cancelled)},
        result,
    )  # fmt: skip


def _sweep(uow: UnitOfWork, as_of: date | None, dry_run: bool) -> JobOutcome:
    from kitops.services.expiry import sweep

    report = sweep(uow, as_of=as_of, dry_run=dry_run)
    status = "ok" if report.lots_marked or report.units_moved or report.kits else "nothing"
    summary = (
        f"expiry sweep {report.as_of}: {report.lots_marked} lots marked expired, "
        f"{report.units_moved} units moved to quarantine"
        + (f", {report.kits_expired} kits expired ({report.reservations_released} "
           "reservations released)" if report.kits else "")
        + (" (dry run: nothing written)" if dry_run else "")
    )  # fmt: skip
    detail = {"as_of": report.as_of.isoformat(), "lots_marked": report.lots_marked,
              "units_moved": report.units_moved, "kits_expired": report.kits_expired,
              "reservations_released": report.reservations_released}  # fmt: skip
    return JobOutcome(status, summary, detail, report)


def _payment_sync(uow: UnitOfWork, as_of: date | None, dry_run: bool) -> JobOutcome:
    """``kitops stripe sync``: apply the payment provider's events since the last run."""
    if dry_run:
        raise Refused(_("payment sync has no dry run: it applies what Stripe already decided"))
    uow.require("payment.sync")  # before the Stripe settings are looked at
    from kitops.services.payments import sync_events

    report = sync_events(uow, payment_gateway())
    summary = (
        f"payment sync: {report.events_seen} events seen, {report.applied} applied, "
        f"{report.duplicates} already handled, {report.ignored} ignored"
        + (f"; stopped at {report.error}" if report.error else "")
    )
    detail = {"events_seen": report.events_seen, "applied": report.applied,
              "unchanged": report.unchanged, "duplicates": report.duplicates,
              "ignored": report.ignored, "failed": report.failed}  # fmt: skip
    if report.failed:  # the next run starts again at the event that failed
        raise KitopsError(summary)
    return JobOutcome("ok" if report.applied else "nothing", summary, detail, report)


def _webhooks(uow: UnitOfWork, as_of: date | None, dry_run: bool) -> JobOutcome:
    """Deliver the outbound webhooks' waiting events (``kitops webhook list``)."""
    if dry_run:
        raise Refused(_("webhook delivery has no dry run: `kitops webhook list` shows what waits"))
    from kitops.services.outbound_webhooks import deliver

    report = deliver(uow)
    summary = (
        f"webhooks: {report.delivered} events delivered to {report.subscriptions} webhooks, "
        f"{report.failed} failed tries, {report.given_up} given up"
    )
    detail = {
        "webhooks": report.subscriptions,
        "delivered": report.delivered,
        "failed": report.failed,
        "given_up": report.given_up,
        "busy": report.busy,
    }
    if report.errors:  # tried again by a later run, after its back-off
        raise KitopsError(f"{summary}; {'; '.join(report.errors)}")
    return JobOutcome("ok" if report.delivered else "nothing", summary, detail, report)


def _alerts(uow: UnitOfWork, as_of: date | None, dry_run: bool) -> JobOutcome:
    """Send the email alerts that are due (``kitops alert list``)."""
    if dry_run:
        raise Refused(_("the alerts have no dry run: `kitops alert list` shows who gets what"))
    uow.require("alert.send")  # before the mail server's settings are looked at
    from kitops import alerting
    from kitops.bootstrap import mailer

    connection: list[Callable[[EmailMessage], None]] = []

    def send(message: EmailMessage) -> None:  # the mail server is looked up when needed
        if not connection:
            connection.append(mailer())
        connection[0](message)

    report = alerting.run(uow, send)
    summary = f"alerts: {report.sent} sent, {report.skipped} already sent or being sent"
    detail = {"sent": report.sent, "skipped": report.skipped}
    if report.held:  # the quiet hours (setting alert_quiet_hours)
        summary += f", {report.held} held for the quiet hours"
        detail["held"] = report.held
    if report.failed:  # nothing of it was marked sent: the next run sends it
        raise KitopsError(f"{summary}; stopped: {report.failed}")
    return JobOutcome("ok" if report.sent else "nothing", summary, detail, report)


@dataclass(frozen=True)
class _Spec:
    name: str
    description: str
    schedule: str
    runner: Callable[[UnitOfWork, date | None, bool], JobOutcome]
    available: Callable[[], bool] = lambda: True


JOBS: dict[str, _Spec] = {
    spec.name: spec
    for spec in (
        # the descriptions are marked for the catalog; a front end shows them translated
        _Spec("expiry-sweep", N_("mark lots past expiry expired and move their stock to "
              "quarantine (`kitops expiry sweep`)"), "15 0 * * *", _sweep),
        _Spec("reorder", N_("draft one purchase order per supplier and clinic from the reorder "
              "policies (`kitops reorder run`)"), "30 6 * * 1-5", _reorder),
        _Spec("payment-sync", N_("apply Stripe's payment events since the last run "
              "(`kitops stripe sync`)"), "*/15 * * * *", _payment_sync),
        _Spec("webhooks", N_("deliver events to the outbound webhooks (`kitops webhook list`)"),
              "* * * * *", _webhooks),
        _Spec("alerts", N_("email the alerts that are due: recalls, failed payments, jobs "
              "that failed twice in a row, the daily digest (`kitops alert list`)"),
              "*/5 * * * *", _alerts),
    )
}  # fmt: skip


def list_jobs() -> list[jobs_dto.Job]:
    return [
        jobs_dto.Job(spec.name, spec.description, spec.schedule, f"kitops jobs run {spec.name}",
                     spec.available())
        for spec in JOBS.values()
    ]  # fmt: skip


def _record_run(
    uow: UnitOfWork, name: str, started: datetime, dry_run: bool, error: str | None
) -> None:
    """The run into ``job_runs``, in a transaction of its own (the job's may have rolled
    back); a dry run writes nothing, and neither does a refused run or bad input, so
    those are not recorded."""
    if dry_run:
        return
    from kitops.services import job_runs

    try:
        job_runs.record(uow, name, started, error)
    except Exception:
        return


def run_job(
    uow: UnitOfWork, name: str, *, as_of: date | None = None, dry_run: bool = False
) -> tuple[JobRecord, JobOutcome | None, KitopsError | None]:
    """Run one job; never raises a kitops error (it is returned, and logged)."""
    spec = JOBS.get(name)
    if spec is None:
        raise InvalidInput(
            "job", name, _("must be one of {choices}").format(choices="|".join(JOBS))
        )
    with logs.scoped(job_id=logs.new_id(), actor=uow.actor):
        log.info("job %s started", name, extra={"job": name, "dry_run": dry_run})
        started = datetime.now(UTC)
        clock = time.perf_counter()
        outcome: JobOutcome | None = None
        error: KitopsError | None = None
        try:
            outcome = spec.runner(uow, as_of, dry_run)
            status, code, summary, detail = outcome.status, 0, outcome.summary, outcome.detail
        except InvalidInput as bad:
            error, status, code, summary, detail = bad, "bad_input", bad.exit_code, str(bad), {}
        except Refused as refused:
            error, status, code, summary = refused, "refused", refused.exit_code, str(refused)
            detail = {}
        except KitopsError as failed:
            error, status, code, summary = failed, "failed", failed.exit_code, str(failed)
            detail = {}
        except Exception as crashed:  # recorded as failed (its class only: a message may
            # hold a secret), re-raised
            _record_run(uow, name, started, dry_run, type(crashed).__name__)
            log.error("job %s crashed: %s", name, type(crashed).__name__, extra={"job": name})
            raise
        if status not in ("refused", "bad_input"):  # a refused command writes nothing
            _record_run(uow, name, started, dry_run, summary if error is not None else None)
        ms = round((time.perf_counter() - clock) * 1000)
        record = JobRecord(name, started, ms, status, code, summary,
                           {"dry_run": True} | detail if dry_run else detail)  # fmt: skip
        _log_end(record, error)
    return record, outcome, error


def _log_end(record: JobRecord, error: KitopsError | None) -> None:
    """The run's last line: its status, exit code, time and counts (the numbers of its
    summary, never its lists of names); a failure at ERROR with its reason, a refusal or
    bad input at WARNING."""
    counts = {key: value for key, value in record.detail.items()
              if isinstance(value, int) and not isinstance(value, bool)}  # fmt: skip
    fields = {"job": record.job, "status": record.status, "exit": record.exit_code,
              "ms": record.ms, "counts": counts}  # fmt: skip
    if error is None:
        log.info("job %s ended: %s", record.job, record.status, extra=fields)
    elif record.status == "failed":
        log.error("job %s failed: %s", record.job, mask(str(error)), extra=fields)
    else:
        log.warning("job %s %s: %s", record.job, record.status, mask(str(error)), extra=fields)
