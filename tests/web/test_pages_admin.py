"""The admins' pages: users (list, add with a role and a PIN, enable or disable, change
the role) and settings (every user reads them; admins change one, a bad value shown in
place with 422). Others are refused with 403 and an audit row; nothing is written."""

from __future__ import annotations

import pytest
from pages_support import csrf_of, log_in, logged_in, web_secret, without_csrf  # noqa: F401
from sqlalchemy import select

from kitops.data.schema import AuditRow
from kitops.services import users
from kitops.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.demo_data

PIN = "1357"


def audit_rows(db, actor: str) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        return [
            (row.action, row.entity_key)
            for row in conn.execute(
                select(AuditRow.action, AuditRow.entity_key)
                .where(AuditRow.actor == actor)
                .order_by(AuditRow.id)
            )
        ]


def refusals(db, actor: str) -> list[str]:
    return [key for action, key in audit_rows(db, actor) if action == "access.refused"]


def user_of(db, name: str):
    return users.get_user(UnitOfWork(db, "tester", readonly=True), name)


def setting_of(db, key: str) -> str:
    found = users.list_settings(UnitOfWork(db, "tester", readonly=True))
    return next(s.value for s in found if s.key == key)


def browser_as(web, role: str):
    web.user(role + "-user", role, PIN)
    return logged_in(web.client(), role + "-user", PIN)


def nav_links(page) -> str:
    return page.text.split("<main", 1)[0]


# --- users ----------------------------------------------------------------------------


def test_an_admin_lists_the_users_and_sees_the_admin_pages_in_the_navigation(web):
    browser = browser_as(web, "admin")
    page = browser.get("/users")
    assert page.status_code == 200
    assert "admin-user" in page.text
    assert "tester" in page.text
    assert 'href="/users"' in nav_links(page)
    assert 'href="/settings"' in nav_links(page)


@pytest.mark.parametrize("role", ["stockroom", "manager"])
def test_others_do_not_see_the_admin_pages_and_are_refused_with_an_audit_row(web, db, role):
    browser = browser_as(web, role)
    home = browser.get("/")
    assert 'href="/users"' not in nav_links(home)
    assert 'href="/settings"' not in nav_links(home)
    page = browser.get("/users")
    assert page.status_code == 403
    assert "may not list users" in page.text
    assert refusals(db, role + "-user") == ["user.manage"]


def test_an_admin_adds_a_user_who_can_then_log_in(web, db):
    browser = browser_as(web, "admin")
    csrf = csrf_of(browser.get("/users"))
    answer = browser.post(
        "/users", data={"csrf": csrf, "name": "nina", "role": "manager", "pin": "8642"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/users"
    assert user_of(db, "nina").role == "manager"
    assert ("user.add", "nina") in audit_rows(db, "admin-user")
    assert log_in(web.client(), "nina", "8642").status_code == 303


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": "nina", "role": "boss", "pin": "8642"}, "role"),
        ({"name": "nina", "role": "manager", "pin": "1"}, "PIN"),
        ({"name": "", "role": "manager", "pin": "8642"}, "name"),
    ],
)
def test_a_bad_new_user_is_shown_in_place_with_422_naming_the_field(web, db, form, field):
    browser = browser_as(web, "admin")
    csrf = csrf_of(browser.get("/users"))
    answer = browser.post("/users", data={"csrf": csrf, **form})
    assert answer.status_code == 422
    assert 'id="error-new"' in answer.text
    assert field in answer.text.split('id="error-new"', 1)[1].split("</p>", 1)[0]
    assert "8642" not in without_csrf(answer)  # the PIN is never sent back
    with pytest.raises(Exception, match="nina"):
        user_of(db, "nina")


def test_adding_a_user_who_exists_is_refused_in_place_with_409(web, db):
    browser = browser_as(web, "admin")
    csrf = csrf_of(browser.get("/users"))
    answer = browser.post(
        "/users", data={"csrf": csrf, "name": "tester", "role": "stockroom", "pin": "8642"}
    )
    assert answer.status_code == 409
    assert "already exists" in answer.text
    assert user_of(db, "tester").role == "admin"


def test_an_admin_disables_and_enables_a_user_and_sets_a_role(web, db):
    web.user("nina", "stockroom", "8642")
    browser = browser_as(web, "admin")
    csrf = csrf_of(browser.get("/users"))
    assert browser.post("/users/nina/disable", data={"csrf": csrf}).status_code == 303
    assert user_of(db, "nina").active is False
    assert log_in(web.client(), "nina", "8642").status_code != 303
    assert browser.post("/users/nina/enable", data={"csrf": csrf}).status_code == 303
    assert user_of(db, "nina").active is True
    answer = browser.post("/users/nina/role", data={"csrf": csrf, "role": "manager"})
    assert answer.status_code == 303
    assert user_of(db, "nina").role == "manager"
    assert [a for a, key in audit_rows(db, "admin-user") if key == "nina"] == [
        "user.disable", "user.enable", "user.set_role",
    ]  # fmt: skip


def test_a_bad_role_is_422_naming_it_and_a_needless_change_409(web, db):
    web.user("nina", "stockroom", "8642")
    browser = browser_as(web, "admin")
    csrf = csrf_of(browser.get("/users"))
    answer = browser.post("/users/nina/role", data={"csrf": csrf, "role": "boss"})
    assert answer.status_code == 422
    assert "boss" in answer.text
    answer = browser.post("/users/nina/enable", data={"csrf": csrf})
    assert answer.status_code == 409
    assert "already enabled" in answer.text
    assert user_of(db, "nina").role == "stockroom"


# every change an admin may make, the form it posts and the permission it needs
ADMIN_CHANGES = [
    ("/users", {"name": "nina", "role": "stockroom", "pin": "8642"}, "user.manage"),
    ("/users/tester/disable", {}, "user.manage"),
    ("/users/tester/role", {"role": "stockroom"}, "user.manage"),
    ("/settings/expiry_margin_days", {"value": "3"}, "setting.set"),
]


@pytest.mark.parametrize("role", ["stockroom", "manager"])
def test_changes_by_others_are_refused_with_403_and_an_audit_row(web, db, role):
    """Each change in turn, by one logged-in user: each is refused and audited on its own
    and writes nothing, so the next one starts from the same state."""
    browser = browser_as(web, role)
    csrf = csrf_of(browser.get("/"))
    before = (user_of(db, "tester"), setting_of(db, "expiry_margin_days"))
    expected: list[str] = []
    for path, form, permission in ADMIN_CHANGES:
        answer = browser.post(path, data={"csrf": csrf, **form})
        assert answer.status_code == 403, path
        expected.append(permission)
        assert refusals(db, role + "-user") == expected, path
        assert (user_of(db, "tester"), setting_of(db, "expiry_margin_days")) == before, path


def test_a_change_without_the_forms_csrf_token_is_refused(web, db):
    browser = browser_as(web, "admin")
    answer = browser.post(
        "/users", data={"csrf": "0" * 64, "name": "nina", "role": "stockroom", "pin": "8642"}
    )
    assert answer.status_code == 403
    answer = browser.post("/settings/expiry_margin_days", data={"value": "3"})
    assert answer.status_code == 403
    assert setting_of(db, "expiry_margin_days") != "3"
    with pytest.raises(Exception, match="nina"):
        user_of(db, "nina")


def test_without_a_session_the_admin_pages_send_the_browser_to_log_in(web):
    browser = web.client()
    for path in ("/users", "/settings"):
        answer = browser.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next=%2F{path[1:]}"
    for path in ("/users", "/users/tester/disable", "/settings/expiry_margin_days"):
        answer = browser.post(path, data={"csrf": "x"})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


# --- settings -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["stockroom", "manager"])
def test_every_user_reads_the_settings_but_only_admins_get_the_forms(web, role):
    page = browser_as(web, role).get("/settings")
    assert page.status_code == 200
    assert "web_session_idle_minutes" in page.text
    assert 'action="/settings/' not in page.text


def test_an_admin_changes_a_setting(web, db):
    browser = browser_as(web, "admin")
    page = browser.get("/settings")
    assert 'action="/settings/expiry_margin_days"' in page.text
    answer = browser.post(
        "/settings/expiry_margin_days", data={"csrf": csrf_of(page), "value": " 9 "}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/settings"
    assert setting_of(db, "expiry_margin_days") == "9"
    assert ("setting.set", "expiry_margin_days") in audit_rows(db, "admin-user")


def test_a_bad_setting_value_is_shown_beside_it_with_422(web, db):
    before = setting_of(db, "login_max_failures")
    browser = browser_as(web, "admin")
    csrf = csrf_of(browser.get("/settings"))
    answer = browser.post("/settings/login_max_failures", data={"csrf": csrf, "value": "zero"})
    assert answer.status_code == 422
    message = answer.text.split('id="error-login_max_failures"', 1)[1].split("</p>", 1)[0]
    assert "login_max_failures" in message
    assert "zero" in message
    assert "must be a whole number, 1 or more" in message
    assert 'value="zero" aria-invalid="true"' in answer.text  # kept to correct it
    assert setting_of(db, "login_max_failures") == before


def test_an_unknown_setting_is_422_naming_it(web):
    browser = browser_as(web, "admin")
    csrf = csrf_of(browser.get("/settings"))
    answer = browser.post("/settings/colour", data={"csrf": csrf, "value": "blue"})
    assert answer.status_code == 422
    assert "colour" in answer.text
