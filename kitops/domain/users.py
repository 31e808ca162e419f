"""User names and logins: how they are written."""

from __future__ import annotations

import re

from kitops.errors import InvalidInput
from kitops.i18n import _

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")


def parse_user_name(value: str, field: str = "user") -> str:
    name = value.strip()
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            field, value,
            _(
                "must be 1-64 characters: lower-case letters, digits and . _ "
                "@ - (starting with a letter or digit)"
            ),
        )  # fmt: skip
    return name


def parse_login(value: str, field: str = "login") -> str:
    login = value.strip()
    if not 1 <= len(login) <= 64 or any(ord(c) < 32 or ord(c) == 127 for c in login):
        raise InvalidInput(field, value, _("must be 1-64 characters without control characters"))
    return login
