"""How a failed service call reads to a stockroom person: one title, one message, no
traceback. The app shows the result in one place (``KitopsApp.report_error``)."""

from __future__ import annotations

from dataclasses import dataclass

from kitops.errors import DatabaseNotReady, DatabaseUnavailable, InvalidInput, KitopsError, Refused
from kitops.i18n import _


@dataclass(frozen=True)
class Problem:
    title: str
    message: str
    severity: str  # "warning" for the user's input or the rules, "error" otherwise
    internal: bool = False  # a fault of the program, not a refusal (logged)


def describe(error: BaseException) -> Problem:
    if isinstance(error, InvalidInput):
        return Problem(_("Please check"), str(error), "warning")
    if isinstance(error, Refused):
        return Problem(_("Refused"), str(error), "warning")
    if isinstance(error, DatabaseNotReady):
        return Problem(_("Database not ready"), str(error), "error")
    if isinstance(error, DatabaseUnavailable):
        return Problem(_("Database busy or unreachable"), str(error), "error")
    if isinstance(error, KitopsError):
        return Problem(_("Not done"), str(error), "warning")
    return Problem(
        _("Internal error"),
        f"{type(error).__name__}: {error}\n"
        + _(
            "Nothing was changed by the failed step. "
            "Set KITOPS_DEBUG=1 and run `textual console` for details."
        ),
        "error",
        internal=True,
    )
