"""Documents for one clinic are made in the clinic's locale (labels, purchase orders,
patients' calendars, location labels, course cards, a report for one clinic), whoever
makes them; `--locale` wins; documents for several clinics keep the language in force.

What the documents say in each language is the documents' own tests' business: here each
writer records the language in force when it is called."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import json_of

from kitops.i18n import current_locale


@pytest.fixture
def spoken(monkeypatch):
    """The language each document writer was called in, by writer."""
    heard: dict[str, list[str]] = {}

    def recorder(name: str, result: Any) -> Any:
        def writer(*_args: Any, **_kwargs: Any) -> Any:
            heard.setdefault(name, []).append(current_locale())
            return result

        return writer

    from kitops.documents import calendar, cards, labels, purchase_orders, report_files
    from kitops.services.dto import purchasing as purchasing_dto

    path = Path("written")
    for module, name, result in (
        (calendar, "write_calendar", path),
        (labels, "write_labels", path),
        (cards, "write_location_labels", path),
        (cards, "write_course_cards", path),
        (report_files, "render", "report\n"),
    ):
        monkeypatch.setattr(module, name, recorder(name, result))
    export = purchasing_dto.Export("PO-000001", "pdf", "written", 0)
    monkeypatch.setattr(purchase_orders, "export_order", recorder("export_order", export))
    return heard


def courses_of(cli) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for course in json_of(cli, "course", "list", "--json"):
        found.setdefault(course["clinic"], []).append(course["id"])
    return found


def kits_of(cli) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kit in json_of(cli, "kit", "list", "--json"):
        found.setdefault(kit["clinic"], []).append(kit["serial"])
    return found


def test_a_clinics_documents_speak_its_locale(demo, spoken, tmp_path):
    vie, lon = courses_of(demo)["VIE"][0], courses_of(demo)["LON"][0]
    kits = kits_of(demo)
    out = str(tmp_path / "doc")
    for args in (
        ("course", "calendar", str(vie), "--out", out + ".ics"),
        ("course", "calendar", str(lon), "--out", out + ".ics"),
        ("kit", "label", *kits["VIE"], "--out", out + ".pdf"),
        ("kit", "label", kits["VIE"][0], kits["LON"][0], "--out", out + ".pdf"),  # two clinics
        ("location", "label", "VIE-FRIDGE", "VIE-SHELF", "--out", out + ".pdf"),
        ("location", "label", "LON-FRIDGE", "--out", out + ".pdf"),
        ("course", "card", str(vie), "--out", out + ".pdf"),
        ("report", "stock", "--clinic", "VIE"),
        ("report", "stock"),  # every clinic
    ):
        done = demo(*args)
        assert done.code == 0, (args, done.err)
    assert spoken == {
        "write_calendar": ["de_AT", "en"],
        "write_labels": ["de_AT", "en"],
        "write_location_labels": ["de_AT", "en"],
        "write_course_cards": ["de_AT"],
        "render": ["de_AT", "en"],
    }


def test_the_locale_option_wins_over_the_clinics(demo, spoken, tmp_path):
    vie = courses_of(demo)["VIE"][0]
    demo("--locale", "en_GB", "course", "calendar", str(vie), "--out", str(tmp_path / "c.ics"))
    demo("--locale", "en_GB", "report", "stock", "--clinic", "VIE")
    assert spoken == {"write_calendar": ["en_GB"], "render": ["en_GB"]}


def test_the_users_language_does_not_change_a_clinics_documents(demo, spoken, tmp_path):
    demo("user", "set-language", "tester", "en_GB")
    vie, lon = courses_of(demo)["VIE"][0], courses_of(demo)["LON"][0]
    for course in (vie, lon):
        demo("course", "calendar", str(course), "--out", str(tmp_path / "c.ics"))
    assert spoken == {"write_calendar": ["de_AT", "en_GB"]}  # LON has none: the user's


def test_a_purchase_order_speaks_its_clinics_locale(demo, spoken, tmp_path):
    demo("reorder", "run")
    orders = json_of(demo, "po", "list", "--json")
    assert orders, "the demo's reorder run should draft an order"
    for order in orders:
        demo("location", "set-locale", order["clinic"], "de")
        done = demo("po", "export", order["number"], "--format", "pdf", "--out",
                    str(tmp_path / "p.pdf"))  # fmt: skip
        assert done.code == 0, done.err
    assert spoken == {"export_order": ["de"] * len(orders)}
