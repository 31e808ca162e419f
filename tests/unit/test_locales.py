"""Who reads which language: locale tags as kitops stores them, the resolution order, and
documents for a clinic in the clinic's locale unless ``--locale`` forced another."""

from __future__ import annotations

import pytest

from kitops import i18n
from kitops.i18n import (
    UnknownLocale,
    current_locale,
    force_locale,
    has_catalog,
    parse_locale,
    resolve_locale,
    set_default_locale,
    use_clinic_locale,
    use_locale,
)


@pytest.fixture(autouse=True)
def _english_again():
    yield
    force_locale(None)
    set_default_locale("en")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("de_AT", "de_AT"), ("de-AT", "de_AT"), ("de_at", "de_AT"), (" de-at ", "de_AT"),
     ("DE", "de"), ("en_GB", "en_GB"), ("de_AT.UTF-8", "de_AT"), ("fr", "fr"),
     ("sr-Latn-RS", "sr_Latn_RS")],
)  # fmt: skip
def test_a_locale_babel_knows_is_stored_normalised(typed, stored):
    assert parse_locale(typed) == stored


@pytest.mark.parametrize("typed", ["", "xx", "de_XX", "C", "POSIX", "12", "de AT", "de_AT;rm"])
def test_a_tag_babel_does_not_know_is_refused(typed):
    with pytest.raises(UnknownLocale):
        parse_locale(typed)


def test_kitops_speaks_english_german_and_austrian_german_and_formats_any_other():
    assert all(has_catalog(tag) for tag in ("en", "en_GB", "de", "de_AT", "de_CH"))
    assert not has_catalog("fr")
    assert not has_catalog("ja_JP")


ENV_DE = {"LANG": "de_AT.UTF-8"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"override": "en_GB", "user_language": "de", "clinic_locale": "de_AT"}, "en_GB"),
        ({"user_language": "de", "clinic_locale": "fr"}, "de"),
        ({"user_language": None, "clinic_locale": "de_AT"}, "de_AT"),
        ({"user_language": "", "clinic_locale": None}, "de_AT"),  # the environment's
        ({"override": None}, "de_AT"),
    ],
)
def test_the_language_is_the_option_then_the_user_then_the_clinic_then_the_environment(
    given, expected
):
    assert resolve_locale(**given, environ=ENV_DE) == expected


def test_with_nothing_set_anywhere_kitops_speaks_english():
    assert resolve_locale(environ={}) == "en"
    assert resolve_locale(environ={"LANG": "C.UTF-8"}) == "en"
    assert resolve_locale(environ={"LANGUAGE": "de:en", "LANG": "fr_FR.UTF-8"}) == "de"


def test_a_document_for_a_clinic_speaks_its_locale_then_the_language_comes_back():
    set_default_locale("en")
    with use_clinic_locale("de_AT"):
        assert current_locale() == "de_AT"
        assert i18n._("{clinic}: locale {locale}") == "{clinic}: Gebietsschema {locale}"
    assert current_locale() == "en"
    with use_clinic_locale(None):  # a clinic with no locale: the language in force
        assert current_locale() == "en"


def test_the_locale_option_wins_over_the_clinics_locale_for_documents():
    force_locale("en_GB")
    with use_clinic_locale("de_AT"):
        assert current_locale() == "en_GB"
    with use_locale("de"):  # an explicit block still speaks what it says
        assert current_locale() == "de"
    force_locale(None)
    with use_clinic_locale("de_AT"):
        assert current_locale() == "de_AT"
