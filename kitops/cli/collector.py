"""The cyclic garbage collector rests while a command imports what it needs.

A command's start-up imports SQLAlchemy, its ORM, the schema's mappers and the services:
some hundred thousand long-lived objects, and a collector pass every few thousand of
them finds nothing to free (reference counting still frees everything else at once).
``kitops`` (``kitops.cli.main``) pauses the collector before the command runs;
``resume`` turns it back on, once per process, as soon as the command has opened its
database (``Context.database``), before its first query, or before a long-running front
end starts (the terminal UI). A command that never opens a database ends with the
collector paused: it ends within moments anyway. The objects imported so far are frozen
(``gc.freeze``) so later full collections do not walk them again.

``kitops.cli.run`` alone (the tests, which run many commands in one process) never
pauses it.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Hold the collector until ``resume`` (only if it runs now)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Turn the collector back on if ``pause`` held it; nothing otherwise."""
    global _paused
    if not _paused:
        return
    _paused = False
    gc.freeze()
    gc.enable()
