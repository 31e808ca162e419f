"""Frozen values of users, roles and audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class User:
    """A kitops user as the CLI and the TUI see it: never the PIN or its hash."""

    name: str
    role: str
    active: bool
    pin_set: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    created_by: str
    permissions: tuple[str, ...]
    login: str | None = None  # the login bound to this user (README: Users, roles and audit)
    clinics: tuple[str, ...] = ()  # the clinics it is limited to; none: every clinic
    language: str | None = None  # the language it reads kitops in; None: not chosen


@dataclass(frozen=True)
class Identity:
    """``kitops whoami``: who the operating system or the database says is running kitops,
    and the kitops user that makes."""

    login: str
    bound_user: str | None
    session_user: str | None
    acting_user: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    description: str
