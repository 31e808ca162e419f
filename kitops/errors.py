"""The error hierarchy shared by every layer.

The CLI maps these to exit codes in one place (``InvalidInput`` → 2, ``Refused`` → 1)
and the TUI to a dialog; nothing else needs to know about them.
"""

from __future__ import annotations

from collections.abc import Callable


class KitopsError(Exception):
    """Base of every error kitops raises on purpose."""

    exit_code = 1


class InvalidInput(KitopsError):
    """The caller gave a value that is malformed or names nothing that exists."""

    exit_code = 2

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(_english_line(field, value, reason))

    def __str__(self) -> str:
        # the words around the field and the value in the language in force when shown
        # (kitops.i18n installs its renderer; the field's name is never translated)
        return _line_renderer(self.field, self.value, self.reason)


def _english_line(field: str, value: object, reason: str) -> str:
    shown = "(missing)" if value is None or value == "" else repr(value)
    return f"{field} {shown}: {reason}"


_line_renderer: Callable[[str, object, str], str] = _english_line


def render_bad_input_with(renderer: Callable[[str, object, str], str]) -> None:
    """How ``InvalidInput`` reads (``FIELD VALUE: REASON``): ``kitops.i18n`` sets one that
    says "(missing)" and the punctuation in the language in force, which this layer, below
    the translations, cannot import."""
    global _line_renderer
    _line_renderer = renderer


class Refused(KitopsError):
    """The input is well formed, but the domain says no (not enough stock, recalled lot...)."""

    exit_code = 1


class NotAllowed(Refused):
    """The acting user (unknown, disabled, or in the wrong role) may not do this.

    The refused transaction writes nothing; the refusal itself is recorded in the audit
    log in a transaction of its own (``recorded`` turns true once it is).
    """

    def __init__(
        self, message: str, *, actor: str, permission: str, role: str | None = None
    ) -> None:
        super().__init__(message)
        self.actor = actor
        self.permission = permission
        self.role = role
        self.recorded = False

    def __reduce__(self) -> tuple[object, ...]:  # picklable, for worker processes
        return (_not_allowed, (str(self), self.actor, self.permission, self.role))


def _not_allowed(message: str, actor: str, permission: str, role: str | None) -> NotAllowed:
    return NotAllowed(message, actor=actor, permission=permission, role=role)


class Conflict(Refused):
    """The operation clashes with what is already recorded (duplicate code, lot expiry)."""


class DatabaseNotReady(KitopsError):
    """The database is missing, or its schema is not at the revision this code expects."""

    exit_code = 1


class DatabaseUnavailable(KitopsError):
    """The database is locked by another writer, unreachable, or dropped the connection."""

    exit_code = 1


class TransientDatabaseError(DatabaseUnavailable):
    """A serialization failure, deadlock or lost race that a retry can cure."""


class IntegrityProblem(KitopsError):
    """``db check`` found balances that do not match the ledger."""

    exit_code = 1
