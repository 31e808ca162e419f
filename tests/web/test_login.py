"""Logging in to the web pages: the same PIN check, lock and audit rows as the terminal
UI, a signed HttpOnly SameSite=Lax cookie, CSRF on every form, logging out, idle expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from pages_support import csrf_of, log_in, logged_in, web_secret, without_csrf  # noqa: F401
from sqlalchemy import select

from kitops.data.schema import AuditRow, UserSessionRow
from kitops.services import users
from kitops.services.unit_of_work import UnitOfWork


def audit_actions(db, actor: str) -> list[str]:
    with db.engine.connect() as conn:
        return list(
            conn.scalars(
                select(AuditRow.action).where(AuditRow.actor == actor).order_by(AuditRow.id)
            )
        )


def session_rows(db) -> list[tuple[str, datetime]]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(UserSessionRow.identity, UserSessionRow.last_seen_at)))


def test_a_page_without_a_session_sends_the_browser_to_log_in_and_back(web):
    browser = web.client()
    answer = browser.get("/", params={"clinic": "LON"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2F%3Fclinic%3DLON"


def test_logging_in_opens_a_signed_session_cookie_and_the_dashboard(web, db):
    web.user("maria", "manager", "1357")
    browser = web.client()
    answer = log_in(browser, "maria", "1357", next="/kits")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/kits"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("kitops_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http (TLS ends at the proxy: see the next test)
    dashboard = browser.get("/")
    assert dashboard.status_code == 200
    assert "maria (manager)" in dashboard.text
    assert audit_actions(db, "maria") == ["user.login", "user.session_start"]
    assert [identity for identity, _ in session_rows(db)] == ["web"]


def test_the_cookie_is_secure_when_the_request_came_over_https(web):
    web.user("maria", "manager", "1357")
    browser = web.client()
    browser.base_url = "https://testserver"
    answer = log_in(browser, "maria", "1357")
    assert "Secure" in answer.headers["set-cookie"]


def test_a_wrong_pin_is_refused_with_the_tui_message_and_audited(web, db):
    web.user("maria", "manager", "1357")
    browser = web.client()
    answer = log_in(browser, "maria", "9999")
    assert answer.status_code == 401
    assert "wrong user name or PIN" in answer.text
    assert "9999" not in without_csrf(answer)  # the PIN is not echoed
    assert "kitops_session" not in answer.headers.get("set-cookie", "")
    assert browser.get("/").status_code == 303
    assert audit_actions(db, "maria") == ["user.login_failed"]


def test_five_wrong_pins_lock_the_user_even_with_the_right_pin_after(web, db):
    web.user("maria", "manager", "1357")
    browser = web.client()
    for _ in range(5):
        assert log_in(browser, "maria", "0000").status_code == 401
    answer = log_in(browser, "maria", "1357")
    assert answer.status_code == 401
    assert "maria is locked until" in answer.text
    assert audit_actions(db, "maria")[-2:] == ["user.locked", "user.login_failed"]


def test_a_job_user_cannot_log_in_even_with_a_pin(web, db):
    web.user("cron", "job", "1357")
    answer = log_in(web.client(), "cron", "1357")
    assert answer.status_code == 401
    assert "cron is a job user" in answer.text
    assert session_rows(db) == []
    assert audit_actions(db, "cron")[-1] == "user.login_failed"


def test_the_login_form_without_its_csrf_token_is_refused(web, db):
    web.user("maria", "manager", "1357")
    browser = web.client()
    browser.get("/login")
    answer = browser.post("/login", data={"name": "maria", "pin": "1357", "csrf": "0" * 64})
    assert answer.status_code == 403
    assert session_rows(db) == []


def test_a_post_without_the_session_csrf_token_is_refused_with_403(web, db):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    assert browser.post("/logout").status_code == 403
    assert browser.post("/logout", data={"csrf": "f" * 64}).status_code == 403
    assert len(session_rows(db)) == 1  # still logged in
    assert browser.get("/").status_code == 200


def test_a_csrf_token_of_another_session_is_refused(web):
    web.user("maria", "manager", "1357")
    web.user("ollie", "stockroom", "2468")
    maria = logged_in(web.client(), "maria", "1357")
    ollie = logged_in(web.client(), "ollie", "2468")
    token_of_ollie = csrf_of(ollie.get("/"))
    assert maria.post("/logout", data={"csrf": token_of_ollie}).status_code == 403


def test_logging_out_ends_the_session(web, db):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    cookie = browser.cookies.get("kitops_session")
    answer = browser.post("/logout", data={"csrf": csrf_of(browser.get("/"))})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert session_rows(db) == []
    assert audit_actions(db, "maria")[-1] == "user.session_end"
    # the old cookie, replayed, opens nothing
    replay = web.client()
    replay.cookies.set("kitops_session", cookie)
    assert replay.get("/").status_code == 303


def test_a_forged_cookie_opens_nothing(web):
    browser = web.client()
    browser.cookies.set("kitops_session", "made-up-token.signature")
    assert browser.get("/").status_code == 303


def test_a_session_ends_after_the_idle_limit_and_not_before(web, db):
    web.user("maria", "manager", "1357")
    start = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        browser = logged_in(web.client(), "maria", "1357")
        clock.move_to(start + timedelta(minutes=29))
        assert browser.get("/").status_code == 200  # used: idle time starts again
        clock.move_to(start + timedelta(minutes=58))  # 29 idle minutes
        assert browser.get("/").status_code == 200
        clock.move_to(start + timedelta(minutes=89))  # 31 idle minutes: expired (30)
        answer = browser.get("/")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")
    assert session_rows(db) == []
    assert audit_actions(db, "maria")[-1] == "user.session_expired"


def test_the_idle_limit_is_a_setting(web, db):
    users.set_setting(UnitOfWork(db, "tester"), "web_session_idle_minutes", "5")
    web.user("maria", "manager", "1357")
    start = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        browser = logged_in(web.client(), "maria", "1357")
        clock.move_to(start + timedelta(minutes=6))
        assert browser.get("/").status_code == 303


def test_after_logging_in_the_browser_goes_only_to_a_page_of_this_site(web):
    web.user("maria", "manager", "1357")
    answer = log_in(web.client(), "maria", "1357", next="//evil.example/")
    assert answer.headers["location"] == "/"


@pytest.mark.parametrize("name", ["maria", "nobody"])
def test_unknown_and_wrong_read_the_same(web, name):
    web.user("maria", "manager", "1357")
    answer = log_in(web.client(), name, "0000")
    assert "wrong user name or PIN" in answer.text


def test_without_a_configured_key_one_is_made_0600_on_first_start_and_kept(
    web, monkeypatch, tmp_path
):
    import stat

    from kitops.web import sessions

    monkeypatch.delenv("KITOPS_WEB_SECRET")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    key = sessions.key_file()
    assert key.is_relative_to(tmp_path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_text()
    assert len(first) >= 32
    assert browser.get("/").status_code == 200
    assert key.read_text() == first


def test_a_key_file_others_may_read_is_refused(monkeypatch, tmp_path):
    from kitops.secrets import SecretProblem
    from kitops.web import sessions

    monkeypatch.delenv("KITOPS_WEB_SECRET")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    key = sessions.key_file()
    key.parent.mkdir(parents=True)
    key.write_text("k" * 64)
    key.chmod(0o644)
    with pytest.raises(SecretProblem, match="chmod 600"):
        sessions.signing_key()


def test_an_htmx_request_without_a_session_sends_the_whole_page_to_log_in(web):
    answer = web.client().get("/stock", params={"sku": "X"}, headers={"HX-Request": "true"})
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == "/login?next=%2Fstock%3Fsku%3DX"


def test_pages_are_never_framed_nor_cached(web):
    web.user("maria", "manager", "1357")
    for page in (web.client().get("/login"), logged_in(web.client(), "maria", "1357").get("/")):
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


# --- the login page's language ----------------------------------------------------


def page_language(answer) -> str:
    return answer.text.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("header", "lang", "words"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de", "Benutzername"),
        ("de-AT", "de-AT", "Benutzername"),
        ("fr-FR,fr;q=0.9,de;q=0.5", "de", "Anmelden"),  # no French: the next it accepts
        ("en-GB,en;q=0.9,de;q=0.8", "en", "User name"),
        ("fr-FR", "en", "User name"),  # nothing kitops speaks: the server's language
        ("de;q=0, en", "en", "User name"),  # q=0: not wanted
        ("", "en", "User name"),
    ],
)
def test_the_login_page_speaks_the_browsers_language(web, header, lang, words):
    answer = web.client().get("/login", headers={"Accept-Language": header})
    assert answer.status_code == 200
    assert page_language(answer) == lang
    assert words in answer.text


def test_a_refused_login_says_why_in_the_browsers_language(web):
    web.user("maria", "manager", "1357")
    browser = web.client()
    browser.headers["Accept-Language"] = "de-AT,de;q=0.9"
    answer = log_in(browser, "maria", "0000")
    assert answer.status_code == 401
    assert page_language(answer) == "de-AT"
    assert "falscher Benutzername oder falsche PIN" in answer.text
    assert "wrong user name or PIN" not in answer.text
    expired = browser.post("/login", data={"name": "maria", "pin": "1357", "csrf": "x"})
    assert expired.status_code == 403
    assert "das Anmeldeformular war abgelaufen" in expired.text


def test_once_logged_in_the_users_language_wins_over_the_browsers(web, db):
    from kitops.services import locales

    web.user("maria", "manager", "1357")  # no language of her own: the server's
    web.user("jonas", "manager", "2468")
    locales.set_user_language(UnitOfWork(db, "tester"), "jonas", "de_AT")
    maria = web.client()
    maria.headers["Accept-Language"] = "de-DE,de"
    assert page_language(maria.get("/login")) == "de"
    logged_in(maria, "maria", "1357")
    assert page_language(maria.get("/")) == "en"
    assert page_language(maria.get("/login")) == "en"  # her session's language
    jonas = web.client()
    jonas.headers["Accept-Language"] = "en-GB"
    logged_in(jonas, "jonas", "2468")
    assert page_language(jonas.get("/")) == "de-AT"
