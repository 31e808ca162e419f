"""Who may do what: the roles and the permission each changing use case needs.

One table, read by the service layer (``UnitOfWork.require``) whichever way a use case is
reached (command line, terminal UI, cron job). Reading (stock, lists, show, trace) needs
no permission: every active user may read. Pure Python: the tests check the table itself.

Roles nest: a manager may do everything stockroom staff may, and an admin everything a
manager may (in a small clinic the owner is both). The ``job`` role is apart: the cron
jobs and the payment events, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kitops.errors import InvalidInput
from kitops.i18n import _


class Role(StrEnum):
    STOCKROOM = "stockroom"
    MANAGER = "manager"
    ADMIN = "admin"
    JOB = "job"


ROLE_NOUNS = {
    Role.STOCKROOM: "stockroom staff",
    Role.MANAGER: "a manager",
    Role.ADMIN: "an admin",
    Role.JOB: "a job user",
}

# what each role includes besides itself
INCLUDES: dict[Role, frozenset[Role]] = {
    Role.STOCKROOM: frozenset(),
    Role.MANAGER: frozenset({Role.STOCKROOM}),
    Role.ADMIN: frozenset({Role.MANAGER, Role.STOCKROOM}),
    Role.JOB: frozenset(),
}


@dataclass(frozen=True)
class Permission:
    name: str
    doing: str  # "may not <doing>"
    roles: frozenset[Role]  # the lowest roles that hold it; roles that include them do too

    def allows(self, role: Role) -> bool:
        return role in self.roles or bool(INCLUDES[role] & self.roles)

    @property
    def holders(self) -> str:
        """Who may, in words: ``a manager or a job user``."""
        names = [ROLE_NOUNS[role] for role in Role if role in self.roles]
        return " or ".join(names)


S, M, A, J = Role.STOCKROOM, Role.MANAGER, Role.ADMIN, Role.JOB

PERMISSIONS: dict[str, Permission] = {
    p.name: p
    for p in (
        # daily stock work: stockroom staff (and everyone above them)
        Permission("stock.receive", "receive stock", frozenset({S})),
        Permission("stock.move", "move stock", frozenset({S})),
        Permission("stock.count", "apply a stock count", frozenset({S})),
        Permission("stock.writeoff", "write off stock", frozenset({S})),
        Permission("kit.assemble", "assemble kits", frozenset({S})),
        Permission("kit.disassemble", "disassemble a kit", frozenset({S})),
        Permission("kit.dispatch", "ship or hand over a kit", frozenset({S})),
        Permission("kit.return", "take back a kit", frozenset({S})),
        Permission("kit.relabel", "reprint the label of a kit with a patient", frozenset({S})),
        Permission("course.create", "create a course", frozenset({S})),
        Permission("course.cancel", "cancel a course", frozenset({S})),
        Permission("course.reschedule", "reschedule a course", frozenset({S})),
        Permission("course.pause", "pause a course", frozenset({S})),
        Permission("course.resume", "resume a course", frozenset({S})),
        Permission("course.complete", "complete or end a course", frozenset({S})),
        Permission("course.fulfil", "reserve kits for courses", frozenset({S})),
        Permission("session.record", "record a clinic session", frozenset({S})),
        Permission("order.create", "create an order", frozenset({S})),
        Permission("order.pay", "take a payment", frozenset({S})),
        Permission("order.cancel", "cancel an order", frozenset({S})),
        # decisions: managers
        Permission("lot.release", "release a lot", frozenset({M})),
        Permission("lot.quarantine", "quarantine a lot", frozenset({M})),
        Permission("lot.recall", "recall a lot", frozenset({M})),
        Permission("kit.release", "release a kit returned sealed", frozenset({M})),
        Permission("stock.writeoff_large", "write off this many units", frozenset({M})),
        Permission("po.approve", "approve a purchase order", frozenset({M})),
        Permission("po.send", "send a purchase order", frozenset({M})),
        Permission("po.cancel", "cancel a purchase order", frozenset({M})),
        Permission("order.refund", "refund an order", frozenset({M})),
        Permission("supplier.edit", "change suppliers", frozenset({M})),
        Permission("policy.edit", "change reorder policies", frozenset({M})),
        Permission("report.run", "run reports", frozenset({M})),
        Permission("audit.read", "read the audit log", frozenset({M})),
        Permission("clinic.close", "close a clinic for a holiday", frozenset({M})),
        # the cron jobs: the job user, or a manager by hand
        Permission("reorder.run", "run the reorder job", frozenset({M, J})),
        Permission("expiry.sweep", "run the expiry sweep", frozenset({M, J})),
        Permission("expiry.sweep_as_of", "sweep as of another day than today", frozenset({M})),
        Permission("payment.sync", "apply payment events", frozenset({M, J})),
        # set-up: admins
        Permission("catalog.edit", "change the catalogue", frozenset({A})),
        Permission("location.edit", "add locations", frozenset({A})),
        Permission("plan.edit", "add treatment plans", frozenset({A})),
        Permission("price.set", "set prices", frozenset({A})),
        Permission("vat.set", "set VAT rates", frozenset({A})),
        Permission("setting.set", "change settings", frozenset({A})),
        Permission("import.run", "import CSV files", frozenset({A})),
        Permission("user.manage", "manage users", frozenset({A})),
        Permission("token.manage", "manage API tokens", frozenset({A})),
        Permission("demo.load", "load the demo data", frozenset({A})),
        Permission("db.reset", "erase the database", frozenset({A})),
        # the nightly backup is a cron job: it reads everything and changes nothing
        Permission("db.backup", "back up the database", frozenset({A, J})),
        Permission("db.restore", "restore a backup", frozenset({A})),
        # a schema upgrade: an admin, or whoever owns the database (kitops.services.admin)
        Permission("db.upgrade", "upgrade the database schema", frozenset({A})),
    )
}

# Allowed on a database that has no users yet: creating the first admin, the demo data
# (which brings its own users), replacing the database wholesale, and bringing its schema
# up to date (`make run` upgrades a new database before anyone exists).
BOOTSTRAP = frozenset({"user.manage", "demo.load", "db.reset", "db.restore", "db.upgrade"})

BOOTSTRAP_MESSAGE = (
    "this database has no users yet: create the first admin with "
    "`kitops user add NAME --role admin` (or load the demo data: `kitops demo`)"
)


def parse_role(value: str, field: str = "role") -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            field, value, _("must be one of {choices}").format(choices="|".join(Role))
        ) from None


def permission(name: str) -> Permission:
    try:
        return PERMISSIONS[name]
    except KeyError:
        raise KeyError(f"no permission named {name!r} in kitops.domain.roles") from None


def allows(role: Role | str, name: str) -> bool:
    return permission(name).allows(Role(role))


def refusal(user: str, role: Role | str, name: str, *, doing: str | None = None) -> str:
    """The one line a refused user reads."""
    wanted = permission(name)
    return f"{user} ({Role(role)}) may not {doing or wanted.doing}: {wanted.holders} may"


def permissions_of(role: Role | str) -> list[str]:
    """Every permission a role holds, in table order."""
    return [name for name, p in PERMISSIONS.items() if p.allows(Role(role))]
