"""The location tree: clinics at the top, stockrooms under clinics, storage under both."""

import pytest

from kitops.domain.locations import (
    PHYSICAL_KINDS,
    VIRTUAL_KINDS,
    VIRTUAL_LOCATIONS,
    LocationKind,
    check_placement,
    parse_location_code,
    parse_location_kind,
    parse_timezone,
)
from kitops.errors import InvalidInput

CLINIC = LocationKind.CLINIC
STOCKROOM = LocationKind.STOCKROOM
FRIDGE = LocationKind.FRIDGE
SHELF = LocationKind.SHELF
QUARANTINE = LocationKind.QUARANTINE


# --- check_placement -------------------------------------------------------------------------


def test_clinic_with_a_timezone_at_the_top_is_accepted():
    check_placement("VIE", CLINIC, None, None, "Europe/Vienna")


def test_clinic_without_a_timezone_is_refused():
    with pytest.raises(InvalidInput) as err:
        check_placement("VIE", CLINIC, None, None, None)
    assert (err.value.field, err.value.value) == ("timezone", None)
    assert "VIE" in err.value.reason


def test_clinic_under_another_location_is_refused():
    with pytest.raises(InvalidInput) as err:
        check_placement("VIE-2", CLINIC, "VIE", CLINIC, "Europe/Vienna")
    assert (err.value.field, err.value.value) == ("parent", "VIE")


def test_stockroom_under_a_clinic_is_accepted():
    check_placement("VIE-STOCK", STOCKROOM, "VIE", CLINIC, None)


def test_stockroom_without_a_parent_is_refused():
    with pytest.raises(InvalidInput) as err:
        check_placement("VIE-STOCK", STOCKROOM, None, None, None)
    assert (err.value.field, err.value.value) == ("parent", None)


@pytest.mark.parametrize("parent_kind", [STOCKROOM, FRIDGE, SHELF, QUARANTINE])
def test_stockroom_under_anything_but_a_clinic_is_refused(parent_kind):
    with pytest.raises(InvalidInput) as err:
        check_placement("VIE-STOCK-2", STOCKROOM, "VIE-X", parent_kind, None)
    assert (err.value.field, err.value.value) == ("parent", "VIE-X")


def test_fridge_under_a_stockroom_is_accepted():
    check_placement("VIE-FRIDGE-1", FRIDGE, "VIE-STOCK", STOCKROOM, None)


def test_fridge_directly_under_a_clinic_is_accepted():
    check_placement("VIE-FRIDGE-1", FRIDGE, "VIE", CLINIC, None)


def test_fridge_under_a_shelf_is_refused():
    with pytest.raises(InvalidInput) as err:
        check_placement("VIE-FRIDGE-1", FRIDGE, "VIE-SHELF-A", SHELF, None)
    assert (err.value.field, err.value.value) == ("parent", "VIE-SHELF-A")
    assert "shelf" in err.value.reason


def test_shelf_inside_a_fridge_is_refused():
    with pytest.raises(InvalidInput) as err:
        check_placement("VIE-SHELF-A", SHELF, "VIE-FRIDGE-1", FRIDGE, None)
    assert (err.value.field, err.value.value) == ("parent", "VIE-FRIDGE-1")


def test_quarantine_under_a_stockroom_is_accepted():
    check_placement("VIE-QUAR", QUARANTINE, "VIE-STOCK", STOCKROOM, None)


@pytest.mark.parametrize("kind", [STOCKROOM, FRIDGE, SHELF, QUARANTINE])
def test_only_a_clinic_has_a_timezone(kind):
    with pytest.raises(InvalidInput) as err:
        check_placement("VIE-X", kind, "VIE", CLINIC, "Europe/Vienna")
    assert (err.value.field, err.value.value) == ("timezone", "Europe/Vienna")


def test_a_parent_code_without_its_kind_counts_as_no_parent():
    with pytest.raises(InvalidInput) as err:
        check_placement("VIE-FRIDGE-1", FRIDGE, "VIE", None, None)
    assert err.value.field == "parent"


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Europe/Vienna", "Europe/London", " Europe/Vienna ", "UTC"])
def test_iana_time_zones_are_accepted(name):
    assert parse_timezone(name) == name.strip()


@pytest.mark.parametrize("name", ["Mars/Base", "", "   ", "Europe/Atlantis", "../etc/passwd"])
def test_names_that_are_not_iana_time_zones_are_refused(name):
    with pytest.raises(InvalidInput) as err:
        parse_timezone(name)
    assert (err.value.field, err.value.value) == ("timezone", name)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("clinic", CLINIC),
        ("Stockroom", STOCKROOM),
        (" FRIDGE ", FRIDGE),
        ("shelf", SHELF),
        ("quarantine", QUARANTINE),
    ],
)
def test_physical_location_kinds_are_read_case_insensitively(text, kind):
    assert parse_location_kind(text) is kind


@pytest.mark.parametrize("text", ["scrap", "supplier", "patient", "adjustment", "SCRAP"])
def test_virtual_location_kinds_cannot_be_created(text):
    with pytest.raises(InvalidInput) as err:
        parse_location_kind(text)
    assert (err.value.field, err.value.value) == ("kind", text)
    assert "scrap" not in err.value.reason


@pytest.mark.parametrize("text", ["freezer", "", "room"])
def test_unknown_location_kinds_are_refused(text):
    with pytest.raises(InvalidInput) as err:
        parse_location_kind(text)
    assert (err.value.field, err.value.value) == ("kind", text)


def test_location_code_is_upper_cased_and_trimmed():
    assert parse_location_code(" vie-fridge-1 ") == "VIE-FRIDGE-1"


@pytest.mark.parametrize("code", ["", "VIE FRIDGE", "-VIE", "VIE/1", "A" * 33])
def test_bad_location_codes_are_refused(code):
    with pytest.raises(InvalidInput) as err:
        parse_location_code(code)
    assert (err.value.field, err.value.value) == ("location", code)


def test_location_code_of_32_characters_is_the_longest_accepted():
    assert parse_location_code("A" * 32) == "A" * 32


def test_every_virtual_location_has_a_virtual_kind_matching_its_code():
    assert set(VIRTUAL_LOCATIONS) == {"SUPPLIER", "PATIENT", "SCRAP", "ADJUSTMENT", "ASSEMBLY"}
    for code, (kind, _label) in VIRTUAL_LOCATIONS.items():
        assert kind in VIRTUAL_KINDS
        assert kind.value == code.lower()


def test_every_kind_is_either_physical_or_virtual():
    assert set(LocationKind) == PHYSICAL_KINDS | VIRTUAL_KINDS
    assert not PHYSICAL_KINDS & VIRTUAL_KINDS
