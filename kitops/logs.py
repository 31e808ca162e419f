"""kitops's logs: one configuration (``configure``, called by ``kitops.bootstrap``), the
context every line carries (a request id or a job id, and the acting user), and the
safety net that keeps secrets and patient references out of them.

Modules log with the standard library: ``log = logging.getLogger(__name__)``. Every
record goes through the root logger's one handler (standard error, or a file for the
terminal UI), whose filters add ``request_id``, ``job_id`` and ``actor`` and redact
what must never be written. Two formats: ``text`` (one readable line) and ``json``
(one JSON object a line, by python-json-logger's formatter).

Standard library only at import: every layer may log through it (the JSON formatter is
imported when that format is chosen).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from pathlib import Path

LEVEL_VARIABLE = "KITOPS_LOG_LEVEL"
FORMAT_VARIABLE = "KITOPS_LOG_FORMAT"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
HIDDEN = "***"

# the context fields every line carries, in this order after time, level, logger, message
CONTEXT_FIELDS = ("request_id", "job_id", "actor")


class BadSetting(ValueError):
    """``KITOPS_LOG_LEVEL`` or ``KITOPS_LOG_FORMAT`` holds a value kitops does not know."""

    def __init__(self, variable: str, value: str, choices: tuple[str, ...]) -> None:
        super().__init__(f"{variable} {value!r}: must be one of {'|'.join(choices)}")
        self.variable = variable
        self.value = value
        self.choices = choices


# --- the context: which request or job, acting as whom ------------------------------------


@dataclass
class Scope:
    """What a run or a request adds to each of its lines. Mutable on purpose: a request's
    use cases run in worker threads on a copy of the request's context, and the user they
    identify must still reach the request's own last line."""

    request_id: str | None = None
    job_id: str | None = None
    actor: str | None = None
    private: set[str] = field(default_factory=set)  # values this scope must never log


_PROCESS = Scope()  # a command's lines (the command line: one command a process)
_scope: ContextVar[Scope] = ContextVar("kitops_log_scope")


def current() -> Scope:
    return _scope.get(_PROCESS)


@contextmanager
def scoped(
    *, request_id: str | None = None, job_id: str | None = None, actor: str | None = None
) -> Iterator[Scope]:
    """A request's or a job run's scope: its lines carry these ids and the actor set in it
    (``set_actor``); the enclosing scope's actor is kept until one is."""
    outer = current()
    scope = Scope(request_id=request_id or outer.request_id, job_id=job_id or outer.job_id,
                  actor=actor or outer.actor)  # fmt: skip
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def set_actor(name: str | None) -> None:
    """The user acting from now on in this scope (where identity is resolved)."""
    current().actor = name


def new_id() -> str:
    """A fresh request or job id: 16 hex digits."""
    return os.urandom(8).hex()


_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", re.ASCII)


def sane_id(value: str | None) -> str | None:
    """``value`` if it may stand as a request id (1-64 letters, digits, ``.``, ``_``,
    ``:``, ``-``), else None."""
    return value if value is not None and _SANE_ID.fullmatch(value) else None


# --- what never reaches a line ------------------------------------------------------------

_secret_values: set[str] = set()
_redactors: list[Callable[[str], str]] = []
_lock = threading.Lock()
MIN_SECRET = 6  # shorter values would mask ordinary words; a secret is longer than that

# `patient_ref=X`, `"patient_ref": "X"`, `patient X`, `Patientenreferenz X`: the value goes
_PATIENT = re.compile(
    r"(\bpatient(?:en)?(?:[_ -]?ref(?:erence|erenz)?)?\b[\"']?(?:\s*[=:]\s*|\s+)[\"']?)"
    r"(?!references?\b|refs?\b)([A-Za-z0-9][A-Za-z0-9._-]{0,63})",
    re.IGNORECASE,
)
_PRIVATE_KEY = re.compile(r"patient|secret|password|passwd|token|api_key|pin\b", re.IGNORECASE)
# the environment's secrets, registered when the logs are configured
_SECRET_VARIABLE = re.compile(
    r"(?:^|_)(?:KEY|SECRET|PASSWORD|TOKEN|PIN|DATABASE_URL)(?:_|$)", re.IGNORECASE
)
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:(\S+)@[^@]*$")


def register_secret(value: str | None) -> None:
    """A secret kitops has loaded: replaced by ``***`` wherever a line would hold it (of
    a URL, its password)."""
    if value and "://" in value:
        password = _URL_PASSWORD.match(value)
        value = password.group(1) if password else None
    if value and len(value) >= MIN_SECRET:
        with _lock:
            _secret_values.add(value)


def register_redactor(redactor: Callable[[str], str]) -> None:
    """A function that masks credentials in a text (``kitops.secrets.mask``)."""
    with _lock:
        if redactor not in _redactors:
            _redactors.append(redactor)


def private(value: str | None) -> None:
    """A value this request or job must never log (a patient reference it handles)."""
    if value:
        current().private.add(value)


def redact(text: str) -> str:
    """``text`` without a registered secret, a value marked private in this scope, a URL
    credential or a patient reference."""
    for value in sorted(_secret_values | current().private, key=len, reverse=True):
        if value in text:
            text = text.replace(value, HIDDEN)
    for redactor in list(_redactors):
        text = redactor(text)
    return _PATIENT.sub(rf"\1{HIDDEN}", text)


# the attributes every LogRecord has: anything else on a record came with ``extra=``
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD and key not in CONTEXT_FIELDS and not key.startswith("_")
    }


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``job_id`` and ``actor`` (None when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scope = current()
        record.request_id = scope.request_id
        record.job_id = scope.job_id
        record.actor = scope.actor
        return True


class RedactFilter(logging.Filter):
    """The safety net: the message, its arguments, the ``extra`` fields and a traceback,
    without secrets or patient references (a field named for one is dropped to ``***``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: its text, not its arguments
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        for key, value in extras(record).items():
            if _PRIVATE_KEY.search(key):
                setattr(record, key, HIDDEN)
            elif isinstance(value, str):
                setattr(record, key, redact(value))
            elif isinstance(value, list | tuple) and any(isinstance(v, str) for v in value):
                setattr(record, key, [redact(v) if isinstance(v, str) else v for v in value])
        actor = getattr(record, "actor", None)
        if isinstance(actor, str):
            record.actor = redact(actor)
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# --- the formats ---------------------------------------------------------------------------


def _time(record: logging.LogRecord) -> str:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER [request=… job=… actor=…] MESSAGE key=value …``"""

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{name.removesuffix('_id')}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        fields = " ".join(f"{key}={value}" for key, value in extras(record).items())
        line = " ".join(
            part
            for part in (
                _time(record), record.levelname, record.name,
                f"[{context}]" if context else "", record.getMessage(), fields,
            )
            if part
        )  # fmt: skip
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{record.stack_info}"
        return line


def json_formatter() -> logging.Formatter:
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    ``request_id``, ``job_id``, ``actor`` (null when none), then the ``extra`` fields;
    a traceback as ``exc_info``."""
    from pythonjsonlogger.json import JsonFormatter

    class KitopsJson(JsonFormatter):
        def add_fields(
            self, log_data: dict[str, Any], record: logging.LogRecord, message: dict[str, Any]
        ) -> None:
            log_data["time"] = _time(record)
            log_data["level"] = record.levelname
            log_data["logger"] = record.name
            log_data["message"] = record.getMessage()
            for name in CONTEXT_FIELDS:
                log_data[name] = getattr(record, name, None)
            log_data.update(extras(record))
            log_data.update(message)

    return KitopsJson(json_ensure_ascii=False)


# --- the configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    level: int
    format: str


def settings(default_level: str = "WARNING") -> Settings:
    """The level and format from ``KITOPS_LOG_LEVEL`` (``default_level`` when unset) and
    ``KITOPS_LOG_FORMAT`` (``text`` when unset); ``BadSetting`` for a value not known."""
    level_text = os.environ.get(LEVEL_VARIABLE, "").strip()
    level_name = level_text.upper() or default_level
    if level_name not in LEVELS:
        raise BadSetting(LEVEL_VARIABLE, level_text, LEVELS)
    format_text = os.environ.get(FORMAT_VARIABLE, "").strip()
    format_name = format_text.lower() or "text"
    if format_name not in FORMATS:
        raise BadSetting(FORMAT_VARIABLE, format_text, FORMATS)
    return Settings(logging.getLevelNamesMapping()[level_name], format_name)


_HANDLER_NAME = "kitops"
# libraries whose INFO and DEBUG lines hold data (SQL with its parameters, HTTP requests and
# bodies to Stripe, form fields): their warnings and errors only, at any level
QUIET_LIBRARIES = ("sqlalchemy", "stripe", "httpx", "httpcore", "urllib3", "multipart",
                   "python_multipart", "PIL", "fontTools", "fpdf")  # fmt: skip


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard error as it is when a line is written (a test may have replaced it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure(
    default_level: str = "WARNING",
    *,
    stream: TextIO | None = None,
    file: Path | None = None,
) -> Settings:
    """Send every log line (kitops's and its libraries') through one handler on the root
    logger: to ``stream`` (standard error by default) or appended to ``file``, at the
    level ``KITOPS_LOG_LEVEL`` sets (else ``default_level``), in ``KITOPS_LOG_FORMAT``.
    Called again, it replaces its own handler. Raises ``BadSetting`` (nothing changed)."""
    chosen = settings(default_level)
    for name, value in os.environ.items():
        if (
            name.startswith("KITOPS_")
            and not name.endswith("_FILE")
            and _SECRET_VARIABLE.search(name)
        ):
            register_secret(value.strip())
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8", delay=True)
    elif stream is not None:
        handler = logging.StreamHandler(stream)
    else:
        handler = _Stderr()
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(json_formatter() if chosen.format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(chosen.level)
    for library in QUIET_LIBRARIES:
        logging.getLogger(library).setLevel(max(chosen.level, logging.WARNING))
    return chosen


def unconfigure() -> None:
    """Remove the handler ``configure`` added (the tests)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
            old.close()
    root.setLevel(logging.WARNING)
