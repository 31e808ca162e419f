"""``kitops scan`` and the new label commands (``location label``, ``course card``) end
to end on the demo data: what each code says, the --json shapes, the exit codes."""

from __future__ import annotations

import json

from e2e_support import assert_bad_input, json_of, keys_and_types
from identity_support import bind_identity

GS = "\x1d"
KIT_GTIN = "05060999900083"

KIT_KEYS = {
    "kind": str, "code": str, "serial": str, "sku": str, "gtin": (str, type(None)),
    "status": str, "recalled": bool, "expiry": str, "location": str,
    "clinic": (str, type(None)), "course_id": (int, type(None)),
    "course_part": (int, type(None)), "next_step": str, "actions": list,
}  # fmt: skip
LOT_KEYS = {
    "kind": str, "code": str, "sku": str, "product": str, "lot": str,
    "expiry": (str, type(None)), "status": str, "status_reason": (str, type(None)),
    "on_hand": list, "total_on_hand": int, "next_step": str, "actions": list,
}  # fmt: skip
LOCATION_KEYS = {
    "kind": str, "code": str, "location": str, "name": str, "place_kind": str,
    "clinic": (str, type(None)), "products": list, "kits": list, "next_step": str,
    "actions": list,
}  # fmt: skip
COURSE_KEYS = {
    "kind": str, "code": str, "course_id": int, "plan": str, "clinic": str, "status": str,
    "kits": list, "next_date": (str, type(None)), "next_event": (str, type(None)),
    "next_step": str, "actions": list,
}  # fmt: skip


def _kit_scan(demo, serial: str) -> str:
    kit = json_of(demo, "kit", "show", serial, "--json")
    (lot,) = {c["lot"] for c in kit["components"] if c["sku"] == "SERUM-5ML"}
    return f"]d201{KIT_GTIN}17{kit['expiry'][2:].replace('-', '')}10{lot}{GS}21{serial}"


def test_scan_a_kit_label_tells_its_course_and_next_step(demo):
    scanned = json_of(demo, "scan", _kit_scan(demo, "K0000001"), "--json")
    keys_and_types(scanned, KIT_KEYS)
    assert (scanned["kind"], scanned["serial"], scanned["gtin"]) == ("kit", "K0000001", KIT_GTIN)
    assert scanned["course_id"] is not None
    words = demo("scan", _kit_scan(demo, "K0000001"))
    assert words.code == 0
    assert "kit K0000001 (KIT-HOME-6W)" in words.out
    assert "next: " in words.out


def test_scan_a_lot_location_and_course_card(demo):
    kit = json_of(demo, "kit", "show", "K0000002", "--json")
    serum = next(c for c in kit["components"] if c["sku"] == "SERUM-5ML")
    lot = json_of(demo, "scan", f"(01)05060999900014(10){serum['lot']}", "--json")
    keys_and_types(lot, LOT_KEYS)
    assert (lot["kind"], lot["lot"], lot["sku"]) == ("lot", serum["lot"], "SERUM-5ML")
    assert lot["total_on_hand"] > 0

    place = json_of(demo, "scan", " KLOC:LON-FRIDGE\n", "--json")
    keys_and_types(place, LOCATION_KEYS)
    assert (place["kind"], place["location"], place["clinic"]) == ("location", "LON-FRIDGE", "LON")
    assert any(p["sku"] == "SERUM-5ML" for p in place["products"])

    card = json_of(demo, "scan", "]d1KCRS:1", "--json")
    keys_and_types(card, COURSE_KEYS)
    assert (card["kind"], card["course_id"]) == ("course", 1)
    assert "patient" not in json.dumps(card).lower()
    printed = demo("scan", "KCRS:1")
    assert printed.code == 0
    assert "course 1 (" in printed.out
    assert "P-" not in printed.out


def test_unknown_or_malformed_scans_are_one_line_in_words_exit_2(demo):
    for typed, words in (
        (f"(01){KIT_GTIN}", "a kit code needs (21) serial"),
        ("(01)05060999900084(21)K1", "GTIN check digit is wrong"),
        (f"(01){KIT_GTIN}(21)NOSUCH", "no kit has the serial NOSUCH"),
        ("NOSUCH", "nothing has the code NOSUCH"),
        ("]d2", "only a symbology identifier"),
        ("   ", "is empty"),
    ):
        result = demo("scan", typed)
        assert_bad_input(result, "scan", words)
        assert result.out == ""


def test_location_labels_and_course_cards_are_written_or_refused_like_kit_labels(demo, tmp_path):
    out = tmp_path / "places.pdf"
    done = demo("location", "label", "LON-FRIDGE", "ESX-SHELF", "--out", str(out))
    assert done.code == 0, done.err
    assert "2 label(s) written" in done.out
    assert out.read_bytes().startswith(b"%PDF")
    card = tmp_path / "card.png"
    assert demo("course", "card", "1", "--out", str(card)).code == 0
    assert card.read_bytes().startswith(b"\x89PNG")

    missing = tmp_path / "never.pdf"
    assert_bad_input(demo("location", "label", "LON-FRIDGE", "NOWHERE", "--out", str(missing)),
                     "location", "NOWHERE")  # fmt: skip
    assert_bad_input(demo("course", "card", "999", "--out", str(missing)), "course", "999")
    assert_bad_input(demo("course", "card", "1", "--out", str(tmp_path / "card.txt")), "out")
    assert not missing.exists()


def test_a_user_limited_to_a_clinic_scans_and_labels_its_clinic_only(demo, db_url, db, capsys,
                                                                    tmp_path):  # fmt: skip
    from kitops.cli import run

    def as_stock(*args: str) -> tuple[int, str, str]:
        bind_identity(db.engine, "stock")
        capsys.readouterr()
        try:
            code = run(["--db", db_url, "--user", "stock", *args])
        finally:
            bind_identity(db.engine, "tester")
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.out, captured.err

    assert demo("user", "set-clinics", "stock", "ESX").code == 0
    out = tmp_path / "lon.pdf"
    code, _, err = as_stock("location", "label", "LON-FRIDGE", "--out", str(out))
    assert code == 1
    assert "stock may not label a location at clinic LON" in err
    assert not out.exists()
    code, _, err = as_stock("scan", "KLOC:LON-FRIDGE")
    assert code == 1
    assert "stock may not" in err
    code, _, err = as_stock("scan", "KKIT:K0000001")  # a London kit: not told
    assert code == 2
    assert "no kit has the serial K0000001" in err
    code, out_text, _ = as_stock("scan", "KLOC:ESX-SHELF", "--json")
    assert code == 0
    assert json.loads(out_text)["clinic"] == "ESX"


def test_a_kit_product_takes_a_gtin_whose_check_digit_is_verified(cli):
    bad = cli("catalog", "add-product", "KIT-X", "--name", "Kit X", "--kind", "kit",
              "--gtin", "05060999900107")  # fmt: skip
    assert_bad_input(bad, "gtin", "GTIN check digit is wrong", "the last digit should be 6")
    done = json_of(cli, "catalog", "add-product", "KIT-X", "--name", "Kit X", "--kind", "kit",
                   "--gtin", "5060999900106", "--json")  # fmt: skip
    assert (done["kind"], done["gtin"]) == ("kit", "05060999900106")  # stored as GTIN-14
