"""``kitops report payments``: orders paid, refunded and outstanding per clinic and
currency, as a registry report drawn from the payments service's figures
(:func:`kitops.services.payments.payments_report`)."""

from __future__ import annotations

from datetime import date

from kitops.i18n import N_
from kitops.services.dto.reports import Column, Kind, Report, ReportRequest, Section
from kitops.services.payments import optional_day, payments_report
from kitops.services.unit_of_work import UnitOfWork


def payments_report_model(uow: UnitOfWork, request: ReportRequest) -> Report:
    """``kitops report payments``: :func:`payments_report` as a registry report (options
    ``from`` and ``to`` bound the orders' creation day)."""
    lines = payments_report(uow, clinic=request.clinic, since=request.option("from"),
                            until=request.option("to"))  # fmt: skip
    as_of = optional_day(request.as_of, "as-of") or date.today()
    columns = (
        Column("clinic", N_("Clinic")), Column("currency", N_("Currency")),
        Column("orders", N_("Orders"), Kind.INT), Column("paid_orders", N_("Paid"), Kind.INT),
        Column("paid", N_("Received"), Kind.MONEY), Column("refunded", N_("Refunded"), Kind.MONEY),
        Column("net", N_("Net"), Kind.MONEY), Column("outstanding_orders", N_("Unpaid"), Kind.INT),
        Column("outstanding", N_("Outstanding"), Kind.MONEY),
    )  # fmt: skip
    rows = tuple(
        (line.clinic, line.currency, line.orders, line.paid_orders,
         line.paid, line.refunded, line.net, line.outstanding_orders, line.outstanding)
        for line in lines
    )  # fmt: skip
    window = tuple((k, str(request.option(k))) for k in ("from", "to") if request.option(k))
    return Report(
        name="payments",
        title=N_("Payments per clinic and currency"),
        as_of=as_of,
        clinic=request.clinic.strip().upper() if request.clinic else None,
        parameters=window,
        sections=(Section("payments", N_("Orders per clinic and currency"), columns, rows),),
        notes=(
            N_(
                "Received: money Stripe confirmed for paid orders; refunded: refunds Stripe "
                "confirmed; outstanding: what open, pending and failed orders still owe. "
                "Cancelled orders count as orders and owe nothing."
            ),
        ),
    )
