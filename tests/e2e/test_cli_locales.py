"""Who reads which language, from the command line: a clinic's locale (`location add
--locale`, `location set-locale`), a user's language (`user set-language`), the global
`--locale`, and the environment's LANG; the messages come out in German when so chosen."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from e2e_support import assert_bad_input, assert_refused, json_of
from identity_support import bind_identity
from sqlalchemy import select

from kitops.data.schema import AuditRow, UserRow
from kitops.i18n import current_locale


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def as_user(db_url, db, capsys):
    """``as_user(name, *args)`` → Result of ``kitops --user name ARGS`` run by the login
    bound to ``name``; the login is bound to "tester" again afterwards."""
    from kitops.cli import run

    def invoke(who: str, *args: str) -> Result:
        bind_identity(db.engine, who)
        capsys.readouterr()
        try:
            code = run(["--db", db_url, "--user", who, *args])
        finally:
            bind_identity(db.engine, "tester")
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)

    return invoke


def audit_rows(db, action: str) -> list[tuple[str, str, object, object]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(AuditRow.actor, AuditRow.entity_key, AuditRow.before, AuditRow.after)
            .where(AuditRow.action == action).order_by(AuditRow.id)
        ).all()  # fmt: skip
    return [tuple(row) for row in rows]


def locations(cli) -> dict[str, dict[str, object]]:
    return {loc["code"]: loc for loc in json_of(cli, "location", "list", "--json")}


def test_the_demos_vienna_clinic_speaks_austrian_german_and_its_rooms_say_so(demo):
    found = locations(demo)
    assert found["VIE"]["locale"] == "de_AT"
    assert found["VIE-FRIDGE"]["locale"] == "de_AT"  # a place inside: its clinic's
    assert found["LON"]["locale"] is None
    assert found["SCRAP"]["locale"] is None


def test_a_clinics_locale_is_set_normalised_shown_cleared_and_audited(demo, db):
    set_to = json_of(demo, "location", "set-locale", "lon", "en-gb", "--json")
    assert (set_to["code"], set_to["locale"]) == ("LON", "en_GB")
    assert locations(demo)["LON-SHELF"]["locale"] == "en_GB"
    listed = demo("location", "list")
    assert "en_GB" in next(
        line for line in listed.out.splitlines() if line.startswith("LON-SHELF ")
    )

    shown = demo("location", "set-locale", "LON", "fr_FR")
    assert shown.code == 0, shown.err
    assert shown.out.splitlines() == [
        "LON: locale fr_FR",
        "kitops has no translation for fr_FR yet: its texts stay in English, its numbers, "
        "dates and money follow fr_FR",
    ]
    cleared = demo("location", "set-locale", "LON", "--clear")
    assert cleared.code == 0, cleared.err
    assert locations(demo)["LON"]["locale"] is None
    assert audit_rows(db, "location.set_locale") == [
        ("tester", "LON", {"locale": None}, {"locale": "en_GB"}),
        ("tester", "LON", {"locale": "en_GB"}, {"locale": "fr_FR"}),
        ("tester", "LON", {"locale": "fr_FR"}, {"locale": None}),
    ]


def test_a_new_clinic_takes_its_locale_and_only_a_clinic_has_one(cli):
    added = json_of(cli, "location", "add", "ZRH", "--name", "Zurich", "--timezone",
                    "Europe/Zurich", "--locale", "de-ch", "--json")  # fmt: skip
    assert added["locale"] == "de_CH"
    shelf = cli("location", "add", "ZRH-1", "--name", "Shelf", "--parent", "ZRH",
                "--locale", "de_CH")  # fmt: skip
    # the database's only clinic speaks de_CH, so its admin reads German
    assert_bad_input(shelf, "locale", "de_CH", "nur eine Klinik")


@pytest.mark.parametrize("typed", ["xx", "de_XX", "C", "de AT"])
def test_a_bad_locale_is_refused_with_one_line_naming_it(demo, snapshot, typed):
    before = snapshot()
    assert_bad_input(demo("location", "set-locale", "LON", typed), "locale", repr(typed))
    assert_bad_input(demo("user", "set-language", "tester", typed), "language", repr(typed))
    assert_bad_input(demo("--locale", typed, "location", "list"), "--locale", repr(typed))
    assert snapshot() == before


def test_set_locale_wants_a_locale_or_clear_and_a_clinic(demo):
    assert_bad_input(demo("location", "set-locale", "LON"), "locale")
    assert_bad_input(demo("location", "set-locale", "LON", "de", "--clear"), "locale")
    assert_bad_input(demo("location", "set-locale", "LON-FRIDGE", "de"), "LON-FRIDGE", "clinic")


def test_users_set_their_own_language_and_only_admins_anyones(demo, as_user, db):
    own = as_user("stock", "user", "set-language", "stock", "de", "--json")
    assert own.code == 0, own.err
    assert json.loads(own.out)["language"] == "de"
    other = as_user("stock", "user", "set-language", "manager", "de")
    # stock reads German now: the refusal says so in German
    assert_refused(other, "darf nicht die Sprache eines anderen Benutzers festlegen")
    by_admin = demo("user", "set-language", "manager", "de_AT", "--json")
    assert json.loads(by_admin.out)["language"] == "de_AT"
    listed = {u["name"]: u for u in json_of(demo, "user", "list", "--json")}
    assert (listed["stock"]["language"], listed["manager"]["language"]) == ("de", "de_AT")
    assert listed["tester"]["language"] is None
    table = demo("user", "list")
    assert " language " in table.out
    assert demo("user", "show", "stock").out.splitlines()[0].endswith(", language de")
    cleared = demo("user", "set-language", "manager", "--clear", "--json")
    assert json.loads(cleared.out)["language"] is None
    assert audit_rows(db, "user.set_language") == [
        ("stock", "stock", {"language": None}, {"language": "de"}),
        ("tester", "manager", {"language": None}, {"language": "de_AT"}),
        ("tester", "manager", {"language": "de_AT"}, {"language": None}),
    ]


GERMAN_LOCALE_LINE = "LON: Gebietsschema en_GB"


def test_lang_de_at_makes_the_command_line_speak_german(demo, monkeypatch):
    monkeypatch.setenv("LANG", "de_AT.UTF-8")
    said = demo("location", "set-locale", "LON", "en_GB")
    assert said.code == 0, said.err
    assert said.out.splitlines() == [GERMAN_LOCALE_LINE]
    assert current_locale() == "en"  # the process's language is back after the command


def test_a_bad_locale_option_is_refused_in_the_environments_language(demo, monkeypatch):
    monkeypatch.setenv("LANG", "de_AT.UTF-8")
    said = demo("--locale", "xx", "location", "list")
    assert_bad_input(said, "--locale", "'xx'", "ist kein Gebietsschema, das kitops kennt")
    malformed = demo("--locale", "x!", "location", "list")
    assert_bad_input(malformed, "--locale", "muss ein Gebietsschema sein")


def test_the_locale_option_makes_one_command_speak_german(demo):
    said = demo("--locale", "de_AT", "location", "set-locale", "LON", "en_GB")
    assert said.out.splitlines() == [GERMAN_LOCALE_LINE]
    english = demo("location", "set-locale", "LON", "en_GB")
    assert english.out.splitlines() == ["LON: locale en_GB"]


def test_the_users_language_then_their_clinics_locale_then_lang(demo, monkeypatch):
    demo("user", "set-language", "tester", "de")
    assert demo("location", "set-locale", "LON", "en_GB").out.splitlines() == [GERMAN_LOCALE_LINE]
    # --locale outranks the user's language
    said = demo("--locale", "en", "location", "set-locale", "LON", "en_GB")
    assert said.out.splitlines() == ["LON: locale en_GB"]
    # a user limited to Vienna reads Vienna's locale; their own language outranks it
    demo("user", "set-language", "tester", "--clear")
    demo("user", "set-clinics", "tester", "VIE")
    said = demo("location", "set-locale", "VIE", "de_AT")
    assert said.out.splitlines() == ["VIE: Gebietsschema de_AT"]
    demo("user", "set-language", "tester", "en")
    monkeypatch.setenv("LANG", "de_AT.UTF-8")
    said = demo("location", "set-locale", "VIE", "de_AT")
    assert said.out.splitlines() == ["VIE: locale de_AT"]


def test_a_language_without_a_catalog_reads_english_and_says_so(demo, db):
    said = demo("user", "set-language", "tester", "fr")
    assert said.out.splitlines() == [
        "tester: language fr",
        "kitops has no translation for fr yet: its texts stay in English, its numbers, "
        "dates and money follow fr",
    ]
    assert demo("location", "set-locale", "LON", "en_GB").out.splitlines() == ["LON: locale en_GB"]
    with db.engine.connect() as conn:
        assert (
            conn.execute(select(UserRow.language).where(UserRow.name == "tester")).scalar() == "fr"
        )
