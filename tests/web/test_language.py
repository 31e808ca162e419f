"""Each web request speaks its logged-in user's language: theirs, else their clinic's
locale, else the server's; a request without a session speaks the server's."""

from __future__ import annotations

import threading
from typing import Any

from pages_support import cheap_pin_hashes, logged_in, web_secret  # noqa: F401

from kitops.i18n import current_locale
from kitops.services import locales, users
from kitops.services.unit_of_work import UnitOfWork

LOCALE_PROBE = "/_locale-probe"


def probed(client: Any) -> Any:
    """``client`` with a route that answers the language its request speaks."""

    def probe() -> dict[str, str]:
        return {"locale": current_locale()}

    client.app.add_api_route(LOCALE_PROBE, probe)
    return client


def test_each_request_speaks_its_users_language(web, db):
    web.user("maria", "manager", "1357")
    web.user("jonas", "manager", "2468")
    locales.set_user_language(UnitOfWork(db, "tester"), "jonas", "de_AT")
    maria = probed(logged_in(web.client(), "maria", "1357"))
    jonas = probed(logged_in(web.client(), "jonas", "2468"))
    nobody = probed(web.client())

    assert jonas.get(LOCALE_PROBE).json() == {"locale": "de_AT"}
    assert maria.get(LOCALE_PROBE).json() == {"locale": "en"}  # the server's (tests: C)
    assert nobody.get(LOCALE_PROBE).json() == {"locale": "en"}
    assert current_locale() == "en"  # the server process's language is untouched

    # at the same time, each its own
    answers: dict[str, str] = {}

    def ask(name: str, client: Any) -> None:
        answers[name] = client.get(LOCALE_PROBE).json()["locale"]

    threads = [threading.Thread(target=ask, args=pair) for pair in
               (("maria", maria), ("jonas", jonas))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {"maria": "en", "jonas": "de_AT"}


def test_a_user_limited_to_one_clinic_reads_its_locale(web, db):
    from kitops.services.locations import add_location

    for code, zone, tag in (("LON", "Europe/London", "en_GB"), ("VIE", "Europe/Vienna", "de")):
        add_location(UnitOfWork(db, "tester"), code, code, timezone=zone, locale=tag)
    web.user("vera", "manager", "1357")
    users.set_clinics(UnitOfWork(db, "tester"), "vera", ["LON"])
    vera = probed(logged_in(web.client(), "vera", "1357"))
    assert vera.get(LOCALE_PROBE).json() == {"locale": "en_GB"}
