"""How a failed service call reads to a stockroom person: one title, one message, no
traceback. The app shows the result in one place (``KitopsApp.report_error``)."""

from __future__ import annotations

from dataclasses import dataclass

from kitops.errors import DatabaseNotReady, DatabaseUnavailable, InvalidInput, KitopsError, Refused


@dataclass(frozen=True)
class Problem:
    title: str
    message: str
    severity: str  # "warning" for the user's input or the rules, "error" otherwise


def describe(error: BaseException) -> Problem:
    if isinstance(error, InvalidInput):
        return Problem("Please check", str(error), "warning")
    if isinstance(error, Refused):
        return Problem("Refused", str(error), "warning")
    if isinstance(error, DatabaseNotReady):
        return Problem("Database not ready", str(error), "error")
    if isinstance(error, DatabaseUnavailable):
        return Problem("Database busy or unreachable", str(error), "error")
    if isinstance(error, KitopsError):
        return Problem("Not done", str(error), "warning")
    return Problem(
        "Internal error",
        f"{type(error).__name__}: {error}\nNothing was changed by the failed step. "
        "Set KITOPS_DEBUG=1 and run `textual console` for details.",
        "error",
    )
