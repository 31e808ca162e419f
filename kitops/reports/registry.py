"""Every report, its options and the use case that builds it: one entry each.

The command line turns each entry into ``kitops report NAME`` with the common options
(``--clinic``, ``--as-of``, ``--format``, ``--out``) plus the entry's own; the TUI can
list the same entries. Adding a report (``payments``, say) is one ``ReportSpec`` here and
a builder function ``(uow, request) -> Report``. Builders (and the report DTOs) are
imported when they run, so reading this registry loads no database code: the command
line builds its ``report`` commands from it at start-up, and ``kitops --help`` must not
load SQLAlchemy. The builders import ``ReportRequest`` from ``kitops.services.dto.reports``,
not from here, so no import runs back from a builder to this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from kitops.errors import InvalidInput
from kitops.i18n import N_, _

if TYPE_CHECKING:
    from kitops.services.dto.reports import Report, ReportRequest
    from kitops.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ReportOption:
    """A report's own option: ``--NAME VALUE`` on the command line, given as text."""

    name: str
    metavar: str
    help: str
    default: str | None = None


Builder = Callable[["UnitOfWork", "ReportRequest"], "Report"]


@dataclass(frozen=True)
class ReportSpec:
    name: str
    # what a person calls it (English, marked with N_): the terminal UI's report picker and
    # the web's list of reports show it translated; the command line and URLs keep ``name``
    label: str
    # English, marked with N_: the command line says them with _() in the language in force
    summary: str  # one line, for `kitops report --help`
    description: str  # the command's help text
    build: Builder
    options: tuple[ReportOption, ...] = ()
    # the section that can run to tens of thousands of lines (one per lot, move...): the
    # one a ``ReportRequest.window`` pages; None: every section is short
    lines: str | None = None


def _stock(uow: UnitOfWork, request: ReportRequest) -> Report:
    from kitops.reports.stock import stock_report

    return stock_report(uow, request)


def _expiring(uow: UnitOfWork, request: ReportRequest) -> Report:
    from kitops.reports.expiring import expiring_report

    return expiring_report(uow, request)


def _kits(uow: UnitOfWork, request: ReportRequest) -> Report:
    from kitops.reports.kits import kits_report

    return kits_report(uow, request)


def _demand(uow: UnitOfWork, request: ReportRequest) -> Report:
    from kitops.reports.demand import demand_report

    return demand_report(uow, request)


def _cover(uow: UnitOfWork, request: ReportRequest) -> Report:
    from kitops.reports.demand import cover_report

    return cover_report(uow, request)


def _wastage(uow: UnitOfWork, request: ReportRequest) -> Report:
    from kitops.reports.wastage import wastage_report

    return wastage_report(uow, request)


def _valuation(uow: UnitOfWork, request: ReportRequest) -> Report:
    from kitops.reports.valuation import valuation_report

    return valuation_report(uow, request)


def _movements(uow: UnitOfWork, request: ReportRequest) -> Report:
    from kitops.reports.movements import movements_report

    return movements_report(uow, request)


def _payments(uow: UnitOfWork, request: ReportRequest) -> Report:
    from kitops.reports.payments import payments_report_model

    return payments_report_model(uow, request)


WEEKS = ReportOption("weeks", "N", N_("How many weeks ahead, from the week of --as-of."), "12")

_SPECS = (
    ReportSpec(
        "stock",
        N_("Stock on hand"),
        N_("On hand by product, lot and location, with status and days to expiry; clinic totals."),
        N_(
            "Stock on hand by clinic, product, lot and location: status (quarantine, released, "
            "expired, recalled), days to expiry and value at cost; totals per clinic and currency."
        ),
        _stock,
        lines="lines",
    ),
    ReportSpec(
        "expiring",
        N_("Expiring stock"),
        N_("Lots and kits expiring in the window, bucketed by 30 days, with value and promises."),
        N_(
            "Lots and kits on hand that expire within the window (and any already expired still "
            "on a shelf), bucketed 0-30 / 31-60 / 61-90 days, with quantity, value at cost and "
            "how many are already promised to a course."
        ),
        _expiring,
        (ReportOption("within", "DAYS", N_("The window: 90, 90d or 13w."), "90d"),),
        lines="lines",
    ),
    ReportSpec(
        "kits",
        N_("Kits against courses"),
        N_(
            "Assembled kits by expiry against the courses needing one each week; what could be "
            "built."
        ),
        N_(
            "Per clinic and kit: available kits by expiry bucket; the kits courses need in each "
            "coming week and how many of those today's kits can serve (expiry-aware, as the "
            "fulfil batch would); how many more kits loose stock would make."
        ),
        _kits,
        (WEEKS,),
    ),
    ReportSpec(
        "demand",
        N_("Scheduled demand"),
        N_("Vials, stamps and kits needed per clinic and week from courses, against usable stock."),
        N_(
            "Scheduled demand per clinic and week (home kits, their components when no kit is "
            "reserved yet, and clinic sessions) against usable stock: released and still in date "
            "on the day of need."
        ),
        _demand,
        (WEEKS,),
    ),
    ReportSpec(
        "cover",
        N_("Days of cover"),
        N_("Days of cover per product and clinic from scheduled demand."),
        N_(
            "Days of cover per product and clinic: how long usable stock lasts against the "
            "scheduled demand, day by day, counting only stock still in date when it is needed."
        ),
        _cover,
        (ReportOption("days", "N", N_("How far ahead to look for demand."), "180"),),
    ),
    ReportSpec(
        "wastage",
        N_("Wastage"),
        N_("Units and value written off or expired, per month and reason; the trend."),
        N_(
            "Units and value wasted per month and reason: written off (damaged, opened, expired, "
            "other) and expired on a shelf (on hand at the end of the lot's expiry day); the trend "
            "of the last three months against the three before."
        ),
        _wastage,
        (
            ReportOption(
                "months", "N", N_("How many calendar months, ending with --as-of's."), "12"
            ),
        ),
    ),
    ReportSpec(
        "valuation",
        N_("Stock valuation"),
        N_("Stock value at FIFO cost by lot, per clinic and currency."),
        N_(
            "Stock value at cost by lot (each lot carries the unit cost it was received at, so "
            "every unit on hand is valued at the cost of its own receipt: FIFO by lot), per clinic "
            "and currency, with the part that is usable."
        ),
        _valuation,
        lines="lots",
    ),
    ReportSpec(
        "movements",
        N_("Ledger moves"),
        N_("The ledger extract between two dates, for audits."),
        N_(
            "Every ledger move between two dates (inclusive, UTC days), with product, lot, from, "
            "to, quantity, reason, reference and actor, and totals per reason."
        ),
        _movements,
        (
            ReportOption("from", "YYYY-MM-DD", N_("First day (default: 30 days before --to).")),
            ReportOption("to", "YYYY-MM-DD", N_("Last day (default: --as-of).")),
        ),
        lines="moves",
    ),
    ReportSpec(
        "payments",
        N_("Payments"),
        N_("Orders paid, refunded and outstanding per clinic and currency."),
        N_(
            "Per clinic and currency: orders, money received (confirmed by Stripe), refunded, "
            "net, and what unpaid orders (open, pending, failed) still owe; --from/--to bound "
            "the orders' creation day (UTC)."
        ),
        _payments,
        (
            ReportOption("from", "YYYY-MM-DD", N_("First day orders were created (default: all).")),
            ReportOption("to", "YYYY-MM-DD", N_("Last day orders were created (default: all).")),
        ),
    ),
)

REPORTS: Mapping[str, ReportSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})


def run_report(uow: UnitOfWork, name: str, request: ReportRequest) -> Report:
    """Build report ``name`` in one read-only unit of work. With ``request.window`` the
    report's line section (``ReportSpec.lines``) holds that page of its lines and says
    how many there are in all: the stock report reads only that page from the database;
    the others are built whole and cut."""
    from dataclasses import replace

    from kitops.services.dto.reports import ReportRequest

    spec = REPORTS.get(name.strip().lower())
    if spec is None:
        raise InvalidInput(
            "report", name, _("must be one of {choices}").format(choices="|".join(REPORTS))
        )
    known = {option.name for option in spec.options}
    for key in request.options:
        if key not in known:
            raise InvalidInput(
                key,
                request.options[key],
                _("is not an option of `report {name}`").format(name=name),
            )
    defaults = {o.name: o.default for o in spec.options}
    given = {k: v for k, v in request.options.items() if v not in (None, "")}
    window = request.window if spec.lines else None
    if window is not None and (window.offset < 0 or window.limit < 1):
        raise InvalidInput("window", f"{window.offset}+{window.limit}",
                           _("must be offset 0 or more and limit 1 or more"))  # fmt: skip
    merged = ReportRequest(request.clinic, request.as_of, {**defaults, **given}, window)
    uow.require("report.run")
    built = spec.build(uow, merged)
    if window is None:
        return built
    sections = []
    for section in built.sections:
        if section.key == spec.lines and section.total is None:
            rows = section.rows[window.offset : window.offset + window.limit]
            section = replace(section, rows=rows, total=len(section.rows), offset=window.offset)
        sections.append(section)
    return replace(built, sections=tuple(sections))
