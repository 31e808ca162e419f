"""Kit recipes: what may go into a kit, and what may go home in one."""

import pytest

from kitops.domain.catalog import (
    DEFAULT_AT_HOME_MAX_NEEDLE_UM,
    ProductKind,
    RecipeComponent,
    check_recipe,
    parse_component,
)
from kitops.errors import InvalidInput

HOME_MAX = DEFAULT_AT_HOME_MAX_NEEDLE_UM

SERUM = RecipeComponent("SERUM-5ML", ProductKind.SERUM_VIAL, None, True, 6)
STAMP_05 = RecipeComponent("STAMP-0.5MM", ProductKind.DERMA_STAMP, 500, True, 1)
STAMP_06 = RecipeComponent("STAMP-0.6MM", ProductKind.DERMA_STAMP, 600, True, 1)
STAMP_12 = RecipeComponent("STAMP-1.2MM", ProductKind.DERMA_STAMP, 1200, False, 1)
CLINIC_SERUM = RecipeComponent("SERUM-PRO-10ML", ProductKind.SERUM_VIAL, None, False, 1)
GLOVES = RecipeComponent("GLOVES-M", ProductKind.CONSUMABLE, None, True, 2)
INNER_KIT = RecipeComponent("KIT-REFILL", ProductKind.KIT, None, True, 1)


def home_kit(components, kit_kind=ProductKind.KIT, at_home_max=HOME_MAX):
    check_recipe("KIT-HOME-6", kit_kind, True, components, at_home_max)


def clinic_kit(components):
    check_recipe("KIT-CLINIC", ProductKind.KIT, False, components, HOME_MAX)


# --- parse_component ------------------------------------------------------------------------


def test_component_is_written_sku_equals_quantity():
    assert parse_component("SERUM-5ML=6") == ("SERUM-5ML", 6)


def test_component_sku_is_upper_cased_and_spaces_around_parts_are_ignored():
    assert parse_component(" serum-5ml = 6 ") == ("SERUM-5ML", 6)


def test_component_without_quantity_is_refused():
    with pytest.raises(InvalidInput) as err:
        parse_component("X")
    assert (err.value.field, err.value.value) == ("component", "X")


@pytest.mark.parametrize("text", ["X=0", "X=-1", "X=abc", "X=", "X=1.5"])
def test_component_quantity_must_be_a_whole_number_of_at_least_one(text):
    with pytest.raises(InvalidInput) as err:
        parse_component(text)
    assert err.value.field == "quantity of X"
    assert err.value.value == text.partition("=")[2]


def test_component_without_sku_is_refused():
    with pytest.raises(InvalidInput) as err:
        parse_component("=6")
    assert (err.value.field, err.value.value) == ("component", "")


def test_component_with_a_space_in_the_sku_is_refused():
    with pytest.raises(InvalidInput) as err:
        parse_component("SERUM 5ML=6")
    assert err.value.field == "component"


# --- check_recipe ---------------------------------------------------------------------------


def test_at_home_kit_of_six_vials_and_a_short_stamp_is_accepted():
    home_kit([SERUM, STAMP_05])


def test_at_home_kit_accepts_a_stamp_exactly_at_the_home_maximum():
    home_kit([SERUM, STAMP_06])


def test_at_home_kit_refuses_a_long_stamp():
    with pytest.raises(InvalidInput) as err:
        home_kit([SERUM, STAMP_12])
    assert (err.value.field, err.value.value) == ("component", "STAMP-1.2MM")
    assert "1.2 mm" in err.value.reason


def test_at_home_kit_refuses_a_long_stamp_even_if_it_is_wrongly_flagged_at_home():
    flagged = RecipeComponent("STAMP-1.2MM", ProductKind.DERMA_STAMP, 1200, True, 1)
    with pytest.raises(InvalidInput) as err:
        home_kit([SERUM, flagged])
    assert (err.value.field, err.value.value) == ("component", "STAMP-1.2MM")


def test_at_home_kit_refuses_a_stamp_of_unknown_length():
    unknown = RecipeComponent("STAMP-OLD", ProductKind.DERMA_STAMP, None, True, 1)
    with pytest.raises(InvalidInput) as err:
        home_kit([SERUM, unknown])
    assert (err.value.field, err.value.value) == ("component", "STAMP-OLD")


def test_at_home_kit_follows_the_configured_maximum():
    allowed_at_home = RecipeComponent("STAMP-1.2MM", ProductKind.DERMA_STAMP, 1200, True, 1)
    home_kit([SERUM, allowed_at_home], at_home_max=1200)
    with pytest.raises(InvalidInput) as err:
        home_kit([SERUM, STAMP_05], at_home_max=400)
    assert (err.value.field, err.value.value) == ("component", "STAMP-0.5MM")


def test_at_home_kit_refuses_a_clinic_only_component():
    with pytest.raises(InvalidInput) as err:
        home_kit([CLINIC_SERUM, STAMP_05])
    assert (err.value.field, err.value.value) == ("component", "SERUM-PRO-10ML")
    assert "clinic-only" in err.value.reason


def test_at_home_kit_refuses_a_short_stamp_marked_clinic_only():
    clinic_only = RecipeComponent("STAMP-0.5MM-PRO", ProductKind.DERMA_STAMP, 500, False, 1)
    with pytest.raises(InvalidInput) as err:
        home_kit([SERUM, clinic_only])
    assert (err.value.field, err.value.value) == ("component", "STAMP-0.5MM-PRO")


def test_clinic_kit_may_contain_a_long_stamp():
    clinic_kit([SERUM, STAMP_12])


def test_clinic_kit_may_contain_clinic_only_components():
    clinic_kit([CLINIC_SERUM, STAMP_12, GLOVES])


def test_a_kit_inside_a_kit_is_refused():
    with pytest.raises(InvalidInput) as err:
        home_kit([SERUM, INNER_KIT])
    assert (err.value.field, err.value.value) == ("component", "KIT-REFILL")


def test_a_kit_inside_a_clinic_kit_is_refused_too():
    with pytest.raises(InvalidInput) as err:
        clinic_kit([INNER_KIT])
    assert (err.value.field, err.value.value) == ("component", "KIT-REFILL")


def test_a_component_listed_twice_is_refused():
    again = RecipeComponent("SERUM-5ML", ProductKind.SERUM_VIAL, None, True, 2)
    with pytest.raises(InvalidInput) as err:
        home_kit([SERUM, STAMP_05, again])
    assert (err.value.field, err.value.value) == ("component", "SERUM-5ML")
    assert "twice" in err.value.reason


def test_an_empty_recipe_is_refused():
    with pytest.raises(InvalidInput) as err:
        home_kit([])
    assert err.value.field == "components"


@pytest.mark.parametrize("kind", [ProductKind.SERUM_VIAL, ProductKind.DERMA_STAMP])
def test_only_a_kit_product_can_have_a_recipe(kind):
    with pytest.raises(InvalidInput) as err:
        home_kit([SERUM, STAMP_05], kit_kind=kind)
    assert (err.value.field, err.value.value) == ("kit_sku", "KIT-HOME-6")
    assert kind.value in err.value.reason


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_component_quantity_below_one_is_refused(quantity):
    zero = RecipeComponent("SERUM-5ML", ProductKind.SERUM_VIAL, None, True, quantity)
    with pytest.raises(InvalidInput) as err:
        home_kit([zero, STAMP_05])
    assert (err.value.field, err.value.value) == ("quantity of SERUM-5ML", quantity)
