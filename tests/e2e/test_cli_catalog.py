"""``kitops catalog``: products and kit recipes."""

from __future__ import annotations

import json

from e2e_support import assert_bad_input, assert_refused, json_of, keys_and_types

PRODUCT_KEYS = {
    "sku": str,
    "name": str,
    "kind": str,
    "unit": str,
    "gtin": (str, type(None)),
    "ml": (str, type(None)),
    "needle_mm": (str, type(None)),
    "at_home_allowed": bool,
    "lot_tracked": bool,
    "requires_release": bool,
    "shelf_life_days": (int, type(None)),
    "expiry_alert_days": int,
    "min_shelf_life_on_receipt_days": int,
    "recipe": list,
    "storage": (str, type(None)),
    "usage": (str, type(None)),
}

VALID_GTIN = "4006381333931"  # a real EAN-13 with a correct check digit


def product(cli, sku):
    return next(p for p in json_of(cli, "catalog", "list", "--json") if p["sku"] == sku)


def test_catalog_list_json_has_stable_keys_and_types(demo):
    products = json_of(demo, "catalog", "list", "--json")
    assert {p["sku"] for p in products} == {
        "SERUM-5ML", "STAMP-0.4", "STAMP-0.5", "STAMP-0.6", "STAMP-1.2", "STAMP-2.0",
        "CHX-0.5", "KIT-HOME-6W", "KIT-HOME-PTT6",
    }  # fmt: skip
    for p in products:
        keys_and_types(p, PRODUCT_KEYS)
        for line in p["recipe"]:
            keys_and_types(line, {"component_sku": str, "quantity": int})
    kit = next(p for p in products if p["sku"] == "KIT-HOME-6W")
    assert kit["recipe"] == [
        {"component_sku": "SERUM-5ML", "quantity": 6},
        {"component_sku": "STAMP-0.5", "quantity": 1},
    ]
    stamp = next(p for p in products if p["sku"] == "STAMP-0.5")
    assert stamp["needle_mm"] == "0.5"
    assert stamp["gtin"] == "05060999900038"


def test_add_product_serum_vial_gets_vial_defaults(cli):
    result = cli(
        "catalog", "add-product", "SERUM-10ML", "--name", "Serum 10 ml", "--kind", "serum_vial",
        "--ml", "10", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    added = json.loads(result.out)
    keys_and_types(added, PRODUCT_KEYS)
    assert added == {
        "sku": "SERUM-10ML",
        "name": "Serum 10 ml",
        "kind": "serum_vial",
        "unit": "vial",
        "gtin": None,
        "ml": "10",
        "needle_mm": None,
        "at_home_allowed": True,
        "lot_tracked": True,
        "requires_release": True,
        "shelf_life_days": None,
        "expiry_alert_days": 90,
        "min_shelf_life_on_receipt_days": 30,
        "recipe": [],
        "storage": None,
        "usage": None,
    }
    assert product(cli, "SERUM-10ML") == added


def test_add_product_fills_defaults_by_kind_and_normalises_sku_and_gtin(cli):
    result = cli("catalog", "add-product", "GLOVES-M", "--name", "Gloves", "--kind", "consumable")
    assert result.code == 0, result.err
    assert "added GLOVES-M" in result.out
    assert result.err == ""
    gloves = product(cli, "GLOVES-M")
    assert (gloves["unit"], gloves["lot_tracked"], gloves["requires_release"]) == (
        "each", False, False,
    )  # fmt: skip

    result = cli(
        "catalog", "add-product", "stamp-0.3", "--name", "Stamp 0.3", "--kind", "derma_stamp",
        "--needle-mm", "0.3", "--gtin", VALID_GTIN, "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    added = json.loads(result.out)
    assert (added["sku"], added["gtin"], added["needle_mm"]) == (
        "STAMP-0.3", "0" + VALID_GTIN, "0.3",
    )  # fmt: skip
    assert added["at_home_allowed"] is True

    result = cli(
        "catalog", "add-product", "STAMP-1.5", "--name", "Stamp 1.5", "--kind", "derma_stamp",
        "--needle-mm", "1.5", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert json.loads(result.out)["at_home_allowed"] is False, "over 0.6 mm: clinic only"

    kit = cli("catalog", "add-product", "KIT-X", "--name", "Kit", "--kind", "kit", "--json")
    assert kit.code == 0, kit.err
    assert (json.loads(kit.out)["unit"], json.loads(kit.out)["lot_tracked"]) == ("kit", True)
    assert [p["sku"] for p in json_of(cli, "catalog", "list", "--json")] == [
        "GLOVES-M", "KIT-X", "STAMP-0.3", "STAMP-1.5",
    ]  # fmt: skip


def test_duplicate_sku_or_gtin_is_refused_and_changes_nothing(demo, snapshot):
    before = snapshot()
    for sku in ("SERUM-5ML", "serum-5ml"):
        result = demo(
            "catalog", "add-product", sku, "--name", "Again", "--kind", "serum_vial", "--ml", "5"
        )
        assert_refused(result, "SERUM-5ML")
    result = demo(
        "catalog", "add-product", "OTHER", "--name", "Other", "--kind", "consumable",
        "--gtin", "5060999900014",
    )  # fmt: skip
    assert_refused(result, "SERUM-5ML")
    assert snapshot() == before


MALFORMED_PRODUCTS = [
    # options after SKU and --name, the field and the value the error must name
    (["--kind", "derma_stamp", "--needle-mm", "1.2", "--at-home"], "needle_mm", "1.2"),
    (["--kind", "consumable", "--gtin", "4006381333932"], "gtin", "4006381333932"),
    (["--kind", "serum_vial", "--ml", "-5"], "ml", "-5"),
    (["--kind", "serum_vial", "--ml", "0"], "ml", "0"),
    (["--kind", "serum_vial", "--ml", "lots"], "ml", "lots"),
    (["--kind", "serum_vial"], "ml", ""),
    (["--kind", "derma_stamp"], "needle_mm", ""),
    (["--kind", "derma_stamp", "--needle-mm", "0"], "needle_mm", "0"),
    (["--kind", "derma_stamp", "--needle-mm", "-0.5"], "needle_mm", "-0.5"),
    (["--kind", "consumable", "--needle-mm", "0.5"], "needle_mm", "0.5"),
    (["--kind", "consumable", "--gtin", "12345"], "gtin", "12345"),
    (["--kind", "bogus"], "--kind", "bogus"),
    (["--kind", "consumable", "--expiry-alert-days", "-1"], "--expiry-alert-days", "-1"),
    (["--kind", "consumable", "--shelf-life-days", "soon"], "--shelf-life-days", "soon"),
]


def test_malformed_product_is_bad_input_and_not_added(cli, snapshot):
    before = snapshot()
    for options, field, value in MALFORMED_PRODUCTS:
        result = cli("catalog", "add-product", "NEW-1", "--name", "New", *options)
        assert_bad_input(result, field, value)
    assert snapshot() == before


def test_add_recipe_sets_and_replaces_the_bill_of_materials_of_a_kit(demo):
    added = demo(
        "catalog", "add-product", "KIT-CLINIC", "--name", "Clinic kit", "--kind", "kit",
        "--clinic-only",
    )  # fmt: skip
    assert added.code == 0, added.err
    result = demo(
        "catalog", "add-recipe", "kit-clinic", "SERUM-5ML=2", "STAMP-1.2=1", "CHX-0.5=1", "--json"
    )
    assert result.code == 0, result.err
    kit = json.loads(result.out)
    keys_and_types(kit, PRODUCT_KEYS)
    assert kit["recipe"] == [
        {"component_sku": "SERUM-5ML", "quantity": 2},
        {"component_sku": "STAMP-1.2", "quantity": 1},
        {"component_sku": "CHX-0.5", "quantity": 1},
    ]
    assert product(demo, "KIT-CLINIC")["recipe"] == kit["recipe"]

    again = demo("catalog", "add-recipe", "KIT-CLINIC", "SERUM-5ML=4", "STAMP-0.4=1")
    assert again.code == 0, again.err
    assert "recipe of KIT-CLINIC" in again.out
    assert product(demo, "KIT-CLINIC")["recipe"] == [
        {"component_sku": "SERUM-5ML", "quantity": 4},
        {"component_sku": "STAMP-0.4", "quantity": 1},
    ]


MALFORMED_RECIPES = [
    # components, the field and the value the error must name
    (["SERUM-5ML=6", "STAMP-1.2=1"], "component", "STAMP-1.2"),
    (["SERUM-5ML=0"], "SERUM-5ML", "0"),
    (["SERUM-5ML=-1"], "SERUM-5ML", "-1"),
    (["SERUM-5ML=six"], "SERUM-5ML", "six"),
    (["SERUM-5ML"], "component", "SERUM-5ML"),
    (["NOPE=1"], "component", "NOPE"),
    (["SERUM-5ML=1", "SERUM-5ML=2"], "component", "SERUM-5ML"),
    (["KIT-HOME-6W=1"], "component", "KIT-HOME-6W"),
    (["STAMP-2.0=1"], "component", "STAMP-2.0"),
]


def test_malformed_recipe_is_bad_input_and_changes_nothing(demo, snapshot):
    before = snapshot()
    for components, field, value in MALFORMED_RECIPES:
        result = demo("catalog", "add-recipe", "KIT-HOME-6W", *components)
        assert_bad_input(result, field, value)
    for kit, field in (("SERUM-5ML", "kit_sku"), ("NO-SUCH-KIT", "NO-SUCH-KIT")):
        assert_bad_input(demo("catalog", "add-recipe", kit, "STAMP-0.4=1"), field, kit)
    digits = "99999999999999999999"
    assert_bad_input(demo("catalog", "add-recipe", "KIT-HOME-6W", f"SERUM-5ML={digits}"), digits)
    assert snapshot() == before


def test_recipe_quantity_beyond_what_a_column_holds_is_bad_input(demo, snapshot):
    before = snapshot()
    result = demo("catalog", "add-recipe", "KIT-HOME-6W", "SERUM-5ML=9999999999")
    assert_bad_input(result, "SERUM-5ML", "9999999999")
    assert snapshot() == before


def test_product_name_longer_than_the_column_is_bad_input(cli, snapshot):
    before = snapshot()
    result = cli("catalog", "add-product", "LONG-NAME", "--name", "x" * 250, "--kind", "consumable")
    assert_bad_input(result, "name")
    assert snapshot() == before
