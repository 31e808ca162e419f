"""``kitops import products|locations|stock FILE.csv``: all rows or none."""

from __future__ import annotations

import json

from e2e_support import assert_bad_input, json_of, keys_and_types, write_csv

REPORT_KEYS = {"kind": str, "rows": int, "created": int, "dry_run": bool}


def quantities(cli, *filters):
    """(location, sku, lot) → quantity, unavailable stock included."""
    lines = json_of(cli, "stock", "--include-unavailable", *filters, "--json")
    return {(line["location"], line["sku"], line["lot"]): line["quantity"] for line in lines}


def rejected_lines(result):
    """The ``line N: reason`` lines of a refused import, keyed by line number."""
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == ""
    first, *rest = result.err.strip().splitlines()
    assert "nothing imported" in first
    problems = {}
    for entry in rest:
        assert entry.startswith("line "), entry
        number, _, reason = entry.removeprefix("line ").partition(": ")
        problems[int(number)] = reason
    return problems


def test_import_products_adds_every_row(cli, tmp_path):
    path = write_csv(
        tmp_path, "products.csv",
        "sku,name,kind,unit,gtin,ml,needle_mm,at_home,lot_tracked,requires_release,shelf_life_days",
        "SERUM-3ML,Serum 3 ml,serum_vial,,4006381333931,3,,,,,365",
        "STAMP-1.0,Stamp 1.0 mm,derma_stamp,,,,1.0,no,yes,,",
        "GAUZE,Gauze swabs,consumable,pack,,,,,,,",
    )  # fmt: skip
    result = cli("import", "products", path, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    keys_and_types(report, REPORT_KEYS)
    assert report == {"kind": "products", "rows": 3, "created": 3, "dry_run": False}

    products = {p["sku"]: p for p in json_of(cli, "catalog", "list", "--json")}
    assert set(products) == {"SERUM-3ML", "STAMP-1.0", "GAUZE"}
    serum = products["SERUM-3ML"]
    assert (serum["ml"], serum["gtin"], serum["shelf_life_days"]) == ("3", "04006381333931", 365)
    assert (serum["unit"], serum["lot_tracked"], serum["requires_release"]) == ("vial", True, True)
    stamp = products["STAMP-1.0"]
    assert (stamp["needle_mm"], stamp["at_home_allowed"], stamp["lot_tracked"]) == (
        "1", False, True,
    )  # fmt: skip
    assert products["GAUZE"]["unit"] == "pack"
    assert products["GAUZE"]["lot_tracked"] is False

    excel = tmp_path / "excel.csv"  # as a spreadsheet saves it: BOM, CRLF, capitals, blank line
    excel.write_bytes(
        b"\xef\xbb\xbfSKU,Name,Kind,Needle_mm\r\nSTAMP-0.3,Stamp 0.3,derma_stamp,0.3\r\n\r\n"
    )
    result = cli("import", "products", str(excel))
    assert result.code == 0, result.err
    assert "imported 1 products rows" in result.out
    assert "STAMP-0.3" in {p["sku"] for p in json_of(cli, "catalog", "list", "--json")}


def test_import_stock_posts_opening_balances_that_pass_db_check(demo, tmp_path):
    before = quantities(demo)
    path = write_csv(
        tmp_path, "stock.csv",
        "sku,quantity,location,lot,expiry,status,unit_cost,currency",
        "SERUM-5ML,12,LON-FRIDGE,PTT6-D0101,2028-03-01,,35.00,GBP",
        "SERUM-5ML,3,ESX-FRIDGE,PTT6-A0603,{expiry},,,",
        "CHX-0.5,5,VIE-SHELF,,,,,",
        "STAMP-0.4,4,LON-STORE,DS04-2401,{stamp_expiry},,,",
    )  # fmt: skip
    lots = {line["lot"]: line["expiry"] for line in json_of(demo, "stock", "--json")}
    text = (tmp_path / "stock.csv").read_text()
    text = text.replace("{expiry}", lots["PTT6-A0603"]).replace("{stamp_expiry}", lots["DS04-2401"])
    (tmp_path / "stock.csv").write_text(text)

    result = demo("import", "stock", path, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    keys_and_types(report, REPORT_KEYS)
    assert report == {"kind": "stock", "rows": 4, "created": 4, "dry_run": False}

    check = demo("db", "check", "--json")
    assert check.code == 0, check.out
    assert json.loads(check.out)["ok"] is True
    after = quantities(demo)
    assert after[("LON-FRIDGE", "SERUM-5ML", "PTT6-D0101")] == 12
    assert after[("ESX-FRIDGE", "SERUM-5ML", "PTT6-A0603")] == (
        before[("ESX-FRIDGE", "SERUM-5ML", "PTT6-A0603")] + 3
    )
    assert after[("VIE-SHELF", "CHX-0.5", "-")] == before[("VIE-SHELF", "CHX-0.5", "-")] + 5
    assert after[("LON-STORE", "STAMP-0.4", "DS04-2401")] == 4
    changed = {key for key in after if after[key] != before.get(key)}
    assert len(changed) == 4


def test_import_stock_keeps_each_rows_cost_and_refuses_a_foreign_one_unless_meant(demo, tmp_path):
    header = "sku,quantity,location,lot,expiry,status,unit_cost,currency"
    path = write_csv(
        tmp_path, "stock.csv", header,
        "SERUM-5ML,10,LON-FRIDGE,PTT6-D0202,2028-03-01,,35.00,GBP",
        "SERUM-5ML,10,ESX-FRIDGE,PTT6-D0202,2028-03-01,,37.00,GBP",
        "SERUM-5ML,4,VIE-FRIDGE,PTT6-D0303,2028-03-01,,41.00,EUR",
        "SERUM-5ML,4,VIE-FRIDGE,PTT6-D0404,2028-03-01,,35.00,GPB",
        "SERUM-5ML,4,VIE-FRIDGE,PTT6-D0505,2028-03-01,,35.00,GBP",
    )  # fmt: skip
    problems = rejected_lines(demo("import", "stock", path))
    assert set(problems) == {5, 6}, problems
    assert "unit_cost currency 'GPB'" in problems[5]
    assert "GBP is not VIE's currency (EUR)" in problems[6]
    assert "--foreign-currency" in problems[6]

    good = write_csv(tmp_path, "good.csv", header,
                     "SERUM-5ML,10,LON-FRIDGE,PTT6-D0202,2028-03-01,,35.00,GBP",
                     "SERUM-5ML,10,ESX-FRIDGE,PTT6-D0202,2028-03-01,,37.00,GBP",
                     "SERUM-5ML,4,VIE-FRIDGE,PTT6-D0505,2028-03-01,,35.00,GBP")  # fmt: skip
    assert rejected_lines(demo("import", "stock", good))[4]
    result = demo("import", "stock", good, "--foreign-currency")
    assert result.code == 0, result.err
    report = json_of(demo, "report", "valuation", "--format", "json")
    lots = {(line["clinic"], line["lot"]): line for line in report["sections"]["lots"]}
    # two opening rows of one lot at 35.00 and 37.00: each unit is worth 36.00
    assert lots[("LON", "PTT6-D0202")]["unit_cost"]["amount_minor"] == 3600
    assert lots[("ESX", "PTT6-D0202")]["value"]["amount_minor"] == 36000


def test_onboarding_from_three_files_into_an_empty_database(cli, tmp_path):
    products = write_csv(
        tmp_path, "products.csv",
        "sku,name,kind,ml,needle_mm,lot_tracked",
        "SER-5,Serum,serum_vial,5,,", "ST-05,Stamp,derma_stamp,,0.5,yes",
    )  # fmt: skip
    locations = write_csv(
        tmp_path, "locations.csv",
        "code,name,parent,kind,timezone,currency",
        "DUB,Dublin,,clinic,Europe/Dublin,EUR",
        "DUB-STORE,Dublin stockroom,DUB,stockroom,,",
        "DUB-QUAR,Dublin quarantine,DUB-STORE,quarantine,,",
        "DUB-SHELF,Dublin shelf,DUB-STORE,,,",
    )  # fmt: skip
    stock = write_csv(
        tmp_path, "stock.csv",
        "sku,quantity,location,lot,expiry,status",
        "SER-5,10,DUB-QUAR,S1,2028-01-31,quarantine",
        "ST-05,7,DUB-SHELF,T1,2029-06-30,",
        "ST-05,2,DUB-SHELF,T1,2029-06-30,",
    )  # fmt: skip
    for kind, path, rows in (("products", products, 2), ("locations", locations, 4),
                             ("stock", stock, 3)):  # fmt: skip
        result = cli("import", kind, path, "--json")
        assert result.code == 0, (kind, result.err)
        report = json.loads(result.out)
        keys_and_types(report, REPORT_KEYS)
        assert report == {"kind": kind, "rows": rows, "created": rows, "dry_run": False}

    places = {loc["code"]: loc for loc in json_of(cli, "location", "list", "--json")}
    assert places["DUB"]["kind"] == "clinic"
    for code, kind, parent in (
        ("DUB-STORE", "stockroom", "DUB"),
        ("DUB-QUAR", "quarantine", "DUB-STORE"),
        ("DUB-SHELF", "shelf", "DUB-STORE"),
    ):
        place = places[code]
        assert (place["kind"], place["parent"], place["clinic"]) == (kind, parent, "DUB")
        assert (place["timezone"], place["currency"]) == ("Europe/Dublin", "EUR")

    assert cli("db", "check").code == 0
    lines = json_of(cli, "stock", "--include-unavailable", "--json")
    assert [(x["location"], x["lot"], x["status"], x["quantity"]) for x in lines] == [
        ("DUB-QUAR", "S1", "quarantine", 10),
        ("DUB-SHELF", "T1", "released", 9),
    ]
    assert [x["lot"] for x in json_of(cli, "stock", "--json")] == ["T1"]


def test_dry_run_validates_every_kind_and_writes_nothing(demo, snapshot, tmp_path):
    files = {
        "products": write_csv(tmp_path, "p.csv", "sku,name,kind", "GAUZE,Gauze,consumable"),
        "locations": write_csv(
            tmp_path, "l.csv", "code,name,parent,kind", "LON-FRIDGE2,Fridge 2,LON-STORE,fridge"
        ),
        "stock": write_csv(
            tmp_path,
            "s.csv",
            "sku,quantity,location,lot,expiry",
            "SERUM-5ML,6,LON-FRIDGE,PTT6-Z9999,2028-05-01",
            "CHX-0.5,1,ESX-SHELF,,",
        ),
    }
    before = snapshot()
    for kind, path in files.items():
        result = demo("import", kind, path, "--dry-run", "--json")
        assert result.code == 0, (kind, result.err)
        report = json.loads(result.out)
        keys_and_types(report, REPORT_KEYS)
        assert report["kind"] == kind
        assert report["dry_run"] is True
        text = demo("import", kind, path, "--dry-run")
        assert text.code == 0
        assert "dry run, nothing written" in text.out
    assert snapshot() == before
    assert demo("db", "check").code == 0


def test_product_file_with_bad_rows_is_refused_naming_each_line(demo, snapshot, tmp_path):
    path = write_csv(
        tmp_path, "products.csv",
        "sku,name,kind,gtin,ml,needle_mm,at_home",
        "GOOD-1,Fine,consumable,,,,",                    # line 2
        "BAD-GTIN,Bad check digit,consumable,4006381333932,,,",  # line 3
        "GOOD-2,Fine too,derma_stamp,,,0.4,",            # line 4
        "BAD-KIND,Unknown kind,ointment,,,,",            # line 5
        "SERUM-5ML,Already there,serum_vial,,5,,",       # line 6
        "BAD-HOME,Long stamp at home,derma_stamp,,,1.2,yes",  # line 7
        "BAD-FLAG,Odd flag,consumable,,,,perhaps",       # line 8
    )  # fmt: skip
    before = snapshot()
    result = demo("import", "products", path)
    problems = rejected_lines(result)
    assert set(problems) == {3, 5, 6, 7, 8}
    assert "gtin" in problems[3]
    assert "4006381333932" in problems[3]
    assert "kind" in problems[5]
    assert "ointment" in problems[5]
    assert "SERUM-5ML" in problems[6]
    assert "needle_mm" in problems[7]
    assert "1.2" in problems[7]
    assert "at_home" in problems[8]
    assert "perhaps" in problems[8]
    assert "5 bad rows" in result.err
    assert snapshot() == before
    assert rejected_lines(demo("import", "products", path, "--dry-run")) == problems


def test_stock_file_with_bad_rows_is_refused_naming_each_line(demo, snapshot, tmp_path):
    path = write_csv(
        tmp_path, "stock.csv",
        "sku,quantity,location,lot,expiry,status",
        "SERUM-5ML,5,LON-FRIDGE,,2028-01-01,",         # line 2: no lot
        "SERUM-5ML,5,LON-FRIDGE,PTT6-N1,,",             # line 3: no expiry
        "CHX-0.5,3,SCRAP,,,",                           # line 4: virtual location
        "CHX-0.5,0,LON-SHELF,,,",                       # line 5: zero quantity
        "CHX-0.5,-2,LON-SHELF,,,",                      # line 6: negative quantity
        "NO-SUCH,1,LON-SHELF,,,",                       # line 7: unknown SKU
        "CHX-0.5,1,NOWHERE,,,",                         # line 8: unknown location
        "CHX-0.5,1,LON-SHELF,L1,,",                     # line 9: lot on untracked product
        "SERUM-5ML,1,LON-FRIDGE,PTT6-N2,2028-02-30,",   # line 10: no such date
        "SERUM-5ML,1,LON-FRIDGE,PTT6-N3,2028-02-01,lost",  # line 11: unknown status
        "CHX-0.5,4,LON-SHELF,,,",                       # line 12: fine
        "SERUM-5ML,5,LON-FRIDGE,PTT6-B0902,2031-01-01,",  # line 13: lot has another expiry
        "KIT-HOME-6W,6,LON-FRIDGE,K0000002,2027-05-31,",  # line 14: kits are assembled
        "KIT-HOME-6W,4,LON-FRIDGE,K7777777,2027-05-31,",  # line 15: a phantom kit
    )  # fmt: skip
    before = snapshot()
    problems = rejected_lines(demo("import", "stock", path))
    assert set(problems) == set(range(2, 12)) | {13, 14, 15}
    assert problems[2].startswith("lot")
    assert problems[3].startswith("expiry")
    assert "SCRAP" in problems[4]
    assert "virtual" in problems[4]
    assert problems[5].startswith("quantity '0'")
    assert problems[6].startswith("quantity '-2'")
    assert "NO-SUCH" in problems[7]
    assert "NOWHERE" in problems[8]
    assert "L1" in problems[9]
    assert "2028-02-30" in problems[10]
    assert "lost" in problems[11]
    assert "PTT6-B0902" in problems[13]
    assert "2031-01-01" in problems[13]
    assert problems[14].startswith("sku 'KIT-HOME-6W'")
    assert "assembled, not imported" in problems[15]
    assert snapshot() == before


def test_file_that_cannot_be_imported_at_all_is_bad_input(demo, snapshot, tmp_path):
    missing_column = write_csv(tmp_path, "a.csv", "sku,name", "GAUZE,Gauze")
    unknown_column = write_csv(tmp_path, "b.csv", "sku,name,kind,colour", "GAUZE,Gauze,kit,red")
    no_location_column = write_csv(tmp_path, "c.csv", "sku,quantity", "CHX-0.5,1")
    empty = write_csv(tmp_path, "d.csv", "")
    before = snapshot()
    assert_bad_input(demo("import", "products", missing_column), "file", "kind")
    assert_bad_input(demo("import", "products", unknown_column), "file", "colour")
    assert_bad_input(demo("import", "stock", no_location_column), "file", "location")
    assert_bad_input(demo("import", "locations", empty), "file", "code")
    assert_bad_input(demo("import", "stock", str(tmp_path / "nope.csv")), "file", "nope.csv")
    assert_bad_input(demo("import", "suppliers", missing_column), "suppliers")
    assert snapshot() == before


def test_stock_quantity_beyond_what_a_column_holds_is_bad_input(demo, snapshot, tmp_path):
    path = write_csv(tmp_path, "stock.csv", "sku,quantity,location", "CHX-0.5,9999999999,LON-SHELF")
    before = snapshot()
    problems = rejected_lines(demo("import", "stock", path))
    assert "quantity" in problems[2]
    assert "9999999999" in problems[2]
    assert snapshot() == before
