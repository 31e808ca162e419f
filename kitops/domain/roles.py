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

import kitops.i18n as i18n
from kitops.errors import InvalidInput
from kitops.i18n import N_, _


class Role(StrEnum):
    STOCKROOM = "stockroom"
    MANAGER = "manager"
    ADMIN = "admin"
    JOB = "job"


ROLE_NOUNS = {
    Role.STOCKROOM: N_("stockroom staff"),
    Role.MANAGER: N_("a manager"),
    Role.ADMIN: N_("an admin"),
    Role.JOB: N_("a job user"),
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
    doing: str  # "may not <doing>", marked for the catalog (shown translated)
    roles: frozenset[Role]  # the lowest roles that hold it; roles that include them do too

    def allows(self, role: Role) -> bool:
        return role in self.roles or bool(INCLUDES[role] & self.roles)

    @property
    def holders(self) -> str:
        """Who may, in words: ``a manager or a job user`` (in the language in force)."""
        names = [i18n.gettext(ROLE_NOUNS[role]) for role in Role if role in self.roles]
        shown = names[0]
        for name in names[1:]:
            shown = _("{holders} or {holder}").format(holders=shown, holder=name)
        return shown


S, M, A, J = Role.STOCKROOM, Role.MANAGER, Role.ADMIN, Role.JOB

PERMISSIONS: dict[str, Permission] = {
    p.name: p
    for p in (
        # daily stock work: stockroom staff (and everyone above them)
        Permission("stock.receive", N_("receive stock"), frozenset({S})),
        Permission("stock.move", N_("move stock"), frozenset({S})),
        Permission("stock.count", N_("apply a stock count"), frozenset({S})),
        Permission("stock.writeoff", N_("write off stock"), frozenset({S})),
        Permission("kit.assemble", N_("assemble kits"), frozenset({S})),
        Permission("kit.disassemble", N_("disassemble a kit"), frozenset({S})),
        Permission("kit.dispatch", N_("ship or hand over a kit"), frozenset({S})),
        Permission("kit.return", N_("take back a kit"), frozenset({S})),
        Permission("kit.relabel", N_("reprint the label of a kit with a patient"), frozenset({S})),
        Permission("course.create", N_("create a course"), frozenset({S})),
        Permission("course.cancel", N_("cancel a course"), frozenset({S})),
        Permission("course.reschedule", N_("reschedule a course"), frozenset({S})),
        Permission("course.pause", N_("pause a course"), frozenset({S})),
        Permission("course.resume", N_("resume a course"), frozenset({S})),
        Permission("course.complete", N_("complete or end a course"), frozenset({S})),
        Permission("course.fulfil", N_("reserve kits for courses"), frozenset({S})),
        Permission("session.record", N_("record a clinic session"), frozenset({S})),
        Permission("order.create", N_("create an order"), frozenset({S})),
        Permission("order.pay", N_("take a payment"), frozenset({S})),
        Permission("order.cancel", N_("cancel an order"), frozenset({S})),
        # decisions: managers
        Permission("lot.release", N_("release a lot"), frozenset({M})),
        Permission("lot.quarantine", N_("quarantine a lot"), frozenset({M})),
        Permission("lot.recall", N_("recall a lot"), frozenset({M})),
        Permission("kit.release", N_("release a kit returned sealed"), frozenset({M})),
        Permission("stock.writeoff_large", N_("write off this many units"), frozenset({M})),
        Permission("po.approve", N_("approve a purchase order"), frozenset({M})),
        Permission("po.send", N_("send a purchase order"), frozenset({M})),
        Permission("po.cancel", N_("cancel a purchase order"), frozenset({M})),
        Permission("order.refund", N_("refund an order"), frozenset({M})),
        Permission("supplier.edit", N_("change suppliers"), frozenset({M})),
        Permission("policy.edit", N_("change reorder policies"), frozenset({M})),
        Permission("report.run", N_("run reports"), frozenset({M})),
        Permission("audit.read", N_("read the audit log"), frozenset({M})),
        Permission("clinic.close", N_("close a clinic for a holiday"), frozenset({M})),
        # the cron jobs: the job user, or a manager by hand
        Permission("reorder.run", N_("run the reorder job"), frozenset({M, J})),
        Permission("expiry.sweep", N_("run the expiry sweep"), frozenset({M, J})),
        Permission("expiry.sweep_as_of", N_("sweep as of another day than today"), frozenset({M})),
        Permission("payment.sync", N_("apply payment events"), frozenset({M, J})),
        Permission("webhook.deliver", N_("deliver events to webhooks"), frozenset({A, J})),
        Permission("alert.send", N_("send the email alerts"), frozenset({A, J})),
        # set-up: admins
        Permission("catalog.edit", N_("change the catalogue"), frozenset({A})),
        Permission("location.edit", N_("add locations"), frozenset({A})),
        Permission("plan.edit", N_("add treatment plans"), frozenset({A})),
        Permission("price.set", N_("set prices"), frozenset({A})),
        Permission("vat.set", N_("set VAT rates"), frozenset({A})),
        Permission("setting.set", N_("change settings"), frozenset({A})),
        Permission("import.run", N_("import CSV files"), frozenset({A})),
        Permission("user.manage", N_("manage users"), frozenset({A})),
        Permission("token.manage", N_("manage API tokens"), frozenset({A})),
        Permission("webhook.manage", N_("manage outbound webhooks"), frozenset({A})),
        Permission("demo.load", N_("load the demo data"), frozenset({A})),
        Permission("db.reset", N_("erase the database"), frozenset({A})),
        # the nightly backup is a cron job: it reads everything and changes nothing
        Permission("db.backup", N_("back up the database"), frozenset({A, J})),
        Permission("db.restore", N_("restore a backup"), frozenset({A})),
        # a schema upgrade: an admin, or whoever owns the database (kitops.services.admin)
        Permission("db.upgrade", N_("upgrade the database schema"), frozenset({A})),
    )
}

# Allowed on a database that has no users yet: creating the first admin, the demo data
# (which brings its own users), replacing the database wholesale, and bringing its schema
# up to date (`make run` upgrades a new database before anyone exists).
BOOTSTRAP = frozenset({"user.manage", "demo.load", "db.reset", "db.restore", "db.upgrade"})

BOOTSTRAP_MESSAGE = N_(
    "this database has no users yet: create the first admin with "
    "`kitops user add NAME --role admin` (or load the demo data: `kitops demo`)"
)


def bootstrap_message() -> str:
    """``BOOTSTRAP_MESSAGE`` in the language in force."""
    return i18n.gettext(BOOTSTRAP_MESSAGE)


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
    return _("{user} ({role}) may not {doing}: {holders} may").format(
        user=user,
        role=Role(role),
        doing=doing or i18n.gettext(wanted.doing),
        holders=wanted.holders,
    )


def permissions_of(role: Role | str) -> list[str]:
    """Every permission a role holds, in table order."""
    return [name for name, p in PERMISSIONS.items() if p.allows(Role(role))]
