"""``kitops location``: clinics and the stockrooms, fridges and shelves inside them."""

from __future__ import annotations

import json

from e2e_support import assert_bad_input, assert_refused, json_of, keys_and_types

LOCATION_KEYS = {
    "code": str,
    "name": str,
    "kind": str,
    "parent": (str, type(None)),
    "clinic": (str, type(None)),
    "timezone": (str, type(None)),
    "currency": (str, type(None)),
    "virtual": bool,
    "address": (str, type(None)),
    "contact": (str, type(None)),
    "country": (str, type(None)),
    "locale": (str, type(None)),
}


def locations_by_code(cli):
    return {loc["code"]: loc for loc in json_of(cli, "location", "list", "--json")}


def test_location_list_json_gives_every_location_its_clinic(demo):
    locations = locations_by_code(demo)
    for loc in locations.values():
        keys_and_types(loc, LOCATION_KEYS)
    assert locations["LON"] == {
        "code": "LON",
        "name": "London, Harley Street",
        "kind": "clinic",
        "parent": None,
        "clinic": "LON",
        "timezone": "Europe/London",
        "currency": "GBP",
        "virtual": False,
        "address": "10 Harley Street, London W1G 9PF, United Kingdom",
        "contact": "Stockroom +44 20 7946 0101, stock.lon@clinic.example",
        "country": "GB",
        "locale": None,
    }
    fridge = locations["LON-FRIDGE"]
    assert (fridge["kind"], fridge["parent"], fridge["clinic"]) == ("fridge", "LON-STORE", "LON")
    assert (fridge["timezone"], fridge["currency"]) == ("Europe/London", "GBP")
    assert locations["VIE-SHELF"]["clinic"] == "VIE"
    assert locations["VIE-SHELF"]["timezone"] == "Europe/Vienna"
    assert locations["VIE-SHELF"]["currency"] == "EUR"
    for code in ("SUPPLIER", "PATIENT", "SCRAP", "ADJUSTMENT"):
        virtual = locations[code]
        assert virtual["virtual"] is True
        assert (virtual["parent"], virtual["clinic"], virtual["timezone"]) == (None, None, None)
    assert sum(not loc["virtual"] for loc in locations.values()) == 15


def test_add_clinic_then_rooms_inside_it_which_inherit_its_clinic(cli):
    clinic = cli(
        "location", "add", "man", "--name", "Manchester", "--timezone", "Europe/London",
        "--currency", "gbp", "--json",
    )  # fmt: skip
    assert clinic.code == 0, clinic.err
    added = json.loads(clinic.out)
    keys_and_types(added, LOCATION_KEYS)
    assert added == {
        "code": "MAN",
        "name": "Manchester",
        "kind": "clinic",
        "parent": None,
        "clinic": "MAN",
        "timezone": "Europe/London",
        "currency": "GBP",
        "virtual": False,
        "address": None,
        "contact": None,
        "country": None,
        "locale": None,
    }
    store = cli("location", "add", "MAN-STORE", "--name", "Stockroom", "--parent", "MAN",
                "--kind", "stockroom")  # fmt: skip
    assert store.code == 0, store.err
    assert "MAN-STORE" in store.out
    fridge = cli("location", "add", "MAN-FRIDGE", "--name", "Fridge", "--parent", "man-store",
                 "--kind", "fridge", "--json")  # fmt: skip
    assert fridge.code == 0, fridge.err
    assert json.loads(fridge.out)["clinic"] == "MAN"
    locations = locations_by_code(cli)
    assert locations["MAN-STORE"]["parent"] == "MAN"
    assert locations["MAN-FRIDGE"]["parent"] == "MAN-STORE"
    assert locations["MAN-FRIDGE"]["clinic"] == "MAN"
    assert locations["MAN-FRIDGE"]["timezone"] == "Europe/London"
    assert locations["MAN-FRIDGE"]["currency"] == "GBP"

    # without --kind: a clinic at the top, a shelf under a parent
    for args in (
        ["BER", "--name", "Berlin", "--timezone", "Europe/Berlin"],
        ["BER-1", "--name", "Shelf one", "--parent", "BER"],
    ):
        added = cli("location", "add", *args)
        assert added.code == 0, added.err
    locations = locations_by_code(cli)
    assert (locations["BER"]["kind"], locations["BER"]["currency"]) == ("clinic", None)
    assert (locations["BER-1"]["kind"], locations["BER-1"]["clinic"]) == ("shelf", "BER")


MALFORMED_LOCATIONS = [
    # arguments after ``location add``, the field and the value the error must name
    (["NEWC", "--name", "New clinic"], "timezone", "NEWC"),
    (["NEWC", "--name", "New clinic", "--timezone", "Mars/Olympus"], "timezone", "Mars/Olympus"),
    (["NEWC", "--name", "New clinic", "--timezone", "Europe/Londn"], "timezone", "Europe/Londn"),
    (["NEWC", "--name", "N", "--timezone", "UTC", "--currency", "POUND"], "currency", "POUND"),
    (["NEW-1", "--name", "Shelf", "--parent", "NOPE"], "parent", "NOPE"),
    (["NEW-1", "--name", "Shelf", "--parent", "LON", "--timezone", "UTC"], "timezone", "UTC"),
    (["NEW-1", "--name", "Shelf", "--parent", "LON", "--currency", "GBP"], "currency", "GBP"),
    (["NEW-1", "--name", "Shelf", "--parent", "LON-FRIDGE"], "parent", "LON-FRIDGE"),
    (["NEW-1", "--name", "Room", "--kind", "stockroom"], "parent", ""),
    (["NEW-1", "--name", "Shelf", "--parent", "LON", "--kind", "bin"], "--kind", "bin"),
    (["NEW-1", "--name", "Shelf", "--parent", "LON", "--kind", "scrap"], "--kind", "scrap"),
    (["NEW 1", "--name", "Shelf", "--parent", "LON"], "code", "NEW 1"),
    (["NEW-1", "--name", " ", "--parent", "LON"], "name", ""),
]


def test_duplicate_or_malformed_location_is_refused_and_changes_nothing(demo, snapshot):
    before = snapshot()
    assert_refused(
        demo("location", "add", "LON", "--name", "Again", "--timezone", "Europe/London"), "LON"
    )
    assert_refused(
        demo("location", "add", "lon-shelf", "--name", "Again", "--parent", "LON-STORE"),
        "LON-SHELF",
    )
    for args, field, value in MALFORMED_LOCATIONS:
        assert_bad_input(demo("location", "add", *args), field, value)
    assert snapshot() == before
