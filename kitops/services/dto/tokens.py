"""Frozen values of API tokens: never the token itself, except once when it is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ApiToken:
    """An API token as ``kitops token list`` shows it (its hash stays in the database)."""

    name: str
    user: str
    read_only: bool
    expires_at: datetime | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None
    state: str  # active | expired | revoked


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is shown this once and kept nowhere."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class TokenHolder:
    """Who a presented token acts as: its user (active), the user's role, the token's name
    and whether it may only read."""

    user: str
    role: str
    token: str
    read_only: bool
