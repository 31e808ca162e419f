"""Helpers of the page tests: a browser that logs in the way a person does (reading the
login form's CSRF token first), and the CSRF token of the page it is on."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

CSRF = re.compile(r'name="csrf" value="([0-9a-f]*)"')


@pytest.fixture(autouse=True)
def web_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key that signs cookies, from the environment (never the user's state folder)."""
    monkeypatch.setenv("KITOPS_WEB_SECRET", "a test key that signs web cookies, 32+ chars")
    monkeypatch.delenv("KITOPS_WEB_SECRET_FILE", raising=False)


def csrf_of(page: Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, "the page should carry a form with a CSRF token"
    return found.group(1)


def without_csrf(page: Response) -> str:
    """The page's text with its forms' CSRF tokens taken out: a random token can hold any
    four digits, so a check that a PIN is not echoed looks at the rest."""
    return CSRF.sub("", page.text)


def log_in(client: TestClient, name: str, pin: str, next: str = "/") -> Response:
    form = client.get("/login", params={"next": next})
    return client.post(
        "/login", data={"name": name, "pin": pin, "csrf": csrf_of(form), "next": next}
    )


def logged_in(client: TestClient, name: str, pin: str) -> TestClient:
    answer = log_in(client, name, pin)
    assert answer.status_code == 303, answer.text
    return client
