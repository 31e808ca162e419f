"""``kitops.services.scans``: what a scanned code names and what to do next, on both
backends, with the demo data as of a fixed day; and the printed labels and cards read
back through a real decoder into the same answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from dmtx_support import GS, read
from PIL import Image

from kitops.documents.cards import write_course_cards, write_location_labels
from kitops.documents.labels import write_labels
from kitops.errors import InvalidInput, NotAllowed
from kitops.services import kits, scans, users
from kitops.services.dto.scans import ScannedCourse, ScannedKit, ScannedLocation, ScannedLot

AS_OF = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)  # the demo's day: answers never follow the clock
KIT_GTIN = "05060999900083"  # KIT-HOME-6W
SERUM_GTIN = "05060999900014"  # SERUM-5ML

pytestmark = pytest.mark.demo_data(AS_OF)


def scan(uow, data: str):
    """A scan as of the demo's day (a lot's next step and a course's next date follow
    ``now``)."""
    return scans.scan(uow, data, now=NOW)


def _kit_code(uow, serial: str) -> str:
    kit = kits.show_kit(uow(readonly=True), serial)
    (lot,) = {c.lot for c in kit.components if c.sku == "SERUM-5ML"}
    return f"01{KIT_GTIN}17{kit.expiry:%y%m%d}10{lot}{GS}21{serial}"


def test_a_kit_label_scan_names_the_kit_its_course_and_next_step(uow):
    found = scan(uow(readonly=True), "]d2" + _kit_code(uow, "K0000001"))
    assert isinstance(found, ScannedKit)
    assert (found.serial, found.sku, found.status, found.location, found.clinic) == (
        "K0000001", "KIT-HOME-6W", "reserved", "LON-FRIDGE", "LON",
    )  # fmt: skip
    assert (found.course_id, found.course_part) == (1, 1)
    assert found.actions == ("pick", "handover", "ship")
    assert "hand it over" in found.next_step


def test_a_free_kit_waits_for_a_course(uow):
    found = scan(uow(readonly=True), "K0000002")
    assert isinstance(found, ScannedKit)
    assert found.status == "available"
    assert found.course_id is None
    assert "fulfil" in found.actions


def test_a_lot_scan_gives_status_expiry_and_where_it_is(uow):
    lot = next(c for c in kits.show_kit(uow(readonly=True), "K0000002").components
               if c.sku == "SERUM-5ML")  # fmt: skip
    serialised = f"]d201{SERUM_GTIN}10{lot.lot}{GS}21V000123"  # a supplier's serialised vial
    for typed in (f"(01){SERUM_GTIN}(10){lot.lot}", f"]C101{SERUM_GTIN}10{lot.lot}", lot.lot,
                  serialised):  # fmt: skip
        found = scan(uow(readonly=True), typed)
        assert isinstance(found, ScannedLot), typed
        assert (found.sku, found.lot, found.status, found.expiry) == (
            "SERUM-5ML", lot.lot, "released", lot.expiry,
        )  # fmt: skip
        assert found.total_on_hand == sum(p.quantity for p in found.on_hand) > 0
        assert "LON-FRIDGE" in {p.location for p in found.on_hand}
        assert "assemble" in found.actions


def test_a_location_label_scan_says_what_is_there(uow):
    found = scan(uow(readonly=True), "]d1KLOC:LON-FRIDGE\r")
    assert isinstance(found, ScannedLocation)
    assert (found.location, found.place_kind, found.clinic) == ("LON-FRIDGE", "fridge", "LON")
    skus = {p.sku: p for p in found.products}
    assert skus["SERUM-5ML"].quantity > 0
    assert skus["SERUM-5ML"].lots >= 1
    assert dict(found.kits) == {"available": 3, "reserved": 1}


@pytest.mark.parametrize("data", ["]d1KLOC:LON-FRIDGE", "LON-FRIDGE", "KLOC:LON-QUAR", "LON-STORE"])
def test_a_location_scan_without_its_summary_is_the_same_place_and_step(uow, data):
    """What the terminal UI asks (it opens the place's stock list): the place and its
    next step as the full answer has them, without summing what is there."""
    full = scans.scan(uow(readonly=True), data, now=NOW)
    brief = scans.scan(uow(readonly=True), data, now=NOW, summary=False)
    assert isinstance(full, ScannedLocation)
    assert isinstance(brief, ScannedLocation)
    assert (brief.products, brief.kits) == ((), ())
    assert brief == ScannedLocation(**{**full.__dict__, "products": (), "kits": ()})
    assert full.products  # each of these places holds stock: the step says so
    assert brief.next_step == full.next_step


def test_an_empty_place_scanned_without_its_summary_says_it_is_empty(uow):
    full = scans.scan(uow(readonly=True), "KLOC:ESX-QUAR", now=NOW)
    brief = scans.scan(uow(readonly=True), "KLOC:ESX-QUAR", now=NOW, summary=False)
    assert isinstance(full, ScannedLocation)
    assert isinstance(brief, ScannedLocation)
    assert full.products == ()
    assert brief.next_step == full.next_step


def test_a_course_card_scan_lists_its_kits_and_next_date_without_the_patient(uow):
    found = scan(uow(readonly=True), "KCRS:1")
    assert isinstance(found, ScannedCourse)
    assert (found.course_id, found.clinic) == (1, "LON")
    assert [(k.part, k.serial, k.status) for k in found.kits] == [(1, "K0000001", "reserved")]
    assert found.next_date is not None
    assert found.next_event
    assert "K0000001" in found.next_step
    assert "P-LON" not in repr(found)  # the patient reference stays off the scan


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        (f"(01){KIT_GTIN}(21)K9999999", "no kit has the serial K9999999"),
        (f"(01){KIT_GTIN}", "a kit code needs (21) serial"),
        (f"(01){SERUM_GTIN}", "a lot code needs (10) lot"),
        (f"(01){SERUM_GTIN}(10)NOPE", "no lot NOPE of SERUM-5ML has been received"),
        ("(01)05012345678900(10)L1", "no product has the GTIN 05012345678900"),
        (f"(01){SERUM_GTIN}(21)V123", "a lot code needs (10) lot: kitops tracks SERUM-5ML"),
        ("(01)05012345678900(21)K0000001", "kit K0000001 is a KIT-HOME-6W, whose GTIN is"),
        ("(01)05012345678900(21)V1", "no product has the GTIN 05012345678900"),
        ("KLOC:NOWHERE", "no location has the code NOWHERE"),
        ("KCRS:999", "no course has the number 999"),
        ("WHATEVER", "nothing has the code WHATEVER: no kit, lot or location"),
        ("(01)05060999900084(21)K1", "GTIN check digit is wrong"),
    ],
)
def test_an_unknown_code_is_bad_input_in_words(uow, typed, words):
    with pytest.raises(InvalidInput) as err:
        scan(uow(readonly=True), typed)
    assert err.value.field == "scan"
    assert words in err.value.reason


def test_a_user_limited_to_a_clinic_scans_only_its_clinic(loaded, uow):
    users.add_user(uow(), "sam", "stockroom")
    users.set_clinics(uow(), "sam", ["ESX"])
    assert scan(uow(readonly=True, actor="sam"), "K0000005").clinic == "ESX"
    with pytest.raises(InvalidInput, match="no kit has the serial K0000001"):
        scan(uow(readonly=True, actor="sam"), "KKIT:K0000001")  # LON's kit is not told
    with pytest.raises(InvalidInput, match="nothing has the code K0000001"):
        scan(uow(readonly=True, actor="sam"), "K0000001")
    with pytest.raises(InvalidInput, match="no course has the number 1"):
        scan(uow(readonly=True, actor="sam"), "KCRS:1")
    with pytest.raises(NotAllowed, match="sam may not"):
        scan(uow(readonly=True, actor="sam"), "KLOC:LON-FRIDGE")
    lot = scan(uow(readonly=True), "K0000002")
    assert isinstance(lot, ScannedKit)
    serum = next(c.lot for c in kits.show_kit(uow(readonly=True), "K0000002").components
                 if c.sku == "SERUM-5ML")  # fmt: skip
    seen = scan(uow(readonly=True, actor="sam"), f"(01){SERUM_GTIN}(10){serum}")
    assert isinstance(seen, ScannedLot)
    assert {p.clinic for p in seen.on_hand} <= {"ESX"}


SHRINK = 2


def test_printed_labels_and_cards_decode_back_to_what_the_scan_names(uow, tmp_path):
    """Print, decode with libdmtx, scan: the loop a stockroom runs all day. The pages are
    printed at 300 dpi, a symbol's modules some 8 pixels wide; libdmtx reads them at half
    that resolution (``SHRINK``), as a scanner held further away would, and finds every
    symbol in an eighth of the time."""
    kit_png = tmp_path / "kits.png"
    write_labels(uow(readonly=True), ["K0000001", "K0000002"], str(kit_png))
    decoded = read(Image.open(kit_png), SHRINK)
    assert sorted(decoded) == sorted(GS + _kit_code(uow, s) for s in ("K0000001", "K0000002"))
    assert {scan(uow(readonly=True), text).serial for text in decoded} == {  # type: ignore[union-attr]
        "K0000001", "K0000002",
    }  # fmt: skip

    place_png = tmp_path / "places.png"
    write_location_labels(uow(readonly=True), ["LON-FRIDGE", "esx-shelf"], str(place_png))
    assert sorted(read(Image.open(place_png), SHRINK)) == ["KLOC:ESX-SHELF", "KLOC:LON-FRIDGE"]

    card_png = tmp_path / "cards.png"
    write_course_cards(uow(readonly=True), ["1"], str(card_png))
    (card,) = read(Image.open(card_png), SHRINK)
    assert card == "KCRS:1"  # the course number only, never the patient
    assert isinstance(scan(uow(readonly=True), card), ScannedCourse)


def test_location_labels_and_course_cards_have_their_page_size_and_the_words(uow, tmp_path):
    from pypdf import PdfReader

    places = tmp_path / "places.pdf"
    write_location_labels(uow(readonly=True), ["LON-FRIDGE", "ESX-SHELF"], str(places))
    cards = tmp_path / "cards.pdf"
    write_course_cards(uow(readonly=True), ["1", "2"], str(cards))
    for path, (width_mm, height_mm), count in ((places, (62, 40), 2), (cards, (85.6, 54), 2)):
        pages = PdfReader(path).pages
        assert len(pages) == count
        for page in pages:
            assert float(page.mediabox.width) == pytest.approx(width_mm / 25.4 * 72, abs=0.05)
            assert float(page.mediabox.height) == pytest.approx(height_mm / 25.4 * 72, abs=0.05)
    place_text = PdfReader(places).pages[0].extract_text()
    assert "LON-FRIDGE" in place_text
    assert "KLOC:LON-FRIDGE" in place_text
    card_text = PdfReader(cards).pages[0].extract_text()
    assert "Course 1" in card_text
    assert "Patient P-LON-0001" in card_text  # printed for the desk, never encoded


def test_a_lot_past_its_expiry_on_the_clinics_calendar_is_to_be_written_off(uow):
    lot = next(c for c in kits.show_kit(uow(readonly=True), "K0000002").components
               if c.sku == "SERUM-5ML")  # fmt: skip
    assert lot.expiry is not None
    day_after = datetime.combine(lot.expiry, datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
    found = scans.scan(uow(readonly=True), lot.lot, now=day_after)
    assert isinstance(found, ScannedLot)
    assert found.status == "released"  # the sweep has not run: the scan says it anyway
    assert found.next_step.startswith("out of date")
    assert found.actions[0] == "writeoff"
    assert "assemble" not in found.actions


def test_the_demos_kit_products_carry_valid_gtin_14s(uow):
    from kitops.gs1 import parse_gtin
    from kitops.services import catalog

    kit_products = [p for p in catalog.list_products(uow(readonly=True)) if p.kind == "kit"]
    assert {p.sku for p in kit_products} == {"KIT-HOME-6W", "KIT-HOME-PTT6"}
    for product in kit_products:
        assert product.gtin is not None
        assert len(product.gtin) == 14
        assert parse_gtin(product.gtin) == product.gtin  # the check digit holds
