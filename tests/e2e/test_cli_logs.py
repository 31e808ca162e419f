"""The logs of the command line (README: Logs): KITOPS_LOG_LEVEL and KITOPS_LOG_FORMAT, a
job run's lines with its job id and actor beside its one JSON record line, and no secret
or patient reference in any line, at any level."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kitops import logs

PATIENT = re.compile(r"P-(LON|ESX|VIE)-\d{4}")
STRIPE_KEY = "sk_test_logs_never_show_this_key"


@pytest.fixture(autouse=True)
def _clean_logs(monkeypatch):
    for name in ("KITOPS_LOG_LEVEL", "KITOPS_LOG_FORMAT", "KITOPS_LOG_FILE"):
        monkeypatch.delenv(name, raising=False)
    yield
    logs.unconfigure()


def _split(err: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(log lines, job record lines) of a JSON standard error; other lines are refusals."""
    parsed = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [p for p in parsed if "level" in p], [p for p in parsed if "level" not in p]


def test_a_json_job_run_logs_its_job_id_and_actor_and_keeps_its_record(demo, monkeypatch):
    monkeypatch.setenv("KITOPS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("KITOPS_LOG_FORMAT", "json")
    run = demo("jobs", "run", "expiry-sweep")
    assert run.code == 0, run.err

    lines, records = _split(run.err)
    assert len(run.err.splitlines()) == len(lines) + len(records)  # nothing but JSON
    (record,) = records
    assert (record["job"], record["exit"]) == ("expiry-sweep", 0)
    assert run.out == f"{record['summary']}\n"  # stdout: the summary, as before
    ours = [line for line in lines if line["logger"] == "kitops.jobs"]
    assert [line["message"] for line in ours] == [
        "job expiry-sweep started",
        f"job expiry-sweep ended: {record['status']}",
    ]
    job_ids = {line["job_id"] for line in lines}
    assert len(job_ids) == 1
    assert re.fullmatch(r"[0-9a-f]{16}", str(job_ids.pop()))
    assert {line["actor"] for line in lines} == {"tester"}
    assert ours[-1]["counts"] == {key: record[key] for key in
                                  ("lots_marked", "units_moved", "kits_expired",
                                   "reservations_released")}  # fmt: skip


def test_each_job_run_has_its_own_job_id(demo, monkeypatch):
    monkeypatch.setenv("KITOPS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("KITOPS_LOG_FORMAT", "json")
    first = _split(demo("jobs", "run", "webhooks").err)[0]
    second = _split(demo("jobs", "run", "webhooks").err)[0]
    assert {line["job_id"] for line in first}.isdisjoint({line["job_id"] for line in second})


def test_by_default_a_job_run_writes_its_one_json_line_only(demo):
    run = demo("jobs", "run", "expiry-sweep", "--json")
    assert run.code == 0
    (line,) = run.err.splitlines()
    assert json.loads(line)["job"] == "expiry-sweep"
    assert json.loads(run.out)["as_of"]


def test_a_refused_run_is_a_warning_line_beside_its_record(demo, monkeypatch):
    run = demo("jobs", "run", "webhooks", "--dry-run")
    assert run.code == 1
    monkeypatch.setenv("KITOPS_LOG_FORMAT", "json")
    run = demo("jobs", "run", "webhooks", "--dry-run")
    lines, records = _split(run.err)
    assert [(line["level"], line["status"]) for line in lines] == [("WARNING", "refused")]
    assert records[0]["status"] == "refused"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("KITOPS_LOG_LEVEL", "loud", "KITOPS_LOG_LEVEL 'loud': must be one of "
                                     "DEBUG|INFO|WARNING|ERROR|CRITICAL"),
        ("KITOPS_LOG_FORMAT", "xml", "KITOPS_LOG_FORMAT 'xml': must be one of text|json"),
    ],
)  # fmt: skip
def test_a_bad_log_setting_is_one_line_and_exit_2(demo, snapshot, monkeypatch, variable, value,
                                                  says):  # fmt: skip
    before = snapshot()
    monkeypatch.setenv(variable, value)
    refused = demo("lot", "quarantine", "PTT6-B0902", "--reason", "check")
    assert refused.code == 2
    assert refused.err == f"kitops: {says}\n"
    monkeypatch.delenv(variable)
    assert snapshot() == before


def test_a_bad_log_setting_stops_the_real_command_with_exit_2(db_url):
    env = dict(os.environ, KITOPS_LOG_LEVEL="chatty", KITOPS_DATABASE_URL=db_url, LANGUAGE="en")
    done = subprocess.run([str(Path(sys.executable).with_name("kitops")), "jobs", "list"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "kitops: KITOPS_LOG_LEVEL 'chatty': must be one of DEBUG|INFO|WARNING|ERROR|CRITICAL"
    ]
    assert done.stdout == ""


def test_no_secret_or_patient_reference_in_any_line_at_debug(demo, monkeypatch):
    monkeypatch.setenv("KITOPS_STRIPE_API_KEY", STRIPE_KEY)
    monkeypatch.setenv("KITOPS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("KITOPS_LOG_FORMAT", "json")
    shipped = demo("kit", "ship", "K0000001", "--tracking", "RM123456789GB")
    recalled = demo("lot", "recall", "PTT6-B0902", "--reason", "patient P-LON-0001 reacted")
    traced = demo("trace", "PTT6-B0902", "--json")
    courses = demo("course", "list")
    swept = demo("jobs", "run", "expiry-sweep")
    runs = (shipped, recalled, traced, courses, swept)
    assert [run.code for run in runs] == [0] * len(runs), [run.err for run in runs]
    assert PATIENT.search(recalled.out + traced.out + courses.out)  # they are in play

    err = "".join(run.err for run in runs)
    assert not PATIENT.search(err), err
    assert STRIPE_KEY not in err
    lines, _records = _split(err)
    recall = [line for line in lines if line["logger"] == "kitops.services.lots"]
    assert [(line["lot"], line["status"], line["actor"]) for line in recall] == [
        ("SERUM-5ML/PTT6-B0902", "recalled", "tester")
    ]


def test_an_outbound_webhook_delivery_is_logged_with_its_subscription_event_and_attempt(
    demo, monkeypatch, tmp_path
):
    from webhook_receiver import receiver

    secret = tmp_path / "hook.secret"
    secret.write_text("whsec-logs-0123456789\n")
    secret.chmod(0o600)
    monkeypatch.setenv("KITOPS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("KITOPS_LOG_FORMAT", "json")
    with receiver(500) as hook:
        added = demo("webhook", "add", f"{hook.url}?token=tok-never-logged", "--events",
                     "lot.recalled", "--secret-file", str(secret))  # fmt: skip
        assert added.code == 0, added.err
        assert demo("lot", "recall", "PTT6-B0902", "--reason", "supplier recall").code == 0
        failed = demo("jobs", "run", "webhooks")
    assert len(hook.received) == 1

    lines = [line for line in _split(failed.err)[0]
             if line["logger"] == "kitops.services.outbound_webhooks"]  # fmt: skip
    event_id = json.loads(hook.received[0].body)["id"]
    assert [(line["level"], line["subscription"], line["event_id"], line["event"],
             line["attempt"], line["status"]) for line in lines] == [
        ("WARNING", 1, event_id, "lot.recalled", 1, "failed")
    ]  # fmt: skip
    assert {line["job_id"] for line in lines} == {
        line["job_id"] for line in _split(failed.err)[0] if line["logger"] == "kitops.jobs"
    }
    assert "whsec-logs" not in failed.err
    assert "tok-never-logged" not in failed.err


def test_an_alert_sent_is_logged_with_its_kind_and_the_users_name_not_the_address(
    demo, db, monkeypatch
):
    from smtp_support import smtp_server

    from kitops.services import users
    from kitops.services.unit_of_work import UnitOfWork

    users.add_user(UnitOfWork(db, "tester"), "maria", "manager", None)
    assert demo("user", "set-email", "maria", "maria.private@clinic.example").code == 0
    assert demo("alert", "subscribe", "maria", "recall").code == 0
    assert demo("lot", "recall", "PTT6-B0902", "--reason", "supplier recall").code == 0
    monkeypatch.setenv("KITOPS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("KITOPS_LOG_FORMAT", "json")
    with smtp_server() as box:
        for name, value in box.env().items():
            monkeypatch.setenv(name, value)
        sent = demo("jobs", "run", "alerts")
    assert sent.code == 0, sent.err
    assert len(box.messages) == 1

    lines = [line for line in _split(sent.err)[0] if line["logger"] == "kitops.alerting"]
    assert [(line["message"], line["kind"], line["recipient"]) for line in lines] == [
        ("alert recall sent to maria", "recall", "maria")
    ]
    # kitops's lines (the test's own SMTP server, aiosmtpd, logs in this process too)
    ours = "\n".join(json.dumps(line) for line in _split(sent.err)[0]
                     if str(line["logger"]).startswith("kitops"))  # fmt: skip
    assert "job alerts ended: ok" in ours
    assert "maria.private@" not in ours
    assert not PATIENT.search(ours)
