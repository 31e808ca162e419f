"""Secrets (the database URL with its password, the Stripe keys) come from the environment,
or from a file named by ``<VARIABLE>_FILE`` that only its owner may read (mode 0600 or
0400). kitops never prints, logs or stores them: URLs it shows have the password masked.

Standard library only: the command line imports this at start-up.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable

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
        return direct
    if not path:
        return None
    try:
        info = os.stat(path)
    except OSError as problem:
        raise error(f"{name}_FILE {path!r}: cannot be read ({problem.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{name}_FILE {path!r}: is not a file")
    if info.st_mode & 0o077:
        raise error(
            f"{name}_FILE {path!r}: others may read it (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"`chmod 600 {path}`"
        )
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{name}_FILE {path!r}: cannot be read ({problem})") from None
    if not value:
        raise error(f"{name}_FILE {path!r}: is empty")
    return value


# scheme://user:password@  →  scheme://user:***@
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s/]+@")


def mask(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\1***@", text)
