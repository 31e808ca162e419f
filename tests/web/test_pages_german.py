"""The pages in German: headings, navigation, statuses, dates and money as the locale
writes them, while the JSON API keeps its English keys and stored words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from pages_support import logged_in, web_secret  # noqa: F401

from kitops import i18n
from kitops.services import reorder
from kitops.services.unit_of_work import UnitOfWork

DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day

pytestmark = pytest.mark.demo_data


@pytest.fixture
def german(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # the server's environment is Austrian German; the users chose no language of their own
    monkeypatch.setenv("LANGUAGE", "de_AT")
    i18n.set_default_locale("de_AT")
    try:
        with time_machine.travel(DEMO_NOON, tick=False):
            yield
    finally:
        i18n.set_default_locale("en")


def test_the_dashboard_speaks_german(web, german):
    web.user("maria", "manager", "1357")
    page = logged_in(web.client(), "maria", "1357").get("/")
    assert page.status_code == 200
    text = page.text
    assert '<html lang="de-AT">' in text
    for heading in ("Übersicht", "Wartet auf Freigabe", "Letzte Aktivität", "Bestellungen"):
        assert heading in text, heading
    assert "Abmelden" in text
    assert ">Awaiting release<" not in text
    assert "22.11.2026" in text  # the demo day, as Austria writes it


def test_stock_lines_show_german_statuses_and_dates(web, german):
    web.user("maria", "manager", "1357")
    page = logged_in(web.client(), "maria", "1357").get("/stock", params={"status": "all"})
    assert page.status_code == 200
    assert "Vorrätiger Bestand" in page.text
    assert ">freigegeben<" in page.text
    assert ">released<" not in page.text


def test_the_reorder_preview_shows_money_as_the_locale_writes_it(web, german):
    web.user("maria", "manager", "1357")
    page = logged_in(web.client(), "maria", "1357").get("/reorder")
    assert page.status_code == 200, page.text
    assert "Vorschau der Nachbestellung" in page.text
    assert re.search(r"[£€]\xa0\d+(\.\d{3})*,\d\d<", page.text), "an amount like € 315,00"
    assert not re.search(r"\d\.\d\d (GBP|EUR)<", page.text)  # not the neutral 315.00 GBP


def test_the_api_keeps_english_keys_and_stored_words_in_german(db, web, german):
    from api_support import API, bearer

    answer = web.client().get(f"{API}/stock?limit=50", headers=bearer(db, "stock"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {"items", "total", "next"} <= set(body)
    assert {line["status"] for line in body["items"]} >= {"released"}
    assert "freigegeben" not in answer.text


def test_a_refused_form_names_the_field_in_german(web, german):
    web.user("maria", "manager", "1357")
    page = logged_in(web.client(), "maria", "1357").get("/stock", params={"status": "nope"})
    assert page.status_code == 422
    assert "Nicht verstanden" in page.text
    assert "muss eines von" in page.text


def test_the_list_of_reports_names_them_in_german(web, german):
    web.user("maria", "manager", "1357")
    page = logged_in(web.client(), "maria", "1357").get("/reports")
    assert page.status_code == 200, page.text
    assert '<a href="/reports/cover">Reichweite</a>' in page.text
    assert '<a href="/reports/valuation">Bestandsbewertung</a>' in page.text
    assert "Stock value at FIFO cost" not in page.text  # each summary in German too
    assert ">cover<" not in page.text


def test_a_report_page_speaks_german_with_its_options_and_stored_words(web, german):
    web.user("maria", "manager", "1357")
    client = logged_in(web.client(), "maria", "1357")
    page = client.get("/reports/stock", params={"as_of": "2026-11-22"})
    assert page.status_code == 200, page.text
    text = page.text
    assert "<h1>Vorrätiger Bestand <small>" in text
    assert "Vorrätig nach Klinik, Artikel, Charge und Lagerort" in text
    assert ">Charge</th>" in text
    assert ">Verfall</th>" in text
    assert ">freigegeben<" in text  # a stored status in the reader's language
    assert ">released<" not in text
    assert ">Stock on hand<" not in text
    assert re.search(r">\d{1,2}\.\d{1,2}\.20\d\d<", text)  # dates as Austria writes them
    expiring = client.get("/reports/expiring", params={"within": "120"}).text
    assert "Verfall innerhalb von 120 Tagen" in expiring
    assert re.search(r'<label for="opt-within">[^<]*</label>', expiring)
    assert '<label for="opt-within">within</label>' not in expiring
    # the download keeps its English CSV
    csv = client.get("/reports/stock/download.csv").text
    assert csv.splitlines()[0] == '"# Stock on hand: all clinics, as of 2026-11-22"'
    assert ",released," in csv


def test_a_purchase_orders_times_read_as_austria_writes_them(web, db, german):
    reorder.run(UnitOfWork(db, "tester"), as_of=None)  # PO-000001
    web.user("maria", "manager", "1357")
    page = logged_in(web.client(), "maria", "1357").get("/purchase-orders/PO-000001")
    assert page.status_code == 200, page.text
    assert re.search(r"\d{1,2}\.\d{1,2}\.20\d\d, \d\d:\d\d [A-Z]{3,4}\b", page.text)
    assert not re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d", page.text)
