"""click's own words in German: usage errors (a missing or unknown option, a bad value, an
extra argument) and the root help page, in the language the environment or ``--locale``
chose, still one line naming the field and the value with exit 2; English unchanged."""

from __future__ import annotations

import pytest
from e2e_support import assert_bad_input

from kitops.i18n import set_default_locale

USAGE_ERRORS = [
    (("stock", "--bogus"), "Unbekannte Option '--bogus'."),
    (("bogus-command",), "Unbekannter Befehl 'bogus-command'."),
    (("location", "add"), "Fehlendes Argument 'CODE'."),
    (("receive", "CHX-0.5", "--qty", "5"), "Fehlende Option '--location'."),
    (("stock", "--as-of"), "Die Option '--as-of' braucht einen Wert."),
    (("stock", "one", "two"), "Unerwartete zusätzliche Argumente (one two)"),
    (("po", "list", "--status", "lost"), "Ungültiger Wert für '--status'"),
    (("audit", "--limit", "many"), "'many' ist kein gültiger Wert (integer)."),
    (("stock", "--jsn"), "(Meinten Sie eines von: '--json'"),
]


@pytest.fixture
def in_german(monkeypatch):
    """A German machine: LANGUAGE=de, as the process starts with it."""
    monkeypatch.setenv("LANGUAGE", "de")
    set_default_locale("de")
    yield
    set_default_locale(None)


@pytest.mark.parametrize(("args", "wanted"), USAGE_ERRORS)
def test_a_usage_error_in_german_from_the_environment(cli, in_german, args, wanted):
    result = cli(*args)
    assert_bad_input(result, "kitops: Fehler: ", wanted)
    for english in ("Missing", "No such", "Invalid value", "unexpected", "Did you mean"):
        assert english not in result.err, result.err


@pytest.mark.parametrize(("args", "wanted"), USAGE_ERRORS)
def test_a_usage_error_in_german_with_locale(cli, args, wanted):
    result = cli("--locale", "de", *args)
    assert_bad_input(result, wanted)


def test_usage_errors_stay_english_in_the_neutral_locale(cli):
    assert_bad_input(cli("stock", "--bogus"), "kitops: error: No such option '--bogus'.")
    assert_bad_input(cli("receive", "CHX-0.5", "--qty", "5"), "Missing option '--location'.")
    assert_bad_input(cli("stock", "one", "two"), "Got unexpected extra arguments (one two)")


def test_the_root_help_in_german_with_locale(cli):
    shown = cli("--locale", "de", "--help")
    assert shown.code == 0, shown.err
    assert "Aufruf: kitops [OPTIONS] COMMAND [ARGS]..." in shown.out
    assert "das Lager von Kliniken" in shown.out
    assert "Befehle:" in shown.out
    assert "Optionen:" in shown.out
    assert "Diese Hilfe anzeigen und beenden." in shown.out
    assert "the stockroom of clinics" not in shown.out
    stock = cli("--locale", "de", "stock", "--help")
    assert stock.code == 0, stock.err
    assert "Aufruf: kitops stock [OPTIONS]" in stock.out
    assert "Bestand nach Klinik, Artikel, Charge und Lagerort" in stock.out
    # and English again without it
    assert "Usage: kitops [OPTIONS]" in cli("--help").out


def test_the_root_help_in_german_from_the_environment(cli, in_german):
    shown = cli("--help")
    assert shown.code == 0, shown.err
    assert "Aufruf: kitops [OPTIONS] COMMAND [ARGS]..." in shown.out
    assert "das Lager von Kliniken" in shown.out


def test_every_click_plural_has_german_forms():
    from kitops.cli.click_texts import plural_messages
    from kitops.i18n import use_locale

    for n in (1, 2):
        english = plural_messages(n)
        with use_locale("de"):
            german = plural_messages(n)
        same = [e for e, g in zip(english, german, strict=True) if e == g]
        assert not same, same


def test_a_missing_value_is_named_in_german(cli, in_german):
    result = cli("receive", "--qty", "1", "--location", "VIE-SHELF")
    assert_bad_input(result, "kitops: sku (fehlt): ")
    assert "(missing)" not in result.err


def test_a_bad_value_reads_in_the_language_in_force_when_shown():
    from kitops.errors import InvalidInput
    from kitops.i18n import use_locale

    error = InvalidInput("sku", None, "give a SKU")
    assert str(error) == "sku (missing): give a SKU"
    with use_locale("de"):
        assert str(error) == "sku (fehlt): give a SKU"
        assert str(InvalidInput("qty", "x", "y")) == "qty 'x': y"
