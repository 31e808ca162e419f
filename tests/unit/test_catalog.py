"""Products: defaults a stockroom expects, refused combinations, unit conversions."""

from decimal import Decimal

import pytest

from kitops.domain.catalog import (
    DEFAULT_AT_HOME_MAX_NEEDLE_UM,
    ProductKind,
    ProductSpec,
    complete_product,
    format_mm,
    gtin_shape,
    ml_to_ul,
    mm_to_um,
    parse_kind,
    parse_non_negative_int,
    parse_positive_int,
    parse_sku,
    ul_to_ml,
    um_to_mm,
)
from kitops.errors import InvalidInput

HOME_MAX = DEFAULT_AT_HOME_MAX_NEEDLE_UM  # 0.6 mm


def serum_vial(**overrides):
    fields = {
        "sku": "SERUM-5ML",
        "name": "Peptide serum 5 ml",
        "kind": ProductKind.SERUM_VIAL,
        "unit": "",
        "volume_ul": 5000,
    }
    return ProductSpec(**{**fields, **overrides})


def stamp(needle_um, **overrides):
    fields = {
        "sku": f"STAMP-{needle_um}UM",
        "name": f"Derma stamp {format_mm(needle_um)} mm",
        "kind": ProductKind.DERMA_STAMP,
        "unit": "",
        "needle_um": needle_um,
    }
    return ProductSpec(**{**fields, **overrides})


def consumable(**overrides):
    fields = {
        "sku": "GLOVES-M",
        "name": "Nitrile gloves M",
        "kind": ProductKind.CONSUMABLE,
        "unit": "",
    }
    return ProductSpec(**{**fields, **overrides})


def kit(**overrides):
    fields = {"sku": "KIT-HOME-6", "name": "At-home kit", "kind": ProductKind.KIT, "unit": ""}
    return ProductSpec(**{**fields, **overrides})


# --- defaults ----------------------------------------------------------------------------


def test_the_default_at_home_maximum_is_six_tenths_of_a_millimetre():
    assert HOME_MAX == 600


def test_serum_vial_is_lot_tracked_and_waits_for_release_by_default():
    product = complete_product(serum_vial(), HOME_MAX)
    assert product.lot_tracked is True
    assert product.requires_release is True


def test_serum_vial_may_go_home_by_default():
    assert complete_product(serum_vial(), HOME_MAX).at_home_allowed is True


def test_serum_vial_release_can_be_switched_off_explicitly():
    product = complete_product(serum_vial(requires_release=False), HOME_MAX)
    assert product.lot_tracked is True
    assert product.requires_release is False


def test_short_stamp_may_go_home_by_default():
    product = complete_product(stamp(500), HOME_MAX)
    assert product.at_home_allowed is True


def test_stamp_at_exactly_the_home_maximum_may_go_home_by_default():
    assert complete_product(stamp(600), HOME_MAX).at_home_allowed is True


def test_stamp_longer_than_home_maximum_defaults_to_clinic_only():
    assert complete_product(stamp(1200), HOME_MAX).at_home_allowed is False


def test_stamp_just_over_the_home_maximum_defaults_to_clinic_only():
    assert complete_product(stamp(601), HOME_MAX).at_home_allowed is False


def test_home_maximum_is_a_setting_not_a_constant():
    assert complete_product(stamp(1000), at_home_max_needle_um=1000).at_home_allowed is True
    assert complete_product(stamp(500), at_home_max_needle_um=400).at_home_allowed is False


def test_stamp_is_neither_lot_tracked_nor_released_by_default():
    product = complete_product(stamp(500), HOME_MAX)
    assert product.lot_tracked is False
    assert product.requires_release is False


def test_kit_is_lot_tracked_but_needs_no_release_by_default():
    product = complete_product(kit(), HOME_MAX)
    assert product.lot_tracked is True
    assert product.requires_release is False


def test_consumable_is_untracked_by_default():
    product = complete_product(consumable(), HOME_MAX)
    assert product.lot_tracked is False
    assert product.requires_release is False
    assert product.at_home_allowed is True


def test_short_stamp_can_be_marked_clinic_only():
    assert complete_product(stamp(500, at_home_allowed=False), HOME_MAX).at_home_allowed is False


def test_stamp_at_the_home_maximum_can_be_marked_at_home_explicitly():
    assert complete_product(stamp(600, at_home_allowed=True), HOME_MAX).at_home_allowed is True


def test_stamp_longer_than_home_maximum_cannot_be_marked_at_home():
    with pytest.raises(InvalidInput) as err:
        complete_product(stamp(1200, at_home_allowed=True), HOME_MAX)
    assert (err.value.field, err.value.value) == ("needle_mm", "1.2")
    assert "0.6 mm" in err.value.reason


def test_long_stamp_can_be_marked_clinic_only_explicitly():
    product = complete_product(stamp(1200, at_home_allowed=False), HOME_MAX)
    assert product.at_home_allowed is False


@pytest.mark.parametrize(
    ("spec", "unit"),
    [
        (serum_vial(), "vial"),
        (stamp(500), "each"),
        (consumable(), "each"),
        (kit(), "kit"),
    ],
)
def test_unit_defaults_by_kind(spec, unit):
    assert complete_product(spec, HOME_MAX).unit == unit


def test_a_blank_unit_gets_the_default_for_its_kind():
    assert complete_product(serum_vial(unit="   "), HOME_MAX).unit == "vial"


def test_an_explicit_unit_is_kept():
    assert complete_product(consumable(unit="box"), HOME_MAX).unit == "box"


def test_name_is_trimmed():
    assert complete_product(serum_vial(name="  Peptide serum  "), HOME_MAX).name == (
        "Peptide serum"
    )


def test_completing_keeps_the_given_fields():
    spec = serum_vial(gtin="05060999900014", shelf_life_days=365, expiry_alert_days=60)
    product = complete_product(spec, HOME_MAX)
    assert product.sku == "SERUM-5ML"
    assert product.gtin == "05060999900014"
    assert product.volume_ul == 5000
    assert product.shelf_life_days == 365
    assert product.expiry_alert_days == 60
    assert product.min_shelf_life_on_receipt_days == 30


def test_completing_a_completed_product_changes_nothing():
    once = complete_product(stamp(1200), HOME_MAX)
    assert complete_product(once, HOME_MAX) == once


# --- refused combinations -----------------------------------------------------------------


def test_stamp_without_needle_length_is_refused():
    with pytest.raises(InvalidInput) as err:
        complete_product(stamp(None, sku="STAMP-X", name="Derma stamp"), HOME_MAX)
    assert (err.value.field, err.value.value) == ("needle_mm", None)


@pytest.mark.parametrize(
    "spec", [serum_vial(needle_um=500), consumable(needle_um=500), kit(needle_um=500)]
)
def test_needle_length_on_anything_but_a_stamp_is_refused(spec):
    with pytest.raises(InvalidInput) as err:
        complete_product(spec, HOME_MAX)
    assert (err.value.field, err.value.value) == ("needle_mm", "0.5")


def test_serum_vial_without_volume_is_refused():
    with pytest.raises(InvalidInput) as err:
        complete_product(serum_vial(volume_ul=None), HOME_MAX)
    assert (err.value.field, err.value.value) == ("ml", None)


def test_release_without_lot_tracking_is_refused():
    with pytest.raises(InvalidInput) as err:
        complete_product(consumable(requires_release=True), HOME_MAX)
    assert (err.value.field, err.value.value) == ("requires_release", True)


def test_serum_vial_that_is_not_lot_tracked_cannot_keep_its_default_release():
    with pytest.raises(InvalidInput) as err:
        complete_product(serum_vial(lot_tracked=False), HOME_MAX)
    assert err.value.field == "requires_release"


def test_untracked_serum_vial_without_release_is_accepted():
    product = complete_product(serum_vial(lot_tracked=False, requires_release=False), HOME_MAX)
    assert (product.lot_tracked, product.requires_release) == (False, False)


@pytest.mark.parametrize("name", ["", "   "])
def test_product_without_a_name_is_refused(name):
    with pytest.raises(InvalidInput) as err:
        complete_product(consumable(name=name), HOME_MAX)
    assert (err.value.field, err.value.value) == ("name", name)


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("shelf_life_days", -1),
        ("shelf_life_days", 36_501),
        ("expiry_alert_days", -1),
        ("min_shelf_life_on_receipt_days", 40_000),
    ],
)
def test_day_counts_outside_a_century_are_refused(field, days):
    with pytest.raises(InvalidInput) as err:
        complete_product(serum_vial(**{field: days}), HOME_MAX)
    assert (err.value.field, err.value.value) == (field, days)


def test_day_counts_at_the_limits_are_accepted():
    product = complete_product(
        serum_vial(shelf_life_days=36_500, expiry_alert_days=0, min_shelf_life_on_receipt_days=0),
        HOME_MAX,
    )
    assert product.shelf_life_days == 36_500


# --- needle lengths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mm", "um"),
    [
        ("0.5", 500),
        ("0.45", 450),
        ("0.4", 400),
        ("1.2", 1200),
        ("3", 3000),
        ("5", 5000),
        ("0.001", 1),
        (" 0.6 ", 600),
        (Decimal("2.5"), 2500),
    ],
)
def test_millimetres_become_whole_micrometres(mm, um):
    assert mm_to_um(mm) == um


@pytest.mark.parametrize("mm", ["0", "-0.5", "-1", "5.001", "6", "10"])
def test_needle_lengths_outside_zero_to_five_mm_are_refused(mm):
    with pytest.raises(InvalidInput) as err:
        mm_to_um(mm)
    assert (err.value.field, err.value.value) == ("needle_mm", mm)


@pytest.mark.parametrize("mm", ["0.0005", "0.4501"])
def test_needle_lengths_finer_than_a_micrometre_are_refused(mm):
    with pytest.raises(InvalidInput) as err:
        mm_to_um(mm)
    assert (err.value.field, err.value.value) == ("needle_mm", mm)
    assert "micrometre" in err.value.reason


@pytest.mark.parametrize("mm", ["abc", "", "NaN", "inf", "0,5"])
def test_needle_length_that_is_not_a_number_is_refused(mm):
    with pytest.raises(InvalidInput) as err:
        mm_to_um(mm)
    assert (err.value.field, err.value.value) == ("needle_mm", mm)


def test_needle_refusal_names_the_field_the_caller_gave():
    with pytest.raises(InvalidInput) as err:
        mm_to_um("0", "at_home_max_needle_mm")
    assert err.value.field == "at_home_max_needle_mm"


def test_sub_micrometre_digits_hidden_past_28_significant_digits_are_still_refused():
    with pytest.raises(InvalidInput):
        mm_to_um("0.50000000000000000000000000001")


def test_absurd_needle_exponent_is_refused_as_bad_input():
    with pytest.raises(InvalidInput) as err:
        mm_to_um("1e999999")
    assert err.value.field == "needle_mm"


@pytest.mark.parametrize(("um", "mm"), [(500, "0.5"), (450, "0.45"), (1200, "1.2"), (3000, "3")])
def test_micrometres_print_as_millimetres_without_trailing_zeros(um, mm):
    assert format_mm(um) == mm
    assert um_to_mm(um) == Decimal(mm)


def test_missing_needle_prints_as_nothing():
    assert format_mm(None) == ""
    assert um_to_mm(None) is None


# --- volumes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ml", "ul"), [("5", 5000), ("0.5", 500), ("2.25", 2250), ("0.001", 1), ("1000", 1_000_000)]
)
def test_millilitres_become_whole_microlitres(ml, ul):
    assert ml_to_ul(ml) == ul


@pytest.mark.parametrize("ml", ["0", "-5", "1000.001", "0.0001", "abc", "NaN"])
def test_volumes_that_are_not_a_positive_whole_microlitre_up_to_a_litre_are_refused(ml):
    with pytest.raises(InvalidInput) as err:
        ml_to_ul(ml)
    assert (err.value.field, err.value.value) == ("ml", ml)


@pytest.mark.parametrize(("ul", "ml"), [(5000, Decimal(5)), (2250, Decimal("2.25")), (None, None)])
def test_microlitres_convert_back_to_millilitres(ul, ml):
    assert ul_to_ml(ul) == ml


def test_ten_millilitres_round_trips_by_value():
    assert ul_to_ml(ml_to_ul("10")) == Decimal(10)


# --- SKUs, kinds, GTIN shape, whole numbers --------------------------------------------------


def test_sku_is_upper_cased_and_trimmed():
    assert parse_sku("  serum-5ml ") == "SERUM-5ML"


@pytest.mark.parametrize("sku", ["STAMP-0.5MM", "KIT_HOME_6", "A", "9-VOLT"])
def test_sku_allows_letters_digits_dots_underscores_and_dashes(sku):
    assert parse_sku(sku) == sku


@pytest.mark.parametrize(
    "sku", ["", "   ", "SERUM 5ML", "-SERUM", ".SERUM", "SERUM/5ML", "SERUM=6", "A" * 65]
)
def test_bad_skus_are_refused(sku):
    with pytest.raises(InvalidInput) as err:
        parse_sku(sku)
    assert (err.value.field, err.value.value) == ("sku", sku)


def test_sku_of_64_characters_is_the_longest_accepted():
    assert parse_sku("A" * 64) == "A" * 64


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("serum_vial", ProductKind.SERUM_VIAL),
        (" DERMA_STAMP ", ProductKind.DERMA_STAMP),
        ("Kit", ProductKind.KIT),
        ("consumable", ProductKind.CONSUMABLE),
    ],
)
def test_product_kind_is_read_case_insensitively(text, kind):
    assert parse_kind(text) is kind


@pytest.mark.parametrize("text", ["serum", "stamp", "", "derma-stamp"])
def test_unknown_product_kind_is_refused(text):
    with pytest.raises(InvalidInput) as err:
        parse_kind(text)
    assert (err.value.field, err.value.value) == ("kind", text)


@pytest.mark.parametrize(
    ("gtin", "padded"),
    [
        ("5060999900014", "05060999900014"),
        ("12345670", "00000012345670"),
        ("012345678905", "00012345678905"),
        ("05060999900014", "05060999900014"),
    ],
)
def test_gtin_shape_pads_to_fourteen_digits(gtin, padded):
    assert gtin_shape(gtin) == padded


@pytest.mark.parametrize("gtin", ["", "1234567", "123456789", "506099990001X", "5060 999900014"])
def test_gtin_shape_refuses_wrong_lengths_and_non_digits(gtin):
    with pytest.raises(InvalidInput) as err:
        gtin_shape(gtin)
    assert (err.value.field, err.value.value) == ("gtin", gtin)


@pytest.mark.parametrize(("text", "number"), [("1", 1), (" 6 ", 6), (12, 12), ("+3", 3)])
def test_positive_whole_numbers_are_accepted(text, number):
    assert parse_positive_int(text, "quantity") == number


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "abc", "", 0, -3])
def test_zero_negative_and_non_whole_quantities_are_refused(text):
    with pytest.raises(InvalidInput) as err:
        parse_positive_int(text, "quantity")
    assert (err.value.field, err.value.value) == ("quantity", text)


def test_zero_is_a_valid_non_negative_count():
    assert parse_non_negative_int("0", "counted") == 0
    assert parse_non_negative_int(7, "counted") == 7


@pytest.mark.parametrize("text", ["-1", "two", "2.0"])
def test_negative_or_non_whole_counts_are_refused(text):
    with pytest.raises(InvalidInput) as err:
        parse_non_negative_int(text, "counted")
    assert (err.value.field, err.value.value) == ("counted", text)
