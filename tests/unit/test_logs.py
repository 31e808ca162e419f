"""kitops.logs: the configuration (KITOPS_LOG_LEVEL, KITOPS_LOG_FORMAT), the fields of a
line, the context every line carries and the safety net against secrets and patient
references."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from kitops import logs


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The root logger's kitops handler writing to a buffer, torn down after the test."""
    for name in (logs.LEVEL_VARIABLE, logs.FORMAT_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    buffer = io.StringIO()
    yield buffer
    logs.unconfigure()


def _json_lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_the_level_defaults_to_the_commands_and_the_format_to_text(monkeypatch):
    monkeypatch.delenv(logs.LEVEL_VARIABLE, raising=False)
    monkeypatch.delenv(logs.FORMAT_VARIABLE, raising=False)
    assert logs.settings() == logs.Settings(logging.WARNING, "text")
    assert logs.settings("INFO") == logs.Settings(logging.INFO, "text")
    monkeypatch.setenv(logs.LEVEL_VARIABLE, " debug ")
    monkeypatch.setenv(logs.FORMAT_VARIABLE, "JSON")
    assert logs.settings("INFO") == logs.Settings(logging.DEBUG, "json")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("KITOPS_LOG_LEVEL", "loud"), ("KITOPS_LOG_LEVEL", "20"), ("KITOPS_LOG_FORMAT", "xml")],
)
def test_a_bad_value_names_the_variable_and_the_value(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(logs.BadSetting) as bad:
        logs.settings()
    assert (bad.value.variable, bad.value.value) == (variable, value)
    assert str(bad.value).startswith(f"{variable} {value!r}: must be one of ")


def test_a_json_line_carries_time_level_logger_message_and_the_context(lines, monkeypatch):
    monkeypatch.setenv(logs.FORMAT_VARIABLE, "json")
    logs.configure("INFO", stream=lines)
    log = logging.getLogger("kitops.test")
    with logs.scoped(request_id="req-1"):
        logs.set_actor("maria")
        log.info("lot %s released", "SER-2401", extra={"lot": "SER-2401", "units": 3})
    with logs.scoped(job_id="job-1", actor="cron"):
        log.warning("job ended")
    log.debug("not at INFO")

    first, second = _json_lines(lines)
    assert list(first)[:7] == ["time", "level", "logger", "message", "request_id", "job_id",
                               "actor"]  # fmt: skip
    assert str(first["time"]).endswith("Z")
    assert (first["level"], first["logger"], first["message"]) == (
        "INFO",
        "kitops.test",
        "lot SER-2401 released",
    )
    assert (first["request_id"], first["job_id"], first["actor"]) == ("req-1", None, "maria")
    assert (first["lot"], first["units"]) == ("SER-2401", 3)
    assert (second["level"], second["job_id"], second["actor"]) == ("WARNING", "job-1", "cron")
    assert second["request_id"] is None


def test_the_text_line_shows_the_context_in_brackets(lines):
    logs.configure("INFO", stream=lines)
    with logs.scoped(job_id="abc123", actor="cron"):
        logging.getLogger("kitops.jobs").info("job reorder ended", extra={"ms": 12})
    (line,) = lines.getvalue().splitlines()
    assert (
        line.split(" ", 1)[1] == "INFO kitops.jobs [job=abc123 actor=cron] job reorder ended ms=12"
    )


def test_the_level_leaves_out_the_lines_below_it(lines, monkeypatch):
    monkeypatch.setenv(logs.LEVEL_VARIABLE, "ERROR")
    logs.configure("INFO", stream=lines)
    logging.getLogger("kitops.test").warning("quiet")
    logging.getLogger("kitops.test").error("said")
    assert [line.rsplit(" ", 1)[1] for line in lines.getvalue().splitlines()] == ["said"]


def test_a_second_configuration_replaces_the_first_handler(lines):
    logs.configure("INFO", stream=io.StringIO())
    logs.configure("INFO", stream=lines)
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "kitops"]
    assert len(ours) == 1


def test_libraries_that_would_log_data_stay_at_warning(lines, monkeypatch):
    monkeypatch.setenv(logs.LEVEL_VARIABLE, "DEBUG")
    logs.configure(stream=lines)
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT ... ('P-LON-0001',)")
    logging.getLogger("stripe").debug("Post details post_data=metadata[patient]=x")
    logging.getLogger("kitops.test").debug("ours")
    assert "SELECT" not in lines.getvalue()
    assert "Post details" not in lines.getvalue()
    assert "ours" in lines.getvalue()


def test_an_actor_set_in_a_worker_thread_reaches_the_requests_own_lines(lines):
    logs.configure("INFO", stream=lines)
    with logs.scoped(request_id="r-2") as scope:
        context = contextvars.copy_context()  # as Starlette runs a route in a thread
        worker = threading.Thread(target=context.run, args=(logs.set_actor, "maria"))
        worker.start()
        worker.join()
        assert scope.actor == "maria"
        logging.getLogger("kitops.web.request_log").info("GET / 200")
    assert "[request=r-2 actor=maria]" in lines.getvalue()


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123", True), ("4f9c.2:x_y", True), ("", False), ("a b", False),
     ("x" * 65, False), ("P-LON\n", False), ("ünïcode", False)],
)  # fmt: skip
def test_a_request_id_header_is_taken_only_when_sane(given, kept):
    assert (logs.sane_id(given) == given) is kept


def test_secrets_and_patient_references_never_reach_a_line(lines, monkeypatch):
    import kitops.secrets  # registers its URL-credential mask

    monkeypatch.setenv("KITOPS_STRIPE_API_KEY", "sk_test_never_in_a_log")
    monkeypatch.setenv(logs.LEVEL_VARIABLE, "DEBUG")
    monkeypatch.setenv(logs.FORMAT_VARIABLE, "json")
    logs.configure(stream=lines)
    logs.register_secret("whsec_from_a_file")
    log = logging.getLogger("kitops.test")
    log.debug("key %s", "sk_test_never_in_a_log")
    log.info("patient_ref=P-LON-0001 and patient P-ESX-0002, Patient ref: P-VIE-0003")
    log.warning("db %s", "postgresql://kitops:hunter2hunter@db/kitops")
    log.info("course", extra={"patient_ref": "P-LON-0004", "note": "secret whsec_from_a_file"})
    with logs.scoped(job_id="j"):
        logs.private("Q-77-ALPHA")
        log.info("found Q-77-ALPHA")
    try:
        raise ValueError("whsec_from_a_file went wrong for patient P-LON-0005")
    except ValueError:
        log.exception("failed")

    text = lines.getvalue()
    never_shown = ("sk_test_never_in_a_log", "whsec_from_a_file", "hunter2hunter",
                   "P-LON-0001", "P-ESX-0002", "P-VIE-0003", "P-LON-0004", "P-LON-0005",
                   "Q-77-ALPHA")  # fmt: skip
    for never in never_shown:
        assert never not in text, never
    parsed = _json_lines(lines)
    assert parsed[1]["message"] == "patient_ref=*** and patient ***, Patient ref: ***"
    assert parsed[3]["patient_ref"] == "***"
    assert "exc_info" in parsed[-1]
    assert kitops.secrets.HIDDEN in str(parsed[2]["message"])


def test_a_file_gets_the_lines_instead_of_standard_error(lines, tmp_path, capsys):
    target = tmp_path / "logs" / "kitops-tui.log"
    logs.configure("WARNING", file=target)
    logging.getLogger("kitops.tui").warning("printer offline")
    logs.unconfigure()
    assert "printer offline" in target.read_text()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("patient_ref=P-1", "patient_ref=***"),
        ('{"patient_ref": "P-2"}', '{"patient_ref": "***"}'),
        ("course for patient P-3 moved", "course for patient *** moved"),
        ("Patientenreferenz P-4", "Patientenreferenz ***"),
        ("patient: P-5", "patient: ***"),
        ("patients at home: 3", "patients at home: 3"),
        ("patient references stay out", "patient references stay out"),
        ("the patient's kit", "the patient's kit"),
    ],
)
def test_the_patient_reference_pattern_masks_the_value_and_leaves_words(text, shown):
    assert logs.redact(text) == shown


def test_each_command_gets_its_default_level_and_the_tui_a_file(lines, tmp_path, monkeypatch,
                                                                capsys):  # fmt: skip
    from kitops.bootstrap import configure_logging
    from kitops.errors import InvalidInput

    monkeypatch.delenv("KITOPS_LOG_FILE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    configure_logging("serve")
    assert logging.getLogger().level == logging.INFO
    configure_logging("jobs")
    assert logging.getLogger().level == logging.WARNING
    configure_logging("tui")
    logging.getLogger("kitops.tui").warning("printer offline")
    assert capsys.readouterr().err == ""  # nothing painted over the screen
    logs.unconfigure()
    assert "printer offline" in (tmp_path / "kitops" / "kitops-tui.log").read_text()
    monkeypatch.setenv("KITOPS_LOG_FORMAT", "yaml")
    with pytest.raises(InvalidInput) as bad:
        configure_logging("stock")
    assert (bad.value.field, bad.value.value) == ("KITOPS_LOG_FORMAT", "yaml")
