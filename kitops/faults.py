"""A test hook: the process kills itself (SIGKILL) at a named point inside a transaction.

Inert unless ``KITOPS_FAULT`` is set. The fault tests set it on the child process they
start, to prove that an operation interrupted at that exact point leaves nothing behind
(or, after a commit, everything): ``KITOPS_FAULT=stock.count:after_moves`` kills a count
after its ledger moves are written and before its commit. ``POINT@N`` kills at the N-th
time the point is reached in the process (``payments.event:after_effects@21`` lets twenty
payment events commit and kills the twenty-first before its commit). ``POINT=stop`` stops
the process there instead (SIGSTOP, holding whatever its transaction has locked) until the
test sends SIGCONT, so a race test can run another command at exactly that moment.
Several points may be named, separated by commas. The points are listed in ``POINTS``
and in the README.
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "KITOPS_FAULT"

POINTS = (
    "uow:before_commit",  # any unit of work, just before COMMIT is sent
    "uow:after_commit",  # any unit of work, just after the database confirmed COMMIT
    "stock.count:after_reading",  # a count has read the balances, posted nothing yet
    "stock.count:after_moves",  # a count's differences are posted, not committed
    "kit.assemble:after_plan",  # an assembly has read the clinic's stock and chosen lots
    "kit.assemble:after_moves",  # an assembly's kits and moves are written, not committed
    "reorder.run:after_orders",  # a reorder run's purchase orders are written, not committed
    "payments.event:after_effects",  # one payment event's effects are written, not committed
    "lot.status:after_change",  # a release, quarantine or recall is written, not committed
    "kit.release:after_change",  # a returned kit's release is written, not committed
    "fulfil.course:after_reserve",  # one course's kits are reserved (general path), not committed
    "fulfil.batch:after_reserve",  # a fulfil batch's kits are reserved, not committed
    "kit.dispatch:after_kit_lock",  # a ship or hand-over holds its locks, has written nothing
    "db.restore:after_copy",  # a restore has copied the backup beside the database, no more
    "alerts:after_send",  # an alert went to the mail server, is not yet marked sent
)

_reached: dict[str, int] = {}


def point(name: str) -> None:
    """Reach the named point: SIGKILL (or, for ``NAME=stop``, SIGSTOP) this process if
    ``KITOPS_FAULT`` names it (and this is the N-th time it is reached, for ``NAME@N``);
    otherwise do nothing."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    for item in spec.split(","):
        where, _, action = item.strip().partition("=")
        target, _, nth = where.partition("@")
        if target != name:
            continue
        reached = _reached[name] = _reached.get(name, 0) + 1
        if reached == (int(nth) if nth.isdigit() else 1):
            sys.stdout.flush()
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGSTOP if action == "stop" else signal.SIGKILL)
