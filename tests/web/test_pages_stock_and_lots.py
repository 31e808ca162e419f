"""The stock, expiring and lot pages on the demo data: filters in the query string, the
lot's trace, and release, quarantine and recall for managers only."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from pages_support import csrf_of, logged_in, web_secret  # noqa: F401
from sqlalchemy import select

from kitops.data.schema import AuditRow, LotRow

pytestmark = pytest.mark.demo_data
DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day


@pytest.fixture(autouse=True)
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


def lot_status(db, code: str) -> str:
    with db.engine.connect() as conn:
        return str(conn.scalar(select(LotRow.status).where(LotRow.code == code)))


def refusals(db, actor: str) -> list[str]:
    with db.engine.connect() as conn:
        return list(
            conn.scalars(
                select(AuditRow.entity_key).where(
                    AuditRow.actor == actor, AuditRow.action == "access.refused"
                )
            )
        )


def rows_of(html: str) -> list[str]:
    return re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)[1:]


def test_stock_filters_by_clinic_location_sku_and_status_in_the_query_string(web):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    everything = browser.get("/stock")
    assert everything.status_code == 200
    assert "PTT6-A0519" in everything.text
    assert "DS04-2401" in everything.text

    serum_lon = browser.get("/stock", params={"clinic": "LON", "sku": "SERUM-5ML"})
    assert serum_lon.status_code == 200
    assert "PTT6-A0519" in serum_lon.text
    assert "DS04-2401" not in serum_lon.text
    assert "PTT6-A0711" not in serum_lon.text  # Vienna's lot
    quarantined = browser.get("/stock", params={"status": "quarantine"})
    assert "PTT6-C0115" in quarantined.text
    assert "PTT6-A0519" not in quarantined.text
    at_quarantine = browser.get("/stock", params={"location": "LON-QUAR"})
    assert "PTT6-C0115" in at_quarantine.text
    assert "PTT6-A0519" not in at_quarantine.text


def test_stock_is_paged_with_links_that_keep_the_filters(web, monkeypatch):
    monkeypatch.setattr("kitops.web.pages.stock.PAGE", 3)
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    first = browser.get("/stock", params={"clinic": "LON", "sort": "lot"})
    total = int(re.search(r"(\d+) lines, 1–3 shown", first.text).group(1))
    assert total > 3
    assert len(rows_of(first.text)) == 3
    (next_link,) = re.findall(r'href="(/stock\?[^"]*)">Next', first.text)
    assert "clinic=LON" in next_link
    assert "offset=3" in next_link
    second = browser.get(html.unescape(next_link))
    assert "4–6 shown" in second.text
    assert set(rows_of(first.text)).isdisjoint(rows_of(second.text))


def test_htmx_asks_for_the_stock_table_only(web):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    part = browser.get("/stock", params={"sku": "SERUM-5ML"}, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert "<html" not in part.text
    assert "PTT6-A0519" in part.text


def test_a_bad_filter_is_one_line_naming_the_field(web):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    page = browser.get("/stock", params={"status": "lost"})
    assert page.status_code == 422
    assert "status 'lost': must be one of all|usable|quarantine" in html.unescape(page.text)
    assert browser.get("/expiring", params={"days": "45"}).status_code == 422


@pytest.mark.parametrize(("days", "inside", "outside"), [
    (30, "PTT6-A0519", "PTT6-A0603"),
    (60, "PTT6-A0603", "PTT6-A0711"),
    (90, "PTT6-A0711", "PTT6-B0902"),
])  # fmt: skip
def test_expiring_lists_the_usable_lots_within_30_60_or_90_days(web, days, inside, outside):
    web.user("ollie", "stockroom", "1357")
    page = logged_in(web.client(), "ollie", "1357").get("/expiring", params={"days": days})
    assert page.status_code == 200
    assert inside in page.text
    assert outside not in page.text
    assert "PTT6-A0412" not in page.text  # already past its day: not usable


def test_the_expiring_list_reads_its_window_whatever_the_read_sides_page(web, monkeypatch):
    """The read side answers at most MAX_PAGE lines a query; the expiring page asks for a
    page of its own (50 lines) and counts every line of the window in the query."""
    from kitops.data.queries import paging

    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    whole = browser.get("/expiring", params={"days": 90}).text
    expiring = rows_of(whole)
    assert len(expiring) > 2
    monkeypatch.setattr(paging, "MAX_PAGE", 2)
    page = browser.get("/expiring", params={"days": 90}).text
    assert rows_of(page) == expiring[:2]
    count = re.search(r"<p>\d+ lines, \d+ usable units", whole)
    assert count is not None
    assert count.group(0) in page


def test_the_lot_page_traces_the_lot(web):
    web.user("ollie", "stockroom", "1357")
    page = logged_in(web.client(), "ollie", "1357").get("/lots/PTT6-A0519")
    assert page.status_code == 200
    assert "Lot PTT6-A0519" in page.text
    assert "Movements" in page.text
    assert "LON" in page.text
    assert "Recall lot" not in page.text  # no decision buttons for stockroom staff


def test_an_unknown_lot_is_one_line(web):
    web.user("ollie", "stockroom", "1357")
    page = logged_in(web.client(), "ollie", "1357").get("/lots/NOPE-1")
    assert page.status_code == 422
    assert "NOPE-1" in page.text


def test_a_manager_releases_the_quarantined_lot(web, db):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    page = browser.get("/lots/PTT6-C0115")
    assert "Release lot PTT6-C0115" in page.text
    answer = browser.post(
        "/lots/PTT6-C0115/status",
        data={"csrf": csrf_of(page), "action": "release", "sku": "SERUM-5ML"},
    )
    assert answer.status_code == 303
    assert lot_status(db, "PTT6-C0115") == "released"
    shown = browser.get(answer.headers["location"])
    assert "is now released" in shown.text


def test_a_recall_needs_a_reason(web, db):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    page = browser.get("/lots/PTT6-A0603")
    answer = browser.post(
        "/lots/PTT6-A0603/status", data={"csrf": csrf_of(page), "action": "recall", "reason": " "}
    )
    assert answer.status_code == 422
    assert "reason" in answer.text
    assert lot_status(db, "PTT6-A0603") == "released"


def test_a_manager_recalls_a_lot_and_sees_the_courses_it_reaches(web, db):
    """The demo's home kits hold serum lot PTT6-B0902 and are reserved for courses."""
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    before = browser.get("/lots/PTT6-B0902")
    assert "Courses this lot reaches" not in before.text
    answer = browser.post("/lots/PTT6-B0902/status",
                          data={"csrf": csrf_of(before), "action": "recall",
                                "reason": "supplier notice 77"})  # fmt: skip
    assert answer.status_code == 303
    assert lot_status(db, "PTT6-B0902") == "recalled"
    after = browser.get(answer.headers["location"])
    assert "recalled (supplier notice 77)" in after.text
    assert "Courses this lot reaches" in after.text
    assert "Kits a recall took from their course" in after.text
    assert 'href="/courses/1"' in after.text
    assert "K0000001" in after.text
    assert "Recall lot" not in after.text  # recalled already


def test_stockroom_staff_are_refused_a_recall_with_403_and_an_audit_row(web, db):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    page = browser.get("/lots/PTT6-A0519")
    answer = browser.post(
        "/lots/PTT6-A0519/status", data={"csrf": csrf_of(page), "action": "recall", "reason": "x"}
    )
    assert answer.status_code == 403
    assert "ollie" in answer.text
    assert "recall" in answer.text
    assert lot_status(db, "PTT6-A0519") == "released"
    assert refusals(db, "ollie") == ["lot.recall"]


def test_a_recall_without_the_csrf_token_changes_nothing(web, db):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    answer = browser.post("/lots/PTT6-A0519/status", data={"action": "recall", "reason": "x"})
    assert answer.status_code == 403
    assert lot_status(db, "PTT6-A0519") == "released"
