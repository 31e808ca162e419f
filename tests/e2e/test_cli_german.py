"""The command line in German: messages, table headings, dates and numbers as a German
reader writes them, while ``--json`` stays what scripts read; decimals typed with a comma
where the locale writes one, and an ambiguous ``1,250`` refused."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from e2e_support import assert_bad_input, json_of

from kitops.i18n import use_locale

LOT = "PTT6-A0711"  # a released serum lot of the demo, in stock at VIE


def german(cli, *args: str):
    with use_locale("de"):
        return cli(*args)


def test_stock_speaks_german_with_german_dates_and_a_german_total(demo):
    english = json_of(demo, "stock", "--location", "VIE", "--json")
    shown = german(demo, "stock", "--location", "VIE")
    assert shown.code == 0, shown.err
    for heading in ("Klinik", "Lagerort", "Charge", "Verfall", "Status", "Menge"):
        assert heading in shown.out, heading
    assert "freigegeben" in shown.out
    first = next(line for line in english if line["expiry"])
    day = date.fromisoformat(first["expiry"])
    assert f"{day.day}.{day.month}.{day.year}" in shown.out
    assert first["expiry"] not in shown.out  # no ISO date for a German reader
    total = sum(line["quantity"] for line in english)
    assert f"{len(english)} Zeilen, {total} Stück" in shown.out


def test_json_is_the_same_in_german(demo):
    for args in (
        ("stock", "--include-unavailable", "--json"),
        ("trace", LOT, "--json"),
        ("kit", "list", "--json"),
        ("catalog", "list", "--json"),
    ):
        english = demo(*args)
        in_german = german(demo, *args)
        assert english.code == in_german.code == 0, (args, in_german.err)
        assert in_german.out == english.out, args


def test_trace_in_german(demo):
    shown = german(demo, "trace", LOT)
    assert shown.code == 0, shown.err
    assert f"Charge {LOT}" in shown.out
    assert re.search(r"empfangen \d+, ausgebucht \d+, ausgeliefert \d+", shown.out), shown.out
    for heading in ("von", "nach", "Grund", "Menge", "Buchungen", "Referenzen"):
        assert heading in shown.out, heading
    assert "vorrätig:" in shown.out


def test_receive_in_german(demo, today):
    expiry = today + timedelta(days=400)
    shown = german(
        demo, "receive", "CHX-0.5", "--qty", "5", "--location", "VIE-SHELF",
        "--cost", "3,50", "EUR",
    )  # fmt: skip
    assert shown.code == 0, shown.err
    assert "5 × CHX-0.5" in shown.out
    assert "empfangen" in shown.out
    assert "VIE-SHELF" in shown.out
    serum = german(
        demo, "receive", "SERUM-5ML", "--lot", "DE-TEST-1", "--expiry", expiry.isoformat(),
        "--qty", "3", "--location", "VIE-FRIDGE", "--json",
    )  # fmt: skip
    assert serum.code == 0, serum.err
    assert '"lot": "DE-TEST-1"' in serum.out


def test_an_error_line_in_german_keeps_the_field_name(demo):
    result = german(demo, "receive", "CHX-0.5", "--qty", "5", "--location", "NOWHERE")
    assert result.code == 2, result.err
    assert result.err.startswith("kitops: location 'NOWHERE'"), result.err
    aborted = german(demo, "stock", "--as-of", "tomorrow")
    assert aborted.code == 2
    assert aborted.err.startswith("kitops: as_of 'tomorrow'"), aborted.err


def test_kit_list_in_german(demo):
    kits = json_of(demo, "kit", "list", "--json")
    shown = german(demo, "kit", "list")
    assert shown.code == 0, shown.err
    if kits:
        for heading in ("Seriennummer", "Lagerort", "Verfall", "Status", "Kur", "Patient"):
            assert heading in shown.out, heading
    else:
        assert "keine passenden Kits" in shown.out


@pytest.mark.parametrize(
    ("typed", "locale", "stored"),
    [("12.50", "de_AT", 1250), ("12,50", "de_AT", 1250), ("1.250,50", "de_AT", 125050),
     ("12.50", "en", 1250), ("12.5", "en_GB", 1250)],
)  # fmt: skip
def test_a_price_is_typed_with_the_locales_decimal_mark(demo, typed, locale, stored):
    with use_locale(locale):
        result = demo("price", "set", "KIT-HOME-6W", typed, "EUR", "--json")
    assert result.code == 0, result.err
    euro = [p for p in json_of(demo, "price", "list", "--json") if p["currency"] == "EUR"]
    assert [p["amount"]["amount_minor"] for p in euro] == [stored]


@pytest.mark.parametrize("locale", ["de_AT", "en"])
def test_an_ambiguous_number_is_refused_in_one_line(demo, locale):
    before = json_of(demo, "price", "list", "--json")
    with use_locale(locale):
        result = demo("price", "set", "KIT-HOME-6W", "1,250", "EUR")
    assert_bad_input(result, "amount", "1,250", "1250", "1.250")
    assert json_of(demo, "price", "list", "--json") == before


def test_a_decimal_comma_without_a_comma_locale_is_refused_saying_how(demo):
    result = demo("price", "set", "KIT-HOME-6W", "12,50", "EUR")
    assert_bad_input(result, "amount", "12,50", "12.50", "--locale")


def test_a_unit_cost_with_a_comma_in_de_at(demo):
    with use_locale("de_AT"):
        result = demo(
            "receive", "CHX-0.5", "--qty", "2", "--location", "VIE-SHELF",
            "--cost", "0,45", "EUR", "--json",
        )  # fmt: skip
    assert result.code == 0, result.err


def test_needle_length_and_vat_rate_with_a_comma(demo):
    with use_locale("de_AT"):
        added = demo(
            "catalog", "add-product", "STAMP-0.75", "--name", "Stempel 0,75 mm",
            "--kind", "derma_stamp", "--needle-mm", "0,75", "--json",
        )  # fmt: skip
        assert added.code == 0, added.err
        rate = demo("vat", "set", "AT", "derma_stamp", "5,5", "--json")
        assert rate.code == 0, rate.err
        ambiguous = demo("vat", "set", "AT", "derma_stamp", "5.500")
    products = json_of(demo, "catalog", "list", "--json")
    product = next(p for p in products if p["sku"] == "STAMP-0.75")
    assert str(product["needle_mm"]) in ("0.75", "0.750")
    assert "5.5" in rate.out
    assert_bad_input(ambiguous, "rate", "5.500")


def _commands(command, path=("kitops",)):
    import click

    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def test_every_command_shows_its_help_in_the_language_in_force():
    from kitops.cli.app import cli
    from kitops.cli.help import KitopsCommand, KitopsGroup

    plain = [
        " ".join(path)
        for path, command in _commands(cli)
        if not isinstance(command, (KitopsCommand, KitopsGroup))
    ]
    assert not plain, plain


def test_help_in_german_and_english(cli):
    english = cli("stock", "--help")
    assert english.code == 0
    assert "Stock on hand by clinic, product, lot and location" in english.out
    assert "Usage: kitops stock [OPTIONS]" in english.out
    shown = german(cli, "stock", "--help")
    assert shown.code == 0
    assert "Aufruf: kitops stock [OPTIONS]" in shown.out
    assert "Bestand nach Klinik, Artikel, Charge und Lagerort" in shown.out
    assert "Eine JSON-Liste der Bestandszeilen ausgeben." in shown.out
    assert "Diese Hilfe anzeigen und beenden." in shown.out
    assert "Stock on hand" not in shown.out
    listing = german(cli, "lot", "--help")
    assert "Befehle:" in listing.out
    assert "Eine Charge zurückrufen" in listing.out
    # the English texts are back once German is no longer in force
    assert cli("stock", "--help").out == english.out


def test_help_in_german_loads_no_babel():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from kitops.i18n import use_locale\n"
        "from kitops.cli import run\n"
        "with use_locale('de'):\n"
        "    run(['receive', '--help'])\n"
        "print('loaded:' + ','.join(m for m in sys.modules if m.split('.')[0] == 'babel'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert "Ware von einem Lieferanten empfangen" in out
    assert out.splitlines()[-1] == "loaded:"


def test_a_plan_with_decimal_commas_in_de_at(demo):
    with use_locale("de_AT"):
        added = demo(
            "plan", "add", "clinic-upkeep-8w", "--name", "Erhaltung", "--per-week", "1",
            "--weeks", "2", "--ml", "2,5", "--administered", "clinic", "--needle", "1,2-3",
            "--every-weeks", "8", "--json",
        )  # fmt: skip
        shown = demo("plan", "show", "clinic-upkeep-8w")
    assert added.code == 0, added.err
    plan = json_of(demo, "plan", "show", "clinic-upkeep-8w", "--json")
    assert plan["needle"] == "1.2-3 mm"
    assert str(plan["ml_per_application"]) == "2.5"
    assert "2,5 ml" in shown.out  # and shown the Austrian way


def test_a_length_setting_with_a_decimal_comma(demo):
    with use_locale("de_AT"):
        done = demo("setting", "set", "at_home_max_needle_mm", "0,8")
        ambiguous = demo("setting", "set", "at_home_max_needle_mm", "1.250")
    assert done.code == 0, done.err
    assert "at_home_max_needle_mm = 0.8" in done.out
    assert_bad_input(ambiguous, "at_home_max_needle_mm", "1.250", "1250", "1.250")
