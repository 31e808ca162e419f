"""Big lists and reports paged where they are shown, on the demo data: the stock report's
lines a page at a time in the web page and the API (totals and notes over every line,
the downloads whole), the expiring page's window and pages in the query, and the
purchase orders paged by the API's cursor."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from pages_support import logged_in, web_secret  # noqa: F401

from kitops.services import purchasing, reorder
from kitops.services.unit_of_work import UnitOfWork
from tests.web.api_support import API, assert_problem, bearer

pytestmark = pytest.mark.demo_data
DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day
DAY = "2026-11-22"


@pytest.fixture(autouse=True)
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


def _report_pages(client, url: str, headers: dict[str, str]) -> list[dict]:
    """Every page of a report from ``url`` on, following ``page.next``."""
    pages = []
    while url:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        url = pages[-1]["page"]["next"]
    return pages


# --- the API -----------------------------------------------------------------------------


@pytest.mark.parametrize("clinic", ["", "LON"])
def test_the_stock_report_api_pages_its_lines_and_totals_every_line(db, web, clinic):
    client, manager = web.client(), bearer(db, "manager")
    browser = logged_in(web.client(), web.user("maria", "manager", "1357"), "1357")
    every = browser.get("/reports/stock/download.json", params={"as_of": DAY, "clinic": clinic})
    full = every.json()
    lines = full["sections"]["lines"]
    assert len(lines) > 7

    pages = _report_pages(client, f"{API}/reports/stock?as_of={DAY}&clinic={clinic}&limit=7",
                          manager)  # fmt: skip
    assert len(pages) == -(-len(lines) // 7)
    walked = [line for page in pages for line in page["sections"]["lines"]]
    assert walked == lines  # the same lines in the same order, each once
    for number, page in enumerate(pages):
        assert page["page"]["section"] == "lines"
        assert page["page"]["total"] == len(lines)
        assert page["page"]["offset"] == 7 * number
        assert page["sections"]["totals"] == full["sections"]["totals"]  # over every line
        assert page["notes"] == full["notes"]
    assert pages[-1]["page"]["next"] is None
    assert len(pages[-1]["sections"]["lines"]) == len(lines) - 7 * (len(pages) - 1)


def test_the_stock_report_api_answers_500_lines_by_default_and_says_the_total(db, web):
    client, manager = web.client(), bearer(db, "manager")
    body = client.get(f"{API}/reports/stock?as_of={DAY}", headers=manager).json()
    assert body["page"] == {"section": "lines", "total": 34, "offset": 0, "limit": 500,
                            "next": None}  # fmt: skip
    assert len(body["sections"]["lines"]) == 34


def test_a_cursor_past_the_last_line_is_an_empty_last_page(db, web):
    from kitops.web.api.common import make_cursor

    client, manager = web.client(), bearer(db, "manager")
    body = client.get(f"{API}/reports/stock?as_of={DAY}&cursor={make_cursor(40)}",
                      headers=manager).json()  # fmt: skip
    assert body["sections"]["lines"] == []
    assert body["page"]["total"] == 34
    assert body["page"]["next"] is None
    assert body["sections"]["totals"]  # still over every line


@pytest.mark.parametrize(("name", "section", "options"), [
    ("expiring", "lines", "&within=90d"),
    ("valuation", "lots", ""),
    ("movements", "moves", "&from=2026-01-01"),
])  # fmt: skip
def test_every_long_report_pages_its_line_section(db, web, name, section, options):
    client, manager = web.client(), bearer(db, "manager")
    whole = client.get(f"{API}/reports/{name}?as_of={DAY}{options}&limit=1000", headers=manager)
    everything = whole.json()["sections"][section]
    assert len(everything) > 3
    pages = _report_pages(client, f"{API}/reports/{name}?as_of={DAY}{options}&limit=3", manager)
    assert [line for page in pages for line in page["sections"][section]] == everything
    assert {page["page"]["total"] for page in pages} == {len(everything)}


def test_a_report_without_a_long_section_has_no_page(db, web):
    body = web.client().get(f"{API}/reports/payments", headers=bearer(db, "manager")).json()
    assert "page" not in body


@pytest.mark.parametrize(("query", "field"), [
    ("cursor=not-a-cursor", "cursor"),
    ("cursor=bzotMQ", "cursor"),  # "o:-1"
    ("limit=0", "limit"),
    ("limit=1001", "limit"),
])  # fmt: skip
def test_a_bad_cursor_or_limit_is_a_problem_naming_it(db, web, query, field):
    answer = web.client().get(f"{API}/reports/stock?{query}", headers=bearer(db, "manager"))
    assert_problem(answer, 422, field)


# --- the report page ---------------------------------------------------------------------


def _rows(html: str, title: str) -> list[str]:
    """The body rows of the section titled ``title``."""
    part = html.split(f"<h2>{title}</h2>", 1)[1].split("</section>", 1)[0]
    return re.findall(r"<tr>(<td.*?)</tr>", part, flags=re.S)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]*)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_stock_report_page_shows_a_page_of_lines_with_links_either_side(web, monkeypatch):
    from kitops.web.pages import reports as report_pages

    monkeypatch.setattr(report_pages, "SHOWN_ROWS", 10)
    browser = logged_in(web.client(), web.user("maria", "manager", "1357"), "1357")
    download = browser.get("/reports/stock/download.json", params={"clinic": "LON"})
    every = download.json()["sections"]["lines"]
    assert len(every) > 10
    title = "On hand by clinic, product, lot and location"
    url: str | None = "/reports/stock?clinic=LON"
    seen, totals = [], set()
    while url:
        page = browser.get(url)
        assert page.status_code == 200, page.text[-300:]
        assert f"of {len(every)}; the downloads hold every line" in page.text
        assert 'href="/reports/stock/download.csv?clinic=LON"' in page.text  # never paged
        seen += _rows(page.text, title)
        totals.add(tuple(_rows(page.text, "Totals per clinic and currency")))
        if seen[10:]:
            assert _link(page.text, "prev") is not None
        url = _link(page.text, "next")
    assert len(seen) == len(every)
    assert [re.findall(r"<td[^>]*>(.*?)</td>", row)[4] for row in seen] == [
        line["lot"] for line in every
    ]
    assert len(totals) == 1  # the same totals on every page
    second = browser.get("/reports/stock?clinic=LON&offset=10")
    assert _link(second.text, "prev") == "/reports/stock?clinic=LON&offset=0"
    assert browser.get("/reports/stock?offset=-1").status_code == 422
    assert browser.get("/reports/stock?offset=many").status_code == 422


# --- the expiring page -------------------------------------------------------------------


def _expiring_lots(html: str) -> list[str]:
    return re.findall(r'<a href="/lots/[^"]*">([^<]*)</a></td><td class="n">', html)


def test_the_expiring_page_pages_the_window_in_the_query(web, monkeypatch):
    from kitops.web.pages import stock as stock_pages

    browser = logged_in(web.client(), web.user("ollie", "stockroom", "1357"), "1357")
    whole = browser.get("/expiring", params={"days": 90})
    every = _expiring_lots(whole.text)
    assert len(every) > 2
    summary = re.search(r"<p>(\d+ lines, \d+ usable units expire within 90 days)", whole.text)
    assert summary is not None
    monkeypatch.setattr(stock_pages, "PAGE", 2)
    url: str | None = "/expiring?days=90"
    seen: list[str] = []
    while url:
        page = browser.get(url)
        assert page.status_code == 200
        assert summary.group(1) in page.text  # the count and units of every line
        seen += _expiring_lots(page.text)
        url = _link(page.text, "next")
    assert seen == every
    assert len(_expiring_lots(browser.get("/expiring?days=30").text)) <= 2
    assert browser.get("/expiring", params={"offset": "-2"}).status_code == 422


# --- purchase orders ---------------------------------------------------------------------


@pytest.fixture
def orders(db) -> list[str]:
    """Purchase orders of two clinics (drafted by the reorder job); one approved."""
    reorder.run(UnitOfWork(db, "tester"), as_of=None)
    made = [o.number for o in purchasing.list_orders(UnitOfWork(db, "tester"), status="open")]
    for number in made[1:]:
        purchasing.change_status(UnitOfWork(db, "tester"), number, "approve")
    return made


def test_purchase_orders_page_in_the_query_newest_first(db, web, orders):
    client, stock = web.client(), bearer(db, "stock")
    walked, url = [], f"{API}/purchase-orders?status=all&limit=1"
    while url:
        body = client.get(url, headers=stock).json()
        assert body["total"] == len(orders)
        walked += [order["number"] for order in body["items"]]
        url = body["next"]
    assert walked == sorted(orders, reverse=True)
    drafts = client.get(f"{API}/purchase-orders?status=draft", headers=stock).json()
    assert [o["number"] for o in drafts["items"]] == orders[:1]
    assert drafts["total"] == 1


def test_purchase_orders_search_the_number_supplier_and_skus_in_the_query(db, web, orders):
    client, stock = web.client(), bearer(db, "stock")
    every = client.get(f"{API}/purchase-orders?status=all", headers=stock).json()["items"]
    first = every[0]

    def found(text: str) -> list[str]:
        body = client.get(f"{API}/purchase-orders", params={"status": "all", "search": text},
                          headers=stock).json()  # fmt: skip
        assert body["total"] == len(body["items"])
        return [o["number"] for o in body["items"]]

    def expected(text: str) -> list[str]:
        needle = text.lower()
        return [
            o["number"] for o in every
            if needle in o["number"].lower() or needle in o["supplier"].lower()
            or needle in o["supplier_name"].lower()
            or any(needle in line["sku"].lower() for line in o["lines"])
        ]  # fmt: skip

    for text in (
        first["number"],
        first["number"][-2:].lower(),
        first["supplier"][:3],
        first["supplier_name"].upper(),
        first["lines"][0]["sku"].lower(),
        "zzz-none",
    ):
        assert found(text) == expected(text), text  # fmt: skip
    assert found(first["number"]) == [first["number"]]


def test_a_bad_purchase_order_cursor_is_a_problem(db, web, orders):
    answer = web.client().get(f"{API}/purchase-orders?cursor=@@", headers=bearer(db, "stock"))
    assert_problem(answer, 422, "cursor")
