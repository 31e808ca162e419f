"""Secrets (the database URL with its password, the Stripe keys) come from the environment,
or from a file named by ``<VARIABLE>_FILE`` that only its owner may read (mode 0600 or
0400). kitops never prints, logs or stores them: URLs it shows have every credential masked
(the password, ``?password=`` and its kin), and so does every error line.

Standard library only: the command line imports this at start-up.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable

from kitops import logs
from kitops.errors import KitopsError


class SecretProblem(KitopsError):
    """A secret's file is missing, empty, not a file, or readable by others (exit 2)."""

    exit_code = 2


def from_env(name: str, *, error: Callable[[str], Exception] = SecretProblem) -> str | None:
    """The value of ``name``, else the content of the file ``$<name>_FILE``, else None.

    Refuses both at once, and a file that group or others could read (``chmod 600``)."""
    direct = os.environ.get(name, "").strip()
    path = os.environ.get(f"{name}_FILE", "").strip()
    if direct and path:
        raise error(f"{name} and {name}_FILE are both set: set only one")
    if direct:
        logs.register_secret(direct)  # never on a log line (kitops.logs)
        return direct
    if not path:
        return None
    return from_file(path, f"{name}_FILE", error=error)


def from_file(path: str, shown: str, *, error: Callable[[str], Exception] = SecretProblem) -> str:
    """The secret in the file at ``path`` (``shown`` names it in a refusal): a regular,
    non-empty file only its owner may read."""
    try:
        info = os.stat(path)
    except OSError as problem:
        raise error(f"{shown} {path!r}: cannot be read ({problem.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{shown} {path!r}: is not a file")
    if info.st_mode & 0o077:
        raise error(
            f"{shown} {path!r}: others may read it (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"`chmod 600 {path}`"
        )
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{shown} {path!r}: cannot be read ({problem})") from None
    if not value:
        raise error(f"{shown} {path!r}: is empty")
    logs.register_secret(value)  # never on a log line (kitops.logs)
    return value


# What reads as a credential in a query parameter or a libpq keyword: password, passfile,
# sslpassword, passwd, pwd, a secret, a token, a key, credentials, auth...
_SENSITIVE = ("pass", "pwd", "secret", "token", "key", "credential", "auth")
HIDDEN = "***"

# scheme://user:password@  →  scheme://user:***@ (the password may hold '/', ':', '?', and
# even an unescaped '@': everything up to the last '@' of the URL goes)
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s]*@")
# ?password=...  &sslpassword=...  ;token=...
_QUERY_SECRET = re.compile(
    r"([?&;][^=\s&#;]*(?:" + "|".join(_SENSITIVE) + r")[^=\s&#;]*=)[^&\s#;]*", re.IGNORECASE
)
# libpq's keyword/value form: password=... or password='...'
_KEYWORD_SECRET = re.compile(
    r"\b((?:ssl)?pass(?:word|wd|file)\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s,;&]+)", re.IGNORECASE
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_sensitive(key: str) -> bool:
    """Whether a URL query parameter's name says it carries a credential."""
    lowered = key.lower()
    return any(word in lowered for word in _SENSITIVE)


def mask(text: str) -> str:
    """``text`` with every credential in it replaced by ``***``: a URL's password, query
    parameters naming a password, secret, token or key, libpq's ``password=...``."""
    text = _URL_PASSWORD.sub(rf"\1{HIDDEN}@", text)
    text = _QUERY_SECRET.sub(rf"\1{HIDDEN}", text)
    return _KEYWORD_SECRET.sub(rf"\1{HIDDEN}", text)


def mask_url(url: object) -> str:
    """A database URL as kitops shows it: parsed as SQLAlchemy parses it, the password and
    every credential-like query parameter (``password``, ``passfile``, ``sslpassword``,
    anything naming a secret, token or key) shown as ``***``. A URL SQLAlchemy cannot parse
    is shown as its scheme and ``***`` only."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = url if isinstance(url, URL) else make_url(str(url))
    except (ArgumentError, ValueError, TypeError):
        scheme = _SCHEME.match(str(url))
        return f"{scheme.group()}{HIDDEN}" if scheme else HIDDEN
    if parsed.host and "@" in parsed.host:  # an unescaped '@' in the password
        parsed = parsed.set(host=parsed.host.rsplit("@", 1)[1], password=HIDDEN)
    hidden = {key: HIDDEN for key in parsed.query if is_sensitive(key)}
    if hidden:
        parsed = parsed.update_query_dict(hidden)
    shown = parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", HIDDEN)
    return mask(shown)


logs.register_redactor(mask)  # a credential in a URL never on a log line either
