"""Reports in German: the table and the HTML page say their titles, headings, notes and
chart titles in the language in force (dates and amounts as it writes them); the CSV and
the JSON stay English and byte-identical (demo data as of a fixed day)."""

from __future__ import annotations

import pickle
import re
from datetime import date

import pytest

from kitops.documents.report_files import render
from kitops.i18n import use_locale
from kitops.reports.common import Phrase
from kitops.reports.registry import run_report
from kitops.services.dto.reports import ReportRequest

DAY = date(2026, 11, 22)
pytestmark = pytest.mark.demo_data(DAY)


def _report(uow, name: str, **options: str):
    return run_report(uow(readonly=True), name, ReportRequest(as_of=DAY, options=options))


@pytest.mark.parametrize(("name", "options"), [("stock", {}), ("expiring", {"within": "120"})])
def test_csv_and_json_are_the_same_bytes_in_german(uow, name, options):
    report = _report(uow, name, **options)
    for fmt in ("csv", "json"):
        english = render(report, fmt)
        with use_locale("de_AT"):
            assert render(report, fmt) == english, fmt
        with use_locale("de"):
            assert render(_report(uow, name, **options), fmt) == english, fmt


def test_the_stock_table_in_german(uow):
    report = _report(uow, "stock")
    english = render(report, "table")
    with use_locale("de_AT"):
        table = render(report, "table")
    lines = table.splitlines()
    assert lines[0] == "Vorrätiger Bestand: alle Kliniken, Stand 22.11.2026"
    assert english.splitlines()[0] == "Stock on hand: all clinics, as of 2026-11-22"
    assert re.search(r"^Vorrätig nach Klinik, Artikel, Charge und Lagerort \(\d+\)$", table, re.M)
    headings = next(line for line in lines if line.startswith("Klinik  Lagerort"))
    assert headings.split() == [
        "Klinik", "Lagerort", "SKU", "Charge", "Verfall", "Tage", "Status", "Menge", "Wert",
    ]  # fmt: skip
    assert "Summen je Klinik und Währung" in table
    assert "Tage bis Verfall zählen ab 22.11.2026" in " ".join(table.split())
    # the cells as German writes them: dates and amounts
    assert re.search(r"\b\d{1,2}\.\d{1,2}\.20\d\d\b", table)
    assert "€ " in table or "£" in table
    assert "as of" not in table
    # a stored status reads in German in the table, and stays as stored in the CSV
    assert " freigegeben " in table
    assert " released " not in table
    assert ",released," in render(report, "csv")
    assert "On hand by clinic" not in table


def test_the_expiring_page_in_german(uow):
    report = _report(uow, "expiring", within="120")
    with use_locale("de"):
        page = render(report, "html")
    assert '<html lang="de">' in page
    assert "<h1>Verfall innerhalb von 120 Tagen</h1>" in page
    assert "Klinik: <strong>alle Kliniken</strong>" in page
    assert "Stand: <strong>22.11.2026</strong>" in page
    assert "Nach Klinik und verbleibenden Tagen" in page
    assert "<th>Charge</th>" in page
    assert '<th class="num">Menge</th>' in page
    assert "Innerhalb von 120 Tagen verfallende Stück, nach verbleibenden Tagen" in page  # chart
    assert "Erstellt mit kitops." in page
    assert "Chargen, " in page
    assert "Stück verfallen bis 22.3.2027" in page
    for english in ("As of:", "Lots and kits", "Made by kitops.", "Expiring within"):
        assert english not in page
    with use_locale("en"):
        assert "<h1>Expiring within 120 days</h1>" in render(report, "html")


def test_a_decimal_cell_and_a_wasted_item_read_in_german():
    from kitops.documents.report_files import cell_text
    from kitops.services.dto.reports import Column, Kind

    ml, what = Column("ml", "ml", Kind.DECIMAL), Column("what", "what")
    with use_locale("de"):
        assert (cell_text(ml, "37.5"), cell_text(what, "vials")) == ("37,5", "Fläschchen")
    assert (cell_text(ml, "37.5"), cell_text(what, "vials")) == ("37.5", "vials")


def test_a_phrase_is_its_english_text_and_says_itself_again_in_german():
    from kitops.documents.report_files import say
    from kitops.i18n import N_

    phrase = Phrase(N_("Ledger moves {first} to {last}"), first=DAY, last=date(2026, 12, 4))
    assert phrase == "Ledger moves 2026-11-22 to 2026-12-04"
    assert pickle.loads(pickle.dumps(phrase)).msgid == phrase.msgid
    with use_locale("de_AT"):
        assert say(phrase) == "Buchungen 22.11.2026 bis 4.12.2026"
        assert say("Stock on hand") == "Vorrätiger Bestand"
        assert say("") == ""
    assert say(phrase) == phrase


def test_the_page_templates_strings_are_extracted_for_the_catalog():
    """``make messages`` reads the report page's ``{{ _("...") }}`` (babel.cfg: jinja2)."""
    from pathlib import Path

    from babel.messages.extract import extract_from_dir

    import kitops.documents

    folder = Path(kitops.documents.__file__).parent
    found = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            folder, [("**/templates/**.j2", "jinja2")]
        )
    }
    assert {"Clinic:", "As of:", "all clinics", "Nothing to show.", "Made by kitops."} <= found


def test_a_reports_options_read_in_the_readers_language_in_its_heading(uow):
    """The options a report ran with, named in the table's and the page's heading as the
    reader reads them (``, Tage 30``, ``von 1.11.2026``); the CSV and the JSON keep the
    English key and the ISO day, the same bytes whatever the language."""
    cover = _report(uow, "cover", days="30")
    moves = _report(uow, "movements", **{"from": "2026-11-01", "to": "2026-11-22"})
    assert render(cover, "table").splitlines()[0] == (
        "Days of cover, next 30 days: all clinics, as of 2026-11-22, days 30"
    )
    english = {fmt: (render(cover, fmt), render(moves, fmt)) for fmt in ("csv", "json")}
    with use_locale("de"):
        assert render(cover, "table").splitlines()[0] == (
            "Reichweite, nächste 30 Tage: alle Kliniken, Stand 22.11.2026, Tage 30"
        )
        table = " ".join(render(moves, "table").split())  # the heading wraps at 100
        page = render(moves, "html")
        for fmt in ("csv", "json"):
            assert (render(cover, fmt), render(moves, fmt)) == english[fmt], fmt
    assert "Stand 22.11.2026, von 1.11.2026, bis 22.11.2026" in table
    assert "<span>von: <strong>1.11.2026</strong></span>" in page
    assert "<span>bis: <strong>22.11.2026</strong></span>" in page
    assert "<span>from:" not in page
    assert "as of 2026-11-22, from 2026-11-01, to 2026-11-22" in " ".join(
        render(moves, "table").split()
    )


def test_a_charts_weeks_name_their_month_as_the_reader_writes_it(uow):
    """The weekly charts' labels (the week's Monday): Babel's abbreviation of the month
    in the reader's locale, in the page's chart and the terminal's alike."""
    from kitops.documents.report_files import chart_svg, label

    for name in ("demand", "kits"):
        chart = _report(uow, name, weeks="8").charts[0]
        english = [label(x) for x in chart.x_labels]
        assert english[:3] == ["16 Nov", "23 Nov", "30 Nov"], name
        assert english[-1] == "04 Jan", name
        with use_locale("de"):
            german = [label(x) for x in chart.x_labels]
            svg = chart_svg(chart)
        with use_locale("de_AT"):
            austrian = [label(x) for x in chart.x_labels]
        assert german[:4] == ["16. Nov.", "23. Nov.", "30. Nov.", "7. Dez."], name
        assert german[-1] == "4. Jan.", name
        assert austrian[-1] == "4. Jän.", name  # CLDR's Austrian January
        assert "7. Dez." in svg
        assert "Dec" not in svg
        assert pickle.loads(pickle.dumps(chart)).x_labels == chart.x_labels
