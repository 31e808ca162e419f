"""Which locale a document is made in (``kitops.services.locales.document_locale``): the
clinic's of what it is about, when that is one clinic; and what a user's screens are
resolved from (``preference_of``)."""

from __future__ import annotations

from sqlalchemy import select

from kitops.data.schema import CourseRow, KitRow, LocationRow
from kitops.i18n import current_locale
from kitops.services import locales, users
from kitops.services.unit_of_work import UnitOfWork


def reading(db) -> UnitOfWork:
    return UnitOfWork(db, "tester", readonly=True)


def by_clinic(db, column, join_on) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    with db.engine.connect() as conn:
        for code, value in conn.execute(
            select(LocationRow.code, column).join(LocationRow, join_on)
        ):
            found.setdefault(code, []).append(value)
    return found


def test_documents_for_one_clinics_things_take_its_locale(loaded):
    courses = by_clinic(loaded, CourseRow.id, LocationRow.id == CourseRow.clinic_id)
    kits = {
        code: [k for k in serials if isinstance(k, str)]
        for code, serials in by_clinic(
            loaded, KitRow.serial, LocationRow.id == KitRow.location_id
        ).items()
    }
    # the demo's kits lie in fridges: their clinic is the fridge's
    fridges = {code.split("-")[0]: serials for code, serials in kits.items()}
    assert locales.document_locale(reading(loaded), clinic="VIE") == "de_AT"
    assert locales.document_locale(reading(loaded), clinic="vie") == "de_AT"
    assert locales.document_locale(reading(loaded), places=["VIE-FRIDGE", "VIE-SHELF"]) == "de_AT"
    assert locales.document_locale(reading(loaded), kits=fridges["VIE"]) == "de_AT"
    assert locales.document_locale(reading(loaded), courses=courses["VIE"][:2]) == "de_AT"
    # several clinics, a clinic without a locale, nothing known: the language in force
    assert locales.document_locale(reading(loaded), places=["VIE-FRIDGE", "LON-FRIDGE"]) is None
    assert locales.document_locale(reading(loaded), kits=fridges["LON"]) is None
    assert locales.document_locale(reading(loaded), kits=["K9999999"]) is None
    assert locales.document_locale(reading(loaded), courses=["not a number"]) is None
    assert locales.document_locale(reading(loaded), purchase_order="PO-999999") is None
    assert locales.document_locale(reading(loaded)) is None


def test_a_writer_handed_a_unit_of_work_runs_in_the_clinics_locale(loaded):
    def writer(uow: UnitOfWork, name: str) -> tuple[str, str]:
        return name, current_locale()

    made = locales.in_clinic_locale(writer, places=["VIE-FRIDGE"])
    assert made(reading(loaded), "label") == ("label", "de_AT")
    assert current_locale() == "en"


def test_a_users_screens_are_resolved_from_their_language_and_their_one_clinic(loaded):
    assert locales.preference_of(reading(loaded), "stock") == locales.LocalePreference()
    users.set_clinics(UnitOfWork(loaded, "tester"), "stock", ["VIE"])
    assert locales.preference_of(reading(loaded), "stock") == locales.LocalePreference(
        None, "de_AT"
    )
    locales.set_user_language(UnitOfWork(loaded, "tester"), "stock", "en_GB")
    users.set_clinics(UnitOfWork(loaded, "tester"), "stock", ["VIE", "LON"])
    assert locales.preference_of(reading(loaded), "stock") == locales.LocalePreference(
        "en_GB", None
    )
    assert locales.preference_of(reading(loaded), "nobody") == locales.LocalePreference()


def test_a_database_with_one_clinic_gives_its_locale_to_every_user(db):
    from kitops.services.locations import add_location

    assert locales.preference_of(reading(db), "tester") == locales.LocalePreference()
    add_location(UnitOfWork(db, "tester"), "GRZ", "Graz", timezone="Europe/Vienna", locale="de_AT")
    assert locales.preference_of(reading(db), "tester").clinic_locale == "de_AT"
    add_location(UnitOfWork(db, "tester"), "LNZ", "Linz", timezone="Europe/Vienna")
    assert locales.preference_of(reading(db), "tester").clinic_locale is None
