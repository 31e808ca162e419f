"""The mode of every file kitops creates: 0600, or 0660 for a group the admin names.

The database holds PIN hashes and patient references, so its file, SQLite's -wal and -shm
beside it (SQLite gives them the database file's mode), backups, the ``.restoring-*`` and
``.replaced-*`` copies, reports, labels, calendars and purchase-order exports are created
readable by their owner only: the command line (and the TUI and jobs it starts) run under
the umask 077. ``KITOPS_FILE_GROUP=NAME`` makes that 0660 (umask 007) for a team that
shares one database file: put it in a folder of that group with the setgid bit
(``chgrp NAME dir && chmod 2770 dir``) so new files take the group.

Standard library only: the command line imports this at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from kitops.errors import InvalidInput

PRIVATE_UMASK = 0o077  # files 0600, folders 0700
GROUP_UMASK = 0o007  # files 0660, folders 0770
GROUP_VARIABLE = "KITOPS_FILE_GROUP"


def wanted_umask() -> int:
    """The umask for this run: 077, or 007 when ``KITOPS_FILE_GROUP`` names a group this
    account belongs to (otherwise bad input, exit 2)."""
    group = os.environ.get(GROUP_VARIABLE, "").strip()
    if not group:
        return PRIVATE_UMASK
    import grp

    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise InvalidInput(GROUP_VARIABLE, group, "no such group on this machine") from None
    if gid != os.getegid() and gid not in os.getgroups():
        raise InvalidInput(GROUP_VARIABLE, group, "this account is not a member of the group")
    return GROUP_UMASK


def create_empty(path: str | os.PathLike[str]) -> None:
    """Create ``path`` empty, if it is not there, with the mode the umask gives (0600 or
    0660). For SQLite files: SQLite itself creates them 0644 less the umask (never
    group-writable); an empty file is a new database to it, and it gives -wal and -shm the
    database file's mode."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o666))


@contextmanager
def kitops_files() -> Iterator[None]:
    """Run the block with kitops' umask; the previous one comes back after it (the tests
    run many commands in one process)."""
    previous = os.umask(wanted_umask())
    try:
        yield
    finally:
        os.umask(previous)
