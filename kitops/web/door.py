"""What every route stands on: the open database, and who is calling.

A ``Caller`` is a kitops user proven by this request (a web session or an API token);
``Door.reading``/``Door.writing`` hand out one unit of work per use case acting as that
user, audited as ``USER`` or ``USER (token NAME)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kitops.data.engine import Database
    from kitops.payments.gateway import Gateway
    from kitops.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Caller:
    """The kitops user a request acts as, and how it was proven."""

    user: str
    role: str
    token: str | None = None  # the API token's name, when one was used
    read_only: bool = False  # a read-only token: no changing use case

    @property
    def audit_name(self) -> str:
        """How the audit log names this caller: ``USER`` or ``USER (token NAME)``."""
        return self.user if self.token is None else f"{self.user} (token {self.token})"


class Door:
    """The server's side of every request: its database (opened once, checked at its
    schema's head) and its payment gateway, built on first use."""

    def __init__(self, db: Database, gateway: Callable[[], Gateway] | None = None) -> None:
        self.db = db
        self._gateway_factory = gateway
        self._gateway: Gateway | None = None

    def reading(self, caller: Caller) -> UnitOfWork:
        from kitops.services.unit_of_work import UnitOfWork

        return UnitOfWork(self.db, caller.user, readonly=True, bootstrap=False, via=caller.token)

    def writing(self, caller: Caller) -> UnitOfWork:
        from kitops.errors import NotAllowed
        from kitops.services.unit_of_work import UnitOfWork

        uow = UnitOfWork(self.db, caller.user, bootstrap=False, via=caller.token)
        if caller.read_only:
            refusal = NotAllowed(
                f"token {caller.token} is read-only; a token made without --read-only may "
                "change things",
                actor=caller.audit_name, permission="token.write", role=caller.role,
            )  # fmt: skip
            uow.record_refusal(refusal)  # the audit row of the refusal, on its own
            raise refusal
        return uow

    def anonymous(self) -> UnitOfWork:
        """A unit of work that identifies nobody: for logging in only."""
        from kitops.services.unit_of_work import UnitOfWork

        return UnitOfWork(self.db, "web", identify=False, bootstrap=False)

    def gateway(self) -> Gateway:
        if self._gateway is None:
            if self._gateway_factory is None:
                from kitops.bootstrap import payment_gateway

                self._gateway = payment_gateway()
            else:
                self._gateway = self._gateway_factory()
        return self._gateway

    def close(self) -> None:
        self.db.dispose()
