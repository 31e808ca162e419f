"""Each web request speaks its logged-in user's language: theirs, else their clinic's
locale, else the server's; a request without a session speaks the server's."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from pages_support import logged_in, web_secret  # noqa: F401

from kitops.i18n import current_locale
from kitops.services import locales, purchasing, users
from kitops.services.unit_of_work import UnitOfWork

LOCALE_PROBE = "/_locale-probe"
DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day


def probed(client: Any) -> Any:
    """``client`` with a route that answers the language its request speaks."""

    def probe() -> dict[str, str]:
        return {"locale": current_locale()}

    client.app.add_api_route(LOCALE_PROBE, probe)
    return client


def test_each_request_speaks_its_users_language(web, db):
    web.user("maria", "manager", "1357")
    web.user("jonas", "manager", "2468")
    locales.set_user_language(UnitOfWork(db, "tester"), "jonas", "de_AT")
    maria = probed(logged_in(web.client(), "maria", "1357"))
    jonas = probed(logged_in(web.client(), "jonas", "2468"))
    nobody = probed(web.client())

    assert jonas.get(LOCALE_PROBE).json() == {"locale": "de_AT"}
    assert maria.get(LOCALE_PROBE).json() == {"locale": "en"}  # the server's (tests: C)
    assert nobody.get(LOCALE_PROBE).json() == {"locale": "en"}
    assert current_locale() == "en"  # the server process's language is untouched

    # at the same time, each its own
    answers: dict[str, str] = {}

    def ask(name: str, client: Any) -> None:
        answers[name] = client.get(LOCALE_PROBE).json()["locale"]

    threads = [threading.Thread(target=ask, args=pair) for pair in
               (("maria", maria), ("jonas", jonas))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {"maria": "en", "jonas": "de_AT"}


def test_a_user_limited_to_one_clinic_reads_its_locale(web, db):
    from kitops.services.locations import add_location

    for code, zone, tag in (("LON", "Europe/London", "en_GB"), ("VIE", "Europe/Vienna", "de")):
        add_location(UnitOfWork(db, "tester"), code, code, timezone=zone, locale=tag)
    web.user("vera", "manager", "1357")
    users.set_clinics(UnitOfWork(db, "tester"), "vera", ["LON"])
    vera = probed(logged_in(web.client(), "vera", "1357"))
    assert vera.get(LOCALE_PROBE).json() == {"locale": "en_GB"}


@pytest.mark.demo_data
def test_a_clinics_files_are_in_its_locale_whoever_downloads_them(web, db, monkeypatch):
    """The course calendar, the purchase order PDF and a report file for one clinic."""
    from sqlalchemy import select

    from kitops.data.schema import CourseRow, LocationRow
    from kitops.documents import calendar, purchase_orders, report_files
    from kitops.services import reorder

    heard: list[tuple[str, str]] = []

    def recorder(name: str, result: Any) -> Any:
        def made(*_args: Any, **_kwargs: Any) -> Any:
            heard.append((name, current_locale()))
            return result

        return made

    monkeypatch.setattr(calendar, "build_calendar", recorder("calendar", b"BEGIN:VCALENDAR"))
    monkeypatch.setattr(purchase_orders, "order_pdf", recorder("pdf", b"%PDF"))
    monkeypatch.setattr(report_files, "render", recorder("report", "report"))
    with db.engine.connect() as conn:
        courses = dict(conn.execute(
            select(LocationRow.code, CourseRow.id)
            .join(LocationRow, LocationRow.id == CourseRow.clinic_id)
        ).all())  # fmt: skip
    with time_machine.travel(DEMO_NOON, tick=False):
        drafts = reorder.run(UnitOfWork(db, "tester")).orders_created
    assert drafts
    for number in drafts:  # whichever clinics order: Vienna's locale for all of them
        order = purchasing.show_order(UnitOfWork(db, "tester", readonly=True), number)
        locales.set_clinic_locale(UnitOfWork(db, "tester"), order.clinic, "de_AT")
    web.user("nina", "manager", "1357")
    locales.set_user_language(UnitOfWork(db, "tester"), "nina", "en_GB")
    nina = logged_in(web.client(), "nina", "1357")
    paths = [
        f"/courses/{courses['VIE']}/calendar.ics",
        f"/courses/{courses['LON']}/calendar.ics",
        *(f"/purchase-orders/{n}/pdf" for n in drafts),
        "/reports/stock/download.csv?clinic=VIE",
        "/reports/stock/download.csv",
    ]
    for path in paths:
        assert nina.get(path).status_code == 200, path
    assert heard == [
        ("calendar", "de_AT"),
        ("calendar", "en_GB"),
        *(("pdf", "de_AT") for _ in drafts),
        ("report", "de_AT"),
        ("report", "en_GB"),
    ]
