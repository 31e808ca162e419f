"""The papers in German: a kit label, a purchase order and a patient's calendar rendered
in the language in force (``use_locale``), their codes and files' machine parts unchanged."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from kitops.data.schema import PurchaseOrderLineRow, PurchaseOrderRow
from kitops.documents.calendar import write_calendar
from kitops.documents.cards import course_card, location_card
from kitops.documents.labels import (
    label_element_string,
    label_lines,
    layout_label,
    render_pdf,
    use_by,
)
from kitops.documents.purchase_orders import order_csv, order_pdf
from kitops.domain.money import Money
from kitops.domain.purchasing import po_number
from kitops.i18n import use_locale
from kitops.services import purchasing
from kitops.services.dto.purchasing import OrderPaper, PaperLine
from kitops.services.dto.scans import CourseCard, LocationCard
from kitops.services.labels import read_labels

DAY = date(2026, 11, 22)
pytestmark = pytest.mark.demo_data(DAY)


def _text(data: bytes) -> str:
    """The PDF's text, pages joined, runs of white space (a no-break space too) as one."""
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    return " ".join(" ".join(pages).replace("\xa0", " ").split())


# --- kit labels -----------------------------------------------------------------------------


def test_a_kit_label_in_german_says_use_by_in_german_words(uow):
    (label,) = read_labels(uow(readonly=True), ["K0000001"])
    label = replace(label, expiry=date(2027, 3, 14))
    with use_locale("de"):
        texts = [line.text for line in label_lines(label)]
        text = _text(render_pdf([label]))
    assert "Verwendbar bis 14. März 2027" in texts
    assert "Seriennummer K0000001" in texts
    assert "Kur 1, Kit 1" in texts
    assert f"Serum-Charge {label.serum_lots[0]}" in texts
    assert "Patient P-LON-0001" in texts
    assert "Verwendbar bis 14. März 2027" in text
    assert "Seriennummer K0000001" in text
    assert "Use by" not in text


def test_austrian_german_names_january_jaenner_and_english_stays_the_default(uow):
    with use_locale("de_AT"):
        assert use_by(date(2027, 1, 5)) == "Verwendbar bis 5. Jänner 2027"
    with use_locale("de"):
        assert use_by(date(2027, 1, 5)) == "Verwendbar bis 5. Januar 2027"
    assert use_by(date(2027, 1, 5)) == "Use by 5 January 2027"


def test_a_recalled_kit_is_flagged_in_german(uow):
    (label,) = read_labels(uow(readonly=True), ["K0000002"])
    with use_locale("de"):
        first = label_lines(replace(label, recalled=True))[0]
    assert (first.text, first.bold) == ("ENTHÄLT EINE ZURÜCKGERUFENE CHARGE", True)


def test_the_code_on_a_label_does_not_change_with_the_language(uow):
    (label,) = read_labels(uow(readonly=True), ["K0000002"])
    english = layout_label(label).code
    with use_locale("de_AT"):
        german = layout_label(label).code
        element_string = label_element_string(label)
    assert german == english
    assert element_string == label_element_string(label)
    assert "(01)05060999900083(17)" in german.data


def test_course_cards_and_location_labels_in_german():
    with use_locale("de_AT"):
        course = course_card(CourseCard(7, "ptt-6", "VIE", "P-VIE-0007", date(2027, 1, 11)))
        place = location_card(LocationCard("VIE-FRIDGE", "Fridge", "fridge", "VIE"))
    course_text = [line.text for line in course.lines]
    assert course_text[:3] == ["Kur 7", "Plan ptt-6, Klinik VIE", "Beginn 11.1.2027"]
    assert "Am Empfang scannen, um die Kits zu sehen" in course_text
    assert course.code == "KCRS:7"
    assert [line.text for line in place.lines][2] == "Kühlschrank, Klinik VIE"
    assert place.code == "KLOC:VIE-FRIDGE"


# --- purchase orders ------------------------------------------------------------------------


def _euro_paper() -> OrderPaper:
    """One line: 10 vials at 31.50 EUR, 20 % VAT (net 315.00, VAT 63.00, gross 378.00)."""
    line = PaperLine(position=1, sku="SERUM-5ML", supplier_sku="CAL-5", description="Serum 5 ml",
                     kind="serum_vial", quantity=10, unit_price=Money(3150, "EUR"),
                     net=Money(31500, "EUR"), vat_rate_bp=2000, vat=Money(6300, "EUR"))  # fmt: skip
    return OrderPaper(
        number="PO-000042", status="draft", as_of=DAY, expected_on=date(2026, 12, 4),
        currency="EUR", clinic="VIE", clinic_name="Wien", delivery_address="Kärntner Ring 5, Wien",
        delivery_contact=None, country="AT", supplier="CALECIM-EU", supplier_name="Calecim EU",
        supplier_address=None, supplier_contact=None, payment_terms=None, note=None,
        lines=(line,), net=Money(31500, "EUR"), vat=Money(6300, "EUR"),
        gross=Money(37800, "EUR"), vat_missing=0,
    )  # fmt: skip


def test_a_purchase_order_pdf_in_austrian_german():
    with use_locale("de_AT"):
        text = _text(order_pdf(_euro_paper()))
    assert "Bestellung PO-000042" in text
    assert "Bestelldatum: 22.11.2026" in text
    assert "Erwartete Lieferung: 4.12.2026" in text
    assert "ENTWURF: noch nicht genehmigt" in text
    assert "Lieferant" in text
    assert "Lieferadresse" in text
    assert "(keine Adresse hinterlegt)" in text
    assert "Zahlungsbedingungen: wie mit dem Lieferanten vereinbart" in text
    assert "Nr. Lieferanten-SKU Beschreibung Menge Stückpreis Netto MwSt. % MwSt." in text
    assert "31,50 315,00 20 % 63,00" in text
    assert "Summe netto € 315,00" in text
    assert "Summe MwSt. € 63,00" in text
    assert "Zu zahlen € 378,00" in text
    assert "Seite 1 von 1" in text
    assert "Purchase order" not in text
    assert "315.00" not in text


def _vienna_order(uow) -> str:
    """A sent order of 12 serum vials at 41.00 EUR for the demo's Vienna clinic."""
    with uow as u:
        supplier = u.suppliers.get("CALECIM-EU")
        order = PurchaseOrderRow(
            supplier_id=supplier.id, clinic_id=u.locations.clinic("VIE").id, status="sent",
            origin="manual", currency=supplier.currency, as_of=DAY,
            expected_on=date(2026, 12, 4), created_by="tester",
        )  # fmt: skip
        u.session.add(order)
        u.session.flush()
        u.session.add(
            PurchaseOrderLineRow(order_id=order.id, product_id=u.products.get("SERUM-5ML").id,
                                 position=0, quantity=12, unit_cost_minor=4100)
        )  # fmt: skip
        u.commit()
        return po_number(order.id)


def test_the_vienna_order_in_german_and_its_csv_unchanged(uow):
    number = _vienna_order(uow())
    order, _sent = purchasing.order_to_send(uow(readonly=True), number)
    english_csv = order_csv(order)
    paper = purchasing.order_paper(uow(readonly=True), number)
    with use_locale("de_AT"):
        text = _text(order_pdf(paper))
        german_csv = order_csv(order)
    assert german_csv == english_csv
    assert f"Bestellung {number}" in text
    assert "Erwartete Lieferung: 4.12.2026" in text
    assert "12 41,00 492,00" in text
    assert "Summe netto € 492,00" in text
    assert "Kärntner Ring 5" in text
    assert "Zahlungsbedingungen: 30 Tage netto" in text


# --- the patient's calendar -----------------------------------------------------------------


def _events(path) -> dict[str, dict[str, str]]:
    calendar = Calendar.from_ical(path.read_bytes())
    return {
        str(e["UID"]): {"summary": str(e["SUMMARY"]), "description": str(e["DESCRIPTION"])}
        for e in calendar.walk()
        if e.name == "VEVENT"
    } | {"calendar": {"summary": str(calendar["X-WR-CALNAME"]), "description": ""}}


def test_the_patients_calendar_in_german(uow, tmp_path):
    out = tmp_path / "course.ics"
    with use_locale("de"):
        write_calendar(uow(readonly=True), 8, str(out))
    events = _events(out)
    assert events["calendar"]["summary"].startswith("Haarbehandlung, Kur 8 (")
    application = events["course-8-application-3@kitops"]
    assert application["summary"].startswith("Haarserum-Anwendung 3 von 12 (Kit 1, Fläschchen ")
    assert application["description"].startswith("Zu Hause: Kit 1, Fläschchen ")
    assert events["course-8-checkin-1@kitops"]["summary"] == (
        "Kontrolltermin in der Klinik, Woche 4"
    )
    assert events["course-8-followup-1@kitops"]["summary"].startswith(
        "Nachkontrolle, 3 Monate nach der Kur"
    )
    first = events["course-8-application-1@kitops"]
    assert first["summary"].endswith(", erste Anwendung in der Klinik)")
    assert first["description"].startswith("In der Klinik: ")
    assert not any("Hair serum" in e["summary"] for e in events.values())


def test_a_moved_visit_gives_its_old_day_as_germans_write_it(uow, tmp_path):
    out = tmp_path / "course.ics"
    with use_locale("de_AT"):
        write_calendar(uow(readonly=True), 4, str(out))
    followup = _events(out)["course-4-followup-1@kitops"]
    assert followup["summary"].endswith(", verschoben vom 28.3.2027")
    assert "Verschoben vom 28.3.2027 (" in followup["description"]
